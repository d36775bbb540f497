"""Reference tests of the probability metrics and calibration maps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

from winloss.analyze.stats.calibration import (
    ISOTONIC_MIN,
    CalibrationMap,
    auc,
    auc_p_value,
    brier,
    chance_ece,
    choose_calibration,
    ece,
    log_loss,
    reliability_curve,
    score_predictions,
    within_group_auc,
)
from winloss.analyze.stats.intervals import wilson_interval


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.random(500) < p).astype(int)
    return y, p


def test_auc_matches_scikit_learn(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """Reference: sklearn.metrics.roc_auc_score (trapezoidal ROC area); tolerance 1e-12."""
    from sklearn.metrics import roc_auc_score

    y, p = sample
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    rounded = np.round(p, 1)  # many ties
    assert auc(y, rounded) == pytest.approx(roc_auc_score(y, rounded), abs=1e-12)


def test_auc_by_hand() -> None:
    """Hand count: pairs (won, lost) where won scores higher, ties counted 1/2.

    won scores 0.8, 0.4; lost scores 0.4, 0.2 → pairs: (0.8>0.4) 1, (0.8>0.2) 1, (0.4=0.4) 0.5,
    (0.4>0.2) 1 → 3.5 / 4 = 0.875.
    """
    assert auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.2]) == pytest.approx(0.875, abs=1e-15)
    assert np.isnan(auc([1, 1], [0.2, 0.3]))


def test_within_group_auc_counts_pairs_inside_each_group_only() -> None:
    """Hand count over every (won, lost) pair of the same group, ties 1/2, against the function;
    a score constant within each group is 0.5 whatever its level, though pooled it is not."""
    rng = np.random.default_rng(5)
    groups = np.repeat([0, 1, 2], [40, 25, 35])
    y = (rng.random(100) < np.array([0.2, 0.5, 0.7])[groups]).astype(int)
    p = np.round(rng.random(100), 1)  # ties within groups
    concordant, pairs = 0.0, 0
    for g in range(3):
        won = p[(groups == g) & (y == 1)]
        lost = p[(groups == g) & (y == 0)]
        for w in won:
            concordant += float((w > lost).sum()) + 0.5 * float((w == lost).sum())
        pairs += len(won) * len(lost)
    assert within_group_auc(y, p, groups) == pytest.approx(concordant / pairs, abs=1e-12)
    level = np.array([0.6, 0.4, 0.3])[groups]  # the training win rate of each split
    assert auc(y, level) < 0.4  # pooled: a level that falls as the groups' win rates rise
    assert within_group_auc(y, level, groups) == 0.5
    assert score_predictions(y, level, groups).auc == 0.5
    assert score_predictions(y, level).auc == auc(y, level)
    assert within_group_auc(y, p, np.zeros(100)) == pytest.approx(auc(y, p), abs=1e-12)
    assert np.isnan(within_group_auc([1, 0], [0.3, 0.3], [0, 1]))  # no group holds both


def test_auc_p_value_is_the_exact_permutation_p_value() -> None:
    """Hand reference: every way of choosing which 4 of 11 scores are the won ones (330), the
    share whose AUC is at least the observed one is the exact one-sided p-value; tolerance 1e-12."""
    from itertools import combinations

    p = np.array([0.91, 0.15, 0.62, 0.33, 0.78, 0.05, 0.47, 0.29, 0.84, 0.58, 0.12])
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0])
    observed = auc(y, p)
    at_least = 0
    splits = list(combinations(range(11), 4))
    for won in splits:
        yy = np.zeros(11)
        yy[list(won)] = 1
        at_least += auc(yy, p) >= observed - 1e-12
    assert auc_p_value(y, p) == pytest.approx(at_least / len(splits), abs=1e-12)
    assert auc_p_value(1 - y, p) > 0.5  # ranks the wrong way: far from beating chance
    assert np.isnan(auc_p_value([1, 1], [0.2, 0.3]))


def test_chance_ece_bounds_a_calibrated_score_95_percent_of_the_time() -> None:
    """Outcomes drawn from the scores themselves (a calibrated score): the observed calibration
    error stays within chance_ece in about 95 % of 300 repetitions (binomial 95 % band 92–98 %),
    and the bound shrinks with the number of accounts (19 → 400)."""
    rng = np.random.default_rng(8)
    p19 = rng.uniform(0.05, 0.6, 19)
    bound = chance_ece(p19, seed=1)
    inside = np.mean([ece((rng.random(19) < p19).astype(float), p19) <= bound for _ in range(300)])
    assert 0.92 <= inside <= 0.98
    assert bound > 0.2  # on 19 accounts an error of 0.2 says nothing
    assert chance_ece(rng.uniform(0.05, 0.6, 400), seed=1) < 0.1


def test_brier_and_log_loss_match_scikit_learn(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """Reference: sklearn.metrics.brier_score_loss and log_loss; tolerance 1e-12."""
    from sklearn.metrics import brier_score_loss
    from sklearn.metrics import log_loss as sk_log_loss

    y, p = sample
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p), abs=1e-12)


def test_brier_and_log_loss_by_hand() -> None:
    """Hand calculation: y = (1, 0), p = (0.8, 0.4).

    Brier = ((0.2)^2 + (0.4)^2) / 2 = 0.1; log loss = −(ln 0.8 + ln 0.6) / 2 = 0.366985…
    """
    assert brier([1, 0], [0.8, 0.4]) == pytest.approx(0.1, abs=1e-15)
    assert log_loss([1, 0], [0.8, 0.4]) == pytest.approx(
        -(np.log(0.8) + np.log(0.6)) / 2, abs=1e-15
    )


def test_ece_by_hand() -> None:
    """Hand calculation with 10 equal-width bins.

    Bin [0.1, 0.2): p = 0.15, 0.15, y = 0, 1 → |0.15 − 0.5| · 2/5 = 0.14;
    bin [0.9, 1.0]: p = 0.95, 0.95, 1.0, y = 1, 1, 0 → |0.9667 − 0.6667| · 3/5 = 0.18.
    ECE = 0.32.
    """
    y = [0, 1, 1, 1, 0]
    p = [0.15, 0.15, 0.95, 0.95, 1.0]
    assert ece(y, p) == pytest.approx(0.14 + 0.18, abs=1e-12)


def test_reliability_curve_matches_scikit_learn(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """Reference: sklearn.calibration.calibration_curve (uniform bins); tolerance 1e-12."""
    from sklearn.calibration import calibration_curve

    y, p = sample
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    curve = reliability_curve(y, p)
    np.testing.assert_allclose(curve["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(curve["mean_predicted"], predicted, atol=1e-12)
    assert curve["n"].sum() == len(y)


def test_wilson_interval_matches_statsmodels() -> None:
    """Reference: statsmodels.stats.proportion.proportion_confint(method='wilson'); tol 1e-10."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = wilson_interval(np.array([7, 0, 20]), np.array([20, 5, 20]))
    for i, (k, n) in enumerate([(7, 20), (0, 5), (20, 20)]):
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert lo[i] == pytest.approx(ref[0], abs=1e-10)
        assert hi[i] == pytest.approx(ref[1], abs=1e-10)


def test_platt_scaling_matches_logistic_regression_on_the_logit() -> None:
    """Reference: an unpenalised scikit-learn LogisticRegression of y on logit(p).

    Platt's target smoothing moves the fit slightly, so the tolerance is 0.02 on slope/intercept
    with 5,000 deals.
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    z = rng.normal(0, 1.5, 5000)
    y = (rng.random(5000) < expit(0.5 * z - 0.3)).astype(int)
    cal = CalibrationMap("sigmoid").fit(expit(z), y)
    ref = LogisticRegression(C=np.inf).fit(z.reshape(-1, 1), y)
    assert cal.slope == pytest.approx(ref.coef_[0, 0], abs=0.02)
    assert cal.intercept == pytest.approx(ref.intercept_[0], abs=0.02)


def _miscalibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known true probabilities and an overconfident model score of them."""
    rng = np.random.default_rng(seed)
    true_p = rng.beta(2, 3, n)
    y = (rng.random(n) < true_p).astype(int)
    raw = expit(2.5 * logit(true_p) + 0.7)  # overconfident and biased
    return true_p, raw, y


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_recovers_known_probabilities(method: str) -> None:
    """Synthetic deals with known P(win): after calibration on 20,000 held-out deals the ECE on
    fresh deals is below 0.02 (it is above 0.1 before) and every reliability bin with 200+ deals
    lies within 0.05 of the diagonal."""
    _, raw_fit, y_fit = _miscalibrated(20_000, 1)
    _, raw_test, y_test = _miscalibrated(20_000, 2)
    assert ece(y_test, raw_test) > 0.1
    cal = CalibrationMap(method).fit(raw_fit, y_fit)
    calibrated = cal.apply(raw_test)
    assert ece(y_test, calibrated) < 0.02
    curve = reliability_curve(y_test, calibrated)
    big = curve[curve["n"] >= 200]
    assert (np.abs(big["observed"] - big["mean_predicted"]) < 0.05).all()


def test_auto_calibration_keeps_calibrated_scores_and_fixes_bad_ones() -> None:
    """A model that is already calibrated keeps its scores (method 'none' wins on held-out
    log loss or ties within noise); an overconfident one gets a map."""
    rng = np.random.default_rng(3)
    true_p = rng.uniform(0.05, 0.95, 4000)
    y = (rng.random(4000) < true_p).astype(int)
    _, scores = choose_calibration(true_p, y)
    assert scores["none"] <= min(scores.values()) + 0.005
    _, raw, y2 = _miscalibrated(4000, 4)
    cal, scores2 = choose_calibration(raw, y2)
    assert cal.method in ("sigmoid", "isotonic")
    assert scores2[cal.method] < scores2["none"] - 0.01


def test_isotonic_needs_enough_held_out_deals() -> None:
    _, raw, y = _miscalibrated(ISOTONIC_MIN - 1, 6)
    _, scores = choose_calibration(raw, y)
    assert "isotonic" not in scores
    _, raw, y = _miscalibrated(ISOTONIC_MIN, 6)
    _, scores = choose_calibration(raw, y)
    assert "isotonic" in scores


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=60),
    st.sampled_from(["none", "sigmoid", "isotonic"]),
)
def test_calibrated_probabilities_stay_in_unit_interval(raw: list[float], method: str) -> None:
    p = np.array(raw)
    y = (np.arange(len(p)) % 2).astype(int)
    out = CalibrationMap(method).fit(p, y).apply(p)
    assert np.all((out >= 0) & (out <= 1))
    metrics = score_predictions(y, out)
    assert 0 <= metrics.brier <= 1 and metrics.ece >= 0


def test_a_model_worse_than_the_base_rate_is_called_worse_not_barely_better() -> None:
    """A stranger's file: AUC 0.469 vs 0.479, Brier 0.2465 vs 0.2366 was told 'barely beats'."""
    from winloss.analyze.scoring.evaluation import base_rate_caveat

    base = {"auc": 0.4788, "brier": 0.2366, "log_loss": 0.666}
    note = base_rate_caveat({"auc": 0.4689, "brier": 0.2465, "log_loss": 0.686}, base)
    assert note is not None and note.startswith(
        "the model is worse than the base rate on AUC, Brier, log loss out of sample"
    )
    # better on AUC but worse calibrated: still worse, on what it is worse
    note = base_rate_caveat({"auc": 0.62, "brier": 0.2624, "log_loss": 0.7221}, {
        "auc": 0.5, "brier": 0.2588, "log_loss": 0.7112})  # fmt: skip
    assert note is not None and "on Brier, log loss out of sample" in note
    close = {"auc": 0.51, "brier": 0.2, "log_loss": 0.6}
    assert base_rate_caveat(close, {"auc": 0.5, "brier": 0.21, "log_loss": 0.61}) == (
        "the model barely beats the base rate: the fields say little about the outcome"
    )
    assert base_rate_caveat({"auc": 0.8, "brier": 0.15, "log_loss": 0.45}, base) is None
    # a model that is the win rate scores the base rate's figures up to rounding: not "worse"
    # (Maven said "worse on Brier, log loss" beside identical numbers)
    same = {"auc": 0.5, "brier": 0.2529, "log_loss": 0.7097}
    jitter = {"auc": 0.5, "brier": 0.2529 + 1.6e-6, "log_loss": 0.7097 + 2e-6}
    assert base_rate_caveat(jitter, same) == (
        "the model scores as the base rate out of sample: the fields say nothing about the "
        "outcome here, so its scores and the forecast built on them are the overall win rate"
    )
    # one printed digit apart is a difference
    apart = {"auc": 0.5, "brier": 0.2530, "log_loss": 0.7097}
    assert base_rate_caveat(apart, same) is not None and "worse" in str(
        base_rate_caveat(apart, same)
    )
