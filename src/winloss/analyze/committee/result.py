"""Results of the buying-committee analysis: findings, routes, open-deal risks, committee maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.serialize import plain as jsonable
from winloss.serialize import records as frame_records


@dataclass(frozen=True)
class RateEvidence:
    """Win rate of a group of closed deals with its Wilson 95 % interval."""

    n: int
    wins: int
    win_rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CommitteeFinding:
    """One committee question answered: a group of deals against the rest.

    ``threshold`` is the discovered cut of a numeric feature (the group is ``feature <= threshold``)
    or ``None`` for a yes/no feature. ``q_value`` is Benjamini–Hochberg over every hypothesis the
    analysis tested (every candidate cut of every scan, every role, every route).
    """

    key: str
    statement: str
    condition: str
    threshold: float | None
    group: RateEvidence
    rest: RateEvidence
    p_value: float
    q_value: float
    significant: bool
    direction: str  # "win" when the group wins more than the rest, else "loss"
    hypotheses: int  # hypotheses this question contributed (candidate cuts)
    #: yes/no facts: Mantel–Haenszel odds ratio within equal numbers of engaged people (the
    #: direction and the p-value follow it)
    adjusted_odds_ratio: float | None = None

    @property
    def lift(self) -> float:
        return self.group.win_rate / self.rest.win_rate if self.rest.win_rate else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "statement": self.statement,
            "condition": self.condition,
            "threshold": jsonable(self.threshold),
            "group": self.group.to_dict(),
            "rest": self.rest.to_dict(),
            "lift": jsonable(self.lift),
            "p_value": jsonable(self.p_value),
            "q_value": jsonable(self.q_value),
            "significant": self.significant,
            "direction": self.direction,
            "hypotheses": self.hypotheses,
            "adjusted_odds_ratio": jsonable(self.adjusted_odds_ratio),
        }


@dataclass(frozen=True)
class BestRoute:
    """The route to the decision maker that won most often for similar deals."""

    segment: str
    size_band: str  # "all" for the whole segment
    route: str
    evidence: RateEvidence
    runner_up: str | None
    runner_up_win_rate: float | None
    q_value: float  # this route against the other routes of the stratum
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "size_band": self.size_band,
            "route": self.route,
            "evidence": self.evidence.to_dict(),
            "runner_up": self.runner_up,
            "runner_up_win_rate": jsonable(self.runner_up_win_rate),
            "q_value": jsonable(self.q_value),
            "significant": self.significant,
        }


@dataclass(frozen=True)
class CommitteeMap:
    """One deal's buying committee: people, who introduced whom, engagement over time."""

    deal_id: str
    deal: dict[str, Any]
    people: pd.DataFrame
    activities: pd.DataFrame
    flags: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id,
            "deal": jsonable(self.deal),
            "people": frame_records(self.people),
            "activities": frame_records(self.activities),
            "flags": list(self.flags),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class CommitteeResult(AnalysisResult):
    """What multithreading did for the closed deals, and where open deals are at risk.

    ``deals`` holds the per-deal features; ``by_engaged`` the win rate by number of engaged
    stakeholders; ``routes`` the win rate of every route per segment and size band; ``risks`` one
    row per open deal with its flags (joined by ``", "``), reasons (joined by ``"; "``) and
    suggested route; the JSON gives flags and reasons as lists.
    """

    inputs: AnalysisInputs
    as_of: str
    deals: pd.DataFrame
    by_engaged: pd.DataFrame
    findings: tuple[CommitteeFinding, ...]
    routes: pd.DataFrame
    best_routes: tuple[BestRoute, ...]
    risks: pd.DataFrame
    hypotheses_tested: int
    alpha: float
    committee_map: CommitteeMap | None = None
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        rows = [
            {
                "finding": f.statement,
                "n": f.group.n,
                "win_rate": f.group.win_rate,
                "ci_low": f.group.ci_low,
                "ci_high": f.group.ci_high,
                "rest_win_rate": f.rest.win_rate,
                "q_value": f.q_value,
                "significant": f.significant,
            }
            for f in self.findings
        ]
        return pd.DataFrame(rows)

    def finding(self, key: str) -> CommitteeFinding | None:
        return next((f for f in self.findings if f.key == key), None)

    def best_route(self, segment: str, size_band: str = "all") -> BestRoute | None:
        return next(
            (b for b in self.best_routes if b.segment == segment and b.size_band == size_band), None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "as_of": self.as_of,
            "alpha": self.alpha,
            "hypotheses_tested": self.hypotheses_tested,
            "findings": [f.to_dict() for f in self.findings],
            "by_engaged": frame_records(self.by_engaged),
            "routes": frame_records(self.routes),
            "best_routes": [b.to_dict() for b in self.best_routes],
            "open_deal_risks": [
                jsonable(
                    {
                        **r,
                        "flags": [f for f in str(r["flags"]).split(", ") if f],
                        "reasons": [x for x in str(r["reasons"]).split("; ") if x],
                    }
                )
                for r in self.risks.to_dict(orient="records")
            ],
            "committee_map": self.committee_map.to_dict() if self.committee_map else None,
            "warnings": list(self.warnings),
        }
