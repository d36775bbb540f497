"""Named queries of the QBR basics (:mod:`winloss.analyze.qbr`): counts grouped in the store.

Every function takes the :class:`~winloss.store.duckdb_store.DuckDBStore`, a SQL condition on
``deals_enriched`` with its parameters (from ``store.filter_sql``) and returns a small DataFrame of
counts; the statistics are computed from them in numpy.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

#: Columns a QBR table may be grouped by (identifiers are never taken from user input).
GROUP_COLUMNS = frozenset(
    {"quarter", "segment", "owner", "source", "region", "competitor", "product", "industry"}
)
REASON_COLUMNS = frozenset({"loss_reason", "win_reason", "competitor"})


def _columns(store: DuckDBStore) -> set[str]:
    rows = store.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'deals_enriched'"
    )
    return {str(r[0]) for r in rows}


def available(store: DuckDBStore, names: frozenset[str]) -> list[str]:
    """Which of ``names`` the deals carry."""
    return sorted(names & _columns(store))


def deal_count(store: DuckDBStore, where: str, params: list[Any]) -> int:
    """Deals in scope (``where`` from ``store.filter_sql``)."""
    return int(
        store.query(f"SELECT count(*) AS n FROM deals_enriched WHERE {where}", params)["n"].iloc[0]
    )


def outcome_counts(
    store: DuckDBStore, by: list[str], where: str, params: list[Any]
) -> pd.DataFrame:
    """Closed deals, wins and won revenue per group of ``by`` (columns of GROUP_COLUMNS)."""
    if not set(by) <= GROUP_COLUMNS:
        raise ValueError(f"cannot group by {by}")
    keys = ", ".join(by)
    return store.query(
        f"SELECT {keys}, count(*) AS deals, "
        "count(*) FILTER (WHERE outcome = 'won') AS wins, "
        "coalesce(sum(amount) FILTER (WHERE outcome = 'won'), 0) AS won_revenue "
        f"FROM deals_enriched WHERE outcome IN ('won', 'lost') AND ({where}) "
        f"GROUP BY {keys} ORDER BY {keys}",
        params,
    )


def reason_counts(
    store: DuckDBStore, reason: str, outcome: str, by: str | None, where: str, params: list[Any]
) -> pd.DataFrame:
    """Deals of ``outcome`` per (group, reason); a missing reason is ``NULL``."""
    if reason not in REASON_COLUMNS or (by is not None and by not in GROUP_COLUMNS):
        raise ValueError(f"cannot count {reason} by {by}")
    group = by or "'all'"
    return store.query(
        f"SELECT {group} AS grp, {reason} AS reason, count(*) AS deals FROM deals_enriched "
        f"WHERE outcome = ? AND ({where}) GROUP BY ALL ORDER BY 1, 3 DESC, 2",
        [outcome, *params],
    )


def reason_sources(
    store: DuckDBStore, reason: str, outcome: str, where: str, params: list[Any]
) -> pd.DataFrame:
    """Deals of ``outcome`` in scope per source of their ``reason`` (buyer, rep, crm, or NULL
    when blank), and how many of them carry a value other than the CRM's field (``changed``)."""
    if reason not in ("loss_reason", "win_reason"):
        raise ValueError(f"no capture source for {reason}")
    return store.query(
        f"SELECT s.source, count(*) AS deals, count(*) FILTER (WHERE c.{reason} IS DISTINCT "
        f"FROM e.{reason}) AS changed "
        f"FROM (SELECT * FROM deals_enriched WHERE outcome = ? AND ({where})) AS e "
        f"JOIN deal_field_sources s ON s.deal_id = e.deal_id AND s.field = '{reason}' "
        "JOIN deals c ON c.deal_id = e.deal_id GROUP BY s.source ORDER BY s.source",
        [outcome, *params],
    )


def stage_entries(store: DuckDBStore, where: str, params: list[Any]) -> pd.DataFrame:
    """Every stage entry of the deals in scope with the deal's outcome, in time order."""
    return store.query(
        "SELECT h.deal_id, h.stage, h.entered_at, d.outcome FROM stage_history h "
        f"JOIN deals_enriched d USING (deal_id) WHERE ({where}) "
        "ORDER BY h.deal_id, h.entered_at",
        params,
    )


def has_stage_history(store: DuckDBStore) -> bool:
    return bool(store.scalar("SELECT count(*) FROM stage_history"))


def open_pipeline(store: DuckDBStore, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Open deals expected to close in ``[start, end]``: count, amount, and how many of them
    have no amount (``unvalued``: they add nothing to the amount)."""
    return store.query(
        "SELECT count(*) AS deals, coalesce(sum(amount), 0) AS amount, "
        "count(*) - count(amount) AS unvalued FROM deals_enriched "
        "WHERE outcome = 'open' AND closed_at BETWEEN ? AND ?",
        [start, end],
    )


def recorded(store: DuckDBStore, names: list[str], where: str, params: list[Any]) -> list[str]:
    """Which of ``names`` (columns of ``deals_enriched``) hold a value for a closed deal in scope.

    A canonical column exists in every store; a CRM export that has no such column leaves it
    empty, and a table of one "(none recorded)" row would say nothing.
    """
    if not names:
        return []
    counts = ", ".join(f"count({n}) AS {n}" for n in names)
    row = store.query(
        f"SELECT {counts} FROM deals_enriched WHERE outcome IN ('won', 'lost') AND ({where})",
        params,
    ).iloc[0]
    return [n for n in names if int(row[n]) > 0]


def open_deal_dates(store: DuckDBStore) -> tuple[int, int]:
    """Open deals, and how many of them carry an expected close date."""
    row = store.query(
        "SELECT count(*) AS deals, count(closed_at) AS dated FROM deals_enriched "
        "WHERE outcome = 'open'"
    ).iloc[0]
    return int(row["deals"]), int(row["dated"])
