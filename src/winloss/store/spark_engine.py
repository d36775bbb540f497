"""Apache Spark as an engine: the store's named queries run where the data lives.

:class:`SparkEngine` is a :class:`~winloss.store.engine.SqlEngine` (dialect ``spark``) over deals,
activities, usage and subscriptions held as Parquet files/folders or as tables of the Spark
catalogue; each is registered as a temporary view under the store's table name, and
``deals_enriched`` is derived on Spark from the same SQL as DuckDB's view
(:func:`winloss.store.duckdb_store.deals_enriched_sql`). It also reads deals the way the
analyses do (:class:`~winloss.store.deal_reads.DealReads`), so a concentration analysis runs on it.

Spark is read-only here: nothing is written to the cluster. The findings register an analysis of
one quarter compares with lives in a private, empty in-memory DuckDB (``con``), so the previous
quarter is compared by a fresh analysis and nothing is recorded.

Only compact results come back to the driver (counts, the closed deals' analysed columns).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winloss.errors import UsageError
from winloss.model.prepared_import import CustomField
from winloss.model.schema import DEALS, TABLES, Table
from winloss.store.deal_reads import DealReads
from winloss.store.duckdb_store import deals_enriched_sql
from winloss.store.engine import Dialect, transpile

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from winloss.store.duckdb_store import DuckDBStore

SPARK_TYPES: dict[str, str] = {
    "string": "STRING",
    "category": "STRING",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

#: the tables a Spark engine can be given, by the store's names
SPARK_TABLES = ("deals", "activities", "stage_history", "subscriptions", "usage_events")


def spark_session(
    master: str = "local[*]",
    *,
    app_name: str = "winloss",
    shuffle_partitions: int | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session for ``master`` (``local[*]``, ``spark://host:7077``, ``yarn``, …).

    No packages are fetched: the SQL needs only Spark's built-in Parquet reader. The web UI is off
    and the session time zone is UTC (timestamps are wall-clock times, as in DuckDB).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UsageError(
            "--engine spark needs PySpark: pip install 'winloss[spark]' (and Java 17)"
        ) from exc
    builder: Any = SparkSession.builder
    builder = (
        builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("WINLOSS_SPARK_LOG_LEVEL", "ERROR"))
    return session


class SparkEngine(DealReads):
    """Deals, activities, usage (Parquet or catalogue tables) analysed on Spark.

    Parameters
    ----------
    tables
        The store's table name (``deals``, ``activities``, ``stage_history``, ``subscriptions``,
        ``usage_events``) → a Parquet file or folder, or the name of a table of the Spark catalogue
        (``db.table``). ``deals`` is required.
    master
        The Spark master URL when no ``session`` is given.
    session
        An existing Spark session (a notebook's, a test fixture's).
    fiscal_year_start_month
        The fiscal calendar of the ``quarter`` derived field.
    custom_fields
        Deal columns beyond the canonical schema, as the DuckDB store would record them; by
        default inferred from the deals' Spark types (text → category, known before the outcome).
    """

    def __init__(
        self,
        tables: Mapping[str, str | Path],
        *,
        master: str = "local[*]",
        session: SparkSession | None = None,
        fiscal_year_start_month: int = 1,
        custom_fields: Sequence[CustomField] | None = None,
    ) -> None:
        if "deals" not in tables:
            raise UsageError("the Spark engine needs the deals: give --deals PATH.parquet")
        unknown = sorted(set(tables) - set(SPARK_TABLES))
        if unknown:
            raise UsageError(
                f"unknown table(s) {', '.join(unknown)}; the Spark engine reads "
                f"{', '.join(SPARK_TABLES)}"
            )
        if not 1 <= fiscal_year_start_month <= 12:
            raise UsageError("fiscal_year_start_month must be 1..12")
        self.spark: SparkSession = session if session is not None else spark_session(master)
        self.master = master if session is None else str(self.spark.sparkContext.master)
        self.path = f"spark:{self.master}"
        self._fiscal = fiscal_year_start_month
        self._local: DuckDBStore | None = None
        for name, ref in tables.items():
            self._register(name, str(ref), TABLES[name])
        for name in SPARK_TABLES:
            if name not in tables:
                self._register_empty(TABLES[name])
        self.spark.sql(
            transpile(deals_enriched_sql("deals", self._fiscal), "spark")
        ).createOrReplaceTempView("deals_enriched")
        self._custom = (
            list(custom_fields) if custom_fields is not None else self._infer_custom_fields()
        )

    # -- registration ---------------------------------------------------------------------------
    def _register(self, name: str, ref: str, table: Table) -> None:
        path = Path(ref)
        frame: DataFrame
        if path.exists():
            frame = self.spark.read.parquet(str(path.resolve()))
        elif "://" in ref:  # hdfs://, s3a://, abfss://: read by the cluster's file system
            frame = self.spark.read.parquet(ref)
        elif "/" in ref or ref.endswith(".parquet"):
            raise UsageError(f"{name}: no Parquet file or folder at {ref}")
        else:
            try:
                frame = self.spark.table(ref)
            except Exception as exc:  # AnalysisException: no such table
                raise UsageError(
                    f"{name}: {ref} is neither a Parquet path nor a table of the Spark catalogue"
                ) from exc
        columns = set(frame.columns)
        missing_key = [k for k in table.key if k not in columns]
        if missing_key:
            raise UsageError(
                f"{name} ({ref}) has no column {', '.join(missing_key)}; the columns must use "
                "the canonical names (see `winloss schema`)"
            )
        # canonical columns the data lacks are NULL of their type, as in the DuckDB store
        for f in table.fields:
            if f.name not in columns:
                frame = frame.selectExpr("*", f"CAST(NULL AS {SPARK_TYPES[f.dtype]}) AS `{f.name}`")
        frame.createOrReplaceTempView(name)

    def _register_empty(self, table: Table) -> None:
        cols = ", ".join(
            f"CAST(NULL AS {SPARK_TYPES[f.dtype]}) AS `{f.name}`" for f in table.fields
        )
        self.spark.sql(f"SELECT {cols} WHERE 1 = 0").createOrReplaceTempView(table.name)

    def _infer_custom_fields(self) -> list[CustomField]:
        canonical = {f.name for f in DEALS.fields}
        kinds = {
            "string": "category",
            "boolean": "bool",
            "bigint": "int",
            "int": "int",
            "smallint": "int",
            "tinyint": "int",
            "double": "float",
            "float": "float",
            "date": "date",
            "timestamp": "date",
            "timestamp_ntz": "date",
        }
        out = []
        for name, spark_type in self.spark.table("deals").dtypes:
            if name in canonical:
                continue
            dtype = kinds.get(spark_type, "float" if spark_type.startswith("decimal") else "")
            if dtype:
                out.append(CustomField(name, name, dtype, "before", dtype != "date"))
        return sorted(out, key=lambda cf: cf.name)

    # -- the SqlEngine side ---------------------------------------------------------------------
    @property
    def dialect(self) -> Dialect:
        return "spark"

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run ``sql`` (DuckDB dialect, ``?`` parameters) on Spark; the result as Arrow."""
        text = transpile(sql, "spark")
        frame = self.spark.sql(text, args=list(params)) if params else self.spark.sql(text)
        result: pa.Table = frame.toArrow()
        return result

    # -- the DealReads side ---------------------------------------------------------------------
    @property
    def fiscal_year_start_month(self) -> int:
        return self._fiscal

    def query(self, sql: str, params: Any = None) -> pd.DataFrame:
        frame: pd.DataFrame = self.arrow(sql, list(params or [])).to_pandas()
        return frame

    def scalar(self, sql: str, params: Any = None) -> Any:
        table = self.arrow(sql, list(params or []))
        return table.column(0)[0].as_py() if table.num_rows else None

    # the registers (analysis runs, findings, actions, scores), which register_queries writes with
    # execute and reads with fetchall, live in a private local store: Spark is read-only here
    def execute(self, sql: str, params: Any = None) -> None:
        self._register_store().execute(sql, params)

    def fetchall(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self._register_store().fetchall(sql, params)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self._register_store().transaction()

    def _register_store(self) -> DuckDBStore:
        if self._local is None:
            from winloss.store.duckdb_store import DuckDBStore

            self._local = DuckDBStore(":memory:")
        return self._local

    def custom_fields(self, table: str = "deals") -> list[CustomField]:
        return list(self._custom) if table == "deals" else []

    def deal_columns_present(self) -> set[str]:
        return set(self.spark.table("deals_enriched").columns)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:  # type: ignore[override]
        """A private, empty in-memory store for the findings register (Spark is read-only)."""
        return self._register_store().con

    def close(self) -> None:
        """Close the local register (the Spark session stays: it may be shared)."""
        if self._local is not None:
            self._local.close()
            self._local = None
