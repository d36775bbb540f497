"""Lead scoring: the win model restricted to fields known when a deal is created.

For early qualification: which new deals deserve time. The score is the calibrated P(win) from
creation-time fields only (:data:`winloss.analyze.scoring.features.CREATION_TIME_FIELDS` plus custom fields
known before the outcome), shown as 0–100 with a grade from the scores of past deals: A = top 20%,
B = next 30%, C = next 30%, D = bottom 20%. The CSV export is keyed by the CRM ``deal_id`` so it can be
loaded back into the CRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.scoring.analysis import (
    ModelSettings,
    ScoreResult,
    WinModel,
    no_field_helps,
    score_frame,
)

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter, DealSource

#: Grade boundaries as shares of past deals from the top: A, B, C (the rest is D).
GRADE_SHARES = (0.2, 0.5, 0.8)
#: Columns of the CRM export, in order.
EXPORT_COLUMNS = (
    "deal_id",
    "lead_score",
    "lead_grade",
    "probability",
    "ci_low",
    "ci_high",
    "factors_for",
    "factors_against",
)


def grade_cutoffs(past_scores: np.ndarray) -> tuple[float, float, float]:
    """Scores above which a lead is A, B and C (quantiles of past deals' scores)."""
    qs = np.quantile(past_scores, [1 - s for s in GRADE_SHARES])
    return float(qs[0]), float(qs[1]), float(qs[2])


def score_cutoffs(cutoffs: tuple[float, float, float]) -> tuple[float, float, float]:
    """The cut points on the 0–100 lead-score scale (rounded to whole points, as the score)."""
    a, b, c = (float(np.round(x * 100)) / 100 for x in cutoffs)
    return a, b, c


def grades(p: np.ndarray, cutoffs: tuple[float, float, float]) -> np.ndarray:
    a, b, c = cutoffs
    return np.select([p >= a, p >= b, p >= c], ["A", "B", "C"], "D")


class LeadScoringOptions(TypedDict, total=False):
    """Keyword settings of :class:`LeadScoring` besides the filter."""

    settings: ModelSettings
    include_closed: bool
    explain: bool


@dataclass(frozen=True)
class LeadScoring:
    """Score open deals (or all) from creation-time fields; grade them against past deals."""

    settings: ModelSettings = field(default_factory=lambda: ModelSettings(purpose="lead"))
    deal_filter: DealFilter | None = None
    include_closed: bool = False
    explain: bool = True

    def run(self, source: DealSource, *, train_on: DealSource | None = None) -> ScoreResult:
        """Score the deals of ``source`` (:attr:`deal_filter`) with a lead model trained on
        ``train_on`` (default ``source``)."""
        flt = self.deal_filter
        trainer = train_on or source
        everything = trainer.deals()
        closed = everything[everything["outcome"].isin(["won", "lost"])].reset_index(drop=True)
        settings = replace(self.settings, purpose="lead")
        model = WinModel(settings).fit(
            closed, trainer.field_catalog(), open_deals=everything[everything["outcome"] == "open"]
        )
        # cut on the whole-point score shown, so that equal scores get equal grades (score 40
        # was A at p = 0.4003 and B at p = 0.3996); recorded as used
        cutoffs = score_cutoffs(grade_cutoffs(model.predict_frame(closed)))
        targets = source.deals(flt)
        if not self.include_closed:
            targets = targets[targets["outcome"] == "open"]
        result = score_frame(
            model,
            targets.reset_index(drop=True),
            kind="lead",
            explain=self.explain,
            flt=flt,
            inputs={
                "store": getattr(source, "path", None),
                "grade_cutoffs": list(cutoffs),
                "include_closed": self.include_closed,
            },
        )
        scores = result.scores
        scores.insert(1, "lead_score", np.round(scores["probability"] * 100).astype(int))
        helpless = no_field_helps(model.importances)
        if model.model_name == "base_rate" or cutoffs[0] <= cutoffs[2] or helpless:
            # no grade is an empty cell (a "-" placeholder reached the CRM file as "'-" through
            # the CSV-injection guard)
            scores.insert(2, "lead_grade", "")
            return replace(
                result,
                caveats=(
                    *result.caveats,
                    "the creation-time fields do not separate won from lost deals: no grades",
                ),
            )
        scores.insert(2, "lead_grade", grades(scores["lead_score"].to_numpy() / 100, cutoffs))
        return result


def export_frame(result: ScoreResult) -> pd.DataFrame:
    """The CSV export for the CRM: one row per deal id, plain columns only."""
    cols = [c for c in EXPORT_COLUMNS if c in result.scores.columns]
    return result.scores[cols]
