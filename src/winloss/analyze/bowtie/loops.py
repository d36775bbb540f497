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


def nurture_loop(returns: dict[str, float], first_time: tuple[int, int]) -> dict[str, Any]:
    """How many lost deals' accounts come back, after how long, and how the returning deals do.

    ``returns`` is the store's summary of lost deals and each account's next deal
    (:func:`winloss.store.bowtie_queries.nurture_returns`); ``first_time`` is (won, closed) of deals
    of accounts without an earlier loss, the baseline win rate.
    """
    lost = int(returns["lost_deals"])
    median = returns["median_days_to_return"]
    return {
        "lost_deals": lost,
        "returned": _rate(int(returns["returned"]), lost),
        "median_days_to_return": None if median != median else float(median),
        "returning_win_rate": _rate(
            int(returns["returning_won"]), int(returns["returning_closed"])
        ),
        "returning_open": int(returns["returning_open"]),
        "first_time_win_rate": _rate(first_time[0], first_time[1]),
        "lost_in_flight": int(returns.get("lost_in_flight", 0) or 0),
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


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0%}"


def describe_loops(loops: dict[str, Any]) -> list[tuple[str, str]]:
    """The two loops in words, as (name, sentence): the report and the console say the same.

    A nurture loop with nothing to measure says why (every loss was at an account with another
    deal in flight) rather than staying silent.
    """
    nurture = loops.get("nurture") or {}
    growth = loops.get("growth") or {}
    out: list[tuple[str, str]] = []
    busy = int(nurture.get("lost_in_flight") or 0)
    aside = (
        f" ({busy:,} more losses were at accounts with another deal in flight: their next deal "
        "is not a return, so they are left out)"
        if busy
        else ""
    )
    if nurture.get("lost_deals"):
        back = nurture["returned"]
        out.append(
            (
                "Nurture loop",
                f"{back['count']:,} of {nurture['lost_deals']:,} lost deals' accounts came back "
                f"({_pct(back['rate'])}), after a median "
                f"{nurture['median_days_to_return'] or 0:.0f} days; returning deals won "
                f"{_pct(nurture['returning_win_rate']['rate'])} vs "
                f"{_pct(nurture['first_time_win_rate']['rate'])} for first-time accounts{aside}.",
            )
        )
    elif busy:
        out.append(
            (
                "Nurture loop",
                f"none to measure: every one of the {busy:,} losses was at an account with "
                "another deal in flight, so no account went quiet after a loss.",
            )
        )
    if growth.get("customers"):
        w, wo = growth["expanded_with_impact"], growth["expanded_without_impact"]
        out.append(
            (
                "Growth loop",
                f"{growth['expansions_per_customer_year']:.2f} expansions per customer-year; "
                f"customers with a delivered impact milestone expanded {_pct(w['rate'])} vs "
                f"{_pct(wo['rate'])} without (an association, not an effect).",
            )
        )
    return out
