"""Activation milestones discovered from usage: which event, how many, within how many days.

A candidate milestone is "at least ``k`` distinct users (or events) of ``event`` within ``W`` days
of the account's first event" (``event = '*'``: any event, i.e. active users). For a window ``W``
an account is *eligible* when its conversion label is known, it was observed for ``W`` days, and it
had not converted before day ``W`` (its usage after a purchase would leak the outcome). Every
candidate is a Fisher test of the conversion rate with vs without the milestone on the training
accounts (the earlier ones by first event); all candidates form one Benjamini–Hochberg family. The
milestone is the candidate with the largest standardised excess among those that raise conversion,
are significant and have enough accounts on both sides; ties go to any event over a named one,
users over events, the shorter window and the smaller count. It is then checked on the held-out
(later) accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from winloss.analyze.stats.exact_tests import (
    benjamini_hochberg,
    fisher_p_where_it_matters,
    hypergeometric_z,
    wilson_interval,
)
from winloss.serialize import plain as jsonable


@dataclass(frozen=True)
class Milestone:
    """A discovered activation milestone with its training and held-out evidence."""

    event: str
    metric: str  # "users" or "events"
    at_least: int
    window_days: int
    statement: str
    train_met: tuple[int, int]  # (accounts, converted)
    train_not_met: tuple[int, int]
    p_value: float
    q_value: float
    held_out_met: tuple[int, int]
    held_out_not_met: tuple[int, int]
    held_out_p_value: float

    @staticmethod
    def _rate(pair: tuple[int, int]) -> dict[str, Any]:
        n, k = pair
        low, high = wilson_interval(k, n)
        out: dict[str, Any] = jsonable(
            {
                "accounts": n,
                "converted": k,
                "rate": k / n if n else None,
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
        return out

    @property
    def holds_on_held_out(self) -> bool:
        (n1, k1), (n0, k0) = self.held_out_met, self.held_out_not_met
        return bool(n1 and n0 and k1 / n1 > k0 / n0 and self.held_out_p_value <= 0.05)

    def mask(self, counts: pd.DataFrame) -> np.ndarray:
        """Accounts (rows of a :func:`wide_counts` frame) that reach the milestone."""
        col = f"{self.event}|{self.metric}_{self.window_days}"
        if col not in counts.columns:
            return np.zeros(len(counts), dtype=bool)
        return np.asarray(counts[col].to_numpy(dtype=float) >= self.at_least)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "metric": self.metric,
            "at_least": self.at_least,
            "window_days": self.window_days,
            "statement": self.statement,
            "train": {
                "met": self._rate(self.train_met),
                "not_met": self._rate(self.train_not_met),
                "p_value": jsonable(self.p_value),
                "q_value": jsonable(self.q_value),
            },
            "held_out": {
                "met": self._rate(self.held_out_met),
                "not_met": self._rate(self.held_out_not_met),
                "p_value": jsonable(self.held_out_p_value),
                "holds": self.holds_on_held_out,
            },
        }


def wide_counts(long: pd.DataFrame, accounts: pd.Series) -> pd.DataFrame:
    """The store's per-account, per-event counts as one row per account (columns
    ``event|users_W`` and ``event|events_W``), zero where an account had none."""
    values = [c for c in long.columns if c not in ("account_id", "event")]
    wide = long.pivot(index="account_id", columns="event", values=values)
    wide.columns = [f"{event}|{metric}" for metric, event in wide.columns]
    return wide.reindex(pd.Index(accounts, name="account_id")).fillna(0.0)


def describe(event: str, metric: str, k: int, window: int) -> str:
    if event == "*":
        what = "active users" if metric == "users" else "events"
    else:
        what = f"users with {event}" if metric == "users" else f"{event} events"
    return f"≥ {k} {what} within {window} days of the first event"


def candidate_table(
    counts: pd.DataFrame,
    converted: np.ndarray,
    eligible: dict[int, np.ndarray],
    windows: list[int],
    *,
    max_count: int = 10,
) -> pd.DataFrame:
    """Every candidate milestone tested on the given accounts (one row each, in tie-break order)."""
    events = sorted({c.split("|")[0] for c in counts.columns}, key=lambda e: (e != "*", e))
    rows: list[dict[str, Any]] = []
    for event in events:
        for metric in ("users", "events"):
            for w in windows:
                col = f"{event}|{metric}_{w}"
                if col not in counts.columns:
                    continue
                ok = eligible[w]
                x = counts[col].to_numpy(dtype=float)[ok]
                y = converted[ok]
                top = int(min(max_count, x.max())) if x.size else 0
                for k in range(1, top + 1):
                    met = x >= k
                    rows.append(
                        {
                            "event": event,
                            "metric": metric,
                            "window_days": w,
                            "at_least": k,
                            "n": int(y.size),
                            "converted": int(y.sum()),
                            "n_met": int(met.sum()),
                            "converted_met": int(y[met].sum()),
                        }
                    )
    table = pd.DataFrame(
        rows,
        columns=[
            "event",
            "metric",
            "window_days",
            "at_least",
            "n",
            "converted",
            "n_met",
            "converted_met",
        ],
    )
    if table.empty:
        return table.assign(p_value=[], z=[], q_value=[])
    args = (
        table["converted_met"].to_numpy(float),
        table["n_met"].to_numpy(float),
        table["converted"].to_numpy(float),
        table["n"].to_numpy(float),
    )
    testable = (args[1] > 0) & (args[1] < args[3])
    p = np.ones(len(table))
    z = np.zeros(len(table))
    if testable.any():
        p[testable], _ = fisher_p_where_it_matters(*(a[testable] for a in args))
        z[testable] = hypergeometric_z(*(a[testable] for a in args))
    table["p_value"] = p
    table["z"] = z
    table["q_value"] = benjamini_hochberg(p)
    return table


def choose(table: pd.DataFrame, *, alpha: float, min_support: int) -> int:
    """Index of the chosen candidate (see the module docstring); -1 when none qualifies."""
    if table.empty:
        return -1
    ok = (
        (table["q_value"] <= alpha)
        & (table["z"] > 0)
        & (table["n_met"] >= min_support)
        & (table["n"] - table["n_met"] >= min_support)
    ).to_numpy()
    if not ok.any():
        return -1
    score = np.where(ok, table["z"].to_numpy(), -np.inf)
    return int(np.argmax(score))  # first maximum: the tie-break order of candidate_table
