"""SQL written once, run on the embedded DuckDB, on PostgreSQL or on Apache Spark.

Every named query of the store is written in DuckDB's dialect. An engine adapter runs it where
the data lives: DuckDB runs it as written; PostgreSQL and Spark run the text sqlglot transpiles
for them (cached per statement). Only compact results (counts per condition, transition counts,
funnel and retention tables) come back; modelling runs locally on them.

Placeholders are DuckDB's positional ``?``; sqlglot turns them into ``%s`` for PostgreSQL
(psycopg) and keeps ``?`` for Spark (``spark.sql(text, args=[...])``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import pyarrow as pa

Dialect = Literal["duckdb", "postgres", "spark"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "postgres", "spark")


@functools.lru_cache(maxsize=4096)
def transpile(sql: str, dialect: Dialect) -> str:
    """``sql`` (DuckDB dialect, one statement) as the ``dialect`` engine's SQL."""
    if dialect == "duckdb":
        return sql
    import sqlglot
    from sqlglot.errors import ErrorLevel

    statements = sqlglot.transpile(
        sql, read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError(f"expected one SQL statement, got {len(statements)}: {sql[:80]}")
    return statements[0]


@runtime_checkable
class SqlEngine(Protocol):
    """Where a named query runs: the adapter transpiles DuckDB-dialect SQL and executes it."""

    @property
    def dialect(self) -> Dialect: ...

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run ``sql`` (DuckDB dialect) with positional ``?`` parameters; the result as Arrow."""
        ...
