"""Result of the product-led-growth analysis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.plg.milestones import Milestone
from winloss.analyze.stats.calibration import calibration_state, calibration_words
from winloss.serialize import plain as jsonable
from winloss.serialize import records as frame_records

#: The held-out ranking beats chance when a one-sided Mann-Whitney test of AUC > 0.5 gives p ≤ this.
SCORE_ALPHA = 0.05


@dataclass(frozen=True)
class ScoreModel:
    """The product-qualified-lead score: features, held-out metrics, calibration.

    ``held_out_auc`` ranks the later accounts by the score fitted on the earlier ones;
    ``held_out_brier`` and ``held_out_ece`` are of its calibrated probabilities, each held-out
    account mapped by a calibration map fitted on the other held-out half. ``held_out_p_value``
    tests AUC > 0.5 (one-sided Mann-Whitney); ``held_out_base_brier`` is the Brier score of the
    training accounts' conversion rate (``train_rate``) on the held-out accounts;
    ``held_out_chance_ece`` the calibration error a calibrated score shows on them by chance (95th
    percentile). :meth:`verdict` says in one sentence what the held-out check shows.
    """

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
    held_out_p_value: float
    train_rate: float
    held_out_base_brier: float
    held_out_chance_ece: float

    @property
    def ranks_beyond_chance(self) -> bool:
        """Whether the score ranks later accounts better than chance (AUC > 0.5, p ≤ 0.05)."""
        return bool(self.held_out_auc > 0.5 and self.held_out_p_value <= SCORE_ALPHA)

    @property
    def beats_base_rate(self) -> bool:
        """Whether its probabilities beat the training conversion rate's on later accounts."""
        return bool(self.held_out_brier < self.held_out_base_brier)

    @property
    def actionable(self) -> bool:
        """Ranks beyond chance and predicts better than the conversion rate: worth acting on."""
        return self.ranks_beyond_chance and self.beats_base_rate

    @property
    def calibration_check(self) -> str:
        """``off`` (calibration error beyond chance), ``too few`` (a calibrated score's chance
        error exceeds :data:`~winloss.analyze.stats.calibration.CALIBRATION_TOLERANCE`) or the map's method (``none`` …)."""
        state = calibration_state(self.held_out_ece, self.held_out_chance_ece)
        return state if state != "ok" else str(self.calibration.get("method"))

    def verdict(self) -> str:
        """What the held-out check says, in one sentence for the console, JSON and report."""
        n, auc = self.held_out_accounts, self.held_out_auc
        p = self.held_out_p_value
        p_text = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
        brier = (
            f"Brier {self.held_out_brier:.3f} against {self.held_out_base_brier:.3f} for the "
            f"training conversion rate of {self.train_rate:.0%}"
        )
        if auc != auc:  # NaN: every later account converted, or none did
            head = (
                f"on {n:,} later accounts the score cannot be checked: they all have the same "
                f"outcome ({brier}): do not act on it"
            )
        elif auc <= 0.5:
            head = (
                f"on {n:,} later accounts the score ranks no better than chance (AUC {auc:.2f}; "
                f"{brier}): do not act on it"
            )
        elif not self.ranks_beyond_chance:
            head = (
                f"on {n:,} later accounts the score is not shown to rank beyond chance (AUC {auc:.2f}, "
                f"{p_text}; {brier}): do not act on it"
            )
        elif not self.beats_base_rate:
            head = (
                f"on {n:,} later accounts the score ranks beyond chance (AUC {auc:.2f}, {p_text}) "
                f"but its probabilities are no closer than the conversion rate ({brier}): rank "
                "by it, do not read it as a chance to convert"
            )
        else:
            head = (
                f"on {n:,} later accounts the score ranks beyond chance (AUC {auc:.2f}, {p_text}) "
                f"and predicts better than the conversion rate ({brier})"
            )
        ece, chance = self.held_out_ece, self.held_out_chance_ece
        check, method = self.calibration_check, str(self.calibration.get("method"))
        mapped = "" if method == "none" else f"{calibration_words(method)}, yet "
        if check == "off":
            cal = (
                f"{mapped}off beyond chance (calibration error {ece:.3f}, where a calibrated "
                f"score shows up to {chance:.3f} on {n:,} accounts): read the score as a "
                "ranking, not as a probability"
            )
        elif check == "too few":
            cal = (
                f"{mapped}too few held-out accounts to tell whether the probabilities are "
                f"right (calibration error {ece:.3f}; a calibrated score shows up to "
                f"{chance:.3f} on {n:,} accounts by chance)"
            )
        else:
            cal = f"{calibration_words(check, 'accounts')} (calibration error {ece:.3f})"
        return f"{head}; calibration: {cal}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(
            {
                "features": list(self.features),
                "coefficients": self.coefficients,
                "train_accounts": self.train_accounts,
                "held_out_accounts": self.held_out_accounts,
                "held_out_auc": self.held_out_auc,
                "held_out_p_value": self.held_out_p_value,
                "held_out_brier": self.held_out_brier,
                "held_out_base_brier": self.held_out_base_brier,
                "held_out_ece": self.held_out_ece,
                "held_out_chance_ece": self.held_out_chance_ece,
                "base_rate": self.base_rate,
                "train_rate": self.train_rate,
                "ranks_beyond_chance": self.ranks_beyond_chance,
                "beats_base_rate": self.beats_base_rate,
                "calibration_check": self.calibration_check,
                "verdict": self.verdict(),
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
