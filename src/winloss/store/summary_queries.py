"""Named summary queries: closed quarters, per-quarter headline numbers, the store overview."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from winloss.store.duckdb_store import DuckDBStore


def closed_quarters(store: DuckDBStore) -> list[str]:
    """Fiscal quarters with closed (won or lost) deals, in order."""
    rows = store.fetchall(
        "SELECT DISTINCT quarter FROM deals_enriched WHERE outcome IN ('won','lost') "
        "AND quarter IS NOT NULL ORDER BY 1"
    )
    return [str(r[0]) for r in rows]


def closed_quarters_and_data_end(store: DuckDBStore) -> tuple[list[str], dt.date | None]:
    """The quarters with closed deals, latest first, and the last date the store knows about
    (the latest creation or actual close)."""
    quarters = [
        str(r[0])
        for r in store.fetchall(
            "SELECT DISTINCT quarter FROM deals_enriched "
            "WHERE outcome IN ('won','lost') AND quarter IS NOT NULL ORDER BY quarter DESC"
        )
    ]
    end = store.scalar(
        "SELECT max(d) FROM (SELECT CAST(created_at AS DATE) AS d FROM deals_enriched "
        "UNION ALL SELECT CAST(closed_at AS DATE) FROM deals_enriched "
        "WHERE outcome IN ('won','lost')) AS t"
    )
    if end is not None and not isinstance(end, dt.date):
        end = dt.date.fromisoformat(str(end)[:10])
    return quarters, end


def last_close_in(store: DuckDBStore, quarter: str) -> dt.date | None:
    """The latest actual close of a deal closed in ``quarter`` (every deal, no filter)."""
    value = store.scalar(
        "SELECT max(CAST(closed_at AS DATE)) FROM deals_enriched "
        "WHERE outcome IN ('won', 'lost') AND quarter = ?",
        [quarter],
    )
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def quarterly_summary(store: DuckDBStore, until: str) -> pd.DataFrame:
    """Closed deals, wins, won revenue, median cycle and first/last close per quarter up to
    ``until``."""
    return store.query(
        "SELECT quarter, count(*) AS deals, sum(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END) "
        "AS wins, sum(CASE WHEN outcome = 'won' THEN amount ELSE 0 END) AS won_revenue, "
        "median(cycle_days) AS median_cycle_days, min(closed_at) AS first_close, "
        "max(closed_at) AS last_close FROM deals_enriched "
        "WHERE outcome IN ('won', 'lost') AND quarter IS NOT NULL AND quarter <= ? "
        "GROUP BY quarter ORDER BY quarter",
        [until],
    )


def outcome_counts(store: DuckDBStore) -> dict[str, int]:
    """Deals per outcome."""
    rows = store.fetchall("SELECT outcome, count(*) FROM deals GROUP BY 1 ORDER BY 1")
    return {str(k): int(v) for k, v in rows}


def date_ranges(store: DuckDBStore) -> tuple[Any, Any, Any, Any]:
    """First and last creation date, first and last close date of closed deals."""
    rng = store.row(
        "SELECT min(created_at), max(created_at), "
        "min(closed_at) FILTER (WHERE outcome IN ('won', 'lost')), "
        "max(closed_at) FILTER (WHERE outcome IN ('won', 'lost')) FROM deals"
    )
    return rng[0], rng[1], rng[2], rng[3]


def recent_imports(store: DuckDBStore, limit: int = 10) -> pd.DataFrame:
    """The latest imports: table, file, rows read, inserted, updated, when."""
    return store.query(
        "SELECT table_name, file, rows_read, inserted, updated, imported_at "
        "FROM imports ORDER BY import_id DESC LIMIT ?",
        [limit],
    )


def imported_files(store: DuckDBStore) -> list[str]:
    """The files imported into the store (not data frames handed over in Python, as the demo's
    are), most recent first."""
    return [
        str(r[0])
        for r in store.fetchall(
            "SELECT file FROM imports WHERE file <> '<dataframe>' "
            "GROUP BY file ORDER BY max(imported_at) DESC"
        )
    ]


def deal_import_notes(store: DuckDBStore) -> list[str]:
    """What reading the deal files noted (generated ids, no dates, duplicates), in order."""
    rows = store.fetchall("SELECT notes FROM imports WHERE table_name = 'deals' ORDER BY import_id")
    return [str(note) for (raw,) in rows for note in json.loads(raw or "[]")]
