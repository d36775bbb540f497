"""The two loops of the Bowtie: nurture (lost deals that come back) and growth (renewals,
expansions and how delivered impact relates to them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from winloss.analyze.stats.exact_tests import wilson_interval


def _rate(k: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(np.array([k]), np.array([n]))
    return {
        "count": int(k),
        "n": int(n),
        "rate": k / n if n else None,
        "ci_low": float(low[0]) if n else None,
        "ci_high": float(high[0]) if n else None,
    }


def nurture_loop(returns: pd.DataFrame, first_time: tuple[int, int]) -> dict[str, Any]:
    """How many lost deals' accounts come back, after how long, and how the returning deals do.

    ``returns`` holds one row per lost deal with the account's next deal created after the loss
    (``next_created_at``/``next_outcome``, empty when none); ``first_time`` is (won, closed) of deals
    of accounts without an earlier loss, the baseline win rate.
    """
    back = returns[returns["next_created_at"].notna()]
    days = (pd.to_datetime(back["next_created_at"]) - pd.to_datetime(back["closed_at"])).dt.days
    closed = back[back["next_outcome"].isin(["won", "lost"])]
    won = int((closed["next_outcome"] == "won").sum())
    return {
        "lost_deals": int(len(returns)),
        "returned": _rate(len(back), len(returns)),
        "median_days_to_return": float(days.median()) if len(days) else None,
        "returning_win_rate": _rate(won, len(closed)),
        "returning_open": int((back["next_outcome"] == "open").sum()),
        "first_time_win_rate": _rate(first_time[0], first_time[1]),
    }


def growth_loop(lives: pd.DataFrame, as_of: dt.date) -> dict[str, Any]:
    """Renewals and expansions per customer-year, and expansion with vs without delivered impact.

    A customer counts as "with impact" when its first impact milestone came before its first
    expansion (or it has one and never expanded). The comparison is an association, not an effect:
    customers who stay longer have more time both to reach a milestone and to expand.
    """
    if lives.empty:
        return {"customers": 0}
    end = pd.Timestamp(as_of)
    start = pd.to_datetime(lives["start"])
    stop = pd.to_datetime(lives["churn_at"]).fillna(end).clip(upper=end)
    years = float(((stop - start).dt.days.clip(lower=0)).sum() / 365.25)
    impact = pd.to_datetime(lives["impact_at"])
    expansion = pd.to_datetime(lives["expansion_1_at"])
    with_impact = impact.notna() & (expansion.isna() | (impact <= expansion))
    expanded = expansion.notna()
    return {
        "customers": int(len(lives)),
        "customer_years": years,
        "renewals_per_customer_year": float(lives["renewals"].sum()) / years if years else None,
        "expansions_per_customer_year": float(lives["expansions"].sum()) / years if years else None,
        "expanded_with_impact": _rate(int((expanded & with_impact).sum()), int(with_impact.sum())),
        "expanded_without_impact": _rate(
            int((expanded & ~with_impact).sum()), int((~with_impact).sum())
        ),
    }
