"""Helpers for the hardening tests: a fingerprint of everything a store holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

#: The import log differs between a rerun and one clean run (ids, times, insert/update counts).
VOLATILE_TABLES = {"imports"}


def store_fingerprint(path: str | Path, *, volatile: bool = True) -> str:
    """SHA-256 over every table's columns and rows (sorted), read from a closed store file.

    With ``volatile=False`` the import log is left out, so a rerun can be compared with one
    clean run.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        return fingerprint_connection(con, volatile=volatile)
    finally:
        con.close()


def fingerprint_connection(con: duckdb.DuckDBPyConnection, *, volatile: bool = True) -> str:
    """:func:`store_fingerprint` on an open connection."""
    h = hashlib.sha256()
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "ORDER BY table_name"
        ).fetchall()
    ]
    if not volatile:
        tables = [t for t in tables if t not in VOLATILE_TABLES]
    for table in tables:
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        h.update(f"{table}:{','.join(cols)}\n".encode())
        if not cols:
            continue
        select = ", ".join(f'"{c}"' for c in cols)
        for row in con.execute(f'SELECT {select} FROM "{table}" ORDER BY ALL').fetchall():
            h.update(repr(row).encode())
    return h.hexdigest()
