"""Stratified 2×2 tables: the Cochran–Mantel–Haenszel test and the Mantel–Haenszel odds ratio.

Used where a yes/no fact travels with a confounder — e.g. "a blocker was engaged" is more likely
on deals with more engaged people, so it is compared within deals with the same number of engaged
people. Reference: Agresti, *Categorical Data Analysis* (3rd ed.), §6.4; the same statistic as
``statsmodels.stats.contingency_tables.StratifiedTable.test_null_odds(correction=True)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats


def mantel_haenszel(
    group: NDArray[np.bool_], won: NDArray[np.bool_], strata: NDArray[np.int64]
) -> tuple[float, float]:
    """The Mantel–Haenszel common odds ratio of winning (group vs rest) and the CMH p-value
    (continuity-corrected, two-sided). Strata where only one side or one outcome occurs carry no
    information and drop out. Returns ``(nan, 1.0)`` when no stratum is informative."""
    g = np.asarray(group, dtype=bool)
    y = np.asarray(won, dtype=bool)
    s = np.asarray(strata)
    num = den = diff = var = 0.0
    for level in np.unique(s):
        m = s == level
        a = float((g & y & m).sum())
        b = float((g & ~y & m).sum())
        c = float((~g & y & m).sum())
        d = float((~g & ~y & m).sum())
        n = a + b + c + d
        if n < 2 or (a + b) == 0 or (c + d) == 0 or (a + c) == 0 or (b + d) == 0:
            continue
        num += a * d / n
        den += b * c / n
        diff += a - (a + b) * (a + c) / n
        var += (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1))
    if var == 0:
        return float("nan"), 1.0
    chi2 = (max(abs(diff) - 0.5, 0.0)) ** 2 / var
    ratio = num / den if den > 0 else float("inf")
    return float(ratio), float(stats.chi2.sf(chi2, 1))
