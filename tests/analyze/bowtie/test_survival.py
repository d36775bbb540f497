"""Survival arithmetic: hand-computed fixtures and lifelines as the reference (tolerance 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from winloss.analyze.bowtie.retention import retention_curve
from winloss.analyze.bowtie.survival import competing_risks, conversion_by, kaplan_meier


def test_competing_risks_by_hand() -> None:
    """Five spells: lost at 4; advanced at 5, 10, 20; censored at 6 (still open).

    By hand: S(4)=4/5, F_lost=1/5; at 5 (4 at risk) F_adv=0.8·1/4=0.2, S=0.6; the censored spell
    leaves the risk set; at 10 (2 at risk) F_adv += 0.6/2 → 0.5, S=0.3; at 20 (1 at risk)
    F_adv += 0.3 → 0.8, S=0. The naive "open = lost" conversion would be 3/5 = 0.6.
    """
    r = competing_risks([4, 5, 6, 10, 20], [0, 1, 0, 1, 1], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0])
    assert r.times.tolist() == [4, 5, 6, 10, 20]
    assert r.survival == pytest.approx([0.8, 0.6, 0.6, 0.3, 0.0], abs=1e-12)
    assert r.advanced == pytest.approx([0.0, 0.2, 0.2, 0.5, 0.8], abs=1e-12)
    assert r.lost == pytest.approx([0.2] * 5, abs=1e-12)
    assert r.quantile(0.5) == 10 and r.quantile(0.25) == 5 and r.quantile(0.75) == 20
    assert conversion_by(r, None)[0] == pytest.approx(0.8)
    assert conversion_by(r, 10)[0] == pytest.approx(0.5)
    # status at 10 is known for all but the spell censored at 6
    assert r.known_by(10) == 4


def test_short_cohort_borrows_the_pooled_tail() -> None:
    """A cohort followed 5 days: F(5)=0.25, S(5)=0.5. Pooled: at 5, 1 of 5 advances and 1 is
    lost (F=0.2, S=0.6); at 10, 1 of 3 advances (F=0.4, S=0.4); at 30, 1 of 2 (F=0.6).

    Completed conversion = 0.25 + 0.5·(0.6 − 0.2)/0.6 = 7/12.
    """
    pooled = competing_risks([5, 5, 10, 30, 30], [1, 0, 1, 1, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 1])
    assert pooled.at(5) == pytest.approx((0.6, 0.2, 0.2))
    assert pooled.at(30)[1] == pytest.approx(0.6)
    short = competing_risks([2, 3, 5, 5], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1])
    assert short.at(5) == pytest.approx((0.5, 0.25, 0.25))
    value, reached = conversion_by(short, 30, pooled)
    assert not reached
    assert value == pytest.approx(7 / 12, abs=1e-12)


def test_kaplan_meier_matches_lifelines() -> None:
    """Kaplan–Meier with ties and censoring equals lifelines' KaplanMeierFitter to 1e-6."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(5)
    durations = rng.integers(0, 40, 500).astype(float)
    events = rng.random(500) < 0.6
    times, surv = kaplan_meier(durations, events)
    kmf = lifelines.KaplanMeierFitter().fit(durations, events)
    expected = kmf.survival_function_at_times(times).to_numpy()
    np.testing.assert_allclose(surv, expected, atol=1e-6, rtol=0)
    curve = retention_curve(durations, events.astype(float), 45)
    expected_grid = kmf.survival_function_at_times(curve["month"].to_numpy()).to_numpy()
    np.testing.assert_allclose(curve["retention"].to_numpy(), expected_grid, atol=1e-6, rtol=0)
    # weighted (compact) input gives the same curve
    values, counts = np.unique(np.stack([durations, events]), axis=1, return_counts=True)
    t2, s2 = kaplan_meier(values[0], values[1], counts)
    np.testing.assert_allclose(s2, surv, atol=1e-12)
    assert t2.tolist() == times.tolist()


def test_aalen_johansen_matches_lifelines() -> None:
    """Cumulative incidence of advancing (losing competes) equals lifelines' AalenJohansenFitter
    to 1e-6 on tie-free durations (lifelines jitters ties, so none are used)."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(11)
    n = 300
    durations = rng.permutation(np.arange(1, n + 1)).astype(float) + rng.random(n) * 0.5
    kind = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])  # 0 censored, 1 advanced, 2 lost
    r = competing_risks(durations, kind == 1, kind == 2, kind == 0)
    ajf = lifelines.AalenJohansenFitter(calculate_variance=False)
    ajf.fit(durations, kind, event_of_interest=1)
    cif = ajf.cumulative_density_.iloc[:, 0]
    idx = np.searchsorted(cif.index.to_numpy(), r.times, side="right") - 1
    np.testing.assert_allclose(r.advanced, cif.to_numpy()[idx], atol=1e-6, rtol=0)
