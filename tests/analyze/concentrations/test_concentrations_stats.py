"""Reference tests of the concentration statistics against independent implementations.

Every test names its reference (scipy, statsmodels or a hand computation) and its tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.api import GLM, add_constant, families
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from winloss.analyze.concentrations.adjusted_effects import fit_adjusted_effects
from winloss.analyze.stats.exact_tests import (
    approximate_two_sided_p,
    benjamini_hochberg,
    family_simes,
    fisher_exact_two_sided,
    fisher_p_where_it_matters,
    hypergeometric_z,
    interaction_z,
    simes,
    within_family_bh,
)
from winloss.analyze.stats.intervals import wilson_interval


def _random_tables(rng: np.random.Generator, count: int, max_total: int) -> np.ndarray:
    rows = []
    for _ in range(count):
        total = int(rng.integers(2, max_total))
        wins = int(rng.integers(0, total + 1))
        n = int(rng.integers(0, total + 1))
        low, high = max(0, n - (total - wins)), min(n, wins)
        mean = n * wins / total
        spread = max(1.0, np.sqrt(mean))
        x = int(np.clip(round(mean + rng.normal() * spread * rng.choice([0.5, 2, 6])), low, high))
        rows.append((x, n, wins, total))
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("max_total", [60, 5_000, 1_000_000])
def test_fisher_exact_matches_scipy(max_total: int) -> None:
    """Reference: scipy.stats.fisher_exact (two-sided); relative tolerance 1e-9."""
    tables = _random_tables(np.random.default_rng(max_total), 400, max_total)
    ours = fisher_exact_two_sided(*tables.T)
    reference = np.array(
        [
            stats.fisher_exact([[x, n - x], [k - x, total - k - n + x]]).pvalue
            for x, n, k, total in tables
        ]
    )
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-300)


def test_fisher_where_it_matters_is_exact_inside_the_band() -> None:
    """Reference: scipy.stats.fisher_exact inside [1e-10, 0.25]; tolerance 1e-9. Outside the band
    the p-value stays on the right side of the band (no decision can change)."""
    tables = _random_tables(np.random.default_rng(7), 400, 20_000)
    p, exact = fisher_p_where_it_matters(*tables.T)
    reference = np.array(
        [
            stats.fisher_exact([[x, n - x], [k - x, total - k - n + x]]).pvalue
            for x, n, k, total in tables
        ]
    )
    assert exact.any() and (~exact).any()
    np.testing.assert_allclose(p[exact], reference[exact], rtol=1e-9, atol=1e-300)
    far = ~exact & (p < 1e-10)
    assert (reference[far] < 1e-6).all()
    near = ~exact & (p > 0.25)
    assert (reference[near] > 0.1).all()


def test_approximate_p_is_close_to_fisher_for_large_tables() -> None:
    """Reference: scipy.stats.fisher_exact; the continuity-corrected normal screen stays within a
    factor of 2 for p > 1e-6 when every cell is large."""
    rng = np.random.default_rng(3)
    tables = []
    for _ in range(200):
        total = int(rng.integers(5_000, 50_000))
        k, n = int(total * rng.uniform(0.2, 0.5)), int(total * rng.uniform(0.1, 0.5))
        x = int(n * k / total + rng.normal() * 2 * np.sqrt(n * 0.2))
        tables.append((x, n, k, total))
    t = np.array(tables, dtype=np.float64)
    approx = approximate_two_sided_p(*t.T)
    exact = fisher_exact_two_sided(*t.T)
    keep = exact > 1e-6
    assert np.all(np.abs(np.log(approx[keep] / exact[keep])) < np.log(2))


def test_hypergeometric_z_uses_the_hypergeometric_mean_and_variance() -> None:
    """Reference: scipy.stats.hypergeom.mean/var; tolerance 1e-12."""
    x, n, k, total = 30.0, 80.0, 120.0, 400.0
    dist = stats.hypergeom(total, k, n)
    expected = (x - dist.mean()) / np.sqrt(dist.var())
    assert hypergeometric_z(x, n, k, total) == pytest.approx(expected, rel=1e-12)


def test_wilson_interval_matches_statsmodels() -> None:
    """Reference: statsmodels proportion_confint(method="wilson"); absolute tolerance 1e-12."""
    wins = np.array([0, 1, 5, 50, 333, 999, 1000])
    n = np.array([10, 10, 40, 100, 1000, 1000, 1000])
    low, high = wilson_interval(wins, n)
    ref_low, ref_high = proportion_confint(wins, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_benjamini_hochberg_matches_statsmodels() -> None:
    """Reference: statsmodels multipletests(method="fdr_bh"); absolute tolerance 1e-12."""
    p = np.random.default_rng(1).uniform(size=300) ** 3
    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], atol=1e-12
    )


def test_benjamini_hochberg_counts_untested_hypotheses() -> None:
    """Hand computation: 3 p-values among 6 hypotheses (the others p = 1)."""
    p = np.array([0.01, 0.02, 0.04])
    padded = np.concatenate([p, np.ones(3)])
    np.testing.assert_allclose(
        benjamini_hochberg(p, 6), multipletests(padded, method="fdr_bh")[1][:3], atol=1e-12
    )


def test_simes_is_the_smallest_bh_q_value() -> None:
    """Reference: statsmodels multipletests(method="fdr_bh"): Simes' p equals min BH q."""
    p = np.random.default_rng(2).uniform(size=50) ** 2
    assert simes(p) == pytest.approx(multipletests(p, method="fdr_bh")[1].min(), abs=1e-12)


def test_family_functions_match_per_family_statsmodels() -> None:
    """Reference: statsmodels fdr_bh applied family by family; absolute tolerance 1e-12."""
    rng = np.random.default_rng(4)
    family = rng.integers(0, 7, size=400)
    p = rng.uniform(size=400) ** 2
    combined = family_simes(p, family, 7)
    within = within_family_bh(p, family, 7)
    for f in range(7):
        members = family == f
        q = multipletests(p[members], method="fdr_bh")[1]
        np.testing.assert_allclose(within[members], q, atol=1e-12)
        assert combined[f] == pytest.approx(q.min(), abs=1e-12)


def test_interaction_z_matches_a_logistic_model() -> None:
    """Reference: statsmodels binomial GLM with an interaction term, fitted on the cell counts
    plus 0.5 (the Haldane correction the function applies); tolerance 1e-6."""
    deals = np.array([[120.0, 300.0, 280.0, 900.0]])
    wins = np.array([[80.0, 90.0, 85.0, 260.0]])
    a = np.array([1, 1, 0, 0])
    b = np.array([1, 0, 1, 0])
    design = add_constant(np.column_stack([a, b, a * b]).astype(float))
    endog = np.column_stack([wins[0] + 0.5, deals[0] - wins[0] + 0.5])
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # a saturated model: statsmodels warns, correctly fits
        fit = GLM(endog, design, family=families.Binomial()).fit()
    expected = fit.params[3] / fit.bse[3]
    assert interaction_z(wins, deals)[0] == pytest.approx(expected, rel=1e-6)


def test_adjusted_effects_match_an_unpenalised_logistic_model() -> None:
    """Reference: statsmodels binomial GLM on the same indicators; with a negligible ridge the
    coefficients and Wald p-values agree within 1e-5."""
    rng = np.random.default_rng(5)
    x = rng.random((4000, 3)) < np.array([0.3, 0.5, 0.2])
    logit = -0.5 + 1.0 * x[:, 0] - 0.7 * x[:, 1] + 0.0 * x[:, 2]
    won = rng.random(4000) < 1 / (1 + np.exp(-logit))
    effects = fit_adjusted_effects(x, won, ridge=1e-10)
    fit = GLM(won.astype(float), add_constant(x.astype(float)), family=families.Binomial()).fit()
    np.testing.assert_allclose([e.coefficient for e in effects], fit.params[1:], atol=1e-5)
    np.testing.assert_allclose([e.p_value for e in effects], fit.pvalues[1:], atol=1e-5)
    assert effects[0].average_effect > 0 > effects[1].average_effect


def test_no_shown_q_value_is_below_its_exact_p_value() -> None:
    """On IBM's file a related finding showed p = 5.3e-102 with q = 1.1e-107: the q-values came
    from the search's normal approximation far in the tail, the p from Fisher's exact test. The
    q-values are now recomputed with the exact p-values of what is shown; Benjamini–Hochberg
    never lowers a p-value, so every q is at least its p (for a combination: its added-over-
    the-parts p)."""
    import pandas as pd

    from winloss import Workspace

    rng = np.random.default_rng(7)
    n = 20_000
    # a tenth of the deals win half the time against 17 % elsewhere: Fisher's p is about 1e-200,
    # the normal approximation's about 1e-240
    channel = np.where(np.arange(n) < 2_000, "reseller", rng.choice(["field", "online"], n))
    region = rng.choice(["north", "south", "east", "west"], n)
    rate = np.where(channel == "reseller", 0.5, 0.17) + 0.04 * (region == "east")
    won = rng.random(n) < rate
    frame = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(n)],
            "outcome": np.where(won, "won", "lost"),
            "route": channel,
            "region": region,
        }
    )
    result = Workspace.from_file(frame).analyze()
    shown = [*result.findings, *result.related]
    assert any(0 < f.p_value < 1e-150 for f in shown)  # far enough in the tail to be approximated
    for f in shown:
        p = f.p_value_added if f.p_value_added is not None else f.p_value
        assert f.q_value >= p * (1 - 1e-9), (f.statement, p, f.q_value)
        if f.q_value_single is not None:
            assert f.q_value_single >= f.p_value * (1 - 1e-9), (f.statement, f.q_value_single)
