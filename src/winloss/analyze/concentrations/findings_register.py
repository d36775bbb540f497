"""Quarter over quarter: how each finding did in earlier quarters, and the findings register.

The register (table ``findings_register`` of the store) keeps, per period, every finding of the
recorded analysis with its status against the previous quarter: ``new``, ``stronger``, ``weaker``,
``steady`` or ``gone``. Re-running a quarter replaces its rows, so the quarterly repeat is
idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from winloss.analyze.concentrations.conditions import Condition, column_mask
from winloss.analyze.deal_table import DealTable
from winloss.serialize import dumps
from winloss.store.register_queries import (
    findings_recorded,
    recorded_findings,
    replace_findings,
)

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

#: A finding is stronger or weaker when its win-rate difference moved by at least this much.
STRENGTH_TOLERANCE = 0.02
#: A quarter counts as seen when the finding and the rest each have at least this many deals.
MIN_DEALS_PER_QUARTER = 5
STATUSES = ("new", "stronger", "weaker", "steady", "gone")

#: How a status reads to people: a finding of last quarter that is not one on this quarter's
#: deals alone is "not beyond chance now" — it may still hold on fewer deals (a stranger's report
#: called a champion effect of 26 % vs 41 % "gone").
_STATUS_WORDS = {"gone": "not beyond chance now"}


def status_words(status: str) -> str:
    """A register status as the console, the report and the demo show it."""
    return _STATUS_WORDS.get(status, status)


@dataclass(frozen=True)
class QuarterRate:
    """A finding's win rate in one quarter, against the rest of that quarter."""

    quarter: str
    n: int
    wins: int
    rest_n: int
    rest_wins: int

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.n if self.n else None

    @property
    def rest_win_rate(self) -> float | None:
        return self.rest_wins / self.rest_n if self.rest_n else None

    @property
    def seen(self) -> bool:
        return self.n >= MIN_DEALS_PER_QUARTER and self.rest_n >= MIN_DEALS_PER_QUARTER

    def held(self, direction: str) -> bool:
        if not self.seen:
            return False
        assert self.win_rate is not None and self.rest_win_rate is not None
        diff = self.win_rate - self.rest_win_rate
        return diff > 0 if direction == "win" else diff < 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "n": self.n,
            "wins": self.wins,
            "win_rate": self.win_rate,
            "rest_n": self.rest_n,
            "rest_win_rate": self.rest_win_rate,
        }


def rates_by_quarter(conditions: tuple[Condition, ...], table: DealTable) -> list[QuarterRate]:
    """Deals and wins of a finding and of the rest in every quarter of ``table``."""
    if table.quarter is None or table.n == 0:
        return []
    codes = table.quarter.codes
    labels = table.quarter.labels
    if not all(c.field in table.columns for c in conditions):
        return []
    mask = column_mask(conditions, table.columns)
    valid = codes >= 0
    q = codes[valid]
    inside, won = mask[valid], table.won[valid]
    size = len(labels)
    n_all = np.bincount(q, minlength=size)
    w_all = np.bincount(q, weights=won, minlength=size)
    n_in = np.bincount(q, weights=inside, minlength=size)
    w_in = np.bincount(q, weights=inside & won, minlength=size)
    rates = [
        QuarterRate(
            str(labels[i]),
            int(n_in[i]),
            int(w_in[i]),
            int(n_all[i] - n_in[i]),
            int(w_all[i] - w_in[i]),
        )
        for i in range(size)
        if n_all[i] > 0
    ]
    return sorted(rates, key=lambda r: r.quarter)


@dataclass(frozen=True)
class RegisterEntry:
    """A finding's status against the previous quarter."""

    key: str
    status: str
    direction: str
    statement: str
    difference: float | None
    previous_difference: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "direction": self.direction,
            "statement": self.statement,
            "difference": self.difference,
            "previous_difference": self.previous_difference,
        }


@dataclass(frozen=True)
class RegisterRow:
    """What the register needs of one current finding."""

    key: str
    direction: str
    statement: str
    difference: float
    payload: dict[str, Any]


def compare_with_previous(
    current: list[RegisterRow], previous: dict[str, RegisterRow]
) -> list[RegisterEntry]:
    """Statuses of the current findings, then the previous findings that are gone."""
    entries: list[RegisterEntry] = []
    for row in current:
        before = previous.get(row.key)
        if before is None:
            status = "new"
        else:
            change = abs(row.difference) - abs(before.difference)
            status = (
                "stronger"
                if change >= STRENGTH_TOLERANCE
                else "weaker"
                if change <= -STRENGTH_TOLERANCE
                else "steady"
            )
        entries.append(
            RegisterEntry(
                row.key,
                status,
                row.direction,
                row.statement,
                row.difference,
                before.difference if before is not None else None,
            )
        )
    current_keys = {row.key for row in current}
    for key, before in previous.items():
        if key not in current_keys:
            entries.append(
                RegisterEntry(
                    key, "gone", before.direction, before.statement, None, before.difference
                )
            )
    return entries


def read_register(store: DuckDBStore, period: str) -> dict[str, RegisterRow] | None:
    """The findings recorded for ``period`` (gone ones excluded), or None if never recorded."""
    if not findings_recorded(store, period):
        return None
    out: dict[str, RegisterRow] = {}
    for key, direction, statement, payload in recorded_findings(store, period):
        data = json.loads(payload) if payload else {}
        difference = data.get("difference", 0.0)  # null: NaN when recorded
        out[key] = RegisterRow(
            key,
            direction,
            statement,
            float("nan") if difference is None else float(difference),
            data,
        )
    return out


def write_register(
    store: DuckDBStore,
    *,
    period: str,
    run_id: str,
    params: dict[str, Any],
    result: dict[str, Any],
    current: list[RegisterRow],
    entries: list[RegisterEntry],
) -> None:
    """Record one run and its register rows in one transaction (replacing the period's rows)."""
    now = dt.datetime.now()
    status_of = {e.key: e.status for e in entries}
    rows = []
    for row in current:
        f = row.payload
        rows.append(
            [
                period,
                row.key,
                run_id,
                row.statement,
                row.direction,
                f["n"],
                f["wins"],
                f["win_rate"],
                f["ci_low"],
                f["ci_high"],
                f["lift"],
                f["p_value"],
                f["q_value"],
                status_of.get(row.key, "new"),
                dumps(f, indent=None),
                now,
            ]
        )
    gone = [
        [
            period,
            entry.key,
            run_id,
            entry.statement,
            entry.direction,
            "gone",
            dumps({"difference": entry.previous_difference}, indent=None),
            now,
        ]
        for entry in entries
        if entry.status == "gone"
    ]
    replace_findings(
        store,
        period=period,
        run=[
            run_id,
            "concentrations",
            period,
            dumps(params, indent=None),
            dumps(result, indent=None),
            now,
        ],
        rows=rows,
        gone=gone,
    )
