"""Vectorised statistics for 2×2 win/loss tables: exact tests, intervals and FDR control.

Every function takes arrays (one element per table) so that tens of thousands of candidate
conditions are tested in a few numpy passes. The tables are always described the same way:

``wins_in`` of ``n_in`` deals in the group, ``wins_total`` of ``n_total`` deals in all; the group is
a random draw of ``n_in`` deals under the null hypothesis, so ``wins_in`` is hypergeometric.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

# the one Wilson interval, importable from here as before
from winloss.analyze.stats.intervals import wilson_interval as wilson_interval

FloatArray = NDArray[np.float64]

#: Relative tolerance under which two table probabilities count as equal in the two-sided Fisher
#: test (R's ``fisher.test`` uses the same; log-space arithmetic cannot resolve scipy's 1e-14).
_TIE_TOLERANCE = 1e-7


def _log_table_weight(x: FloatArray, n: FloatArray, k: FloatArray, total: FloatArray) -> FloatArray:
    """Log of the hypergeometric probability of ``x`` up to a constant per table."""
    weight: FloatArray = -(
        special.gammaln(x + 1)
        + special.gammaln(k - x + 1)
        + special.gammaln(n - x + 1)
        + special.gammaln(total - k - n + x + 1)
    )
    return weight


def fisher_exact_two_sided(
    wins_in: ArrayLike, n_in: ArrayLike, wins_total: ArrayLike, n_total: ArrayLike
) -> FloatArray:
    """Two-sided Fisher exact p-values of many 2×2 tables at once.

    The p-value sums the probabilities of every table, with the same margins, that is no more
    probable than the observed one (the "minimum likelihood" definition of
    :func:`scipy.stats.fisher_exact` and R's ``fisher.test``). Tail sums come from
    :data:`scipy.stats.hypergeom`; the other tail's start is found by a vectorised bisection.
    """
    x, n, k, total = (
        np.asarray(a, dtype=np.float64)
        for a in np.broadcast_arrays(wins_in, n_in, wins_total, n_total)
    )
    x, n, k, total = (a.ravel() for a in (x, n, k, total))
    p = np.ones_like(x)
    lo = np.maximum(0.0, n - (total - k))
    hi = np.minimum(n, k)
    active = (n > 0) & (n < total) & (k > 0) & (k < total)
    mode = np.floor((n + 1) * (k + 1) / (total + 2))
    log_obs = _log_table_weight(x, n, k, total)
    log_mode = _log_table_weight(mode, n, k, total)
    active &= log_mode - log_obs > _TIE_TOLERANCE
    target = log_obs + np.log1p(_TIE_TOLERANCE)
    below = active & (x < mode)
    above = active & (x > mode)
    if below.any():
        idx = np.flatnonzero(below)
        # last k in [mode, hi] still more probable than the observed table (weights decrease)
        left, right = mode[idx], hi[idx]
        args = (n[idx], k[idx], total[idx])
        while True:
            moving = left < right
            if not moving.any():
                break
            mid = np.floor((left + right + 1) / 2)
            keep = _log_table_weight(mid, *args) >= target[idx]
            left = np.where(moving & keep, mid, left)
            right = np.where(moving & ~keep, mid - 1, right)
        p[idx] = stats.hypergeom.cdf(x[idx], total[idx], k[idx], n[idx]) + stats.hypergeom.sf(
            left, total[idx], k[idx], n[idx]
        )
    if above.any():
        idx = np.flatnonzero(above)
        # first k in [lo, mode] more probable than the observed table (weights increase)
        left, right = lo[idx], mode[idx]
        args = (n[idx], k[idx], total[idx])
        while True:
            moving = left < right
            if not moving.any():
                break
            mid = np.floor((left + right) / 2)
            keep = _log_table_weight(mid, *args) >= target[idx]
            right = np.where(moving & keep, mid, right)
            left = np.where(moving & ~keep, mid + 1, left)
        p[idx] = stats.hypergeom.sf(x[idx] - 1, total[idx], k[idx], n[idx]) + stats.hypergeom.cdf(
            left - 1, total[idx], k[idx], n[idx]
        )
    return np.clip(p, 0.0, 1.0)


def fisher_p_where_it_matters(
    wins_in: ArrayLike,
    n_in: ArrayLike,
    wins_total: ArrayLike,
    n_total: ArrayLike,
    *,
    low: float = 1e-10,
    high: float = 0.25,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Fisher p-values, exact where an approximation could change a decision.

    Tables whose continuity-corrected normal p-value lies in ``[low, high]`` get the exact value;
    outside, no multiple-testing decision at any usual level can depend on the digits, and the
    approximation is kept (the exact tail sums are slow far out in the tail of large tables).
    Returns the p-values and a mask of the exact ones.
    """
    x, n, k, total = (
        np.asarray(a, dtype=np.float64).ravel()
        for a in np.broadcast_arrays(wins_in, n_in, wins_total, n_total)
    )
    p = approximate_two_sided_p(x, n, k, total)
    exact = (p >= low) & (p <= high)
    if exact.any():
        idx = np.flatnonzero(exact)
        p[idx] = fisher_exact_two_sided(x[idx], n[idx], k[idx], total[idx])
    return p, exact


def hypergeometric_z(
    wins_in: ArrayLike, n_in: ArrayLike, wins_total: ArrayLike, n_total: ArrayLike
) -> FloatArray:
    """Signed standardised excess of wins in the group (positive: more wins than expected)."""
    x, n, k, total = (np.asarray(a, dtype=np.float64) for a in (wins_in, n_in, wins_total, n_total))
    expected = n * k / total
    variance = n * (k / total) * (1 - k / total) * (total - n) / np.maximum(total - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - expected) / np.sqrt(variance)
    return np.where(variance > 0, z, 0.0)


def approximate_two_sided_p(
    wins_in: ArrayLike, n_in: ArrayLike, wins_total: ArrayLike, n_total: ArrayLike
) -> FloatArray:
    """Continuity-corrected normal approximation of the two-sided Fisher p-value (screening)."""
    x, n, k, total = (np.asarray(a, dtype=np.float64) for a in (wins_in, n_in, wins_total, n_total))
    expected = n * k / total
    variance = n * (k / total) * (1 - k / total) * (total - n) / np.maximum(total - 1, 1)
    excess = np.maximum(np.abs(x - expected) - 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, excess / np.sqrt(variance), 0.0)
    return np.asarray(special.erfc(z / np.sqrt(2.0)), dtype=np.float64)


def interaction_p(wins: NDArray[np.float64], deals: NDArray[np.float64]) -> FloatArray:
    """Wald test of a logit-scale interaction in 2×2×2 tables (two-sided p-values).

    ``wins`` and ``deals`` have shape ``(m, 4)`` for the cells A∧B, A∧¬B, ¬A∧B, ¬A∧¬B; 0.5 is
    added to every count (Haldane) so empty cells stay finite.
    """
    z = interaction_z(wins, deals)
    return np.asarray(special.erfc(np.abs(z) / np.sqrt(2.0)), dtype=np.float64)


def interaction_z(wins: NDArray[np.float64], deals: NDArray[np.float64]) -> FloatArray:
    """Wald z of the logit-scale interaction (see :func:`interaction_p`)."""
    w = wins + 0.5
    losses = deals - wins + 0.5
    log_odds = np.log(w) - np.log(losses)
    contrast = log_odds[:, 0] - log_odds[:, 1] - log_odds[:, 2] + log_odds[:, 3]
    se = np.sqrt((1 / w + 1 / losses).sum(axis=1))
    return np.asarray(contrast / se, dtype=np.float64)


def benjamini_hochberg(p_values: ArrayLike, n_hypotheses: int | None = None) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (q-values) in the input order.

    ``n_hypotheses`` may exceed ``len(p_values)`` when untested hypotheses count as p = 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p) if n_hypotheses is None else int(n_hypotheses)
    if p.size == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(p)
    q[order] = np.minimum(adjusted, 1.0)
    return q


def simes(p_values: ArrayLike) -> float:
    """Simes' combined p-value of a family: ``min_i m p_(i) / i`` (valid under positive
    dependence; equals the smallest Benjamini–Hochberg q-value of the family)."""
    p = np.sort(np.asarray(p_values, dtype=np.float64))
    if p.size == 0:
        return 1.0
    return float(min(1.0, np.min(p * p.size / np.arange(1, p.size + 1))))


def family_simes(
    p_values: NDArray[np.float64], family: NDArray[np.int64], n_families: int
) -> FloatArray:
    """Simes p-value of every family at once (``family`` labels each hypothesis 0..F-1)."""
    order = np.lexsort((p_values, family))
    fam_sorted = family[order]
    p_sorted = p_values[order]
    sizes = np.bincount(family, minlength=n_families)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(p_sorted.size) - starts[fam_sorted] + 1
    scaled = p_sorted * sizes[fam_sorted] / rank
    combined = np.ones(n_families)
    np.minimum.at(combined, fam_sorted, scaled)
    return np.minimum(combined, 1.0)


def within_family_bh(
    p_values: NDArray[np.float64], family: NDArray[np.int64], n_families: int
) -> FloatArray:
    """Benjamini–Hochberg q-values computed separately inside every family."""
    order = np.lexsort((p_values, family))
    fam_sorted = family[order]
    sizes = np.bincount(family, minlength=n_families)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(order.size) - starts[fam_sorted] + 1
    scaled = p_values[order] * sizes[fam_sorted] / rank
    # step-up: running minimum from the end of each family
    adjusted = scaled.copy()
    ends = starts + sizes
    for start, end in zip(starts[sizes > 0], ends[sizes > 0], strict=True):
        adjusted[start:end] = np.minimum.accumulate(scaled[start:end][::-1])[::-1]
    q: FloatArray = np.empty_like(adjusted)
    q[order] = np.minimum(adjusted, 1.0)
    return q
