"""Open the store a ``--db`` / ``WINLOSS_DB`` value names: a PostgreSQL server or a DuckDB file.

``postgresql://…`` and ``postgres://…`` open :class:`~winloss.store.postgres_store.PostgresStore`
(a shared team store); anything else is a DuckDB file path (or ``":memory:"``).
"""

from __future__ import annotations

from pathlib import Path

from winloss.store.duckdb_store import DuckDBStore

#: ``--db`` values that name a PostgreSQL server.
SERVER_PREFIXES = ("postgresql://", "postgres://")


def is_server_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a DuckDB file."""
    return str(target).startswith(SERVER_PREFIXES)


def open_store(target: str | Path, *, read_only: bool = False) -> DuckDBStore:
    """The store at ``target``: PostgreSQL for a ``postgresql://`` URL, else the DuckDB file.

    Raises :class:`~winloss.errors.StoreError` naming the target (password masked) when it cannot
    be opened.
    """
    if is_server_url(target):
        from winloss.store.postgres_store import PostgresStore

        return PostgresStore(str(target), read_only=read_only)
    return DuckDBStore(target, read_only=read_only)
