"""The result of a concentration analysis: findings and their documented JSON shape.

The JSON (``to_dict``/``to_json``) is what automation uses; docs/concentrations.md documents it
and a test pins its keys.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.concentrations.conditions import Condition, short_text
from winloss.analyze.concentrations.findings_register import QuarterRate, RegisterEntry


@dataclass(frozen=True)
class Finding:
    """One concentration of wins or losses, with its evidence."""

    id: str
    key: str
    conditions: tuple[Condition, ...]
    direction: str
    n: int
    wins: int
    win_rate: float
    ci_low: float
    ci_high: float
    rest_n: int
    rest_wins: int
    rest_win_rate: float
    difference: float
    lift: float
    p_value: float
    q_value: float
    p_value_added: float | None
    adjusted_effect: float | None
    adjusted_odds_ratio: float | None
    adjusted_p_value: float | None
    holds_when_adjusted: bool | None
    post_outcome: bool
    post_outcome_fields: tuple[str, ...]
    won_revenue_share: float | None
    threshold_interval: dict[str, Any] | None
    quarters_held: int | None
    quarters_seen: int | None
    by_quarter: tuple[QuarterRate, ...]
    register_status: str | None
    statement: str
    tier: str = "driver"
    explained_by: tuple[str, ...] = ()
    conditional_effect: dict[str, Any] | None = None
    similar_conditions: int = 0
    q_value_single: float | None = None

    @property
    def summary_text(self) -> str:
        """The conditions in compact form, e.g. ``pain_category == ux & stakeholders <= 1``."""
        return short_text(self.conditions)

    def q_text(self) -> str:
        """The q-value the finding passed, saying over which hypotheses when it passed among the
        single conditions only (``0.03 among single conditions; 0.056 over all``): the same
        finding never shows two unexplained q-values in two places."""
        single = self.q_value_single
        if single is None or single >= self.q_value:
            return _q_number(self.q_value)
        return f"{_q_number(single)} among single conditions; {_q_number(self.q_value)} over all"

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON object of a finding."""
        return {
            "id": self.id,
            "conditions": [c.to_dict() for c in self.conditions],
            "direction": self.direction,
            "n": self.n,
            "wins": self.wins,
            "win_rate": self.win_rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "lift": self.lift,
            "p_value": self.p_value,
            "q_value": self.q_value,
            "adjusted_effect": self.adjusted_effect,
            "post_outcome": self.post_outcome,
            "quarters_held": self.quarters_held,
            "quarters_seen": self.quarters_seen,
            "statement": self.statement,
            "key": self.key,
            "rest_n": self.rest_n,
            "rest_wins": self.rest_wins,
            "rest_win_rate": self.rest_win_rate,
            "difference": self.difference,
            "p_value_added": self.p_value_added,
            "adjusted_odds_ratio": self.adjusted_odds_ratio,
            "adjusted_p_value": self.adjusted_p_value,
            "holds_when_adjusted": self.holds_when_adjusted,
            "post_outcome_fields": list(self.post_outcome_fields),
            "won_revenue_share": self.won_revenue_share,
            "threshold_interval": self.threshold_interval,
            "by_quarter": [q.to_dict() for q in self.by_quarter],
            "register_status": self.register_status,
            "tier": self.tier,
            "explained_by": list(self.explained_by),
            "conditional_effect": self.conditional_effect,
            "similar_conditions": self.similar_conditions,
            "q_value_single": self.q_value_single,
        }


@dataclass(frozen=True)
class ConcentrationResult(AnalysisResult):
    """What one concentration analysis found, and the inputs it found it in."""

    period: str
    filters: dict[str, Any]
    deals: int
    wins: int
    baseline_win_rate: float
    hypotheses_tested: int
    families_tested: int
    families_selected: int
    alpha: float
    findings: tuple[Finding, ...]
    register: tuple[RegisterEntry, ...] | None
    attributes: tuple[str, ...]
    post_outcome_attributes: tuple[str, ...]
    skipped_attributes: dict[str, str]
    quarters: tuple[str, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    settings: dict[str, Any]
    run_id: str | None
    elapsed_seconds: float
    inputs: AnalysisInputs
    version: str = field(default="")
    related: tuple[Finding, ...] = ()

    @property
    def predictive_findings(self) -> tuple[Finding, ...]:
        """Drivers on fields known before the outcome: what a leader can act on."""
        return tuple(f for f in self.findings if not f.post_outcome)

    @property
    def post_outcome_findings(self) -> tuple[Finding, ...]:
        """Drivers on fields known only after the outcome: they explain, never a headline."""
        return tuple(f for f in self.findings if f.post_outcome)

    def scope_text(self) -> str:
        """Which deals the figures describe, e.g. ``closed deals of 2026Q3, segment SMB``."""
        scope = {k: v for k, v in self.filters.items() if k not in ("quarter", "since", "until")}
        if self.period == "all":
            period = (
                f"all closed deals ({self.quarters[0]}–{self.quarters[-1]})"
                if self.quarters
                else "all closed deals"
            )
        elif self.period == "table":
            period = "the deals given"
        else:
            period = f"closed deals of {self.period}"
        extra = ", ".join(f"{k} {v}" for k, v in scope.items())
        return period + (f", {extra}" if extra else "")

    @property
    def summary(self) -> pd.DataFrame:
        """One row per finding, drivers then related findings (``tier``): the numbers a table
        shows, with what explains a related finding and its effect beyond that."""
        rows = [
            {
                "id": f.id,
                "tier": f.tier,
                "finding": short_text(f.conditions),
                "direction": f.direction,
                "n": f.n,
                "wins": f.wins,
                "win_rate": f.win_rate,
                "ci_low": f.ci_low,
                "ci_high": f.ci_high,
                "rest_win_rate": f.rest_win_rate,
                "lift": f.lift,
                "p_value": f.p_value,
                "q_value": f.q_value,
                "q_value_single": f.q_value_single,
                "adjusted_effect": f.adjusted_effect,
                "won_revenue_share": f.won_revenue_share,
                "quarters_held": f.quarters_held,
                "quarters_seen": f.quarters_seen,
                "post_outcome": f.post_outcome,
                "register_status": f.register_status,
                "explained_by": " ".join(f.explained_by),
                # JSON text in a table cell (a CSV must not hold a Python dict's repr)
                "conditional_effect": (
                    json.dumps(f.conditional_effect, sort_keys=True, default=str)
                    if f.conditional_effect is not None
                    else None
                ),
                "statement": f.statement,
            }
            for f in (*self.findings, *self.related)
        ]
        columns = [
            "id",
            "tier",
            "finding",
            "direction",
            "n",
            "wins",
            "win_rate",
            "ci_low",
            "ci_high",
            "rest_win_rate",
            "lift",
            "p_value",
            "q_value",
            "q_value_single",
            "adjusted_effect",
            "won_revenue_share",
            "quarters_held",
            "quarters_seen",
            "post_outcome",
            "register_status",
            "explained_by",
            "conditional_effect",
            "statement",
        ]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (see docs/concentrations.md)."""
        return {
            "period": self.period,
            "deals": self.deals,
            "wins": self.wins,
            "baseline_win_rate": self.baseline_win_rate,
            "hypotheses_tested": self.hypotheses_tested,
            "scope": self.scope_text(),
            "findings": [f.to_dict() for f in self.findings],
            "related_findings": [f.to_dict() for f in self.related],
            "filters": self.filters,
            "alpha": self.alpha,
            "families_tested": self.families_tested,
            "families_selected": self.families_selected,
            "register": (
                [e.to_dict() for e in self.register] if self.register is not None else None
            ),
            "attributes": list(self.attributes),
            "post_outcome_attributes": list(self.post_outcome_attributes),
            "skipped_attributes": self.skipped_attributes,
            "quarters": list(self.quarters),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "settings": self.settings,
            "run_id": self.run_id,
            "version": self.version,
            "elapsed_seconds": self.elapsed_seconds,
            "inputs": self.inputs.to_dict(),
        }


def finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _q_number(value: float) -> str:
    return f"{value:.2g}" if value > 0 else "<1e-300"
