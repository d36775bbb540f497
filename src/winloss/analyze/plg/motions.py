"""PLG-sourced against sales-led deals, and the effect of product use on the sales-led motion.

*Motion*: a deal is PLG-sourced when its ``source`` is ``product-led``, sales-led otherwise. Per
motion: win rate (Wilson interval; also per segment), median sales cycle and median size of won deals (bootstrap
percentile intervals), expansion (share of accounts whose first won deal came from the motion with
an ``expansion`` event later; Wilson) and 12-month net revenue retention (MRR twelve months after
the ``new`` event over MRR at it, summed over the accounts old enough; bootstrap over accounts).

*Prior usage*: new-business sales-led closed deals (no earlier won deal at the account: customers
use the product anyway) at accounts that used the product in the days before the deal was created
(``prior_usage_days``) against those at accounts that had not, per segment: win rates, the odds
ratio with its Woolf interval (0.5 added to every cell), Fisher p-values with Benjamini–Hochberg over the segments, and a
test of heterogeneity across segments (Cochran's Q on the log odds ratios) — the segment
interaction made explicit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from winloss.analyze.stats.exact_tests import (
    benjamini_hochberg,
    fisher_exact_two_sided,
    wilson_interval,
)

MOTIONS = {True: "PLG-sourced", False: "sales-led"}


def _bootstrap_median(
    values: np.ndarray, rng: np.random.Generator, draws: int = 400
) -> tuple[float, float, float]:
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    idx = rng.integers(0, values.size, (draws, values.size))
    medians = np.median(values[idx], axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(np.median(values)), float(low), float(high)


def _row(
    motion: str,
    metric: str,
    value: float,
    low: float,
    high: float,
    n: int,
    unit: str,
    segment: str = "all",
) -> dict[str, Any]:
    return {
        "motion": motion,
        "segment": segment,
        "metric": metric,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "unit": unit,
    }


def nrr_12_months(subs: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per account: starting MRR (the ``new`` row) and MRR twelve months later (0 after a churn),
    for accounts whose start is at least twelve months before ``as_of``."""
    rows = []
    limit = pd.Timestamp(as_of) - pd.DateOffset(months=12)
    for account, group in subs.groupby("account_id", sort=False):
        g = group.sort_values("period_start")
        start = g[g["event"] == "new"]
        if start.empty:
            continue
        t0 = pd.Timestamp(start["period_start"].iat[0])
        if t0 > limit:
            continue
        upto = g[pd.to_datetime(g["period_start"]) <= t0 + pd.DateOffset(months=12)]
        last = upto.iloc[-1]
        later = 0.0 if last["event"] == "churn" else float(last["mrr"])
        rows.append(
            {
                "account_id": account,
                "product_led": bool(g["product_led"].iat[0]),
                "mrr_start": float(start["mrr"].iat[0]),
                "mrr_12m": later,
            }
        )
    return pd.DataFrame(rows, columns=["account_id", "product_led", "mrr_start", "mrr_12m"])


def motion_comparison(
    deals: pd.DataFrame, subs: pd.DataFrame, as_of: dt.date, *, seed: int = 0
) -> pd.DataFrame:
    """One row per motion and metric with its interval (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    closed = deals[deals["outcome"].isin(["won", "lost"])]
    expansion = subs.groupby("account_id").agg(
        product_led=("product_led", "first"),
        expanded=("event", lambda e: bool((e == "expansion").any())),
    )
    nrr = nrr_12_months(subs, as_of)
    for flag, motion in MOTIONS.items():
        mine = closed[closed["product_led"] == flag]
        won = mine[mine["outcome"] == "won"]
        k, n = int(len(won)), int(len(mine))
        low, high = wilson_interval(k, n)
        rows.append(
            _row(
                motion,
                "win_rate",
                k / n if n else float("nan"),
                float(low),
                float(high),
                n,
                "share",
            )
        )
        cycle = pd.to_numeric(won["cycle_days"], errors="coerce").dropna().to_numpy(float)
        rows.append(
            _row(
                motion,
                "median_cycle_days_won",
                *_bootstrap_median(cycle, rng),
                int(cycle.size),
                "days",
            )
        )
        size = pd.to_numeric(won["amount"], errors="coerce").dropna().to_numpy(float)
        rows.append(
            _row(
                motion, "median_amount_won", *_bootstrap_median(size, rng), int(size.size), "amount"
            )
        )
        for seg, part in mine.groupby(mine["segment"].fillna("(no segment)"), sort=True):
            k, n = int((part["outcome"] == "won").sum()), int(len(part))
            low, high = wilson_interval(k, n)
            rows.append(
                _row(motion, "win_rate", k / n, float(low), float(high), n, "share", str(seg))
            )
        ex = expansion[expansion["product_led"] == flag]
        k, n = int(ex["expanded"].sum()), int(len(ex))
        low, high = wilson_interval(k, n)
        rows.append(
            _row(
                motion,
                "expansion_rate",
                k / n if n else float("nan"),
                float(low),
                float(high),
                n,
                "share of customers",
            )
        )
        cohort = nrr[nrr["product_led"] == flag]
        if len(cohort):
            start = cohort["mrr_start"].to_numpy(float)
            later = cohort["mrr_12m"].to_numpy(float)
            idx = rng.integers(0, len(cohort), (400, len(cohort)))
            boot = later[idx].sum(axis=1) / np.maximum(start[idx].sum(axis=1), 1e-9)
            lo, hi = np.percentile(boot, [2.5, 97.5])
            rows.append(
                _row(
                    motion,
                    "nrr_12m",
                    float(later.sum() / start.sum()),
                    float(lo),
                    float(hi),
                    int(len(cohort)),
                    "ratio",
                )
            )
        else:
            rows.append(
                _row(motion, "nrr_12m", float("nan"), float("nan"), float("nan"), 0, "ratio")
            )
    return pd.DataFrame(rows)


def prior_usage_effect(deals: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    """Sales-led closed deals with vs without prior product use, per segment and overall.

    Returns the table, Cochran's Q and its p-value (heterogeneity of the segment odds ratios).
    """
    new_logo = deals["new_logo"].astype(bool) if "new_logo" in deals else True
    sales = deals[
        ~deals["product_led"].astype(bool) & deals["outcome"].isin(["won", "lost"]) & new_logo
    ]
    sales = sales.assign(
        segment=sales["segment"].fillna("(no segment)"), won=sales["outcome"] == "won"
    )
    rows = []
    for seg, g in [("all", sales)] + list(sales.groupby("segment", sort=True)):
        used = g["used_before"].astype(bool).to_numpy()
        won = g["won"].to_numpy(dtype=bool)
        a, b = float((used & won).sum()), float((used & ~won).sum())
        c, d = float((~used & won).sum()), float((~used & ~won).sum())
        lo1, hi1 = wilson_interval(a, a + b)
        lo0, hi0 = wilson_interval(c, c + d)
        log_or = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
        se = np.sqrt(1 / (a + 0.5) + 1 / (b + 0.5) + 1 / (c + 0.5) + 1 / (d + 0.5))
        estimable = bool(a + b) and bool(c + d)
        if not estimable:  # one side is empty: no odds ratio, no test (not OR 1.2, p = 1)
            log_or, se = float("nan"), float("nan")
        p = (
            float(fisher_exact_two_sided(a, a + b, a + c, a + b + c + d)[0])
            if estimable
            else float("nan")
        )
        rows.append(
            {
                "segment": seg,
                "n_used": int(a + b),
                "win_rate_used": a / (a + b) if a + b else float("nan"),
                "used_ci_low": float(lo1),
                "used_ci_high": float(hi1),
                "n_not_used": int(c + d),
                "win_rate_not_used": c / (c + d) if c + d else float("nan"),
                "not_used_ci_low": float(lo0),
                "not_used_ci_high": float(hi0),
                "odds_ratio": float(np.exp(log_or)),
                "or_ci_low": float(np.exp(log_or - 1.96 * se)),
                "or_ci_high": float(np.exp(log_or + 1.96 * se)),
                "log_or": float(log_or),
                "se": float(se),
                "p_value": p,
            }
        )
    table = pd.DataFrame(rows)
    segs = table[(table["segment"] != "all") & (table["n_used"] > 0) & (table["n_not_used"] > 0)]
    table["q_value"] = np.nan
    if len(segs):
        table.loc[segs.index, "q_value"] = benjamini_hochberg(segs["p_value"].to_numpy())
    if len(segs) < 2:
        return table, float("nan"), float("nan")
    w = 1 / segs["se"].to_numpy() ** 2
    pooled = float((w * segs["log_or"]).sum() / w.sum())
    q = float((w * (segs["log_or"] - pooled) ** 2).sum())
    return table, q, float(stats.chi2.sf(q, len(segs) - 1))
