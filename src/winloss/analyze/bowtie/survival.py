"""Survival arithmetic on compact counts: Kaplan–Meier and Aalen–Johansen with censoring.

Every estimator takes one row per distinct duration with the number of subjects that, at that
duration, advanced (the event of interest), were lost (the competing event) or were censored (still
open at the as-of date). The store produces exactly these counts, so a million deals cost a few
thousand rows here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CompetingRisks:
    """Kaplan–Meier survival in the stage and Aalen–Johansen cumulative incidences.

    ``times`` are the distinct durations (ascending); each array holds the value just after that
    time: ``survival`` = P(still in the stage), ``advanced`` = P(advanced by t), ``lost`` = P(lost
    by t). ``at_risk`` is the number still in the stage just before t.
    """

    times: FloatArray
    at_risk: FloatArray
    survival: FloatArray
    advanced: FloatArray
    lost: FloatArray
    n: int
    n_advanced: int
    n_lost: int
    n_censored: int
    max_follow_up: float
    censorings: FloatArray  # censored at each time

    def at(self, t: float) -> tuple[float, float, float]:
        """(survival, advanced, lost) just after time ``t`` (before the first time: 1, 0, 0)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        if i < 0:
            return 1.0, 0.0, 0.0
        return float(self.survival[i]), float(self.advanced[i]), float(self.lost[i])

    def quantile(self, q: float) -> float:
        """The time by which a share ``q`` has left the stage (KM); NaN when never reached."""
        hit = np.nonzero(self.survival <= 1.0 - q + 1e-12)[0]
        return float(self.times[hit[0]]) if len(hit) else float("nan")

    @property
    def naive_rate(self) -> float:
        """Advanced among all subjects, open ones counted as not advanced (NaN when none)."""
        return self.n_advanced / self.n if self.n else float("nan")

    @property
    def closed_rate(self) -> float:
        """Advanced among the subjects that advanced or were lost (NaN when none)."""
        decided = self.n_advanced + self.n_lost
        return self.n_advanced / decided if decided else float("nan")

    def known_by(self, horizon: float) -> int:
        """Subjects whose status at ``horizon`` is known: all but those censored before it."""
        return int(self.n - self.censorings[self.times < horizon].sum())


def competing_risks(
    durations: npt.ArrayLike, advanced: npt.ArrayLike, lost: npt.ArrayLike, censored: npt.ArrayLike
) -> CompetingRisks:
    """Estimate from counts per duration (durations need not be sorted or distinct).

    Ties follow the usual convention: events at t happen before censorings at t, so a subject
    censored at t is still at risk at t.
    """
    d = np.asarray(durations, dtype=np.float64)
    a = np.asarray(advanced, dtype=np.float64)
    lo = np.asarray(lost, dtype=np.float64)
    c = np.asarray(censored, dtype=np.float64)
    ok = np.isfinite(d)
    d, a, lo, c = d[ok], a[ok], lo[ok], c[ok]
    times, inverse = np.unique(d, return_inverse=True)
    a_t = np.bincount(inverse, weights=a, minlength=len(times))
    l_t = np.bincount(inverse, weights=lo, minlength=len(times))
    c_t = np.bincount(inverse, weights=c, minlength=len(times))
    total = a_t + l_t + c_t
    at_risk = total[::-1].cumsum()[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard_a = np.where(at_risk > 0, a_t / at_risk, 0.0)
        hazard_l = np.where(at_risk > 0, l_t / at_risk, 0.0)
    survival = np.cumprod(1.0 - hazard_a - hazard_l)
    before = np.concatenate([[1.0], survival[:-1]])
    cif_a = np.cumsum(before * hazard_a)
    cif_l = np.cumsum(before * hazard_l)
    return CompetingRisks(
        times=times,
        at_risk=at_risk,
        survival=np.asarray(survival, dtype=np.float64),
        advanced=cif_a,
        lost=cif_l,
        n=int(total.sum()),
        n_advanced=int(a_t.sum()),
        n_lost=int(l_t.sum()),
        n_censored=int(c_t.sum()),
        max_follow_up=float(times[-1]) if len(times) else 0.0,
        censorings=np.asarray(c_t, dtype=np.float64),
    )


def kaplan_meier(
    durations: npt.ArrayLike, events: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """Kaplan–Meier S(t) at the distinct durations (events: 1/True = event, 0 = censored).

    ``weights`` are subject counts (compact input); the result is the usual product-limit
    estimate, equal to lifelines' ``KaplanMeierFitter`` at the same times.
    """
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events, dtype=np.float64)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=np.float64)
    risks = competing_risks(d, e * w, np.zeros_like(d), (1.0 - e) * w)
    return risks.times, risks.survival


def conversion_by(
    risks: CompetingRisks, horizon: float | None, pooled: CompetingRisks | None = None
) -> tuple[float, bool]:
    """P(advance by ``horizon``), and whether the cohort itself was followed that long.

    A cohort followed for less than the horizon is completed with the pooled curve: the chance of
    advancing between its last follow-up ``τ`` and the horizon, for those still in the stage at
    ``τ``, is taken from ``pooled`` as (F(h) − F(τ)) / S(τ).
    """
    if risks.n == 0:
        return float("nan"), False
    h = risks.max_follow_up if horizon is None else horizon
    if risks.max_follow_up >= h or pooled is None:
        return risks.at(h)[1], risks.max_follow_up >= h
    tau = risks.max_follow_up
    s_tau, f_tau, _ = risks.at(tau)
    ps_tau, pf_tau, _ = pooled.at(tau)
    pf_h = pooled.at(h)[1]
    rest = (pf_h - pf_tau) / ps_tau if ps_tau > 1e-12 else 0.0
    return f_tau + s_tau * rest, False
