"""The win-probability model: choose, calibrate, bootstrap, explain — and score open deals.

:class:`WinModel` is fitted on closed deals. It picks its predictors for a purpose (see
:mod:`winloss.analyze.scoring.features`), drops leaking fields (:mod:`winloss.analyze.scoring.leakage`), chooses a
classifier by held-out log loss among gradient boosting, logistic regression, a random forest, the
forest–logistic blend and Odoo-style naive Bayes (:mod:`winloss.analyze.scoring.classifiers`), and
calibrates it on held-out predictions (:mod:`winloss.analyze.stats.calibration`):

* from :data:`HOLDOUT_MIN` closed deals one stratified held-out split serves model choice and
  calibration (above :data:`SELECTION_MAX` training deals the candidates are compared on a
  :data:`SELECTION_SAMPLE`-deal sample and the winner refitted on all);
* below that, :data:`REPEATS` × 5-fold out-of-fold predictions serve both — logistic regression
  (:data:`SMALL_DEFAULT`) stays unless another candidate's Platt-mapped log loss is lower by more
  than one standard error — and the
  chosen model is refitted on all deals; gradient boosting is only tried from :data:`BOOSTING_MIN`
  deals, the forest and the blend up to ``FOREST_MAX``.

Each probability carries a bootstrap interval (the chosen model refitted on resampled deals), and
each deal its top factors for and against in plain words.

:class:`Scoring` is the analysis behind ``winloss score``: it fits the model on the closed deals of a
workspace and scores the open ones.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from winloss.analyze.base import AnalysisInputs, AnalysisResult, period_of
from winloss.analyze.scoring.classifiers import (
    CANDIDATES,
    FOREST_MAX,
    Blend,
    Classifier,
    Logistic,
    make_classifier,
)
from winloss.analyze.scoring.features import (
    MIN_LEVEL_COUNT,
    EncodedDeals,
    FeatureEncoder,
    FieldChoice,
    Purpose,
    choose_fields,
    describe_pattern,
    describe_value,
    roundness,
)
from winloss.analyze.scoring.leakage import find_leaks
from winloss.analyze.scoring.parallel import run_jobs
from winloss.analyze.stats.calibration import (
    EPS,
    CalibrationMap,
    chance_ece,
    choose_calibration,
    cross_fitted,
    ece,
    log_loss,
)
from winloss.errors import InsufficientDataError
from winloss.serialize import records

if TYPE_CHECKING:
    from winloss.model.deals import DealField, DealFilter, DealSource

#: Fewer closed deals than this and the model refuses to fit.
MIN_CLOSED = 30
#: Each outcome needs at least this many deals.
MIN_PER_CLASS = 5
#: From this many closed deals gradient boosting is a candidate.
BOOSTING_MIN = 200
#: From this many closed deals one held-out split replaces 5-fold out-of-fold predictions.
HOLDOUT_MIN = 2000
#: Above this many training deals the candidates are compared on a sample of
#: :data:`SELECTION_SAMPLE` of them (and half as many held-out deals); the winner is then refitted
#: on all of them.
SELECTION_MAX = 200_000
#: Training deals the candidates are fitted on above :data:`SELECTION_MAX` (at most that many).
#: 200,000 was tried first: the candidates' order was the same (boosting, logistic, naive Bayes
#: on 300,000 demo deals), and boosting on the sample cost over half as much as the final refit.
SELECTION_SAMPLE = 50_000
#: Permutation importances are measured on at most this many held-out deals.
IMPORTANCE_MAX = 20_000
#: Repeats of the 5-fold out-of-fold model choice below :data:`HOLDOUT_MIN` deals.
REPEATS = 2
#: Below :data:`HOLDOUT_MIN` deals the model another candidate must beat by one standard error.
#: Logistic regression: on 19 samples of 448 categorical deals (docs/scoring.md) it was the best
#: baseline on 13; with the blend as the default the scorer reached the best baseline on 0 of 6
#: of them, with logistic as the default on 4 of 6 (raw out-of-fold predictions, same folds).
SMALL_DEFAULT = "logistic"
#: A candidate must beat the win rate's held-out log loss by this much (nats) to be used.
MIN_SKILL = 0.002
#: A field is a reason to win or lose only when its permutation importance on held-out deals
#: exceeds this many standard errors (paired per-deal loss differences): about a one-sided 2 %
#: test, so a pure-noise field that the model fitted is not cited to a rep.
REASON_SE = 2.0
#: Background deals per field for the what-if explanations.
BACKGROUND = 16
#: Account targeting: a category level needs this many rows, else it joins "other".
ACCOUNT_MIN_LEVEL_COUNT = 20
#: Up to this many deals, each gets its own bootstrap interval (see :meth:`WinModel.predict`).
EXACT_INTERVALS = 100_000
#: Deals scored by the bootstrap refits when there are more than :data:`EXACT_INTERVALS`.
INTERVAL_SAMPLE = 50_000
#: Bootstrap refits use at most this many deals (m-out-of-n bootstrap, spread rescaled).
BOOTSTRAP_MAX = 200_000


@dataclass(frozen=True)
class ModelSettings:
    """How the win-probability model is built.

    Parameters
    ----------
    purpose
        ``win`` (default), ``lead`` (creation-time fields), ``account`` (account attributes) or
        ``explanatory`` (also the at-close fields: explains, never predicts).
    model
        ``auto`` chooses among ``candidates`` by held-out log loss; or one of them by name.
    calibration
        ``auto`` (none/sigmoid/isotonic chosen on held-out data), ``sigmoid``, ``isotonic`` or
        ``none``.
    holdout
        Share of closed deals held out for model choice and calibration (large data).
    n_bootstrap
        Refits for the per-deal interval; ``None`` = by size (30, 20 or 10), 0 = no intervals.
    interval
        Central coverage of the interval (0.8 = 10th to 90th percentile).
    max_auc
        Single-field AUC from which a field is treated as a leak.
    exclude
        Fields never to use.
    value_companions
        Give many-valued numeric fields (amounts) two companions: how round the value is and
        how common the exact value is. Fair when the value is entered before the outcome; turn
        off when the CRM rewrites won deals' amounts at close (then they leak).
    seed
        Seed of every random choice.
    """

    purpose: Purpose = "win"
    model: str = "auto"
    candidates: tuple[str, ...] = CANDIDATES
    calibration: str = "auto"
    holdout: float = 0.2
    n_bootstrap: int | None = None
    interval: float = 0.8
    max_auc: float = 0.95
    exclude: tuple[str, ...] = ()
    account_level: tuple[str, ...] = ()
    value_companions: bool = True
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def companion_caveat(fields: list[str]) -> str:
    """The disclosure that value companions are in use (see ``ModelSettings.value_companions``)."""
    return (
        f"uses how round {', '.join(fields)} is and how common its exact value is: fair when "
        "entered before the outcome, a leak if the CRM rewrites won deals' values at close "
        "(`winloss model evaluate --no-value-companions` measures the model without them)"
    )


def outcome_vector(frame: pd.DataFrame) -> np.ndarray:
    """1 for won, 0 for lost."""
    return np.asarray((frame["outcome"] == "won").to_numpy(dtype=np.int64))


def check_enough(y: np.ndarray, what: str = "the win-probability model") -> None:
    """Raise :class:`InsufficientDataError` unless there are enough closed deals of each outcome."""
    n, wins = len(y), int(y.sum())
    if n < MIN_CLOSED:
        raise InsufficientDataError(
            f"{what} needs at least {MIN_CLOSED} closed deals; there are {n}. Import more closed "
            "deals (won and lost), or widen the filter."
        )
    if wins < MIN_PER_CLASS or n - wins < MIN_PER_CLASS:
        raise InsufficientDataError(
            f"{what} needs won and lost deals (at least {MIN_PER_CLASS} of each); there are "
            f"{wins} won and {n - wins} lost. Import deals of both outcomes."
        )


#: ``memo(key, compute)``: computes once per key (see ``CachedDealSource.memo``).
Memo = Callable[[Hashable, Callable[[], "WinModel"]], "WinModel"]


def fit_win_model(
    settings: ModelSettings,
    closed: pd.DataFrame,
    catalog: list[DealField],
    *,
    open_deals: pd.DataFrame | None = None,
    importance: bool = True,
    memo: Memo | None = None,
) -> WinModel:
    """``WinModel(settings).fit(...)``, shared through ``memo`` when given: two analyses of one
    report that fit the same settings on the same deals (by id, in order) get one fit."""

    if memo is None or "deal_id" not in closed.columns:
        return WinModel(settings).fit(closed, catalog, open_deals=open_deals, importance=importance)
    data = (
        tuple(catalog),
        tuple(closed.columns),
        tuple(closed["deal_id"]),
        None if open_deals is None else tuple(open_deals["deal_id"]),
    )
    # the model without refits or importances is shared by every variant (e.g. the forecast's,
    # without either, and the scores', with both); each variant adds what it needs once
    bare = replace(settings, n_bootstrap=0)
    core = memo(
        ("win_model", bare, False, *data),
        lambda: WinModel(bare).fit(closed, catalog, open_deals=open_deals, importance=False),
    )
    if settings == bare and not importance:
        return core
    return memo(
        ("win_model", settings, importance, *data),
        lambda: core.extended(closed, settings, importance=importance),
    )


def memo_of(source: object) -> Memo | None:
    """The model memo of a source that keeps one (a ``CachedDealSource``), else ``None``."""
    memo = getattr(source, "memo", None)
    return memo if callable(memo) else None


def _row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Log loss of each prediction (``p`` may carry a leading axis of repeats)."""
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(-(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _platt(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``p`` mapped by a logistic fit of ``y`` on logit ``p`` (Platt scaling, in sample)."""
    from sklearn.linear_model import LogisticRegression

    z = logit(np.clip(p, EPS, 1 - EPS)).reshape(-1, 1)
    if np.ptp(z) < 1e-9 or len(np.unique(y)) < 2:
        return p
    model = LogisticRegression(C=1e4).fit(z, y)
    return np.asarray(model.predict_proba(z)[:, 1])


def _stratified_folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def _fresh(name: str, penalty: float | None, seed: int) -> Classifier:
    """An unfitted candidate of the out-of-fold choice (logistic penalty fixed beforehand)."""
    if name == "logistic":
        return Logistic(penalty, seed)
    if name == "blend":
        return Blend(seed, penalty)
    return make_classifier(name, seed)


def _repeat_predictions(
    data: EncodedDeals,
    y: np.ndarray,
    fold: np.ndarray,
    k: int,
    names: list[str],
    penalty: float | None,
    seed: int,
) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of each candidate over one repeat's ``k`` folds."""
    out = {name: np.zeros(len(y)) for name in names}
    for j in range(k):
        tr, te = np.flatnonzero(fold != j), np.flatnonzero(fold == j)
        tr_data, te_data = data.take(tr), data.take(te)  # = transform(closed.iloc[…])
        for name in names:
            out[name][te] = _fresh(name, penalty, seed).fit(tr_data, y[tr]).predict(te_data)
    return out


class WinModel:
    """A calibrated P(win) model fitted on closed deals. Use :meth:`fit`, then :meth:`predict`."""

    def __init__(self, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        self.choice: FieldChoice | None = None
        self.excluded: list[dict[str, str]] = []
        self.encoder: FeatureEncoder | None = None
        self.classifier: Classifier | None = None
        self.calibration = CalibrationMap()
        self.calibration_scores: dict[str, float] = {}
        #: the held-out check of the chosen map: its calibration error on the held-out
        #: predictions (each half mapped by a map fitted on the other) beside the error a
        #: calibrated score shows there by chance (95 %), and how many predictions
        self.calibration_check: dict[str, float] = {}
        self.selection: dict[str, float] = {}
        self.replicas: list[Classifier] = []
        self.bootstrap_scale = 1.0
        self.importances = pd.DataFrame()
        self.validation = "none"
        self.n_train = 0
        self.base_rate = float("nan")
        self.caveats: list[str] = []
        self._background = pd.DataFrame()
        self._imp_rows = np.zeros(0, dtype=np.intp)

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        closed: pd.DataFrame,
        catalog: list[Any],
        *,
        open_deals: pd.DataFrame | None = None,
        importance: bool = True,
    ) -> WinModel:
        """Fit on ``closed`` deals (won/lost) with predictors chosen from ``catalog``.

        ``open_deals`` feed the "empty while open" leakage check; ``importance=False`` skips the
        permutation importances.
        """
        s = self.settings
        y = outcome_vector(closed)
        check_enough(y)
        choice = choose_fields(
            catalog, closed, purpose=s.purpose, exclude=s.exclude, account_level=s.account_level
        )
        leaks = find_leaks(
            closed, y, choice.predictors, open_deals=open_deals, max_auc=s.max_auc, seed=s.seed
        )
        leaked = {lk.field for lk in leaks}
        predictors = tuple(p for p in choice.predictors if p.name not in leaked)
        if not predictors:
            raise InsufficientDataError(
                "no field is left to predict from (every candidate field is empty, known only "
                "after the outcome, or leaks it); import fields known before the outcome"
            )
        self.choice = replace(choice, predictors=predictors)
        self.excluded = [*choice.excluded, *(lk.to_dict() for lk in leaks)]
        self.n_train = len(y)
        self.base_rate = float(y.mean())
        # accounts are few: a level needs more of them before it earns its own effect
        min_level = ACCOUNT_MIN_LEVEL_COUNT if s.purpose == "account" else MIN_LEVEL_COUNT
        self.encoder = FeatureEncoder(
            predictors, companions=s.value_companions, min_level_count=min_level
        ).fit(closed)
        names = (
            [s.model]
            if s.model != "auto"
            else [
                c
                for c in s.candidates
                if (c != "gradient_boosting" or len(y) >= BOOSTING_MIN)
                and (c not in ("forest", "blend") or len(y) <= FOREST_MAX)
            ]
        )
        if len(y) < BOOSTING_MIN and "gradient_boosting" in s.candidates and s.model == "auto":
            self.caveats.append(f"gradient boosting not tried below {BOOSTING_MIN} closed deals")
        if len(y) < 200:
            self.caveats.append(
                f"only {len(y)} closed deals: probabilities are rough — read the intervals"
            )
        if len(y) >= HOLDOUT_MIN:
            raw_cal, y_cal, imp_rows = self._choose_on_holdout(closed, y, names)
        else:
            raw_cal, y_cal, imp_rows = self._choose_out_of_fold(closed, y, names)
        if self.companion_fields:
            self.caveats.append(companion_caveat(self.companion_fields))
        self.calibration, self.calibration_scores = choose_calibration(
            raw_cal, y_cal, method=s.calibration, seed=s.seed
        )
        checked = cross_fitted(raw_cal, y_cal, self.calibration.method, seed=s.seed)
        self.calibration_check = {
            "ece": ece(y_cal, checked),
            "chance_ece": chance_ece(checked, draws=1000 if len(checked) <= 20_000 else 200),
            "n": float(len(checked)),
        }
        rng = np.random.default_rng(s.seed)
        take = rng.choice(len(closed), size=min(BACKGROUND, len(closed)), replace=False)
        self._background = closed.iloc[np.sort(take)][self.choice.names()].reset_index(drop=True)
        self._imp_rows = imp_rows
        self._fit_replicas(closed, y)
        if importance:
            self._fit_importances(closed, y)
        return self

    def extended(
        self, closed: pd.DataFrame, settings: ModelSettings, *, importance: bool
    ) -> WinModel:
        """A copy of this model (fitted on ``closed`` without bootstrap refits or importances)
        as :meth:`fit` with ``settings`` — differing at most in ``n_bootstrap`` — would have
        returned it: the refits and the importances are added, the rest is shared. Each draws
        from its own seeded generator, so the result equals a fit from scratch."""
        assert replace(settings, n_bootstrap=0) == replace(self.settings, n_bootstrap=0)
        assert not self.replicas and self.importances.empty
        out = copy.copy(self)
        out.settings = settings
        out.caveats = list(self.caveats)
        y = outcome_vector(closed)
        out._fit_replicas(closed, y)
        if importance:
            out._fit_importances(closed, y)
        return out

    def _fit_importances(self, closed: pd.DataFrame, y: np.ndarray) -> None:
        s = self.settings
        imp_rows = self._imp_rows
        assert self.encoder is not None
        if self.validation.endswith("out-of-fold") and self.model_name != "base_rate":
            # the final model has seen every deal: a forest would credit noise in-sample, so
            # importances are measured out of fold — each of 5 folds on a refit of the chosen
            # model without it — and pooled over every deal (a single fold of a few hundred
            # deals is too noisy to tell a modest driver from noise)
            assert self.classifier is not None
            fold = _stratified_folds(y, 5, s.seed)
            parts: list[tuple[np.ndarray, Classifier | None]] = []
            for j in range(5):
                fit_rows, rows = np.flatnonzero(fold != j), np.flatnonzero(fold == j)
                judge = self.classifier.refit_copy().fit(
                    self.encoder.transform(closed.iloc[fit_rows], training=True), y[fit_rows]
                )
                parts.append((rows, judge))
            self.importances = self._permutation_importance(closed, y, parts)
            return
        if len(imp_rows) > IMPORTANCE_MAX:
            imp_rows = np.sort(
                np.random.default_rng(s.seed).choice(imp_rows, IMPORTANCE_MAX, replace=False)
            )
        self.importances = self._permutation_importance(closed, y, [(imp_rows, None)])

    def _choose_on_holdout(
        self, closed: pd.DataFrame, y: np.ndarray, names: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit candidates on most deals, choose on the held-out rest; returns its predictions."""
        assert self.encoder is not None
        seed = self.settings.seed
        # a stratified random hold-out: a "latest deals" hold-out was tried and rejected because
        # win rates swing within a quarter (Maven: ~80% in the last month, ~50% in the first)
        fold = _stratified_folds(y, int(round(1 / self.settings.holdout)), seed)
        fit_idx, held = np.flatnonzero(fold != 0), np.flatnonzero(fold == 0)
        self.validation = "stratified hold-out"
        # very large data: candidates are compared on a sample, the winner refitted on all
        rng = np.random.default_rng(seed)
        sampled = len(fit_idx) > SELECTION_MAX and len(names) > 1
        n_fit = min(SELECTION_MAX, SELECTION_SAMPLE)
        choose_fit = np.sort(rng.choice(fit_idx, n_fit, replace=False)) if sampled else fit_idx
        choose_held = (
            np.sort(rng.choice(held, n_fit // 2, replace=False))
            if sampled and len(held) > n_fit // 2
            else held
        )
        if sampled:
            self.validation = (
                f"stratified hold-out (candidates compared on {len(choose_fit):,} "
                f"+ {len(choose_held):,} sampled deals)"
            )
        fit_data = self.encoder.transform(closed.iloc[choose_fit], training=True)
        held_data = self.encoder.transform(closed.iloc[choose_held], training=True)
        fitted = {
            name: make_classifier(name, seed).fit(fit_data, y[choose_fit])
            for name in names
            if name != "blend"
        }
        if "blend" in names:
            blend = Blend(seed)
            for part in ("logistic", "forest"):
                if part in fitted:  # reuse the candidate already fitted on the same deals
                    setattr(blend, part, fitted[part])
                else:
                    getattr(blend, part).fit(fit_data, y[choose_fit])
            fitted["blend"] = blend
        preds = {name: clf.predict(held_data) for name, clf in fitted.items()}
        y_held = y[choose_held]
        self.selection = {k: log_loss(y_held, v) for k, v in preds.items()}
        self.selection["base_rate"] = log_loss(y_held, np.full(len(y_held), y[choose_fit].mean()))
        best = self._best(names)
        self._boot_rows = fit_idx
        if not sampled:
            self.classifier = fitted.get(best) or make_classifier(best, seed).fit(
                fit_data, y[fit_idx]
            )
            return self.classifier.predict(held_data), y_held, held
        del fit_data, held_data, fitted, preds
        if best == "gradient_boosting":
            # only the dense matrix is needed: encode in chunks, no copy of the whole frame
            full = self.encoder.transform_dense(closed, fit_idx, training=True)
        else:
            full = self.encoder.transform(closed.iloc[fit_idx], training=True)
        self.classifier = make_classifier(best, seed).fit(full, y[fit_idx])
        del full
        held_full = (
            self.encoder.transform_dense(closed, held, training=True)
            if best == "gradient_boosting"
            else self.encoder.transform(closed.iloc[held], training=True)
        )
        return self.classifier.predict(held_full), y[held], held

    def _choose_out_of_fold(
        self, closed: pd.DataFrame, y: np.ndarray, names: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Choose by repeated 5-fold out-of-fold log loss, refit the winner on all deals.

        :data:`SMALL_DEFAULT` is the default; another candidate replaces it only when its per-deal
        log loss is lower by more than one standard error (paired over deals, averaged over the repeats) —
        on a few hundred deals plain "lowest loss wins" flips between candidates from fold to fold.
        """
        assert self.encoder is not None
        seed, k = self.settings.seed, 5
        repeats = REPEATS
        self.validation = f"{repeats}×{k}-fold out-of-fold"
        data = self.encoder.transform(closed, training=True)
        # the logistic penalty is chosen once on all deals (3-fold), then held fixed in the folds
        uses_logistic = "logistic" in names or "blend" in names
        penalty = Logistic(seed=seed).fit(data, y).C if uses_logistic else None

        fitted = [n for n in names if n != "blend"]
        if "blend" in names:
            fitted += [n for n in ("logistic", "forest") if n not in fitted]
        fitted.append("base_rate")
        folds = [_stratified_folds(y, k, seed + r) for r in range(repeats)]
        # the repeats share nothing but their inputs: they run in worker processes when it pays
        per_repeat = run_jobs(
            _repeat_predictions,
            [(data, y, fold, k, fitted, penalty, seed) for fold in folds],
            rows=len(y),
        )
        oof = {name: np.stack([p[name] for p in per_repeat]) for name in fitted}
        if "blend" in names:
            oof["blend"] = (oof["logistic"] + oof["forest"]) / 2
        # compared after a Platt map (as calibration will apply one): an overconfident but
        # sharper candidate (boosting on few deals) is not lost to its raw log loss
        losses = {
            name: np.mean([_row_log_loss(y, _platt(y, v[r])) for r in range(repeats)], axis=0)
            for name, v in oof.items()
        }
        self.selection = {
            name: float(v.mean())
            for name, v in losses.items()
            if name in names or name == "base_rate"
        }
        best = self._best(names, losses)
        self.classifier = (
            _fresh(best, penalty, seed).fit(data, y)
            if best != "base_rate"
            else make_classifier("base_rate").fit(data, y)
        )
        self._boot_rows = np.arange(len(y))
        return oof[best].mean(axis=0), y, np.arange(len(y))

    def _best(self, names: list[str], losses: dict[str, np.ndarray] | None = None) -> str:
        """The candidate with the lowest held-out log loss; the win rate if none beats it.

        With per-deal ``losses`` the default (:data:`SMALL_DEFAULT` if it is a candidate, else the
        blend) stays unless another candidate is better by more than one standard error.
        """
        best = min(names, key=lambda k: self.selection[k])
        default = next((d for d in (SMALL_DEFAULT, "blend") if d in names), None)
        if losses is not None and default is not None and best != default:
            diff = losses[default] - losses[best]
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
            if float(diff.mean()) <= se:
                best = default
        if (
            self.settings.model == "auto"
            and self.selection[best] > self.selection["base_rate"] - MIN_SKILL
        ):
            # an account model reads the accounts' own fields only: "no field" read as a
            # contradiction of a deal-level finding (lead source) shown beside it
            which = (
                f"no account field ({', '.join(self.settings.account_level[:4])}"
                + (" …" if len(self.settings.account_level) > 4 else "")
                + ")"
                if self.settings.purpose == "account" and self.settings.account_level
                else "no field"
            )
            self.caveats.append(
                f"{which} predicts the outcome better than the overall win rate "
                "on held-out deals: the model falls back to the win rate"
            )
            return "base_rate"
        return best

    def _fit_replicas(self, closed: pd.DataFrame, y: np.ndarray) -> None:
        s = self.settings
        rows = self._boot_rows
        b = s.n_bootstrap
        if b is None:
            b = 30 if len(rows) <= 2000 else 20 if len(rows) <= 20000 else 10
        self.replicas = []
        rng = np.random.default_rng(s.seed + 1)
        assert self.classifier is not None and self.encoder is not None
        # m-out-of-n bootstrap for very large data: refits on m deals, spread scaled by √(m/n)
        m = min(len(rows), BOOTSTRAP_MAX)
        self.bootstrap_scale = float(np.sqrt(m / len(rows)))
        everything = self.encoder.transform(closed, training=True) if b > 0 else None
        for _ in range(b):
            pick = rows[rng.integers(0, len(rows), m)]
            if len(np.unique(y[pick])) < 2:
                continue
            assert everything is not None
            data = everything.take(pick)  # = transform(closed.iloc[pick], training=True)
            self.replicas.append(self.classifier.refit_copy().fit(data, y[pick]))

    def _permutation_importance(
        self,
        closed: pd.DataFrame,
        y: np.ndarray,
        parts: list[tuple[np.ndarray, Classifier | None]],
    ) -> pd.DataFrame:
        """Increase in log loss when one field is shuffled, on deals each judge (``None``: the
        fitted classifier) was not fitted on — ``parts`` pairs row positions with their judge —
        pooled over the parts, with its standard error from the per-deal loss differences."""
        assert self.choice is not None
        assert self.encoder is not None and self.classifier is not None
        names = self.choice.names()
        rng = np.random.default_rng(self.settings.seed)
        base_rows: list[np.ndarray] = []
        shuffled_rows: dict[str, list[np.ndarray]] = {p.name: [] for p in self.choice.predictors}
        ys: list[np.ndarray] = []
        for rows, judge in parts:
            frame = closed.iloc[rows][names].reset_index(drop=True)
            y_part = y[rows]
            if len(frame) > 20000:
                frame = frame.sample(20000, random_state=self.settings.seed)
                y_part = y_part[frame.index.to_numpy()]
                frame = frame.reset_index(drop=True)
            clf = judge or self.classifier
            # encoded once; each field's encoded values are shuffled (= encoding a shuffled frame)
            data = self.encoder.transform(frame)
            base_rows.append(_row_log_loss(y_part, self.calibration.apply(clf.predict(data))))
            ys.append(y_part)
            for p in self.choice.predictors:
                shuffled = data.permuted(p.name, rng.permutation(len(frame)))
                shuffled_rows[p.name].append(
                    _row_log_loss(y_part, self.calibration.apply(clf.predict(shuffled)))
                )
        base = np.concatenate(base_rows)
        rows_out = []
        for p in self.choice.predictors:
            diff = np.concatenate(shuffled_rows[p.name]) - base
            rows_out.append(
                {
                    "field": p.name,
                    "label": p.label,
                    "importance": float(diff.mean()),
                    "importance_se": (
                        float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else np.nan
                    ),
                }
            )
        out = pd.DataFrame(rows_out).sort_values("importance", ascending=False, ignore_index=True)
        # clearly helps on held-out deals: only such fields are reasons (explain) or weights
        # (the plan's lead-scoring action)
        out["helps"] = (out["importance"] > 0) & (
            out["importance"] > REASON_SE * out["importance_se"].fillna(0.0)
        )
        total = out["importance"].clip(lower=0).sum()
        out["share"] = out["importance"].clip(lower=0) / total if total > 0 else 0.0
        return out

    # -- predicting -------------------------------------------------------------------------
    @property
    def companion_fields(self) -> list[str]:
        """The numbers the model reads with their roundness and frequency: none when it fell
        back to the win rate, which reads no field (Maven's caveat about account_revenue sat
        above "the model falls back to the win rate")."""
        if self.encoder is None or self.model_name == "base_rate":
            return []
        return [n.name for n in self.encoder.numeric if n.companions]

    @property
    def model_name(self) -> str:
        return self.classifier.name if self.classifier is not None else "unfitted"

    def predict_frame(
        self, frame: pd.DataFrame, classifier: Classifier | None = None
    ) -> np.ndarray:
        """Calibrated P(win) for each row of ``frame`` (by ``classifier``, default the model's)."""
        assert self.encoder is not None and self.classifier is not None
        if len(frame) == 0:
            return np.zeros(0)
        data = self.encoder.transform(frame)
        return self.calibration.apply((classifier or self.classifier).predict(data))

    def predict(self, frame: pd.DataFrame, *, intervals: bool = True) -> pd.DataFrame:
        """``probability`` and (with replicas) ``ci_low``/``ci_high`` for each row of ``frame``.

        Up to :data:`EXACT_INTERVALS` deals every deal gets its own bootstrap interval. Beyond, the
        refits score a sample of :data:`INTERVAL_SAMPLE` deals and each deal takes the median
        spread (on the logit scale) of sampled deals with a similar probability; the method used
        is in ``result.attrs["interval_method"]``.
        """
        assert self.encoder is not None and self.classifier is not None
        if len(frame) == 0:
            cols = ["probability"] + (["ci_low", "ci_high"] if intervals and self.replicas else [])
            return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
        data = self.encoder.transform(frame)
        p = self.calibration.apply(self.classifier.predict(data))
        out = pd.DataFrame({"probability": p}, index=frame.index)
        if not (intervals and self.replicas):
            return out
        a = (1 - self.settings.interval) / 2
        if len(frame) <= EXACT_INTERVALS:
            reps = np.column_stack([self.calibration.apply(r.predict(data)) for r in self.replicas])
            # the replicas' spread on the logit scale, around their own median, laid around the
            # deal's estimate: a replica fit drifting from the full fit (66–76 % beside 76 %)
            # moves the interval with it, not the estimate to its edge
            zr = logit(np.clip(reps, EPS, 1 - EPS))
            z_lo, z_mid, z_hi = np.quantile(zr, [a, 0.5, 1 - a], axis=1)
            z = logit(np.clip(p, EPS, 1 - EPS))
            lo = expit(z + self.bootstrap_scale * (z_lo - z_mid))
            hi = expit(z + self.bootstrap_scale * (z_hi - z_mid))
            out.attrs["interval_method"] = "bootstrap per deal"
        else:
            lo, hi = self._sampled_interval(frame, p, a)
            out.attrs["interval_method"] = (
                f"bootstrap on {INTERVAL_SAMPLE:,} sampled deals, spread by predicted probability"
            )
        out["ci_low"] = np.minimum(lo, p)
        out["ci_high"] = np.maximum(hi, p)
        return out

    def _sampled_interval(
        self, frame: pd.DataFrame, p: np.ndarray, a: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bootstrap spreads measured on a sample, applied by bins of predicted probability."""
        assert self.encoder is not None
        rng = np.random.default_rng(self.settings.seed)
        take = np.sort(rng.choice(len(frame), INTERVAL_SAMPLE, replace=False))
        sample = self.encoder.transform(frame.iloc[take])
        reps = np.column_stack([self.calibration.apply(r.predict(sample)) for r in self.replicas])
        z = logit(np.clip(p, EPS, 1 - EPS))
        zs = z[take]
        # spreads around the replicas' own median, as for a single deal (see predict_frame)
        zr = logit(np.clip(reps, EPS, 1 - EPS))
        q_lo, q_mid, q_hi = np.quantile(zr, [a, 0.5, 1 - a], axis=1)
        edges = np.unique(np.quantile(zs, np.linspace(0, 1, 51)[1:-1]))
        bins_s, bins_all = np.digitize(zs, edges), np.digitize(z, edges)
        down = pd.Series(q_lo - q_mid).groupby(bins_s).median()
        up = pd.Series(q_hi - q_mid).groupby(bins_s).median()
        d_lo = down.reindex(range(len(edges) + 1)).ffill().bfill().to_numpy()
        d_hi = up.reindex(range(len(edges) + 1)).ffill().bfill().to_numpy()
        d_lo, d_hi = d_lo * self.bootstrap_scale, d_hi * self.bootstrap_scale
        return expit(z + d_lo[bins_all]), expit(z + d_hi[bins_all])

    def explain(self, frame: pd.DataFrame, top: int = 3) -> list[dict[str, list[dict[str, Any]]]]:
        """Top factors for and against each deal, in plain words with the effect in points.

        A field's effect is P(win) of the deal minus the mean P(win) when that field alone takes
        the values of :data:`BACKGROUND` typical closed deals (a what-if comparison). For a number
        with value companions the what-if first moves the value with its roundness and frequency
        held at the deal's own: that is the number's effect ("Amount is 250,000"). The rest of the
        full what-if is the companions' effect — a *data pattern* (how round, how common the
        figure is), listed under ``data_patterns`` and never among the reasons for or against.
        """
        assert self.choice is not None and self.encoder is not None
        frame = frame[self.choice.names()].reset_index(drop=True)
        n, k = len(frame), len(self._background)
        if n == 0:
            return []
        p = self.predict_frame(frame)
        effects = np.zeros((n, len(self.choice.predictors)))
        patterns: dict[int, np.ndarray] = {}
        companions = {num.name: num for num in self.encoder.numeric if num.companions}
        rep = frame.loc[np.repeat(np.arange(n), k)].reset_index(drop=True)
        for j, pred in enumerate(self.choice.predictors):
            what_if = rep.copy()
            what_if[pred.name] = np.tile(self._background[pred.name].to_numpy(), n)
            q = self.predict_frame(what_if).reshape(n, k).mean(axis=1)
            effects[:, j] = p - q
            num = companions.get(pred.name)
            if num is not None:
                own = pd.to_numeric(rep[pred.name], errors="coerce").to_numpy(dtype=float)
                what_if[f"{pred.name}__roundness"] = roundness(own)
                what_if[f"{pred.name}__frequency"] = np.where(
                    np.isfinite(own),
                    pd.Series(own).map(num.value_counts).fillna(0).to_numpy(),
                    np.nan,
                )
                q_value = self.predict_frame(what_if).reshape(n, k).mean(axis=1)
                patterns[j] = effects[:, j] - (p - q_value)
                effects[:, j] = p - q_value
        # a field that does not clearly help on held-out deals (permutation importance not above
        # REASON_SE of its standard errors) is not a reason to win or lose, however it moves
        # this deal's score: noise a model fitted
        helps = np.ones(len(self.choice.predictors), dtype=bool)
        if not self.importances.empty:
            useful = set(self.importances.loc[self.importances["helps"], "field"])
            helps = np.array([p.name in useful for p in self.choice.predictors])
        out = []
        for i in range(n):
            order = [j for j in np.argsort(-effects[i]) if helps[j]]
            factors = [
                {
                    "field": self.choice.predictors[j].name,
                    "text": describe_value(
                        self.encoder, self.choice.predictors[j], frame.iat[i, j]
                    ),
                    "effect": float(effects[i, j]),
                }
                for j in order
            ]
            pattern = [
                {
                    "field": self.choice.predictors[j].name,
                    "kind": "data pattern",
                    "text": describe_pattern(
                        self.encoder, self.choice.predictors[j], frame.iat[i, j]
                    ),
                    "effect": float(v[i]),
                }
                for j, v in patterns.items()
                if helps[j] and abs(v[i]) > 0.005  # a pattern of a noise field is noise too
            ]
            out.append(
                {
                    "for": [f for f in factors if f["effect"] > 0.005][:top],
                    "against": [f for f in factors[::-1] if f["effect"] < -0.005][:top],
                    "data_patterns": pattern,
                    # fields that move this deal's score but are not reasons (within chance)
                    "not_reasons": [
                        {
                            "field": self.choice.predictors[j].name,
                            "label": self.choice.predictors[j].label,
                            "effect": float(effects[i, j]),
                        }
                        for j in np.argsort(-np.abs(effects[i]))
                        if not helps[j] and abs(effects[i, j]) > 0.005
                    ],
                }
            )
        return out

    def describe(self) -> dict[str, Any]:
        """What was fitted: model, calibration, fields used and excluded, caveats."""
        assert self.choice is not None
        return {
            "purpose": self.settings.purpose,
            "label": (
                "explanatory, not predictive"
                if self.settings.purpose == "explanatory"
                else "predictive"
            ),
            "model": self.model_name,
            "selection_log_loss": self.selection,
            "validation": self.validation,
            "calibration": self.calibration.to_dict(),
            "calibration_log_loss": self.calibration_scores,
            "calibration_check": self.calibration_check,
            "bootstrap_refits": len(self.replicas),
            "interval": self.settings.interval,
            "bootstrap_scale": self.bootstrap_scale,
            "n_train": self.n_train,
            "base_rate": self.base_rate,
            "fields_used": self.choice.names(),
            "excluded_fields": self.excluded,
            "caveats": list(self.caveats),
        }


def no_field_helps(importances: pd.DataFrame) -> bool:
    """Whether importances were measured and none helps on held-out deals (the differences
    between scores are then not backed by evidence: no reasons, grades or tiers)."""
    return bool(not importances.empty and "helps" in importances and not importances["helps"].any())


def phrase(factor: dict[str, Any]) -> str:
    """``Region is Pacific (+6 pts)``."""
    return f"{factor['text']} ({factor['effect'] * 100:+.0f} pts)"


# -- the analysis behind `winloss score` ---------------------------------------------------------
@dataclass(frozen=True)
class ScoreResult(AnalysisResult):
    """Scores of deals: probability, interval and top factors; the model and global importances."""

    kind: str
    scores: pd.DataFrame
    importances: pd.DataFrame
    model: dict[str, Any]
    inputs: AnalysisInputs
    caveats: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        return self.scores

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "inputs": self.inputs.to_dict(),
            "model": self.model,
            "importances": records(self.importances),
            "deals": records(self.scores),
            "caveats": list(self.caveats),
        }


class ScoringOptions(TypedDict, total=False):
    """Keyword settings of :class:`Scoring` besides the filter."""

    settings: ModelSettings
    include_closed: bool
    explain: bool
    top: int
    max_explained: int


@dataclass(frozen=True)
class Scoring:
    """Fit the model on the closed deals of a workspace and score its open deals (or all deals).

    Parameters
    ----------
    settings
        Model settings; ``purpose="lead"`` gives the lead score.
    include_closed
        Score closed deals too (in-sample: their scores are optimistic).
    explain
        Add the top factors for and against (skipped above ``max_explained`` deals).
    top
        Factors per side.
    """

    settings: ModelSettings = field(default_factory=ModelSettings)
    deal_filter: DealFilter | None = None
    include_closed: bool = False
    explain: bool = True
    top: int = 3
    max_explained: int = 50_000

    def run(
        self,
        source: DealSource,
        *,
        train_on: DealSource | None = None,
        model: WinModel | None = None,
    ) -> ScoreResult:
        """Score the deals of ``source`` (:attr:`deal_filter`) with a model trained on
        ``train_on`` (default ``source``), or with an already fitted ``model``."""
        flt = self.deal_filter
        if model is None:
            model = self.fit(train_on or source)
        targets = source.deals(flt)
        if not self.include_closed:
            targets = targets[targets["outcome"] == "open"]
        targets = targets.reset_index(drop=True)
        return score_frame(
            model,
            targets,
            kind="lead" if self.settings.purpose == "lead" else "score",
            explain=self.explain,
            top=self.top,
            max_explained=self.max_explained,
            flt=flt,
            inputs={
                "store": getattr(source, "path", None),
                "filter": (flt.describe() if flt else None),
                "include_closed": self.include_closed,
            },
        )

    def fit(self, trainer: DealSource) -> WinModel:
        """The model :meth:`run` scores with: fitted on the closed deals of ``trainer``."""
        all_train = trainer.deals()
        closed = all_train[all_train["outcome"].isin(["won", "lost"])].reset_index(drop=True)
        open_train = all_train[all_train["outcome"] == "open"]
        return fit_win_model(
            self.settings,
            closed,
            trainer.field_catalog(),
            open_deals=open_train,
            memo=memo_of(trainer),
        )


def _not_reasons_caveat(factors: list[dict[str, list[dict[str, Any]]]]) -> str | None:
    """Say when the factors for and against do not account for the scores: fields that do not
    predict beyond chance on held-out deals are never given as reasons, yet the model still moves
    scores with them (named, the ones moving most deals by more than half a point first)."""
    moved: dict[str, int] = {}
    for fx in factors:
        for f in fx.get("not_reasons", []):
            moved[str(f["label"])] = moved.get(str(f["label"]), 0) + 1
    if not moved:
        return None
    names = sorted(moved, key=lambda k: (-moved[k], k))
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    fields = "field" if len(names) == 1 else "fields"
    return (
        "the factors for and against name only fields that predict the outcome beyond chance on "
        f"held-out deals; the scores also move with {len(names)} {fields} that do not ({shown}), "
        "so part of a score has no reason given"
    )


def score_frame(
    model: WinModel,
    targets: pd.DataFrame,
    *,
    kind: str = "score",
    explain: bool = True,
    top: int = 3,
    max_explained: int = 50_000,
    flt: DealFilter | None = None,
    inputs: dict[str, Any] | None = None,
) -> ScoreResult:
    """Score ``targets`` with a fitted model: one row per deal, keyed by ``deal_id``."""
    caveats = list(model.caveats)
    pred = model.predict(targets)
    keep = [
        c
        for c in ("deal_id", "account_name", "owner", "segment", "stage", "amount", "outcome")
        if c in targets.columns
    ]
    scores = targets[keep].copy()
    scores["probability"] = pred["probability"].to_numpy()
    if "ci_low" in pred:
        scores["ci_low"] = pred["ci_low"].to_numpy()
        scores["ci_high"] = pred["ci_high"].to_numpy()
    if explain and len(targets) > 0 and no_field_helps(model.importances):
        caveats.append(
            "no field predicts the outcome beyond chance on held-out deals (every "
            f"importance within {REASON_SE:g} standard errors of 0): no reasons for or "
            "against are given, and the differences between the deals' scores are not "
            "backed by held-out evidence"
        )
    if explain and 0 < len(targets) <= max_explained:
        factors = model.explain(targets, top=top)
        scores["factors_for"] = ["; ".join(phrase(f) for f in fx["for"]) for fx in factors]
        scores["factors_against"] = ["; ".join(phrase(f) for f in fx["against"]) for fx in factors]
        scores["data_pattern"] = [
            "; ".join(phrase(f) for f in fx["data_patterns"]) for fx in factors
        ]
        scores["factors"] = factors
        unexplained = _not_reasons_caveat(factors)
        if unexplained:
            caveats.append(unexplained)
    elif explain and len(targets) > max_explained:
        caveats.append(f"factors not computed for more than {max_explained:,} deals")
    if (targets.get("outcome", pd.Series(dtype=str)) != "open").any():
        caveats.append("closed deals are scored in-sample: their probabilities are optimistic")
    if len(targets) == 0:
        caveats.append("no deals to score: there are no open deals (score closed ones with --all)")
    scores = scores.sort_values("probability", ascending=False, ignore_index=True)
    info = AnalysisInputs.of(
        len(scores),
        period=period_of(flt),
        flt=flt,
        n_scored=len(scores),
        scored_at=dt.datetime.now().isoformat(timespec="seconds"),
        **(inputs or {}),
    )
    return ScoreResult(
        kind=kind,
        scores=scores,
        importances=model.importances,
        model=model.describe(),
        inputs=info,
        caveats=tuple(caveats),
    )
