"""Rep vs buyer: where a deal has both a rep capture and a buyer interview, do they agree?

Per SPICED field and on the primary reason: the share of deals (both answered) where the rep's
latest answer equals the buyer's (case- and separator-insensitive), with a Wilson 95 % interval;
the same per rep. Per reason: how often reps name it against how often buyers do on the same
deals; the paired difference is tested with an exact McNemar test (binomial on the discordant
deals) and Benjamini–Hochberg corrected over the reasons, so "reps over-state price" is a claim
with evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from scipy import stats

from winloss.analyze.base import Analysis, AnalysisInputs, AnalysisResult
from winloss.analyze.stats.exact_tests import benjamini_hochberg, wilson_interval
from winloss.model.vocabulary import normalise_token
from winloss.store import capture_queries

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

FIELDS: tuple[str, ...] = ("primary_reason", *capture_queries.RESOLVED_FIELDS)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return normalise_token(str(a)) == normalise_token(str(b))
    if isinstance(a, float) or isinstance(b, float):
        return bool(np.isclose(float(a), float(b)))
    return bool(a == b)


def _rate_table(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*keys, "deals", "agree"])
    if frame.empty:
        return frame.assign(agreement=[], ci_low=[], ci_high=[])
    frame = frame.groupby(keys, as_index=False, sort=True)[["deals", "agree"]].sum()
    lo, hi = wilson_interval(frame["agree"].to_numpy(), frame["deals"].to_numpy())
    return frame.assign(agreement=frame["agree"] / frame["deals"], ci_low=lo, ci_high=hi)


@dataclass(frozen=True)
class AgreementResult(AnalysisResult):
    """Rep–buyer agreement.

    fields
        Per field: ``deals`` with both answers, ``agree``, ``agreement`` and its Wilson interval.
    by_rep
        Per rep (owner) and field, the same columns.
    by_reason
        Per reason: ``rep`` and ``buyer`` deals naming it, ``rep_share``/``buyer_share`` (of the
        deals where both gave a reason) with Wilson intervals, ``rep_only``/``buyer_only``
        (discordant deals), exact McNemar ``p_value``, BH ``q_value`` and ``verdict``
        (over-stated, under-stated or no evidence at q ≤ ``alpha``).
    """

    inputs: AnalysisInputs
    fields: pd.DataFrame
    by_rep: pd.DataFrame
    by_reason: pd.DataFrame
    alpha: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> pd.DataFrame:
        return self.fields

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "alpha": self.alpha,
            "fields": self.fields.to_dict(orient="records"),
            "by_rep": self.by_rep.to_dict(orient="records"),
            "by_reason": self.by_reason.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


class AgreementOptions(TypedDict, total=False):
    """Keyword settings of :class:`CaptureAgreement`."""

    alpha: float


@dataclass(frozen=True)
class CaptureAgreement(Analysis[AgreementResult]):
    """Settings: ``alpha`` is the false-discovery rate of the per-reason verdicts."""

    alpha: float = 0.1

    def run(self, source: DuckDBStore) -> AgreementResult:  # type: ignore[override]
        both = capture_queries.both_respondents(source)
        rows: list[dict[str, Any]] = []
        for rec in both.to_dict(orient="records"):
            for f in FIELDS:
                if f"{f}_rep" not in rec:  # a store read before its migrations ran
                    continue
                r, b = rec[f"{f}_rep"], rec[f"{f}_buyer"]
                if pd.isna(r) or pd.isna(b):
                    continue
                rows.append(
                    {
                        "field": f,
                        "owner": rec["owner"] or "(no owner)",
                        "deals": 1,
                        "agree": int(_same(r, b)),
                    }
                )
        fields_tbl = _rate_table(
            [{k: v for k, v in r.items() if k != "owner"} for r in rows], ["field"]
        )
        by_rep = _rate_table(rows, ["owner", "field"])
        by_reason = self._reasons(both)
        warnings: list[str] = []
        if both.empty:
            warnings.append(
                "no deal has both a rep capture and a buyer interview: run buyer "
                "interviews (see `winloss captures plan`)"
            )
        elif len(both) < 30:
            warnings.append(
                f"only {len(both)} deals have both a rep capture and a buyer "
                "interview: read the intervals"
            )
        return AgreementResult(
            AnalysisInputs.of(len(both)), fields_tbl, by_rep, by_reason, self.alpha, tuple(warnings)
        )

    def _reasons(self, both: pd.DataFrame) -> pd.DataFrame:
        cols = [
            "reason",
            "deals",
            "rep",
            "buyer",
            "rep_share",
            "rep_low",
            "rep_high",
            "buyer_share",
            "buyer_low",
            "buyer_high",
            "rep_only",
            "buyer_only",
            "p_value",
            "q_value",
            "verdict",
        ]
        pairs = both[["primary_reason_rep", "primary_reason_buyer"]].dropna()
        if pairs.empty:
            return pd.DataFrame(columns=cols)
        rep = pairs["primary_reason_rep"].map(lambda v: normalise_token(str(v)))
        buyer = pairs["primary_reason_buyer"].map(lambda v: normalise_token(str(v)))
        n = len(pairs)
        out = []
        for reason in sorted(set(rep) | set(buyer)):
            r, b = (rep == reason).to_numpy(), (buyer == reason).to_numpy()
            rep_only, buyer_only = int((r & ~b).sum()), int((~r & b).sum())
            disc = rep_only + buyer_only
            p = float(stats.binomtest(rep_only, disc, 0.5).pvalue) if disc else 1.0
            rl, rh = wilson_interval(int(r.sum()), n)
            bl, bh = wilson_interval(int(b.sum()), n)
            out.append(
                {
                    "reason": reason,
                    "deals": n,
                    "rep": int(r.sum()),
                    "buyer": int(b.sum()),
                    "rep_share": r.mean(),
                    "rep_low": float(rl),
                    "rep_high": float(rh),
                    "buyer_share": b.mean(),
                    "buyer_low": float(bl),
                    "buyer_high": float(bh),
                    "rep_only": rep_only,
                    "buyer_only": buyer_only,
                    "p_value": p,
                }
            )
        frame = pd.DataFrame(out)
        frame["q_value"] = benjamini_hochberg(frame["p_value"].to_numpy())
        frame["verdict"] = np.where(
            frame["q_value"] > self.alpha,
            "no evidence",
            np.where(
                frame["rep_only"] > frame["buyer_only"],
                "over-stated by reps",
                "under-stated by reps",
            ),
        )
        return frame[cols].sort_values(["q_value", "reason"], ignore_index=True)
