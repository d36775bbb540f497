"""Adjusted effects: does a finding still hold when the other findings are accounted for?

A ridge-penalised logistic regression of the outcome on one 0/1 indicator per finding. Deals with
the same pattern of indicators are pooled first (a few hundred patterns instead of a million rows),
so the fit is a handful of Newton steps on a tiny weighted problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class AdjustedEffect:
    """One finding's effect in the multivariable model."""

    coefficient: float  # log odds ratio
    odds_ratio: float
    average_effect: float  # mean change in win probability when the finding applies
    p_value: float  # Wald, from the penalised information


def dense_patterns(keys: IntArray, bits: int) -> tuple[IntArray, IntArray]:
    """Distinct pattern keys and each deal's index among them (``np.unique`` without sorting a
    million keys when the patterns fit a small lookup table)."""
    if bits > 22:
        unique, inverse = np.unique(keys, return_inverse=True)
        return unique.astype(np.int64), inverse.ravel().astype(np.int64)
    counts = np.bincount(keys, minlength=1 << bits)
    unique = np.flatnonzero(counts).astype(np.int64)
    lookup = np.zeros(counts.size, dtype=np.int64)
    lookup[unique] = np.arange(unique.size)
    return unique, lookup[keys]


def pattern_design(unique: IntArray, bits: int) -> FloatArray:
    """Intercept column plus one 0/1 column per bit of the pattern keys."""
    indicators = ((unique[:, None] >> np.arange(bits, dtype=np.int64)) & 1).astype(np.float64)
    return np.hstack([np.ones((unique.size, 1)), indicators])


def fit_pooled_logistic(
    design: FloatArray, n: FloatArray, wins: FloatArray, *, ridge: float, max_iter: int = 100
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Newton fit of a binomial logistic model on pooled rows.

    Returns the coefficients, the fitted probability of every row and the penalised information
    matrix. The intercept (first column) is not penalised.
    """
    k = design.shape[1]
    penalty = np.full(k, ridge)
    penalty[0] = 0.0
    rate = float(np.clip(wins.sum() / n.sum(), 1e-9, 1 - 1e-9))
    beta = np.zeros(k)
    beta[0] = np.log(rate / (1 - rate))
    for _ in range(max_iter):
        prob = special.expit(design @ beta)
        gradient = design.T @ (n * prob - wins) + penalty * beta
        info = (design * (n * prob * (1 - prob))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(info + 1e-9 * np.eye(k), gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    prob = special.expit(design @ beta)
    info = (design * (n * prob * (1 - prob))[:, None]).T @ design + np.diag(penalty)
    return beta, prob, info


def fit_adjusted_effects(
    indicators: NDArray[np.bool_], won: NDArray[np.bool_], *, ridge: float = 1.0
) -> list[AdjustedEffect]:
    """Fit the penalised model; one :class:`AdjustedEffect` per indicator column.

    Parameters
    ----------
    indicators
        Deals × findings, True where a finding applies.
    ridge
        L2 penalty on the finding coefficients (not the intercept); keeps collinear or perfectly
        separating findings finite.
    """
    k = indicators.shape[1]
    if k == 0:
        return []
    if k <= 62:
        keys = np.zeros(indicators.shape[0], dtype=np.int64)
        for j in range(k):
            keys |= indicators[:, j].astype(np.int64) << j
        unique, inverse = dense_patterns(keys, k)
        design = pattern_design(unique, k)
    else:
        rows, inverse = np.unique(indicators, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        design = np.hstack([np.ones((rows.shape[0], 1)), rows.astype(np.float64)])
    n = np.bincount(inverse, minlength=design.shape[0]).astype(np.float64)
    wins = np.bincount(inverse, weights=won.astype(np.float64), minlength=design.shape[0]).astype(
        np.float64
    )
    beta, _, info = fit_pooled_logistic(design, n, wins, ridge=ridge)
    se = np.sqrt(np.maximum(np.diag(np.linalg.pinv(info)), 0.0))
    eta = design @ beta
    effects: list[AdjustedEffect] = []
    for j in range(1, k + 1):
        with_finding = special.expit(eta + beta[j] * (1 - design[:, j]))
        without = special.expit(eta - beta[j] * design[:, j])
        average = float(np.sum(n * (with_finding - without)) / n.sum())
        z = beta[j] / se[j] if se[j] > 0 else 0.0
        effects.append(
            AdjustedEffect(
                coefficient=float(beta[j]),
                odds_ratio=float(np.exp(beta[j])),
                average_effect=average,
                p_value=float(special.erfc(abs(z) / np.sqrt(2.0))),
            )
        )
    return effects
