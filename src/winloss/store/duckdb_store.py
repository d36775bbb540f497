"""The embedded DuckDB store: schema from the model, versioned migrations, transactional upserts.

The DDL is generated from :mod:`winloss.model.schema`. Custom attributes of imported files become
extra columns of ``deals`` and are registered in ``custom_fields`` (type, label, when known).
Derived deal fields are computed by the ``deals_enriched`` view, rebuilt when the fiscal-year start
changes. No extension is loaded, so nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from winloss.errors import StoreError, UsageError
from winloss.ingest.prepare import CustomField, PreparedImport
from winloss.model.schema import DEALS, DUCKDB_TYPES, TABLES, Table
from winloss.store.deal_reads import DealReads

DEFAULT_DB = "winloss.duckdb"


def default_db_path() -> str:
    return os.environ.get("WINLOSS_DB", DEFAULT_DB)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_table_sql(table: Table) -> str:
    cols = [f"{_q(f.name)} {f.sql_type}" for f in table.fields]
    cols.append(f"PRIMARY KEY ({', '.join(_q(k) for k in table.key)})")
    return f"CREATE TABLE IF NOT EXISTS {_q(table.name)} (\n  " + ",\n  ".join(cols) + "\n)"


def _migration_1(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES.values():
        con.execute(_create_table_sql(table))
    con.execute(
        "CREATE TABLE IF NOT EXISTS custom_fields (table_name VARCHAR, name VARCHAR, "
        "label VARCHAR, dtype VARCHAR, known VARCHAR, is_analysed BOOLEAN, "
        "PRIMARY KEY (table_name, name))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS imports (import_id INTEGER PRIMARY KEY, table_name VARCHAR, "
        "file VARCHAR, content_sha256 VARCHAR, preset VARCHAR, rows_read BIGINT, "
        "inserted BIGINT, updated BIGINT, imported_at TIMESTAMP, notes VARCHAR)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS reference_values (field VARCHAR, value VARCHAR, "
        "source VARCHAR, PRIMARY KEY (field, value))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS unmatched_values (field VARCHAR, value VARCHAR, "
        "rows BIGINT, source VARCHAR, PRIMARY KEY (field, value))"
    )


def _migration_2(con: duckdb.DuckDBPyConnection) -> None:
    """Analysis runs and the quarterly registers (findings, actions) that make the repeat a
    first-class operation; model scores for open deals."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS analysis_runs (run_id VARCHAR PRIMARY KEY, kind VARCHAR, "
        "period VARCHAR, params VARCHAR, result VARCHAR, created_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS findings_register (period VARCHAR, finding_key VARCHAR, "
        "run_id VARCHAR, statement VARCHAR, direction VARCHAR, n BIGINT, wins BIGINT, "
        "win_rate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, lift DOUBLE, p_value DOUBLE, "
        "q_value DOUBLE, status VARCHAR, payload VARCHAR, recorded_at TIMESTAMP, "
        "PRIMARY KEY (period, finding_key))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS action_register (period VARCHAR, action_key VARCHAR, "
        "kind VARCHAR, title VARCHAR, status VARCHAR, payload VARCHAR, measured VARCHAR, "
        "recorded_at TIMESTAMP, PRIMARY KEY (period, action_key))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS scores (run_id VARCHAR, deal_id VARCHAR, probability DOUBLE, "
        "ci_low DOUBLE, ci_high DOUBLE, factors VARCHAR, scored_at TIMESTAMP, "
        "PRIMARY KEY (run_id, deal_id))"
    )


def _migration_committee(con: duckdb.DuckDBPyConnection) -> None:
    """Buying-committee fields of stakeholders: who introduced whom and when a person left."""
    con.execute("ALTER TABLE stakeholders ADD COLUMN IF NOT EXISTS introduced_by VARCHAR")
    con.execute("ALTER TABLE stakeholders ADD COLUMN IF NOT EXISTS left_at DATE")


#: Ordered migrations; the schema version is the number applied. Later work appends to this list.
MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [_migration_1, _migration_2,
                                                                 _migration_committee]


@dataclass(frozen=True)
class ImportResult:
    """What one import did."""

    table: str
    file: str
    rows_read: int
    inserted: int
    updated: int
    duplicates_dropped: int
    custom_fields: tuple[str, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "file": self.file, "rows_read": self.rows_read,
            "inserted": self.inserted, "updated": self.updated,
            "duplicates_dropped": self.duplicates_dropped,
            "custom_fields": list(self.custom_fields), "notes": list(self.notes),
        }


class DuckDBStore(DealReads):
    """A winloss store in one DuckDB file (or in memory with ``":memory:"``)."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(self.path, read_only=read_only, config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                # bounded memory: DuckDB spills to disk beyond this (1M-deal imports stay < 2 GB)
                "memory_limit": os.environ.get("WINLOSS_DUCKDB_MEMORY", "1GB"),
            })
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}; check the path or "
                             "close the other program using it") from exc
        # stdout is for data: no DuckDB progress bar (a per-connection setting)
        self.con.execute("SET enable_progress_bar = false")
        if not read_only:
            self.migrate()

    # -- schema -----------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        try:
            row = self.con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer winloss (schema {current}); "
                             "upgrade winloss")
        for version in range(current + 1, len(MIGRATIONS) + 1):
            self.con.execute("BEGIN TRANSACTION")
            try:
                MIGRATIONS[version - 1](self.con)
                self.con.execute(
                    "INSERT OR REPLACE INTO _meta VALUES ('schema_version', ?)", [str(version)]
                )
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
        self._create_views()

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM _meta WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", [key, value])
        if key == "fiscal_year_start_month":
            self._create_views()

    @property
    def fiscal_year_start_month(self) -> int:
        return int(self.get_setting("fiscal_year_start_month", "1") or 1)

    def _create_views(self) -> None:
        m = self.fiscal_year_start_month
        if not 1 <= m <= 12:
            raise UsageError("fiscal_year_start_month must be 1..12")
        # fiscal year named by the calendar year in which it ends (FY starting Feb 2026 = FY2027)
        shift = (12 - (m - 1)) % 12
        quarter = (
            "CASE WHEN closed_at IS NULL THEN NULL ELSE "
            f"CAST(year(closed_at + INTERVAL {shift} MONTH) AS VARCHAR) || 'Q' || "
            f"CAST(quarter(closed_at + INTERVAL {shift} MONTH) AS VARCHAR) END"
        )
        self.con.execute(
            "CREATE OR REPLACE VIEW deals_enriched AS SELECT *, "
            f"{quarter} AS quarter, "
            "CAST(date_diff('day', created_at, closed_at) AS BIGINT) AS cycle_days, "
            "CAST(date_diff('day', created_at, critical_event_date) AS BIGINT) "
            "AS days_to_critical_event, "
            "CAST(date_diff('day', champion_start_date, created_at) AS BIGINT) "
            "AS champion_tenure_days "
            "FROM deals"
        )

    # -- writing ----------------------------------------------------------------------------
    def custom_fields(self, table: str = "deals") -> list[CustomField]:
        rows = self.con.execute(
            "SELECT name, label, dtype, known, is_analysed FROM custom_fields WHERE table_name = ? "
            "ORDER BY name", [table]
        ).fetchall()
        return [CustomField(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def write(self, prepared: PreparedImport, *, content_sha256: str = "",
              preset: str | None = None) -> ImportResult:
        """Upsert a prepared import in one transaction: all of it lands, or nothing does."""
        table = prepared.table
        frame = prepared.frame
        existing_cols = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [table.name]).fetchall()}
        known_custom = {c.name: c for c in self.custom_fields(table.name)}
        key = list(table.key)
        cols = list(frame.columns)
        self.con.execute("BEGIN TRANSACTION")
        try:
            for cf in prepared.custom_fields:
                if cf.name not in existing_cols:
                    self.con.execute(f"ALTER TABLE {_q(table.name)} ADD COLUMN {_q(cf.name)} "
                                     f"{DUCKDB_TYPES[cf.dtype]}")
                elif cf.name in known_custom and known_custom[cf.name].dtype != cf.dtype:
                    old = known_custom[cf.name].dtype
                    if {old, cf.dtype} <= {"int", "float"}:
                        cf_type = "float"
                    else:
                        cf_type = "category" if cf.dtype != "string" else "string"
                    self.con.execute(f"ALTER TABLE {_q(table.name)} ALTER {_q(cf.name)} "
                                     f"TYPE {DUCKDB_TYPES[cf_type]}")
                    cf = CustomField(cf.name, cf.label, cf_type, cf.known, cf.analyse)
                self.con.execute(
                    "INSERT OR REPLACE INTO custom_fields VALUES (?, ?, ?, ?, ?, ?)",
                    [table.name, cf.name, cf.label, cf.dtype, cf.known, cf.analyse],
                )
            types = {r[0]: r[1] for r in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ?", [table.name]).fetchall()}
            # Arrow, not pandas: DuckDB scans it without materialising Python strings
            self.con.register("_incoming", pa.Table.from_pandas(frame, preserve_index=False))
            select = ", ".join(f"CAST({_q(c)} AS {types[c]}) AS {_q(c)}" for c in cols)
            on = " AND ".join(f"t.{_q(k)} = i.{_q(k)}" for k in key)
            updated = self.scalar(
                f"SELECT count(*) FROM _incoming i JOIN {_q(table.name)} t ON {on}")
            non_key = [c for c in cols if c not in key]
            insert = (f"INSERT INTO {_q(table.name)} ({', '.join(_q(c) for c in cols)}) "
                      f"SELECT {select} FROM _incoming")
            if updated == 0:
                # nothing to update: a plain insert (ON CONFLICT costs memory on big files)
                self.con.execute(insert)
            else:
                action = (
                    "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in non_key)
                    if non_key else "DO NOTHING"
                )
                self.con.execute(
                    f"{insert} ON CONFLICT ({', '.join(_q(k) for k in key)}) {action}"
                )
            for fieldname, values in prepared.references.items():
                self.con.executemany(
                    "INSERT OR REPLACE INTO reference_values VALUES (?, ?, ?)",
                    [[fieldname, v, prepared.file] for v in values],
                )
            for fieldname, counts in prepared.unmatched.items():
                self.con.executemany(
                    "INSERT OR REPLACE INTO unmatched_values VALUES (?, ?, ?, ?)",
                    [[fieldname, str(v), int(n), prepared.file] for v, n in counts.items()],
                )
            next_id = self.scalar("SELECT coalesce(max(import_id), 0) + 1 FROM imports")
            inserted = len(frame) - int(updated)
            self.con.execute(
                "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [next_id, table.name, prepared.file, content_sha256, preset,
                 prepared.rows_read, inserted, int(updated), dt.datetime.now(),
                 json.dumps(prepared.notes)],
            )
            self.con.execute("COMMIT")
        except Exception as exc:
            self.con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"{prepared.file}: the store refused the import ({exc}); "
                                 "nothing was imported") from exc
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister("_incoming")
        if table is DEALS:
            self._create_views()
        return ImportResult(
            table=table.name, file=prepared.file, rows_read=prepared.rows_read,
            inserted=inserted, updated=int(updated),
            duplicates_dropped=prepared.duplicates_dropped,
            custom_fields=tuple(c.name for c in prepared.custom_fields),
            notes=tuple(prepared.notes),
        )

    # -- reading ----------------------------------------------------------------------------
    def scalar(self, sql: str, params: Iterable[Any] | None = None) -> Any:
        """The first value of the first row of a query (``None`` when there is no row)."""
        row = self.con.execute(sql, list(params) if params is not None else []).fetchone()
        return row[0] if row else None

    def row(self, sql: str, params: Iterable[Any] | None = None) -> tuple[Any, ...]:
        """The first row of a query that always returns one (aggregates)."""
        found = self.con.execute(sql, list(params) if params is not None else []).fetchone()
        if found is None:
            raise StoreError(f"the store returned no row for: {sql}")
        return tuple(found)

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, list(params) if params is not None else []).df()

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {_q(table)}"))

    def close(self) -> None:
        self.con.close()


def frame_sha256(frame: pd.DataFrame) -> str:
    """A content hash of a prepared frame (import log; equal files give equal hashes)."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """A streaming content hash of a file (import log)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
