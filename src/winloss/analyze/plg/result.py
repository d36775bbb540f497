"""Result of the product-led-growth analysis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.plg.milestones import Milestone
from winloss.serialize import plain as jsonable
from winloss.serialize import records as frame_records


@dataclass(frozen=True)
class ScoreModel:
    """The product-qualified-lead score: features, held-out metrics, calibration."""

    features: tuple[str, ...]
    coefficients: dict[str, float]
    train_accounts: int
    held_out_accounts: int
    held_out_auc: float
    held_out_brier: float
    held_out_ece: float
    base_rate: float
    calibration: dict[str, Any]
    reliability: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(
            {
                "features": list(self.features),
                "coefficients": self.coefficients,
                "train_accounts": self.train_accounts,
                "held_out_accounts": self.held_out_accounts,
                "held_out_auc": self.held_out_auc,
                "held_out_brier": self.held_out_brier,
                "held_out_ece": self.held_out_ece,
                "base_rate": self.base_rate,
                "calibration": self.calibration,
                "reliability": frame_records(self.reliability),
            }
        )
        return out


@dataclass(frozen=True)
class PLGResult(AnalysisResult):
    """Activation milestone, PQL score, accounts ready for sales, and the motions compared.

    ``candidates`` lists every milestone tested on the training accounts; ``accounts`` every
    account with usage and no label yet (still in its horizon), scored, with ``ready`` and its
    evidence; ``motions`` one row per motion and metric; ``prior_usage`` the sales-led deals with
    vs without prior product use per segment, with ``heterogeneity_p`` testing the segment
    interaction.
    """

    inputs: AnalysisInputs
    as_of: str
    horizon_days: int
    accounts_with_usage: int
    labelled_accounts: int
    milestone: Milestone | None
    candidates: pd.DataFrame
    score: ScoreModel | None
    accounts: pd.DataFrame
    motions: pd.DataFrame
    prior_usage: pd.DataFrame
    heterogeneity_q: float
    heterogeneity_p: float
    warnings: tuple[str, ...] = ()

    def prior_usage_text(self) -> str:
        """What the prior-usage comparison can say, in one sentence for the console and report."""
        prior = self.prior_usage
        overall = prior[prior["segment"] == "all"] if len(prior) else prior
        if overall.empty or int(overall["n_used"].iloc[0]) == 0:
            return (
                "no sales-led deal's account used the product before the deal: the effect of "
                "prior use cannot be estimated"
            )
        if int(overall["n_not_used"].iloc[0]) == 0:
            return (
                "every sales-led deal's account used the product before the deal: there is no "
                "group without prior use to compare with"
            )
        p = self.heterogeneity_p
        if p != p:  # NaN: fewer than two segments have both groups
            return "fewer than two segments have deals with and without prior use: not compared"
        verdict = "differ" if p <= 0.05 else "do not differ beyond chance"
        return f"the segments {verdict} (Cochran's Q p = {p:.2g})"

    @property
    def ready(self) -> pd.DataFrame:
        """Accounts ready for a sales touch now, best first."""
        return self.accounts[self.accounts["ready"]].reset_index(drop=True)

    @property
    def summary(self) -> pd.DataFrame:
        return self.motions

    def to_dict(self) -> dict[str, Any]:
        top = (
            self.candidates.sort_values("z", ascending=False).head(20)
            if not self.candidates.empty
            else self.candidates
        )
        return {
            "inputs": self.inputs.to_dict(),
            "as_of": self.as_of,
            "horizon_days": self.horizon_days,
            "accounts_with_usage": self.accounts_with_usage,
            "labelled_accounts": self.labelled_accounts,
            "milestone": self.milestone.to_dict() if self.milestone else None,
            "candidates_tested": int(len(self.candidates)),
            "top_candidates": frame_records(top),
            "score": self.score.to_dict() if self.score else None,
            "accounts": frame_records(self.accounts),
            "motions": frame_records(self.motions),
            "prior_usage": frame_records(self.prior_usage),
            "heterogeneity": {
                "cochran_q": jsonable(self.heterogeneity_q),
                "p_value": jsonable(self.heterogeneity_p),
            },
            "warnings": list(self.warnings),
        }
