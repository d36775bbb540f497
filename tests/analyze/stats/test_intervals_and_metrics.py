"""The one Wilson interval and the scikit-learn metrics, against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss
from statsmodels.stats.proportion import proportion_confint

from winloss.analyze.stats.calibration import (
    EPS,
    auc,
    brier,
    log_loss,
    rank_auc,
    reported_log_loss,
    score_predictions,
)
from winloss.analyze.stats.intervals import wilson_interval


def test_wilson_equals_statsmodels_for_every_small_table() -> None:
    """Reference: statsmodels proportion_confint(method="wilson") for every k ≤ n ≤ 40 and a few
    large n; absolute tolerance 1e-12, at 95 % and 80 %."""
    wins = np.array([k for n in range(1, 41) for k in range(n + 1)] + [0, 1, 4999, 10_000])
    n = np.array([n for n in range(1, 41) for _ in range(n + 1)] + [10_000] * 4)
    for confidence in (0.95, 0.8):
        low, high = wilson_interval(wins, n, confidence)
        ref_low, ref_high = proportion_confint(wins, n, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(low, ref_low, atol=1e-12)
        np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_wilson_with_no_trials_is_the_whole_range() -> None:
    """n = 0 says nothing about the rate: (0, 1), never NaN, elementwise beside other groups."""
    low, high = wilson_interval(np.array([0, 3]), np.array([0, 10]))
    assert (low[0], high[0]) == (0.0, 1.0)
    ref = proportion_confint(3, 10, method="wilson")
    assert (low[1], high[1]) == pytest.approx(ref, abs=1e-12)
    scalar_low, scalar_high = wilson_interval(0, 0)
    assert (float(scalar_low), float(scalar_high)) == (0.0, 1.0)


def test_wilson_interval_is_inside_the_unit_interval() -> None:
    low, high = wilson_interval(np.array([0, 1, 1]), np.array([1, 1, 1_000_000]))
    assert (low >= 0).all() and (high <= 1).all() and (low <= high).all()


@pytest.fixture
def predictions() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 1, 400), [0.0, 1.0, 1e-9, 1 - 1e-9]])
    y = (rng.random(len(p)) < p).astype(int)
    return y, p


def test_metrics_equal_scikit_learn(predictions: tuple[np.ndarray, np.ndarray]) -> None:
    """AUC, Brier and log loss equal sklearn.metrics within 1e-12 (log loss on probabilities
    clipped to [EPS, 1 − EPS], which is what both compute)."""
    y, p = predictions
    clipped = np.clip(p, EPS, 1 - EPS)
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert reported_log_loss(y, p) == pytest.approx(sk_log_loss(y, clipped), abs=1e-12)
    # the inner-loop versions are the same numbers
    assert rank_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    rounded = np.round(p, 1)  # many ties
    assert rank_auc(y, rounded) == pytest.approx(roc_auc_score(y, rounded), abs=1e-12)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, clipped), abs=1e-12)
    m = score_predictions(y, p)
    assert m.auc == auc(y, p) and m.brier == brier(y, p) and m.log_loss == reported_log_loss(y, p)


def test_metrics_with_one_class() -> None:
    """One outcome only: AUC is undefined (NaN); Brier and log loss still score it."""
    y, p = np.ones(5), np.full(5, 0.8)
    assert np.isnan(auc(y, p)) and np.isnan(rank_auc(y, p))
    assert brier(y, p) == pytest.approx(0.04, abs=1e-12)
    assert reported_log_loss(y, p) == pytest.approx(-np.log(0.8), abs=1e-12)
    assert log_loss(y, p) == pytest.approx(-np.log(0.8), abs=1e-12)


def test_category_text_encoding_equals_converting_every_value() -> None:
    """The model's text encoding converts distinct values once; it must equal converting each."""
    import pandas as pd

    from winloss.analyze.scoring.features import _as_text, _as_text_slow

    cases = [
        pd.Series(["a", " b ", None, "", "a", np.nan, "\u00a0x\t"]),
        pd.Series([1.0, 2.5, np.nan, -0.0, 0.0]),
        pd.Series([True, False, True]),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series(["x", "y", None, " x"], dtype="category"),
        pd.Series([1, None], dtype="Int64"),
        pd.Series([None, None], dtype=object),
        pd.Series([], dtype=object),
        pd.Series(["a", 1, 2.0, True], dtype=object),
        pd.Series(["a", pd.NA, " "], dtype="string"),
        pd.Series(["a", "b"], index=[5, 7], name="z"),
        pd.Series([True, "True", 1], dtype=object),
    ]
    for col in cases:
        fast, slow = _as_text(col), _as_text_slow(col)
        assert fast.equals(slow) and fast.index.equals(slow.index) and fast.name == slow.name
        assert list(fast) == list(slow)


def test_direct_onehot_equals_the_stacked_blocks() -> None:
    """The one-hot matrix built in one piece has the arrays of stacking one block per feature."""
    import pandas as pd

    from winloss.analyze.scoring.features import FeatureEncoder, Predictor

    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "region": rng.choice(["East", "West", None], 300),
            "amount": rng.lognormal(10, 1, 300).round(-2),
            "seats": rng.integers(1, 50, 300).astype(float),
        }
    )
    predictors = (
        Predictor("region", "Region", "category"),
        Predictor("amount", "Amount", "numeric", dtype="float"),
        Predictor("seats", "Seats", "numeric", dtype="float"),
    )
    encoder = FeatureEncoder(predictors, min_level_count=5).fit(frame)
    for part, training in ((frame, True), (frame.iloc[:17], False), (frame.iloc[:0], False)):
        enc = encoder.transform(part, training=training)
        direct, stacked = enc.onehot, enc._onehot_stacked()
        assert direct.shape == stacked.shape
        for attr in ("data", "indices", "indptr"):
            a, b = getattr(direct, attr), getattr(stacked, attr)
            assert a.dtype == b.dtype and np.array_equal(a, b)
        sliced = encoder.transform(frame, training=True).take(np.arange(17))
        np.testing.assert_array_equal(
            sliced.dense, encoder.transform(frame.iloc[:17], training=True).dense
        )


def test_there_is_one_wilson_interval() -> None:
    """The names kept in exact_tests and calibration are the one implementation, not copies."""
    from winloss.analyze.stats import calibration, exact_tests, intervals

    assert exact_tests.wilson_interval is intervals.wilson_interval
    assert calibration.wilson_interval is intervals.wilson_interval


def test_wilson_bounds_are_exact_at_zero_and_all_wins() -> None:
    """0 of n has a lower bound of exactly 0 and n of n an upper bound of exactly 1 (a report
    showed ci_low 5.551e-17); both equal the closed form z²/(n + z²) on the other side."""
    from winloss.analyze.stats.intervals import wilson_interval

    for n in (1, 3, 7, 40, 1000):
        low, high = wilson_interval([0, n], [n, n])
        z2 = 1.959963984540054**2
        assert low[0] == 0.0 and high[1] == 1.0
        assert high[0] == pytest.approx(z2 / (n + z2))
        assert low[1] == pytest.approx(n / (n + z2))


def test_no_correction_needed_is_said_only_after_a_check_that_could_tell() -> None:
    """`winloss score` said "checked on held-out deals, no correction needed" whatever the
    held-out calibration error: the words now follow the check (beyond chance → off; a chance
    error above 0.10 → too few to tell)."""
    from winloss.analyze.stats.calibration import chance_ece, checked_calibration_words

    ok = {"ece": 0.012, "chance_ece": 0.031, "n": 2000.0}
    assert checked_calibration_words("none", ok) == (
        "checked on 2,000 held-out deals, no correction needed (calibration error 0.012)"
    )
    off = {"ece": 0.09, "chance_ece": 0.031, "n": 2000.0}
    assert checked_calibration_words("none", off).startswith("off beyond chance on 2,000")
    assert checked_calibration_words("sigmoid", off).startswith("a Platt (sigmoid) map, yet off")
    few = {"ece": 0.05, "chance_ece": 0.21, "n": 19.0}
    assert "too few held-out deals (19)" in checked_calibration_words("none", few)
    assert "no correction needed" not in checked_calibration_words("none", few)
    # chance_ece is the 95 % quantile of the error of outcomes drawn from the scores themselves:
    # on 19 deals at 0.5 it is large, on 20,000 small (independent draw here)
    rng = np.random.default_rng(1)
    p = np.full(19, 0.5)
    draws = np.abs((rng.random((4000, 19)) < 0.5).mean(axis=1) - 0.5)
    assert abs(chance_ece(p) - np.quantile(draws, 0.95)) < 0.03
