"""After the sale: retention curves, churn, revenue retention, lifetime value and CAC payback.

Inputs are one row per customer (``duration_months``, ``churned``, ``monthly_revenue`` and a
``group``), from the store's subscriptions or from a churn table of the common kind (tenure in
months, monthly charge, churned yes/no, contract), and MRR at the start and end of 12-month windows
for GRR/NRR. Definitions: ``metrics.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from winloss.analyze.bowtie.survival import kaplan_meier

DAYS_PER_MONTH = 365.25 / 12


def retention_curve(durations: np.ndarray, churned: np.ndarray, months: int) -> pd.DataFrame:
    """Kaplan–Meier logo retention S(t) at t = 0..months and the number still at risk.

    S(t) is the probability of staying more than ``t`` months (just after t), as lifelines'
    ``KaplanMeierFitter.survival_function_at_times`` gives it.
    """
    times, surv = kaplan_meier(durations, churned)
    grid = np.arange(months + 1, dtype=float)
    idx = np.searchsorted(times, grid, side="right") - 1
    s = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    d = np.sort(np.asarray(durations, dtype=float))
    at_risk = len(d) - np.searchsorted(d, grid, side="left")
    return pd.DataFrame({"month": grid.astype(int), "retention": s, "at_risk": at_risk})


def monthly_churn(durations: np.ndarray, churned: np.ndarray) -> float:
    """Churn events per customer-month of exposure (the constant-hazard rate)."""
    exposure = float(np.sum(np.asarray(durations, dtype=float)))
    return float(np.sum(churned)) / exposure if exposure > 0 else float("nan")


@dataclass(frozen=True)
class LifetimeValue:
    """LTV of one group: the extrapolated, observed-only and constant-churn forms."""

    group: str
    customers: int
    churned: int
    arpu: float
    monthly_churn: float
    expected_months: float
    ltv: float
    ltv_observed: float
    ltv_simple: float


def lifetime_value(
    group: str,
    durations: np.ndarray,
    churned: np.ndarray,
    revenue: np.ndarray,
    *,
    gross_margin: float = 1.0,
    monthly_discount: float = 0.0,
) -> LifetimeValue:
    """LTV = ARPU × margin × Σ_t S(t)/(1+r)^t (see ``metrics.yaml``).

    S(t) is the Kaplan–Meier retention at whole months up to the last observed month T; past T it
    decays at the group's constant monthly churn c. ``ltv_observed`` stops at T (no extrapolation);
    ``ltv_simple`` is ARPU × margin / c (× (1+r)/(r+c) when discounted).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(churned, dtype=float)
    arpu = float(np.mean(revenue)) if len(revenue) else float("nan")
    c = monthly_churn(d, e)
    last = int(np.floor(d.max())) if len(d) else 0
    curve = retention_curve(d, e, last)["retention"].to_numpy()
    r = monthly_discount
    disc = (1.0 + r) ** -np.arange(last + 1, dtype=float)
    observed = float(np.sum(curve * disc))
    q = (1.0 - c) / (1.0 + r) if np.isfinite(c) else 0.0
    tail = curve[-1] * disc[-1] * (q / (1.0 - q)) if q < 1.0 else float("inf")
    value = arpu * gross_margin
    # Σ_t ((1 − c)/(1 + r))^t = (1 + r)/(r + c)
    simple = value * (1.0 + r) / (r + c) if c > 0 else float("inf")
    return LifetimeValue(
        group=group,
        customers=int(len(d)),
        churned=int(e.sum()),
        arpu=arpu,
        monthly_churn=c,
        expected_months=observed + tail,
        ltv=value * (observed + tail),
        ltv_observed=value * observed,
        ltv_simple=simple,
    )


#: A group's LTV beyond its observed months rests on its churn rate: below this many churned
#: customers the rate is too uncertain to rank groups by (with 10, the rate's 95 % interval still
#: spans about 0.5× to 1.8× of it).
FEW_CHURNED = 10


def churn_interval(churned: int, rate: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) Poisson interval of a monthly churn ``rate`` of ``churned`` events."""
    from scipy.stats import chi2

    if not np.isfinite(rate) or rate <= 0 or churned <= 0:
        return float("nan"), float("nan")
    exposure = churned / rate
    a = (1 - level) / 2
    low = float(chi2.ppf(a, 2 * churned)) / 2 / exposure
    high = float(chi2.ppf(1 - a, 2 * churned + 2)) / 2 / exposure
    return low, high


def few_churned_warning(ltv: pd.DataFrame) -> str | None:
    """A warning naming the groups whose extrapolated LTV rests on fewer than
    :data:`FEW_CHURNED` churned customers (``ltv``: rows of :class:`LifetimeValue`), with the
    churn rate's interval."""
    if ltv.empty or "churned" not in ltv:
        return None
    few = ltv[(ltv["churned"] < FEW_CHURNED) & (ltv["ltv"] > ltv["ltv_observed"])]
    if few.empty:
        return None
    parts = []
    for r in few.itertuples():
        low, high = churn_interval(int(r.churned), float(r.monthly_churn))
        rate = (
            f"churn {r.monthly_churn:.2%} a month (95% {low:.2%}–{high:.2%})"
            if np.isfinite(low)
            else "no churn seen yet"
        )
        ltv = (
            f"LTV {r.ltv:,.0f} of which {r.ltv_observed:,.0f} observed"
            if np.isfinite(r.ltv)
            else f"LTV unbounded (no churn to extrapolate), {r.ltv_observed:,.0f} observed"
        )
        parts.append(
            f"{r.group}: {int(r.churned)} churned of {int(r.customers):,} customers, {rate}, {ltv}"
        )
    return (
        "LTV extrapolates a group's churn rate beyond the months observed; with fewer than "
        f"{FEW_CHURNED} churned customers that rate is too uncertain to rank groups by "
        f"({'; '.join(parts)}): compare the LTV observed only (ltv_observed, "
        "`winloss bowtie --detail ltv`)"
    )


def revenue_retention(windows: pd.DataFrame) -> pd.DataFrame:
    """GRR, NRR, expansion, contraction and revenue churn per window (``mrr_windows`` rows).

    NRR = 1 + expansion − contraction − churn; GRR = 1 − contraction − churn.
    """
    rows: list[dict[str, object]] = []
    for window, part in windows.groupby("window", sort=True):
        start = part["mrr_start"].to_numpy(float)
        end = part["mrr_end"].fillna(0.0).to_numpy(float)
        base = start.sum()
        churned = end <= 0
        rows.append(
            {
                "window": window,
                "customers": len(part),
                "churned_customers": int(churned.sum()),
                "mrr_start": base,
                "mrr_end": end.sum(),
                "grr": float(np.minimum(start, end).sum() / base),
                "nrr": float(end.sum() / base),
                "expansion": float(np.maximum(end - start, 0).sum() / base),
                "contraction": float(np.maximum(start - end, 0)[~churned].sum() / base),
                "revenue_churn": float(start[churned].sum() / base),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "window",
            "customers",
            "churned_customers",
            "mrr_start",
            "mrr_end",
            "grr",
            "nrr",
            "expansion",
            "contraction",
            "revenue_churn",
        ],
    )


def nrr_standard_error(windows: pd.DataFrame) -> float:
    """Delta-method standard error of the latest window's NRR (a ratio of sums over customers)."""
    if windows.empty:
        return float("nan")
    last = windows[windows["window"] == windows["window"].max()]
    x = last["mrr_start"].to_numpy(float)
    y = last["mrr_end"].fillna(0.0).to_numpy(float)
    n = len(x)
    if n < 2:
        return float("nan")
    ratio = y.sum() / x.sum()
    resid = y - ratio * x
    return float(np.sqrt(n / (n - 1) * np.sum(resid**2)) / x.sum())


def cac_payback(
    acquisition_cost: float, new_customers: int, arpu: float, gross_margin: float
) -> dict[str, float]:
    """CAC = cost / new customers; payback months = CAC / (ARPU × gross margin)."""
    cac = acquisition_cost / new_customers if new_customers else float("nan")
    monthly = arpu * gross_margin
    return {
        "acquisition_cost": acquisition_cost,
        "new_customers": float(new_customers),
        "cac": cac,
        "payback_months": cac / monthly if monthly > 0 else float("nan"),
    }
