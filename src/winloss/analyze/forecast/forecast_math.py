"""The arithmetic of a pipeline forecast: when open deals close, what they are worth, the spread.

* :func:`kaplan_meier` and :func:`close_in_window` — the chance that a deal open at a date closes in
  a window, from the time-to-close of past deals (deals still open are censored, not dropped).
* :class:`AmountSampler` — the value of a deal whose amount is unknown (or leaks the outcome), drawn
  from the won amounts of similar past deals.
* :func:`simulate_bookings` — the distribution of total bookings, a sum of independent Bernoulli
  wins times amounts (a weighted Poisson-binomial), by Monte Carlo, in total and by group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival of time-to-close: event times and S(t) just after each.

    Parameters
    ----------
    durations
        Days from creation to close (closed deals) or to the snapshot (open deals).
    observed
        True where the deal closed (an event), False where it was still open (censored).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    ok = np.isfinite(d)
    d, e = d[ok], e[ok]
    if len(d) == 0 or not e.any():
        return np.zeros(0), np.zeros(0)
    times = np.unique(d[e])
    # at risk at t: durations >= t; events at t
    sorted_d = np.sort(d)
    at_risk = len(d) - np.searchsorted(sorted_d, times, side="left")
    events = np.bincount(np.searchsorted(times, d[e]), minlength=len(times))
    surv = np.cumprod(1.0 - events / at_risk)
    return times, surv


def survival_at(times: np.ndarray, surv: np.ndarray, t: np.ndarray) -> np.ndarray:
    """S(t) of a Kaplan–Meier curve (a step function, 1 before the first event)."""
    t = np.asarray(t, dtype=float)
    if len(times) == 0:
        return np.ones_like(t)
    idx = np.searchsorted(times, t, side="right") - 1
    return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)


def close_in_window(
    times: np.ndarray, surv: np.ndarray, age: np.ndarray, start: float, end: float
) -> np.ndarray:
    """P(close between ``start`` and ``end`` days from now | open now at ``age`` days).

    Deals still open long after the last observed close get a chance near zero: past deals that
    old stayed open (censored) instead of closing. Where the curve has dropped to zero (every
    comparable deal closed by then) the deal is taken to close in the window.
    """
    age = np.nan_to_num(np.asarray(age, dtype=float), nan=0.0).clip(min=0)
    if len(times) == 0:
        return np.zeros_like(age)
    # open now means T >= age; closing on day offset o in [start, end] means T = age + o
    s_now = survival_at(times, surv, age - 1)
    s_a = survival_at(times, surv, age + start - 1)
    s_b = survival_at(times, surv, age + end)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(s_now > 1e-12, (s_a - s_b) / s_now, 1.0 if start == 0 else 0.0)
    return np.nan_to_num(p, nan=0.0).clip(0, 1)


@dataclass
class AmountSampler:
    """Won amounts of past deals by group (e.g. product), to value deals without a usable amount."""

    groups: dict[str, np.ndarray]
    overall: np.ndarray
    key: str | None

    @classmethod
    def fit(
        cls,
        won: pd.DataFrame,
        key_candidates: tuple[str, ...] = ("product", "segment"),
        min_group: int = 5,
    ) -> AmountSampler:
        amounts = pd.to_numeric(won.get("amount"), errors="coerce")
        ok = amounts.notna() & (amounts > 0)
        overall = amounts[ok].to_numpy(dtype=float)
        for key in key_candidates:
            if key in won.columns and won.loc[ok, key].notna().any():
                groups = {
                    str(k): g.to_numpy(dtype=float)
                    for k, g in amounts[ok].groupby(won.loc[ok, key].astype(str))
                    if len(g) >= min_group
                }
                if groups:
                    return cls(groups, overall, key)
        return cls({}, overall, None)

    def pool(self, row_key: object) -> np.ndarray:
        g = self.groups.get(str(row_key)) if self.key is not None else None
        return g if g is not None and len(g) else self.overall

    def means(self, frame: pd.DataFrame) -> np.ndarray:
        keys = frame[self.key] if self.key in frame.columns else pd.Series([None] * len(frame))
        return np.array(
            [float(np.mean(self.pool(k))) if len(self.pool(k)) else np.nan for k in keys]
        )

    def pools(self, frame: pd.DataFrame) -> list[np.ndarray]:
        keys = frame[self.key] if self.key in frame.columns else pd.Series([None] * len(frame))
        return [self.pool(k) for k in keys]


@dataclass(frozen=True)
class Simulated:
    """Simulated totals: bookings and number of wins per draw, in total and per group."""

    bookings: np.ndarray  # (draws,)
    wins: np.ndarray  # (draws,)
    group_bookings: dict[str, dict[str, np.ndarray]]  # dimension -> group -> (draws,)


def simulate_bookings(
    p_win: np.ndarray,
    p_close: np.ndarray,
    amount: np.ndarray,
    *,
    pools: list[np.ndarray] | None = None,
    impute: np.ndarray | None = None,
    groups: dict[str, np.ndarray] | None = None,
    quarter_sd: float = 0.0,
    draws: int = 10_000,
    seed: int = 0,
) -> Simulated:
    """Monte Carlo of Σ_i B_i · A_i with B_i ~ Bernoulli(p_close_i · expit(logit p_win_i + ε)).

    ``ε ~ N(0, quarter_sd²)`` is drawn once per simulated quarter and shared by all deals: quarters
    differ in win rate beyond what each deal's probability says (see :func:`quarter_spread`).
    ``A_i`` is ``amount[i]``, or, where ``impute[i]``, a draw from ``pools[i]`` (past won amounts).
    ``groups`` maps a dimension (e.g. ``segment``) to each deal's group label.
    """
    z = logit(np.clip(np.asarray(p_win, dtype=float), 1e-6, 1 - 1e-6))
    p_close = np.asarray(p_close, dtype=float)
    p = expit(z) * p_close
    amount = np.nan_to_num(np.asarray(amount, dtype=float))
    n = len(p)
    rng = np.random.default_rng(seed)
    impute = np.zeros(n, dtype=bool) if impute is None else np.asarray(impute, dtype=bool)
    imp_idx = np.flatnonzero(impute)
    groups = groups or {}
    labels = {dim: pd.factorize(pd.Series(g).astype(str)) for dim, g in groups.items()}
    bookings = np.zeros(draws)
    wins = np.zeros(draws)
    per_group = {dim: np.zeros((len(lab[1]), draws)) for dim, lab in labels.items()}
    chunk = max(1, min(draws, 4_000_000 // max(n, 1)))
    for lo in range(0, draws, chunk):
        hi = min(draws, lo + chunk)
        shift = rng.normal(0.0, quarter_sd, hi - lo) if quarter_sd > 0 else np.zeros(hi - lo)
        won = rng.random((n, hi - lo)) < expit(z[:, None] + shift[None, :]) * p_close[:, None]
        values = np.repeat(amount[:, None], hi - lo, axis=1)
        for i in imp_idx:
            pool = pools[i] if pools is not None else np.zeros(0)
            values[i] = rng.choice(pool, hi - lo) if len(pool) else 0.0
        booked = won * values
        bookings[lo:hi] = booked.sum(axis=0)
        wins[lo:hi] = won.sum(axis=0)
        for dim, (codes, _uniques) in labels.items():
            acc = per_group[dim]
            for g in range(acc.shape[0]):
                acc[g, lo:hi] = booked[codes == g].sum(axis=0)
    group_bookings = {
        dim: {str(u): per_group[dim][g] for g, u in enumerate(labels[dim][1])} for dim in labels
    }
    return Simulated(bookings, wins, group_bookings)


def quarter_spread(
    closed: pd.DataFrame, *, min_quarters: int = 3, min_deals: int = 20, default: float = 0.3
) -> tuple[float, bool]:
    """Spread (sd on the logit scale) of the win rate between quarters, beyond binomial noise.

    Method of moments over quarters with ``min_deals`` closed deals: var(logit rate) minus the mean
    sampling variance 1 / (n p (1 − p)). Returns ``(sd, estimated)``; with fewer than
    ``min_quarters`` quarters the ``default`` is returned with ``estimated=False``.
    """
    if "quarter" not in closed.columns:
        return default, False
    g = closed.groupby(closed["quarter"].astype(str))["outcome"].agg(
        n="size", rate=lambda s: float((s == "won").mean())
    )
    g = g[(g["n"] >= min_deals) & (g["rate"] > 0) & (g["rate"] < 1)]
    if len(g) < min_quarters:
        return default, False
    z = logit(g["rate"].to_numpy())
    sampling = float(np.mean(1.0 / (g["n"] * g["rate"] * (1 - g["rate"]))))
    return float(np.sqrt(max(np.var(z, ddof=1) - sampling, 0.0))), True


def quantiles(values: np.ndarray, interval: float) -> tuple[float, float, float]:
    """Low, median and high quantile of the central ``interval`` (0.8 → P10, P50, P90)."""
    a = (1 - interval) / 2
    lo, mid, hi = np.quantile(values, [a, 0.5, 1 - a])
    return float(lo), float(mid), float(hi)


@dataclass(frozen=True)
class ErrorInterval:
    """A forecast interval widened by past forecast errors (see :func:`widen_by_errors`)."""

    low: float
    median: float
    high: float
    bias: float  # mean log(actual / P50) of the past quarters: > 0 means forecasts were too low
    n_errors: int
    method: str
    capped: bool = False  # the high end (or more) was held at the ceiling


def forecast_log_errors(actual: np.ndarray, p50: np.ndarray) -> np.ndarray:
    """log(actual / P50) per past quarter (NaN where either is not positive)."""
    a, m = np.asarray(actual, dtype=float), np.asarray(p50, dtype=float)
    ok = (a > 0) & (m > 0)
    out = np.full(a.shape, np.nan)
    out[ok] = np.log(a[ok] / m[ok])
    return out


def widen_by_errors(
    p10: float,
    p50: float,
    p90: float,
    errors: np.ndarray,
    interval: float = 0.8,
    ceiling: float | None = None,
) -> ErrorInterval:
    """Correct a simulated interval by the errors of past forecasts, and widen it to hold.

    ``errors`` are log(actual / P50) of past (backtested) quarters. Their mean is the bias: the
    median moves by ``exp(bias)``. The spread of the bias-corrected errors gives a normal-theory
    prediction interval for the next quarter's error, ``bias ± t(m−1) · s · √(1 + 1/m)`` — which
    covers exactly ``interval`` of new quarters when past and next errors are independent normal
    draws, however few (m ≥ 2) they are. The result is the wider, on each side, of that and the
    simulated interval moved by the bias: the simulation's own spread is never narrowed.

    With one past error only the bias is corrected; with none the interval is returned as is.

    ``ceiling`` is the most the forecast deals can book (every one of them won at its full
    value): a corrected figure above it is held at it (``capped``). With two or three past
    errors the t quantile is large (3.1 at m = 2 for 80 %), so the widened high end can exceed
    what the pipeline holds; bookings from these deals cannot.
    """
    from scipy import stats

    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e)]
    m = len(e)
    if m == 0 or not (p50 > 0):
        return ErrorInterval(p10, p50, p90, 0.0, m, "simulation only (no past errors)")
    bias = float(e.mean())
    shift = float(np.exp(bias))
    lo, mid, hi = p10 * shift, p50 * shift, p90 * shift
    method = "simulation moved by one past error"
    if m >= 2:
        s = float(e.std(ddof=1))
        half = float(stats.t.ppf(0.5 + interval / 2, m - 1)) * s * np.sqrt(1 + 1 / m)
        lo, hi = min(lo, mid * np.exp(-half)), max(hi, mid * np.exp(half))
        method = f"bias-corrected, widened by {m} past forecast errors"
    capped = ceiling is not None and np.isfinite(ceiling) and ceiling > 0 and hi > ceiling
    if capped:
        assert ceiling is not None
        lo, mid, hi = min(lo, ceiling), min(mid, ceiling), ceiling
    return ErrorInterval(lo, mid, hi, bias, m, method, bool(capped))
