"""The candidate classifiers behind the win probability, and the baselines they are judged against.

Every classifier takes :class:`winloss.analyze.scoring.features.EncodedDeals` and returns P(win).

``gradient_boosting``
    scikit-learn's HistGradientBoosting with native categories, L2 regularisation, larger leaves
    and early stopping on a 10% validation split; uses the roundness/frequency companions of
    amounts. (A learning rate of 0.05 was tried: same IBM metrics, twice the time.)
``logistic``
    L2-regularised logistic regression on one-hot categories and quantile-binned numbers; the
    penalty is chosen by 3-fold cross-validation below :data:`LARGE` deals (shrinkage for small data).
``forest``
    bagged trees: scikit-learn's random forest on the one-hot representation, with leaves of at
    least 3 deals (tried on 448-deal samples of IBM and Telco: AUC within ±0.02 of the logistic
    model, and different errors — hence the blend).
``blend``
    the plain average of ``forest`` and ``logistic`` probabilities: on a few hundred categorical
    deals neither reliably beats the other, their average rarely loses to either by much, and a
    fixed average needs no noisy choice of weights.
``naive_bayes``
    like Odoo's predictive lead scoring: per-field value frequencies among won and lost deals,
    multiplied as if independent, with additive smoothing.
``base_rate``, ``gradient_boosting_plain`` and ``random_forest``
    baselines only: the training win rate for everyone, and HistGradientBoosting and the random
    forest with scikit-learn's defaults. As baselines, all of them see the raw fields only (no
    amount companions).
"""

from __future__ import annotations

import os
import warnings
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np
from scipy.special import expit

from winloss.analyze.scoring.features import EncodedDeals
from winloss.analyze.stats.calibration import log_loss

#: From this many training deals the logistic penalty is fixed (C = 1) instead of cross-validated.
LARGE = 2000
#: Below this many rows gradient boosting runs on one thread (see :func:`threads_for`).
PARALLEL_MIN = 200_000
#: Above this many training deals the forest (and the blend) is not a candidate: the one-hot forest
#: grows with the data, and boosting is the better large-data model.
FOREST_MAX = 20_000
CANDIDATES = ("gradient_boosting", "logistic", "forest", "blend", "naive_bayes")
BASELINES = ("base_rate", "naive_bayes", "logistic", "gradient_boosting_plain", "random_forest")


def threads_for(n_rows: int) -> AbstractContextManager[Any]:
    """Limit OpenMP threads while boosting ``n_rows`` rows.

    On a busy machine OpenMP threads spin-wait for each other and a 60k-deal fit can run ten times
    slower on two threads than on one; below :data:`PARALLEL_MIN` rows one thread is used, above
    it ``$WINLOSS_THREADS`` (default: all cores).
    """
    from threadpoolctl import threadpool_limits

    limit = 1 if n_rows < PARALLEL_MIN else int(os.environ.get("WINLOSS_THREADS", "0")) or None
    limiter: AbstractContextManager[Any] = threadpool_limits(limits=limit, user_api="openmp")
    return limiter


class Classifier(Protocol):
    name: str

    def fit(self, data: EncodedDeals, y: np.ndarray) -> Classifier: ...

    def predict(self, data: EncodedDeals) -> np.ndarray: ...

    def refit_copy(self) -> Classifier: ...


class BaseRate:
    """Everyone gets the training win rate (the no-skill baseline)."""

    name = "base_rate"

    def __init__(self) -> None:
        self.rate = 0.5

    def fit(self, data: EncodedDeals, y: np.ndarray) -> BaseRate:
        self.rate = float(np.mean(y))
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        return np.full(data.n, self.rate)

    def refit_copy(self) -> BaseRate:
        return BaseRate()


class NaiveBayes:
    """Odoo-style naive Bayes over field values with additive (Laplace) smoothing ``alpha``."""

    name = "naive_bayes"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha
        self.log_ratio: list[np.ndarray] = []
        self.prior = 0.0

    def fit(self, data: EncodedDeals, y: np.ndarray) -> NaiveBayes:
        won = y == 1
        n_won, n_lost = won.sum(), (~won).sum()
        self.prior = float(np.log((n_won + self.alpha) / (n_lost + self.alpha)))
        self.log_ratio = []
        for codes, k in data.codes:
            cw = np.bincount(codes[won], minlength=k) + self.alpha
            cl = np.bincount(codes[~won], minlength=k) + self.alpha
            self.log_ratio.append(np.log(cw / cw.sum()) - np.log(cl / cl.sum()))
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        z = np.full(data.n, self.prior)
        for (codes, _k), ratio in zip(data.codes, self.log_ratio, strict=True):
            z += ratio[codes]
        return np.asarray(expit(z))

    def refit_copy(self) -> NaiveBayes:
        return NaiveBayes(self.alpha)


class Logistic:
    """L2-regularised logistic regression on the one-hot representation."""

    name = "logistic"

    def __init__(self, C: float | None = None, seed: int = 0) -> None:  # noqa: N803
        self.C = C
        self.seed = seed
        self.model: object | None = None

    def _make(self, C: float) -> object:  # noqa: N803
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, solver="newton-cholesky", max_iter=200)

    def fit(self, data: EncodedDeals, y: np.ndarray) -> Logistic:
        X = data.onehot
        C = self.C
        if C is None:
            C = 1.0 if len(y) >= LARGE else _choose_c(X, y, self._make, self.seed)
        self.C = C
        with warnings.catch_warnings():
            # a perfectly separated small sample is handled by the penalty and the calibration
            warnings.simplefilter("ignore")
            self.model = self._make(C).fit(X, y)  # type: ignore[attr-defined]
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        return np.asarray(self.model.predict_proba(data.onehot)[:, 1])  # type: ignore[union-attr]

    def refit_copy(self) -> Logistic:
        return Logistic(self.C, self.seed)


def _choose_c(X: object, y: np.ndarray, make: object, seed: int) -> float:
    """The L2 penalty with the best 3-fold log loss among a small grid (stronger = more shrinkage)."""
    grid = (0.03, 0.1, 0.3, 1.0)
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % 3
    best, best_loss = 1.0, np.inf
    for c in grid:
        pred = np.zeros(len(y))
        ok = True
        for k in range(3):
            tr, te = fold != k, fold == k
            if len(np.unique(y[tr])) < 2:
                ok = False
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = make(c).fit(X[tr], y[tr])  # type: ignore[operator,index]
            pred[te] = m.predict_proba(X[te])[:, 1]  # type: ignore[index]
        loss = log_loss(y, pred) if ok else np.inf
        if loss < best_loss:
            best, best_loss = c, loss
    return best


class GradientBoosting:
    """Tuned HistGradientBoosting with native categorical support."""

    name = "gradient_boosting"

    def __init__(self, seed: int = 0, max_iter: int | None = None, *, tuned: bool = True) -> None:
        self.seed = seed
        self.max_iter = max_iter  # fixed number of trees (bootstrap refits); None = early stopping
        self.tuned = tuned
        self.model: object | None = None

    def _columns(self, data: EncodedDeals) -> tuple[np.ndarray, np.ndarray]:
        return data.dense, data.is_category

    def fit(self, data: EncodedDeals, y: np.ndarray) -> GradientBoosting:
        from sklearn.ensemble import HistGradientBoostingClassifier

        X, is_cat = self._columns(data)
        cat = is_cat if is_cat.any() else None
        if not self.tuned:
            model = HistGradientBoostingClassifier(categorical_features=cat, random_state=self.seed)
        else:
            n = len(y)
            early = self.max_iter is None and n >= 1000
            model = HistGradientBoostingClassifier(
                learning_rate=0.1,
                max_iter=self.max_iter or 400,
                max_leaf_nodes=31,
                min_samples_leaf=max(20, n // 2000),
                l2_regularization=1.0,
                categorical_features=cat,
                early_stopping=early,
                validation_fraction=0.1 if early else None,
                n_iter_no_change=15,
                random_state=self.seed,
            )
            if not early and self.max_iter is None:
                # small data: fewer, smaller trees (and no validation split to spare)
                model.set_params(max_iter=100, max_leaf_nodes=15)
        with threads_for(len(y)):
            self.model = model.fit(X, y)
        if self.max_iter is None:
            self.max_iter = int(model.n_iter_)
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        X, _ = self._columns(data)
        with threads_for(len(X)):
            return np.asarray(self.model.predict_proba(X)[:, 1])  # type: ignore[union-attr]

    def refit_copy(self) -> GradientBoosting:
        return GradientBoosting(self.seed, self.max_iter, tuned=self.tuned)


class Forest:
    """Random forest on the one-hot representation (``plain``: scikit-learn's defaults)."""

    name = "forest"

    def __init__(self, seed: int = 0, *, plain: bool = False) -> None:
        self.seed = seed
        self.plain = plain
        self.model: object | None = None

    def fit(self, data: EncodedDeals, y: np.ndarray) -> Forest:
        from sklearn.ensemble import RandomForestClassifier

        if self.plain:
            model = RandomForestClassifier(random_state=self.seed)
        else:
            model = RandomForestClassifier(
                n_estimators=100,
                min_samples_leaf=3,
                max_features="sqrt",
                random_state=self.seed,
                n_jobs=1,
            )
        self.model = model.fit(data.onehot, y)
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        proba = self.model.predict_proba(data.onehot)  # type: ignore[union-attr]
        if proba.shape[1] == 1:  # one outcome only in the training deals
            only = int(self.model.classes_[0])  # type: ignore[union-attr]
            return np.full(data.n, float(only))
        return np.asarray(proba[:, 1])

    def refit_copy(self) -> Forest:
        return Forest(self.seed, plain=self.plain)


class Blend:
    """The average of the forest's and the logistic model's probabilities."""

    name = "blend"

    def __init__(self, seed: int = 0, C: float | None = None) -> None:  # noqa: N803
        self.seed = seed
        self.logistic = Logistic(C, seed)
        self.forest = Forest(seed)

    def fit(self, data: EncodedDeals, y: np.ndarray) -> Blend:
        self.logistic.fit(data, y)
        self.forest.fit(data, y)
        return self

    def predict(self, data: EncodedDeals) -> np.ndarray:
        return np.asarray((self.logistic.predict(data) + self.forest.predict(data)) / 2)

    def refit_copy(self) -> Blend:
        return Blend(self.seed, self.logistic.C)


def make_classifier(name: str, seed: int = 0) -> Classifier:
    """A fresh, unfitted classifier by name (a candidate or a baseline)."""
    if name == "gradient_boosting":
        return GradientBoosting(seed)
    if name == "gradient_boosting_plain":
        c = GradientBoosting(seed, tuned=False)
        c.name = "gradient_boosting_plain"
        return c
    if name == "logistic":
        return Logistic(seed=seed)
    if name == "forest":
        return Forest(seed)
    if name == "random_forest":
        forest = Forest(seed, plain=True)
        forest.name = "random_forest"
        return forest
    if name == "blend":
        return Blend(seed)
    if name == "naive_bayes":
        return NaiveBayes()
    if name == "base_rate":
        return BaseRate()
    raise ValueError(f"unknown classifier {name!r}")
