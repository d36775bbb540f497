"""Honest evaluation of the win-probability model, always beside its baselines.

With dates, validation is time-ordered: for each of the last quarters, the model is trained on the
deals closed before it and tested on the deals closed in it; the test predictions of all splits are
pooled for Brier, log loss and calibration, while AUC compares only deals of the same split (each
split's AUC weighted by its won × lost pairs: a model refitted per split has a level per split, and
ranking deals across splits would score those levels — the training win rate, constant within a
split, is exactly 0.5). Without dates (a file of attributes and an outcome) it is stratified k-fold
cross-validation. In every split the whole model is refitted — field choice, leakage checks, model
choice and calibration — so nothing learnt from the test deals reaches their predictions.

Baselines are fitted in the same splits on the same fields (raw, without the amount companions):
the training win rate, Odoo-style naive Bayes, logistic regression and HistGradientBoosting with
scikit-learn's defaults.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult, period_of
from winloss.analyze.scoring.analysis import (
    MIN_CLOSED,
    MIN_PER_CLASS,
    Memo,
    ModelSettings,
    _stratified_folds,
    check_enough,
    companion_caveat,
    fit_win_model,
    memo_of,
    outcome_vector,
)
from winloss.analyze.scoring.classifiers import BASELINES, FOREST_MAX, make_classifier
from winloss.analyze.scoring.features import FeatureEncoder
from winloss.analyze.stats.calibration import reliability_curve, score_predictions
from winloss.errors import UsageError
from winloss.serialize import records

if TYPE_CHECKING:
    from winloss.model.deals import DealField, DealFilter, DealSource

Method = Literal["auto", "cv", "time-split"]
#: A time split needs at least this many test deals in its quarter.
MIN_TEST = 10


@dataclass(frozen=True)
class EvaluationResult(AnalysisResult):
    """Out-of-sample metrics of the model and its baselines, and what was excluded and why."""

    method: str
    label: str
    metrics: dict[str, float]
    n_train: int
    n_test: int
    baselines: dict[str, dict[str, float]]
    excluded_fields: tuple[dict[str, str], ...]
    fields_used: tuple[str, ...]
    models: dict[str, int]
    calibrations: dict[str, int]
    reliability: pd.DataFrame
    splits: tuple[dict[str, Any], ...]
    settings: dict[str, Any]
    inputs: AnalysisInputs
    caveats: tuple[str, ...] = ()
    #: Out-of-sample predictions: deal_id, the split, segment/owner/quarter when present,
    #: probability and won — what per-segment calibration corrections are computed from.
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def auc(self) -> float:
        """Out-of-sample AUC of the model (deals ranked within their test split)."""
        return float(self.metrics["auc"])

    @property
    def brier(self) -> float:
        return float(self.metrics["brier"])

    @property
    def log_loss(self) -> float:
        return float(self.metrics["log_loss"])

    @property
    def ece(self) -> float:
        """Expected calibration error."""
        return float(self.metrics["ece"])

    @property
    def summary(self) -> pd.DataFrame:
        """One row for the model and one per baseline: AUC, Brier, log loss, ECE."""
        rows = [{"model": f"winloss ({self.label})", **self.metrics}]
        rows += [{"model": name, **m} for name, m in self.baselines.items()]
        return pd.DataFrame(rows)[["model", "auc", "brier", "log_loss", "ece"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "label": self.label,
            **self.metrics,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "baselines": self.baselines,
            "excluded_fields": list(self.excluded_fields),
            "fields_used": list(self.fields_used),
            "models_chosen": self.models,
            "calibrations_chosen": self.calibrations,
            "reliability": records(self.reliability),
            "splits": list(self.splits),
            "settings": self.settings,
            "inputs": self.inputs.to_dict(),
            "caveats": list(self.caveats),
        }


class EvaluationOptions(TypedDict, total=False):
    """Keyword settings of :class:`ModelEvaluation` besides the filter."""

    settings: ModelSettings
    method: Method
    folds: int
    max_splits: int
    baselines: tuple[str, ...]


@dataclass(frozen=True)
class ModelEvaluation:
    """Evaluate the win-probability model out of sample.

    Parameters
    ----------
    settings
        The model settings (``purpose="explanatory"`` for the at-close fit).
    method
        ``auto`` (time-split when closed deals have dates, otherwise ``cv``), ``cv`` or
        ``time-split``.
    folds
        Folds of the cross-validation.
    max_splits
        Time-split: test on at most this many of the latest quarters.
    baselines
        Baselines fitted in the same splits.
    """

    settings: ModelSettings = field(default_factory=lambda: ModelSettings(n_bootstrap=0))
    deal_filter: DealFilter | None = None
    method: Method = "auto"
    folds: int = 5
    max_splits: int = 4
    baselines: tuple[str, ...] = BASELINES

    def run(self, source: DealSource) -> EvaluationResult:
        """Evaluate on the closed deals of ``source`` (filtered by :attr:`deal_filter`)."""
        flt = self.deal_filter
        deals = source.deals(flt)
        closed = deals[deals["outcome"].isin(["won", "lost"])].reset_index(drop=True)
        open_deals = deals[deals["outcome"] == "open"]
        inputs = {"store": getattr(source, "path", None), "filter": flt.describe() if flt else None}
        return self.run_frame(
            closed,
            source.field_catalog(),
            open_deals=open_deals,
            inputs=inputs,
            memo=memo_of(source),
        )

    def run_frame(
        self,
        closed: pd.DataFrame,
        catalog: list[DealField],
        *,
        open_deals: pd.DataFrame | None = None,
        inputs: dict[str, Any] | None = None,
        memo: Memo | None = None,
    ) -> EvaluationResult:
        """Evaluate on a frame of closed deals with the workspace's field catalog."""
        if self.folds < 2:
            raise UsageError("cross-validation needs at least 2 folds")
        y = outcome_vector(closed)
        check_enough(y, "model evaluation")
        settings = replace(self.settings, n_bootstrap=0)
        caveats: list[str] = []
        dated = (
            closed["closed_at"].notna().all() and closed["quarter"].nunique() >= 2
            if "quarter" in closed.columns
            else False
        )
        method = self.method
        splits: list[tuple[np.ndarray, np.ndarray, str]] = []
        if method in ("auto", "time-split"):
            if dated:
                splits = self._time_splits(closed, y)
            if not splits:
                if method == "time-split":
                    raise UsageError(
                        "a time split needs closed deals with dates in at least two quarters, "
                        f"each test quarter with {MIN_TEST}+ deals and {MIN_CLOSED}+ earlier "
                        "closed deals of both outcomes; use --method cv"
                    )
                if dated:
                    caveats.append("too few deals per quarter for a time split: cross-validated")
            else:
                method = "time-split"
        if not splits:
            method = "cv"
            k = min(self.folds, int(min(y.sum(), len(y) - y.sum())))
            fold = _stratified_folds(y, k, settings.seed)
            splits = [
                (np.flatnonzero(fold != j), np.flatnonzero(fold == j), f"fold {j + 1}")
                for j in range(k)
            ]
        # the fully grown default forest is a small-data baseline: on 60k+ deals it takes minutes
        baselines_run = tuple(
            b
            for b in self.baselines
            if b != "random_forest" or max(len(tr) for tr, _, _ in splits) <= FOREST_MAX
        )
        if len(baselines_run) < len(self.baselines):
            caveats.append(
                f"the random_forest baseline is fitted up to {FOREST_MAX:,} training deals only"
            )
        pooled_y: list[np.ndarray] = []
        pooled: dict[str, list[np.ndarray]] = {"winloss": [], **{b: [] for b in baselines_run}}
        excluded: dict[str, dict[str, str]] = {}
        used: Counter[str] = Counter()
        models: Counter[str] = Counter()
        calibrations: Counter[str] = Counter()
        split_info: list[dict[str, Any]] = []
        oos: list[pd.DataFrame] = []
        companions: set[str] = set()
        keep = [
            c for c in ("deal_id", "segment", "owner", "region", "quarter") if c in closed.columns
        ]
        for train, test, name in splits:
            tr, te = closed.iloc[train].reset_index(drop=True), closed.iloc[test]
            model = fit_win_model(
                settings, tr, catalog, open_deals=open_deals, importance=False, memo=memo
            )
            p = model.predict_frame(te)
            oos.append(te[keep].assign(split=name, probability=p, won=y[test]))
            companions.update(model.companion_fields)
            pooled_y.append(y[test])
            pooled["winloss"].append(p)
            for ex in model.excluded:
                excluded.setdefault(ex["field"], ex)
            assert model.choice is not None
            used.update(model.choice.names())
            models[model.model_name] += 1
            calibrations[model.calibration.method] += 1
            raw = FeatureEncoder(model.choice.predictors, companions=False).fit(tr)
            tr_data, te_data = raw.transform(tr, training=True), raw.transform(te)
            for b in baselines_run:
                clf = make_classifier(b, settings.seed).fit(tr_data, y[train])
                pooled[b].append(clf.predict(te_data))
            m = score_predictions(y[test], p)
            split_info.append(
                {
                    "split": name,
                    "n_train": len(train),
                    "n_test": len(test),
                    "model": model.model_name,
                    "calibration": model.calibration.method,
                    **m.to_dict(),
                }
            )
        y_all = np.concatenate(pooled_y)
        # AUC within each split (pairs of deals tested together), the rest over all test deals:
        # fits of different splits differ in level, and a pooled AUC scores those differences
        split_of = np.concatenate([np.full(len(t), i) for i, t in enumerate(pooled_y)])
        metrics = score_predictions(y_all, np.concatenate(pooled["winloss"]), split_of).to_dict()
        metrics.pop("n")
        baselines = {}
        for b in baselines_run:
            bm = score_predictions(y_all, np.concatenate(pooled[b]), split_of).to_dict()
            bm.pop("n")
            baselines[b] = bm
        n_train = (
            split_info[-1]["n_train"]
            if method == "time-split"
            else int(round(np.mean([s["n_train"] for s in split_info])))
        )
        base_note = base_rate_caveat(metrics, baselines.get("base_rate", {}))
        if base_note:
            caveats.append(base_note)
        if companions:
            caveats.append(companion_caveat(sorted(companions)))
        label = "explanatory, not predictive" if settings.purpose == "explanatory" else "predictive"
        if settings.purpose == "explanatory":
            caveats.append(
                "explanatory fit: uses fields known only at or after the close; it "
                "explains past outcomes and must not be used to score open deals"
            )
        return EvaluationResult(
            method=method,
            label=label,
            metrics=metrics,
            n_train=n_train,
            n_test=len(y_all),
            baselines=baselines,
            excluded_fields=tuple(excluded.values()),
            fields_used=tuple(sorted(used)),
            models=dict(models),
            calibrations=dict(calibrations),
            reliability=reliability_curve(y_all, np.concatenate(pooled["winloss"])),
            splits=tuple(split_info),
            settings={
                **settings.to_dict(),
                "method": self.method,
                "folds": self.folds,
                "max_splits": self.max_splits,
            },
            inputs=AnalysisInputs.of(
                len(y),
                period=period_of(self.deal_filter),
                flt=self.deal_filter,
                n_closed=len(y),
                won=int(y.sum()),
                lost=int(len(y) - y.sum()),
                date_range=_date_range(closed),
                **(inputs or {}),
            ),
            caveats=tuple(caveats),
            predictions=pd.concat(oos, ignore_index=True) if oos else pd.DataFrame(),
        )

    def _time_splits(
        self, closed: pd.DataFrame, y: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray, str]]:
        quarter = closed["quarter"].astype(str).to_numpy()
        out = []
        for q in sorted(set(quarter)):
            train, test = np.flatnonzero(quarter < q), np.flatnonzero(quarter == q)
            yt = y[train]
            if (
                len(train) >= MIN_CLOSED
                and yt.sum() >= MIN_PER_CLASS
                and len(yt) - yt.sum() >= MIN_PER_CLASS
                and len(test) >= MIN_TEST
                and 0 < y[test].sum() < len(test)
            ):
                out.append((train, test, f"train before {q}, test {q}"))
        return out[-self.max_splits :]


def _date_range(frame: pd.DataFrame) -> list[str | None]:
    if "closed_at" not in frame.columns or frame["closed_at"].isna().all():
        return [None, None]
    return [str(frame["closed_at"].min().date()), str(frame["closed_at"].max().date())]


def base_rate_caveat(metrics: dict[str, Any], base: dict[str, Any]) -> str | None:
    """What to say when the model does not clearly beat the base rate out of sample: worse on a
    metric (AUC lower, Brier or log loss higher), or AUC within 0.02 of it."""
    keys = (("AUC", "auc"), ("Brier", "brier"), ("log loss", "log_loss"))
    both = [(n, k) for n, k in keys if metrics.get(k) is not None and base.get(k) is not None]
    # beyond the printed rounding (4 decimals): a model that fell back to the win rate scores the
    # base rate's own figures, up to its calibration (Maven: "worse on Brier, log loss" beside
    # 0.2529 and 0.2529, 1.6e-6 apart)
    tol = 5e-5
    worse = [
        name
        for name, key in both
        if (metrics[key] < base[key] - tol if key == "auc" else metrics[key] > base[key] + tol)
    ]
    if both and all(abs(metrics[k] - base[k]) <= tol for _, k in both):
        return (
            "the model scores as the base rate out of sample: the fields say nothing about the "
            "outcome here, so its scores and the forecast built on them are the overall win rate"
        )
    if worse:
        return (
            f"the model is worse than the base rate on {', '.join(worse)} out of sample: the "
            "fields say little about the outcome here, so its scores and the forecast built on "
            "them are no better than the overall win rate"
        )
    if metrics.get("auc") is not None and metrics["auc"] <= float(base.get("auc", 0.5)) + 0.02:
        return "the model barely beats the base rate: the fields say little about the outcome"
    return None
