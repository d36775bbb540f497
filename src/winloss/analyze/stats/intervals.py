"""The one Wilson score interval of a binomial proportion, used by every analysis and section.

For ``wins`` successes in ``n`` trials at confidence ``level`` (z = Φ⁻¹(0.5 + level/2)), with
p̂ = wins/n::

    centre = (p̂ + z²/2n) / (1 + z²/n)
    half   = z · sqrt(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)

the interval is [centre − half, centre + half], clipped to [0, 1] against rounding (no continuity
correction; equal to statsmodels' ``proportion_confint(method="wilson")``).

**n = 0**: no trial says nothing about the rate, so the interval is the whole range (0, 1) — not
NaN, which would silently drop out of charts and comparisons. (It is also the limit of the Wilson
interval as n → 0.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]


def wilson_interval(wins: Any, n: Any, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of ``wins`` out of ``n`` (elementwise; (0, 1) where ``n`` = 0)."""
    w = np.asarray(wins, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = w / m
        denominator = 1 + z * z / m
        centre = (rate + z * z / (2 * m)) / denominator
        half = z * np.sqrt(rate * (1 - rate) / m + z * z / (4 * m * m)) / denominator
    empty = m <= 0
    # no wins: the lower bound is 0 exactly, all wins: the upper is 1 (not 5.6e-17 of rounding)
    low = np.where(empty | (w <= 0), 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(empty | (w >= m), 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
