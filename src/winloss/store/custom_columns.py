"""What a re-import replaces: custom fields now mapped onto a winloss field (one fact held
once), and rows of a whole-deal file (an event log) that the new file no longer has.

A file imported first with "Primary Competitor" kept as the custom field ``primary_competitor``,
then again with ``--column competitor="Primary Competitor"``, held the same fact twice: the
concentrations found "primary_competitor == In-house" and "competitor == In-house" with the same
numbers and counted both among the hypotheses. The import clears the custom field's values on
the deals it brings (inside its transaction) and unregisters the field once no deal keeps one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from winloss.store.deal_reads import quote_identifier as _q


class _Statements(Protocol):
    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None: ...

    def scalar(self, sql: str, params: Iterable[Any] | None = None) -> Any: ...


def clear_superseded(
    engine: _Statements, table: str, key: str, superseded: Mapping[str, str]
) -> list[str]:
    """Clear each superseded custom column (name → the field it is now imported as) on the rows
    of ``_incoming``; unregister those left without a value. Returns the unregistered names."""
    gone: list[str] = []
    for name in superseded:
        engine.execute(
            f"UPDATE {_q(table)} SET {_q(name)} = NULL "
            f"WHERE {_q(key)} IN (SELECT {_q(key)} FROM _incoming)"
        )
        if int(engine.scalar(f"SELECT count({_q(name)}) FROM {_q(table)}") or 0) == 0:
            engine.execute(
                "DELETE FROM custom_fields WHERE table_name = ? AND name = ?", [table, name]
            )
            gone.append(name)
    return gone


def delete_rows_not_incoming(engine: _Statements, table: str, key: str) -> int:
    """Delete the stored rows of the deals in ``_incoming`` that ``_incoming`` does not hold.

    For a file that holds each of its deals' rows in full (an event log: a case's whole path),
    so a re-import with a different reading (outcome events, lifecycle) leaves no step of the
    earlier reading behind. Returns the rows deleted.
    """
    where = (
        f"deal_id IN (SELECT deal_id FROM _incoming) "
        f"AND {_q(key)} NOT IN (SELECT {_q(key)} FROM _incoming)"
    )
    n = int(engine.scalar(f"SELECT count(*) FROM {_q(table)} WHERE {where}") or 0)
    if n:
        engine.execute(f"DELETE FROM {_q(table)} WHERE {where}")
    return n
