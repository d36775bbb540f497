"""Probability metrics and calibration maps for the win-probability model.

ROC AUC, the Brier score and log loss are scikit-learn's (``sklearn.metrics``); the expected
calibration error (equal-width bins) and the reliability curve with Wilson intervals
(:mod:`winloss.analyze.stats.intervals`) are computed here.

A calibration map turns a model's raw scores into probabilities that match observed win rates. It is
fitted on held-out predictions: Platt scaling (``sigmoid``) for small held-out sets, isotonic
regression from :data:`ISOTONIC_MIN` held-out deals, or ``none`` when a 2-fold check on the held-out
set shows the raw scores are already at least as well calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

# the one Wilson interval (also importable from here as before)
from winloss.analyze.stats.intervals import wilson_interval as wilson_interval

#: Probabilities are clipped to [EPS, 1 - EPS] before logs and logits.
EPS = 1e-6
#: Isotonic calibration needs at least this many held-out deals (scikit-learn's advice: ~1000).
ISOTONIC_MIN = 1000
#: A calibration map replaces the raw scores only if it lowers held-out log loss by this much.
MIN_GAIN = 0.001
#: Number of equal-width bins for ECE and the reliability curve.
N_BINS = 10


def _arrays(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=float).ravel()
    pa = np.asarray(p, dtype=float).ravel()
    if ya.shape != pa.shape:
        raise ValueError("y and p must have the same length")
    return ya, pa


def auc(y: Any, p: Any) -> float:
    """ROC AUC (scikit-learn's ``roc_auc_score``): the probability that a won deal outranks a lost
    one, ties counting 1/2. NaN when only one class is present."""
    from sklearn.metrics import roc_auc_score

    ya, pa = _arrays(y, p)
    if len(ya) == 0 or ya.min() == ya.max():
        return float("nan")
    return float(roc_auc_score(ya, pa))


def rank_auc(y: Any, p: Any) -> float:
    """ROC AUC as the Mann-Whitney statistic (average ranks for ties); NaN with one class.

    For inner loops (the leakage screen scores every field of every fit), where scikit-learn's
    input validation costs ~50× the computation; the tests pin it to :func:`auc` (scikit-learn)
    within 1e-12. Reported metrics use :func:`auc`.
    """
    from scipy.stats import rankdata

    ya, pa = _arrays(y, p)
    n_pos = float(ya.sum())
    n_neg = float(len(ya) - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(pa)
    return float((ranks[ya == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def within_group_auc(y: Any, p: Any, groups: Any) -> float:
    """ROC AUC over the pairs of a won and a lost deal *in the same group* (the same test split),
    ties counting 1/2: each group's AUC weighted by its number of won × lost pairs. NaN when no
    group holds both outcomes.

    Predictions of different splits come from different fits: pooled, a won deal of one split is
    compared with a lost deal of another, and the comparison measures how the fits' levels differ,
    not how either ranks. A predictor constant within each split (the training win rate) scores
    exactly 0.5 here, as it must, whatever its level per split; pooled it did not (0.40 on the
    300-deal demo, whose training win rates fell as its test quarters' rose). With one group it is
    :func:`auc`.
    """
    ya, pa = _arrays(y, p)
    ga = np.asarray(groups).ravel()
    if ga.shape != ya.shape:
        raise ValueError("groups must have the length of y")
    total, pairs = 0.0, 0.0
    for g in np.unique(ga):
        member = ga == g
        n_pos = float(ya[member].sum())
        weight = n_pos * (float(member.sum()) - n_pos)
        if weight:
            total += weight * auc(ya[member], pa[member])
            pairs += weight
    return total / pairs if pairs else float("nan")


def auc_p_value(y: Any, p: Any) -> float:
    """One-sided p-value that ``p`` ranks won above lost better than chance (AUC > 0.5): the
    Mann-Whitney U test (scipy; exact for small samples without ties). NaN with one class."""
    from scipy.stats import mannwhitneyu

    ya, pa = _arrays(y, p)
    won, lost = pa[ya == 1], pa[ya == 0]
    if len(won) == 0 or len(lost) == 0:
        return float("nan")
    return float(mannwhitneyu(won, lost, alternative="greater").pvalue)


def brier(y: Any, p: Any) -> float:
    """Mean squared difference between the probability and the outcome (scikit-learn's
    ``brier_score_loss``; 0 = perfect)."""
    from sklearn.metrics import brier_score_loss

    ya, pa = _arrays(y, p)
    return float(brier_score_loss(ya, pa, pos_label=1.0)) if len(ya) else float("nan")


def reported_log_loss(y: Any, p: Any) -> float:
    """Log loss as reported in the metrics (scikit-learn's ``log_loss``, probabilities clipped to
    [EPS, 1 − EPS] first)."""
    from sklearn.metrics import log_loss as sk_log_loss

    ya, pa = _arrays(y, p)
    if len(ya) == 0:
        return float("nan")
    return float(sk_log_loss(ya, np.clip(pa, EPS, 1 - EPS), labels=[0.0, 1.0]))


def log_loss(y: Any, p: Any) -> float:
    """Mean negative log-likelihood (natural log), probabilities clipped to [EPS, 1 − EPS].

    The objective of the model's inner loops (classifier and penalty choice, calibration choice,
    permutation importance: thousands of calls per fit), where scikit-learn's input validation
    costs ~80× the computation; the tests pin it to :func:`reported_log_loss` (scikit-learn) within
    1e-12. Reported metrics use :func:`reported_log_loss`.
    """
    ya, pa = _arrays(y, p)
    pa = np.clip(pa, EPS, 1 - EPS)
    return float(-np.mean(ya * np.log(pa) + (1 - ya) * np.log(1 - pa)))


def _bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    return np.asarray(np.minimum((p * n_bins).astype(int), n_bins - 1))


def ece(y: Any, p: Any, n_bins: int = N_BINS) -> float:
    """Expected calibration error: Σ_b (n_b / n) · |mean p_b − win rate_b| over equal-width bins."""
    ya, pa = _arrays(y, p)
    if len(ya) == 0:
        return float("nan")
    idx = _bin_index(np.clip(pa, 0, 1), n_bins)
    sum_p = np.bincount(idx, weights=pa, minlength=n_bins)
    sum_y = np.bincount(idx, weights=ya, minlength=n_bins)
    return float(np.abs(sum_p - sum_y).sum() / len(ya))


def reliability_curve(y: Any, p: Any, n_bins: int = N_BINS) -> pd.DataFrame:
    """Observed win rate per predicted-probability bin (non-empty bins), with a 95% Wilson interval.

    Columns: ``bin_low``, ``bin_high``, ``n``, ``mean_predicted``, ``observed``, ``ci_low``,
    ``ci_high``. A calibrated model has ``observed ≈ mean_predicted`` in every bin.
    """
    ya, pa = _arrays(y, p)
    idx = _bin_index(np.clip(pa, 0, 1), n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=pa, minlength=n_bins)
    sum_y = np.bincount(idx, weights=ya, minlength=n_bins)
    keep = counts > 0
    lo, hi = wilson_interval(sum_y[keep], counts[keep])
    edges = np.arange(n_bins) / n_bins
    return pd.DataFrame(
        {
            "bin_low": edges[keep],
            "bin_high": edges[keep] + 1 / n_bins,
            "n": counts[keep],
            "mean_predicted": sum_p[keep] / counts[keep],
            "observed": sum_y[keep] / counts[keep],
            "ci_low": lo,
            "ci_high": hi,
        }
    )


@dataclass(frozen=True)
class Metrics:
    """The scores of one set of predictions against the outcomes."""

    auc: float
    brier: float
    log_loss: float
    ece: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "auc": self.auc,
            "brier": self.brier,
            "log_loss": self.log_loss,
            "ece": self.ece,
            "n": self.n,
        }


def score_predictions(y: Any, p: Any, groups: Any = None) -> Metrics:
    """AUC, Brier, log loss and ECE of probabilities ``p`` for outcomes ``y`` (1 = won).

    With ``groups`` (the test split of each prediction) the AUC compares deals of the same split
    only (:func:`within_group_auc`); Brier, log loss and ECE are per-deal averages over all.
    """
    ya, pa = _arrays(y, p)
    return Metrics(
        auc=auc(ya, pa) if groups is None else within_group_auc(ya, pa, groups),
        brier=brier(ya, pa),
        log_loss=reported_log_loss(ya, pa),
        ece=ece(ya, pa),
        n=len(ya),
    )


# -- calibration maps ------------------------------------------------------------------------
@dataclass
class CalibrationMap:
    """A fitted map from raw model probability to calibrated probability.

    ``method`` is ``none``, ``sigmoid`` (Platt scaling on the logit) or ``isotonic``.
    """

    method: str = "none"
    slope: float = 1.0
    intercept: float = 0.0
    _x: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    _y: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))

    def fit(self, p: np.ndarray, y: np.ndarray) -> CalibrationMap:
        p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
        y = np.asarray(y, dtype=float)
        if self.method == "sigmoid":
            self.slope, self.intercept = _fit_platt(logit(p), y)
        elif self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
            self._x = np.asarray(iso.X_thresholds_, dtype=float)
            self._y = np.asarray(iso.y_thresholds_, dtype=float)
        elif self.method != "none":
            raise ValueError(f"unknown calibration method {self.method!r}")
        return self

    def apply(self, p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
        if self.method == "sigmoid":
            return np.asarray(expit(self.slope * logit(p) + self.intercept))
        if self.method == "isotonic":
            out = np.interp(p, self._x, self._y)
            # keep a sliver of the raw ranking inside isotonic steps so ties do not erase order
            return np.asarray(np.clip(out + 1e-6 * (p - 0.5), 0.0, 1.0))
        return p

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.method == "sigmoid":
            out.update(slope=self.slope, intercept=self.intercept)
        if self.method == "isotonic":
            out["steps"] = len(self._x)
        return out


def _fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: logistic regression of the outcome on the logit, with Platt's target smoothing.

    Source: Platt (1999), "Probabilistic outputs for support vector machines", section 2.2.
    """
    from scipy.optimize import minimize

    n_pos = y.sum()
    n_neg = len(y) - n_pos
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def nll(w: np.ndarray) -> tuple[float, np.ndarray]:
        q = expit(w[0] * z + w[1])
        q = np.clip(q, EPS, 1 - EPS)
        loss = -np.sum(t * np.log(q) + (1 - t) * np.log(1 - q))
        g = q - t
        return float(loss), np.array([np.sum(g * z), np.sum(g)])

    res = minimize(nll, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def choose_calibration(
    p: np.ndarray, y: np.ndarray, *, method: str = "auto", seed: int = 0
) -> tuple[CalibrationMap, dict[str, float]]:
    """Fit the calibration map on held-out predictions ``p`` with outcomes ``y``.

    With ``method="auto"`` the candidates are ``none``, ``sigmoid`` and (from :data:`ISOTONIC_MIN`
    held-out deals) ``isotonic``; each is scored by 2-fold cross-validated log loss on the held-out
    set and the best is refitted on all of it (a map must beat ``none`` by :data:`MIN_GAIN`). Returns the map and the held-out log loss of each
    candidate.
    """
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    if method != "auto":
        return CalibrationMap(method).fit(p, y), {}
    candidates = ["none", "sigmoid"] + (["isotonic"] if len(p) >= ISOTONIC_MIN else [])
    fold = _halves(y, seed)
    scores: dict[str, float] = {}
    for name in candidates:
        losses = []
        for k in (0, 1):
            tr, te = fold != k, fold == k
            if len(np.unique(y[tr])) < 2 or te.sum() == 0:
                continue
            cal = CalibrationMap(name).fit(p[tr], y[tr])
            losses.append(log_loss(y[te], cal.apply(p[te])) * te.sum())
        scores[name] = float(sum(losses) / len(p)) if losses else float("inf")
    best = min(candidates, key=lambda c: (scores[c], candidates.index(c)))
    if scores[best] > scores["none"] - MIN_GAIN:
        best = "none"  # a map must earn its place: tiny gains are noise of the 2-fold check
    return CalibrationMap(best).fit(p, y), scores


def _halves(y: np.ndarray, seed: int) -> np.ndarray:
    """Stratified halves (0/1 per row) of the 2-fold calibration check."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), dtype=int)
    for cls in (0, 1):
        members = np.flatnonzero(y == cls)
        rng.shuffle(members)
        fold[members[: len(members) // 2]] = 1
    return fold


def cross_fitted(p: Any, y: Any, method: str, *, seed: int = 0) -> np.ndarray:
    """``p`` through ``method``'s map, each stratified half mapped by a map fitted on the other
    (the halves of :func:`choose_calibration`'s check).

    A map fitted on the held-out predictions and scored on them grades itself (a Platt map on 37
    accounts scored a calibration error of 0.005); these are its out-of-sample predictions.
    ``none`` returns ``p``.
    """
    pa = np.asarray(p, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if method == "none":
        return pa.copy()
    fold = _halves(ya, seed)
    out = pa.copy()
    for k in (0, 1):
        tr, te = fold != k, fold == k
        if te.any() and len(np.unique(ya[tr])) == 2:
            out[te] = CalibrationMap(method).fit(pa[tr], ya[tr]).apply(pa[te])
    return out


def chance_ece(
    p: Any, *, level: float = 0.95, draws: int = 1000, seed: int = 0, n_bins: int = N_BINS
) -> float:
    """The calibration error (:func:`ece`) a perfectly calibrated score shows by chance on these
    predictions: its ``level`` quantile when each outcome is drawn with its own probability.

    On few deals or accounts it is large (0.2–0.3 on 19), so an observed error below it says
    nothing either way; above it, the scores are off beyond chance.
    """
    pa = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    if len(pa) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    idx = _bin_index(pa, n_bins)
    sum_p = np.bincount(idx, weights=pa, minlength=n_bins)
    errors = np.empty(draws)
    for d in range(draws):
        drawn = (rng.random(len(pa)) < pa).astype(float)
        sum_y = np.bincount(idx, weights=drawn, minlength=n_bins)
        errors[d] = np.abs(sum_p - sum_y).sum() / len(pa)
    return float(np.quantile(errors, level))


def calibration_words(method: str, units: str = "deals") -> str:
    """A calibration map in words; ``none`` means checked on held-out ``units`` and not needed
    (no map lowered the held-out log loss)."""
    return {
        "none": f"checked on held-out {units}, no correction needed",
        "sigmoid": "a Platt (sigmoid) map",
        "isotonic": "an isotonic map",
    }.get(method, method)


#: "No correction needed" is said only when a calibrated score's chance calibration error on the
#: held-out predictions (:func:`chance_ece`) is below this: a 10-point gap between predicted and
#: observed win rates is one a sales team would act on.
CALIBRATION_TOLERANCE = 0.10


def calibration_state(error: float, chance: float) -> str:
    """``off`` (the held-out calibration error is beyond what a calibrated score shows by
    chance), ``too few`` (that chance error exceeds :data:`CALIBRATION_TOLERANCE`: nothing to
    tell) or ``ok``."""
    if error > chance:
        return "off"
    if not chance <= CALIBRATION_TOLERANCE:  # NaN: nothing to tell from
        return "too few"
    return "ok"


def checked_calibration_words(method: str, check: dict[str, float], units: str = "deals") -> str:
    """A model's calibration in words with its held-out check (``ece``, ``chance_ece``, ``n``):
    "no correction needed" only when the check could tell and found nothing beyond chance."""
    if not check:
        return calibration_words(method, units)
    error, chance, n = check["ece"], check["chance_ece"], int(check["n"])
    state = calibration_state(error, chance)
    mapped = "" if method == "none" else f"{calibration_words(method, units)}, yet "
    if state == "off":
        return (
            f"{mapped}off beyond chance on {n:,} held-out {units} (calibration error "
            f"{error:.3f}; a calibrated score shows up to {chance:.3f}): read the scores as a "
            "ranking"
        )
    if state == "too few":
        return (
            f"{mapped}too few held-out {units} ({n:,}) to tell whether the probabilities are "
            f"right (calibration error {error:.3f}; up to {chance:.3f} by chance)"
        )
    if method == "none":
        return (
            f"checked on {n:,} held-out {units}, no correction needed (calibration error "
            f"{error:.3f})"
        )
    return f"{calibration_words(method, units)} (held-out calibration error {error:.3f})"
