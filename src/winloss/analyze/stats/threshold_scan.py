"""Discovered thresholds: every candidate cut ``x <= c`` tested as a 2×2 table at once.

The candidate cuts come from the concentration engine
(:func:`winloss.analyze.concentrations.subgroup_search.numeric_codes`: every distinct value of a
small integer field, else values at evenly spaced quantiles). Each cut is one hypothesis with an
exact two-sided Fisher p-value (at most ``max_cuts`` tables per field); the caller puts every
cut's p-value into its multiple-testing family, so choosing the best cut is paid for. The chosen
cut is the one with the largest standardised excess ``|z|`` among cuts with enough deals on both
sides.

A *landmark* scan (``eligible``) tests each cut only on the deals that could fall on either side
of it — e.g. "decision maker reached by day c" among deals still running at day c — so that deals
ending early do not look like early deals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from winloss.analyze.stats.exact_tests import (
    fisher_exact_two_sided,
    hypergeometric_z,
    wilson_interval,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CutScan:
    """Every candidate cut of one numeric field and the chosen one.

    Arrays have one element per cut: ``n_in``/``wins_in`` count deals with ``x <= cut`` (among the
    eligible deals of that cut), ``n_out``/``wins_out`` the others.
    """

    cuts: FloatArray
    n_in: FloatArray
    wins_in: FloatArray
    n_out: FloatArray
    wins_out: FloatArray
    p_values: FloatArray
    z: FloatArray
    chosen: int  # index of the chosen cut; -1 when no cut has enough deals on both sides

    @property
    def found(self) -> bool:
        return self.chosen >= 0

    @property
    def cut(self) -> float:
        return float(self.cuts[self.chosen]) if self.found else float("nan")

    def interval(self, index: int | None = None) -> tuple[float, float, float, float]:
        """Wilson intervals (in low, in high, out low, out high) of a cut (default: chosen)."""
        i = self.chosen if index is None else index
        lo_in, hi_in = wilson_interval(self.wins_in[i], self.n_in[i])
        lo_out, hi_out = wilson_interval(self.wins_out[i], self.n_out[i])
        return float(lo_in), float(hi_in), float(lo_out), float(hi_out)


def candidate_cuts(values: FloatArray, max_cuts: int = 60) -> FloatArray:
    """Candidate cuts of a field (the concentration engine's rule)."""
    from winloss.analyze.concentrations.subgroup_search import numeric_codes

    cuts, _ = numeric_codes(np.asarray(values, dtype=np.float64), max_cuts)
    return np.asarray(cuts, dtype=np.float64)


def scan_cuts(
    values: FloatArray,
    won: BoolArray,
    *,
    min_support: int = 20,
    cuts: FloatArray | None = None,
    eligible: FloatArray | None = None,
    max_cuts: int = 60,
) -> CutScan:
    """Test ``x <= c`` against ``x > c`` for every candidate cut ``c``.

    Parameters
    ----------
    values
        The field, one value per deal; NaN (missing) deals are left out.
    won
        Outcome per deal.
    min_support
        Deals needed on each side for a cut to be chosen.
    cuts
        Candidate cuts (default: :func:`candidate_cuts`).
    eligible
        Landmark times: a deal enters the test of cut ``c`` only when ``eligible > c`` (e.g. its
        cycle length); NaN never enters. ``None``: every deal with a value enters every test.
    """
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray(won, dtype=bool)
    present = ~np.isnan(x)
    if cuts is None:
        cuts = candidate_cuts(x[present], max_cuts) if present.any() else np.zeros(0)
    cuts = np.asarray(cuts, dtype=np.float64)
    if eligible is None:
        xs, ys = x[present], y[present]
        order = np.argsort(xs, kind="mergesort")
        sorted_x = xs[order]
        cum_wins = np.concatenate([[0], np.cumsum(ys[order])])
        n_in = np.searchsorted(sorted_x, cuts, side="right").astype(np.float64)
        wins_in = cum_wins[n_in.astype(np.int64)].astype(np.float64)
        n_all = np.full(cuts.size, float(xs.size))
        wins_all = np.full(cuts.size, float(ys.sum()))
    else:
        landmark = np.asarray(eligible, dtype=np.float64)
        n_in = np.zeros(cuts.size)
        wins_in = np.zeros(cuts.size)
        n_all = np.zeros(cuts.size)
        wins_all = np.zeros(cuts.size)
        for i, c in enumerate(cuts):
            ok = present & (landmark > c)
            inside = ok & (x <= c)
            n_in[i], wins_in[i] = inside.sum(), (inside & y).sum()
            n_all[i], wins_all[i] = ok.sum(), (ok & y).sum()
    n_out = n_all - n_in
    wins_out = wins_all - wins_in
    testable = (n_in > 0) & (n_out > 0)
    p = np.ones(cuts.size)
    z = np.zeros(cuts.size)
    if testable.any():
        idx = np.flatnonzero(testable)
        p[idx] = fisher_exact_two_sided(wins_in[idx], n_in[idx], wins_all[idx], n_all[idx])
        z[idx] = hypergeometric_z(wins_in[idx], n_in[idx], wins_all[idx], n_all[idx])
    supported = (n_in >= min_support) & (n_out >= min_support)
    chosen = int(np.argmax(np.where(supported, np.abs(z), -1.0))) if supported.any() else -1
    return CutScan(cuts, n_in, wins_in, n_out, wins_out, p, z, chosen)
