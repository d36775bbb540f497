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
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from winloss.errors import ImportInterrupted, StoreError, UsageError
from winloss.model.prepared_import import CustomField, PreparedImport
from winloss.model.schema import DEALS, DUCKDB_TYPES, TABLES, Table
from winloss.store.custom_columns import clear_superseded, delete_rows_not_incoming
from winloss.store.deal_reads import DealReads
from winloss.store.engine import Dialect


class SqlConnection(Protocol):
    """What a migration runs its DuckDB-dialect SQL on: DuckDB's connection, or the PostgreSQL
    store's translating adapter (:mod:`winloss.store.postgres_store`)."""

    def execute(self, query: str, parameters: Any = None, /) -> Any: ...


DEFAULT_DB = "winloss.duckdb"
#: Bump when the SQL of the views changes, so existing stores rebuild them on open.
_VIEWS_VERSION = "4"  # 3: cycle_days only for closed deals; 4: and not negative


def default_db_path() -> str:
    return os.environ.get("WINLOSS_DB", DEFAULT_DB)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_table_sql(table: Table) -> str:
    cols = [f"{_q(f.name)} {f.sql_type}" for f in table.fields]
    cols.append(f"PRIMARY KEY ({', '.join(_q(k) for k in table.key)})")
    return f"CREATE TABLE IF NOT EXISTS {_q(table.name)} (\n  " + ",\n  ".join(cols) + "\n)"


def _migration_1(con: SqlConnection) -> None:
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


def _migration_2(con: SqlConnection) -> None:
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


def _migration_paths(con: SqlConnection) -> None:
    """Action paths (#14): per-deal first-order transition counts, refreshed incrementally
    (see :func:`winloss.store.paths_queries.refresh_transition_counts`)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS path_deal_transitions (deal_id VARCHAR, segment VARCHAR, "
        "source VARCHAR, target VARCHAR, n BIGINT, PRIMARY KEY (deal_id, source, target))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS path_deal_fingerprints (deal_id VARCHAR PRIMARY KEY, "
        "fingerprint VARCHAR, counted_at TIMESTAMP)"
    )


def enriched_view_sql(month: int) -> str:
    """The ``deals_enriched`` view (DuckDB dialect) for a fiscal year starting in ``month``."""
    return "CREATE OR REPLACE VIEW deals_enriched AS " + deals_enriched_sql("deals_resolved", month)


TABLES_BY_NAME = {t.name: t for t in TABLES.values()}

#: Seconds to wait for another process that holds the store (``WINLOSS_LOCK_TIMEOUT``).
LOCK_TIMEOUT = 30.0


def check_store_file(path: Path) -> None:
    """Refuse a ``--db`` path that cannot be a store: a missing folder, a folder, another file.

    The file is only read, never changed, so a CSV named by mistake stays as it was.
    """
    if not path.parent.exists():
        raise StoreError(
            f"--db {path}: the folder {path.parent} does not exist; check the path, "
            "or create the folder first"
        )
    if path.is_dir():
        raise StoreError(f"--db {path} is a folder; name a store file such as {path / DEFAULT_DB}")
    if not path.exists():
        return
    with path.open("rb") as fh:
        head = fh.read(16)
    if len(head) >= 12 and head[8:12] == b"DUCK":
        return
    kind = (
        "an empty file"
        if not head
        else "a Parquet file"
        if head.startswith(b"PAR1")
        else "a zip file (Excel?)"
        if head.startswith(b"PK")
        else "not a DuckDB file"
    )
    raise StoreError(
        f"--db {path} is not a winloss store ({kind}); name a .duckdb store file, "
        "or a new path to create one. The file was left untouched."
    )


def is_corruption(exc: BaseException) -> bool:
    """True for DuckDB's errors about a damaged file (checksum mismatch, short read)."""
    text = str(exc).casefold()
    return "corrupt" in text or "could not read enough bytes" in text


def _damaged(path: str, exc: BaseException) -> StoreError:
    return StoreError(
        f"the store {path} is damaged or unreadable ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0][:160]}); restore it from a backup or move it "
        "aside and import again. It was left untouched."
    )


def _connect(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting a little for another process that holds its lock."""
    config = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        # bounded memory: DuckDB spills to disk beyond this (1M-deal imports stay < 2 GB)
        "memory_limit": os.environ.get("WINLOSS_DUCKDB_MEMORY", "1GB"),
    }
    timeout = float(os.environ.get("WINLOSS_LOCK_TIMEOUT", LOCK_TIMEOUT))
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only, config=config)  # type: ignore[arg-type]
        except duckdb.IOException as exc:
            if "lock" not in str(exc).casefold():
                raise _damaged(path, exc) from exc
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the store {path} is busy: another winloss process is using it "
                    f"(waited {timeout:g} s); retry when it has finished"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        except duckdb.ConnectionException as exc:
            if read_only and "different configuration" in str(exc):
                # this process already has the file open for writing: share that instance
                read_only = False
                continue
            raise _damaged(path, exc) from exc
        except duckdb.Error as exc:
            raise _damaged(path, exc) from exc


def _migration_capture_users(con: SqlConnection) -> None:
    """Who answered a capture (the web app records it) and the web app's accounts."""
    from winloss.model.schema import USERS

    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'captures'"
        ).fetchall()
    }
    if "captured_by" not in cols:
        con.execute("ALTER TABLE captures ADD COLUMN captured_by VARCHAR")
    con.execute(_create_table_sql(USERS))


def _migration_committee(con: SqlConnection) -> None:
    """Buying-committee fields of stakeholders: who introduced whom and when a person left."""
    con.execute("ALTER TABLE stakeholders ADD COLUMN IF NOT EXISTS introduced_by VARCHAR")
    con.execute("ALTER TABLE stakeholders ADD COLUMN IF NOT EXISTS left_at DATE")


def _migration_capture_competitor(con: SqlConnection) -> None:
    """A capture's competitor (resolved into the deal's like its SPICED fields) and, in its own
    column, whom a buyer interview was with: the web app wrote that into ``captured_by`` as
    ``"user (interviewed Name, Title)"``, which is split here."""
    con.execute("ALTER TABLE captures ADD COLUMN IF NOT EXISTS competitor VARCHAR")
    con.execute("ALTER TABLE captures ADD COLUMN IF NOT EXISTS interviewee VARCHAR")
    mark = "' (interviewed '"
    con.execute(
        "UPDATE captures SET "
        f"interviewee = substr(captured_by, strpos(captured_by, {mark}) + 14, "
        f"length(captured_by) - strpos(captured_by, {mark}) - 14), "
        f"captured_by = substr(captured_by, 1, strpos(captured_by, {mark}) - 1) "
        "WHERE respondent = 'buyer' AND interviewee IS NULL "
        "AND captured_by LIKE '_% (interviewed _%)'"
    )


#: Ordered migrations; the schema version is the number applied. Later work appends to this list.
MIGRATIONS: list[Callable[[SqlConnection], None]] = [
    _migration_1,
    _migration_2,
    _migration_paths,
    _migration_capture_users,
    _migration_committee,
    _migration_capture_competitor,
]


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
    outcomes: tuple[tuple[str, int], ...] = ()  # deals: (won, n), (lost, n), (open, n)
    orphans_dropped: int = 0
    interrupted_after_commit: bool = False  # Ctrl-C arrived once every row was stored
    #: rows of the file's deals stored by an earlier import and absent from this one, deleted
    #: (whole-deal files only: an event log)
    replaced_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.file,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "duplicates_dropped": self.duplicates_dropped,
            "custom_fields": list(self.custom_fields),
            "notes": list(self.notes),
            "outcomes": dict(self.outcomes),
            "orphans_dropped": self.orphans_dropped,
        }


@contextlib.contextmanager
def sigint_deferred() -> Iterator[list[bool]]:
    """Hold Ctrl-C from a COMMIT until the result is reported; the list says whether one came."""
    arrived: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: arrived.append(True))
    try:
        yield arrived
    finally:
        signal.signal(signal.SIGINT, previous)


def deals_enriched_sql(deals: str, fiscal_year_start_month: int) -> str:
    """``SELECT`` (DuckDB dialect) of the deals of table/view ``deals`` with the derived fields.

    ``quarter`` (fiscal, named by the calendar year in which the fiscal year ends: FY starting
    Feb 2026 = FY2027), ``cycle_days`` (closed deals only), ``days_to_critical_event``,
    ``champion_tenure_days``.
    Written once: the DuckDB view ``deals_enriched`` and the Spark engine's view run this text.
    """
    shift = (12 - (fiscal_year_start_month - 1)) % 12
    quarter = (
        "CASE WHEN closed_at IS NULL THEN NULL ELSE "
        f"CAST(year(closed_at + INTERVAL {shift} MONTH) AS VARCHAR) || 'Q' || "
        f"CAST(quarter(closed_at + INTERVAL {shift} MONTH) AS VARCHAR) END"
    )
    return (
        "SELECT *, "
        f"{quarter} AS quarter, "
        # an open deal's closed_at is its expected close: no cycle yet (a trial's open deal
        # showed a 403-day cycle)
        # a close before the creation (back-dated or swapped dates; the audit lists them) has
        # no cycle either: a cycle of -342 days counted among the shortest cycles
        "CASE WHEN outcome IN ('won', 'lost') "
        "AND date_diff('day', created_at, closed_at) >= 0 THEN "
        "CAST(date_diff('day', created_at, closed_at) AS BIGINT) END AS cycle_days, "
        "CAST(date_diff('day', created_at, critical_event_date) AS BIGINT) "
        "AS days_to_critical_event, "
        "CAST(date_diff('day', champion_start_date, created_at) AS BIGINT) "
        "AS champion_tenure_days "
        f"FROM {deals}"
    )


class DuckDBStore(DealReads):
    """A winloss store in one DuckDB file (or in memory with ``":memory:"``)."""

    #: Write views as temporary ones (a read-only open of an older store; see _views_for_reading)
    _temp_views = False

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        target = self.path
        if self.path != ":memory:":
            check_store_file(Path(self.path))
            if read_only and not Path(self.path).exists():
                target = ":memory:"  # nothing to read yet: an empty store, and no file written
                read_only = False
        self.con = _connect(target, read_only=read_only)
        try:
            # stdout is for data: no DuckDB progress bar (a per-connection setting)
            self.con.execute("SET enable_progress_bar = false")
            if not read_only:
                self.migrate()
            else:
                self.schema_version  # noqa: B018 - reads the catalog: a damaged file fails here
                self._views_for_reading()
        except duckdb.Error as exc:
            self.con.close()
            raise _damaged(self.path, exc) from exc

    # -- schema -----------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        try:
            rows = self.con.execute(
                "SELECT value FROM _meta WHERE key = 'schema_version'"
            ).fetchall()  # every row: an unfinished result makes a later con.sql() fail
            row = rows[0] if rows else None
        except duckdb.CatalogException:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer winloss (schema {current}); upgrade winloss"
            )
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
        rows = self.con.execute("SELECT value FROM _meta WHERE key = ?", [key]).fetchall()
        row = rows[0] if rows else None
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        if key == "capture_precedence":
            from winloss.store.capture_queries import parse_precedence

            value = ",".join(parse_precedence(value))
        self.con.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", [key, value])
        if key in ("fiscal_year_start_month", "capture_precedence"):
            self._create_views()

    @property
    def fiscal_year_start_month(self) -> int:
        return int(self.get_setting("fiscal_year_start_month", "1") or 1)

    def _views_signature(self) -> str:
        m = self.fiscal_year_start_month
        if not 1 <= m <= 12:
            raise UsageError("fiscal_year_start_month must be 1..12")
        return (
            f"{_VIEWS_VERSION}|{m}|{self.get_setting('capture_precedence')}|{self._deal_columns()}"
        )

    def _duck_views_current(self, signature: str) -> bool:
        return self.get_setting("_views_signature") == signature and bool(
            self.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = 'deals_enriched'")
        )

    def _create_views(self) -> None:
        # unchanged views are not rewritten: opening a store then writes nothing (the web app
        # opens it per request)
        signature = self._views_signature()
        if self._duck_views_current(signature):
            return
        self._write_views()
        self.con.execute("INSERT OR REPLACE INTO _meta VALUES ('_views_signature', ?)", [signature])

    def _write_views(self) -> None:
        from winloss.store.capture_queries import create_capture_views, parse_precedence

        # captures fill the SPICED fields (deals_resolved); every analysis reads deals_enriched
        create_capture_views(self, parse_precedence(self.get_setting("capture_precedence")))
        self.execute(enriched_view_sql(self.fiscal_year_start_month))

    def _views_for_reading(self) -> None:
        """A store opened read-only whose views predate this version (or its settings) gets
        today's views as temporary ones, for this connection only: it reads what a writable
        open would, and the file is not touched."""
        if not self.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'deals'"
        ) or self._duck_views_current(self._views_signature()):
            return
        self._temp_views = True
        try:
            self._write_views()
        finally:
            self._temp_views = False

    def _deal_columns(self) -> str:
        return ",".join(
            str(r[0])
            for r in self.con.execute(
                "SELECT column_name || ':' || data_type FROM information_schema.columns "
                "WHERE table_name IN ('deals', 'captures') ORDER BY table_name, ordinal_position"
            ).fetchall()
        )

    # -- writing ----------------------------------------------------------------------------
    def custom_fields(self, table: str = "deals") -> list[CustomField]:
        rows = self.con.execute(
            "SELECT name, label, dtype, known, is_analysed FROM custom_fields WHERE table_name = ? "
            "ORDER BY name",
            [table],
        ).fetchall()
        return [CustomField(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def write(
        self, prepared: PreparedImport, *, content_sha256: str = "", preset: str | None = None
    ) -> ImportResult:
        """Upsert a prepared import in one transaction: all of it lands, or nothing does."""
        table = prepared.table
        frame = prepared.frame
        existing_cols = {
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table.name],
            ).fetchall()
        }
        known_custom = {c.name: c for c in self.custom_fields(table.name)}
        key = list(table.key)
        cols = list(frame.columns)
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; open it for writing to import")
        defer = contextlib.ExitStack()  # Ctrl-C held from COMMIT until the result is built
        interrupted: list[bool] = []
        replaced = 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            registry: list[list[Any]] = []
            new_columns = [cf for cf in prepared.custom_fields if cf.name not in existing_cols]
            if new_columns:
                self._add_columns(table.name, new_columns)
            for cf in prepared.custom_fields:
                if cf.name in known_custom and known_custom[cf.name].dtype != cf.dtype:
                    old = known_custom[cf.name].dtype
                    if {old, cf.dtype} <= {"int", "float"}:
                        cf_type = "float"
                    else:
                        cf_type = "category" if cf.dtype != "string" else "string"
                    self.con.execute(
                        f"ALTER TABLE {_q(table.name)} ALTER {_q(cf.name)} "
                        f"TYPE {DUCKDB_TYPES[cf_type]}"
                    )
                    cf = CustomField(cf.name, cf.label, cf_type, cf.known, cf.analyse)
                registry.append([table.name, cf.name, cf.label, cf.dtype, cf.known, cf.analyse])
            self._insert_rows("custom_fields", registry)
            types = {
                r[0]: r[1]
                for r in self.con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = ?",
                    [table.name],
                ).fetchall()
            }
            # Arrow, not pandas: DuckDB scans it without materialising Python strings
            self.con.register("_incoming", pa.Table.from_pandas(frame, preserve_index=False))
            select = ", ".join(f"CAST({_q(c)} AS {types[c]}) AS {_q(c)}" for c in cols)
            on = " AND ".join(f"t.{_q(k)} = i.{_q(k)}" for k in key)
            updated = self.scalar(
                f"SELECT count(*) FROM _incoming i JOIN {_q(table.name)} t ON {on}"
            )
            non_key = [c for c in cols if c not in key]
            insert = (
                f"INSERT INTO {_q(table.name)} ({', '.join(_q(c) for c in cols)}) "
                f"SELECT {select} FROM _incoming"
            )
            if updated == 0:
                # nothing to update: a plain insert (ON CONFLICT costs memory on big files)
                self.con.execute(insert)
            else:
                action = (
                    "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in non_key)
                    if non_key
                    else "DO NOTHING"
                )
                self.con.execute(f"{insert} ON CONFLICT ({', '.join(_q(k) for k in key)}) {action}")
            if prepared.superseded_custom and len(key) == 1:
                clear_superseded(self, table.name, key[0], prepared.superseded_custom)
            if prepared.whole_deals and len(key) == 1 and "deal_id" in cols:
                replaced = delete_rows_not_incoming(self, table.name, key[0])
            inserted = len(frame) - int(updated)
            self._record_import(prepared, content_sha256, preset, inserted, int(updated))
            interrupted = defer.enter_context(sigint_deferred())
            self.con.execute("COMMIT")
        except BaseException as exc:
            defer.close()
            with contextlib.suppress(duckdb.Error):  # an interrupted query may have ended it
                self.con.execute("ROLLBACK")
            if isinstance(exc, KeyboardInterrupt) or "interrupt" in str(exc).casefold():
                raise ImportInterrupted(
                    f"{prepared.file}: interrupted before the import was committed; nothing was "
                    "imported and the store is unchanged. Run the import again."
                ) from None
            if isinstance(exc, duckdb.Error) and is_corruption(exc):
                raise _damaged(self.path, exc) from exc
            if isinstance(exc, duckdb.Error):
                raise StoreError(
                    f"{prepared.file}: the store refused the import ({exc}); nothing was imported"
                ) from exc
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister("_incoming")
        with defer:
            if table is DEALS:
                self._create_views()
            return ImportResult(
                table=table.name,
                file=prepared.file,
                rows_read=prepared.rows_read,
                inserted=inserted,
                updated=int(updated),
                duplicates_dropped=prepared.duplicates_dropped,
                custom_fields=tuple(c.name for c in prepared.custom_fields),
                notes=tuple(prepared.notes),
                outcomes=tuple(prepared.outcome_counts().items()),
                orphans_dropped=prepared.orphans_dropped,
                replaced_rows=replaced,
                interrupted_after_commit=bool(interrupted),
            )

    def _record_import(
        self,
        prepared: PreparedImport,
        content_sha256: str,
        preset: str | None,
        inserted: int,
        updated: int,
    ) -> None:
        """The import's bookkeeping, inside its transaction (every engine): the reference values
        it brought, the values that matched no reference, and its line in ``imports``."""
        self._insert_rows(
            "reference_values",
            [
                [fieldname, str(v), prepared.file]
                for fieldname, values in prepared.references.items()
                for v in values
            ],
        )
        self._insert_rows(
            "unmatched_values",
            [
                [fieldname, str(v), int(n), prepared.file]
                for fieldname, counts in prepared.unmatched.items()
                for v, n in counts.items()
            ],
        )
        next_id = self.scalar("SELECT coalesce(max(import_id), 0) + 1 FROM imports")
        self.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                next_id,
                prepared.table.name,
                prepared.file,
                content_sha256,
                preset,
                prepared.rows_read,
                inserted,
                updated,
                dt.datetime.now(),
                json.dumps(prepared.notes),
            ],
        )

    def _add_columns(self, table: str, fields: list[CustomField]) -> None:
        """Add custom columns, inside the import's transaction.

        A few are added with ALTER TABLE; many (a wide file) by rebuilding the table once,
        because each ALTER TABLE copies the table's catalog entry: 1,000 columns took seconds
        and 2,000 columns tens of seconds (quadratic).
        """
        if len(fields) <= 8:
            for cf in fields:
                self.con.execute(
                    f"ALTER TABLE {_q(table)} ADD COLUMN {_q(cf.name)} {DUCKDB_TYPES[cf.dtype]}"
                )
            return
        current = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        key = ", ".join(_q(k) for k in TABLES_BY_NAME[table].key)
        columns = [f"{_q(name)} {dtype}" for name, dtype in current]
        columns += [f"{_q(cf.name)} {DUCKDB_TYPES[cf.dtype]}" for cf in fields]
        rebuilt = _q(table + "__rebuilt")
        self.con.execute(f"CREATE TABLE {rebuilt} ({', '.join(columns)}, PRIMARY KEY ({key}))")
        old = ", ".join(_q(name) for name, _ in current)
        self.con.execute(f"INSERT INTO {rebuilt} ({old}) SELECT {old} FROM {_q(table)}")
        self.con.execute(f"DROP TABLE {_q(table)}")
        self.con.execute(f"ALTER TABLE {rebuilt} RENAME TO {_q(table)}")

    def _insert_rows(self, table: str, rows: list[list[Any]]) -> None:
        """INSERT OR REPLACE many rows at once (``executemany`` costs milliseconds per row)."""
        if not rows:
            return
        names = [
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        self.con.register("_rows", pd.DataFrame(rows, columns=names))
        try:
            self.con.execute(f"INSERT OR REPLACE INTO {_q(table)} SELECT * FROM _rows")
        finally:
            self.con.unregister("_rows")

    def deal_ids(self) -> pd.Series:
        """Every stored ``deal_id`` (for the orphan check of related tables)."""
        return self.con.execute("SELECT deal_id FROM deals").df()["deal_id"]

    def subscription_accounts(self) -> pd.Series:
        """Accounts with any subscription row (for the subscriptions import's check)."""
        return self.query("SELECT DISTINCT account_id FROM subscriptions")["account_id"]

    # -- reading ----------------------------------------------------------------------------
    def scalar(self, sql: str, params: Iterable[Any] | None = None) -> Any:
        """The first value of the first row of a query (``None`` when there is no row)."""
        result = self.con.execute(sql, list(params) if params is not None else [])
        row = result.fetchone()
        result.fetchall()  # complete the result: a later con.sql() refuses an unfinished one
        return row[0] if row else None

    def row(self, sql: str, params: Iterable[Any] | None = None) -> tuple[Any, ...]:
        """The first row of a query that always returns one (aggregates)."""
        result = self.con.execute(sql, list(params) if params is not None else [])
        found = result.fetchone()
        result.fetchall()  # complete the result: a later con.sql() refuses an unfinished one
        if found is None:
            raise StoreError(f"the store returned no row for: {sql}")
        return tuple(found)

    @property
    def dialect(self) -> Dialect:
        """The SQL dialect of this engine (:mod:`winloss.store.engine`)."""
        return "duckdb"

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """A named query's result as Arrow (the :class:`~winloss.store.engine.SqlEngine` side)."""
        try:
            return self.con.sql(sql, params=list(params) or None).to_arrow_table()
        except duckdb.Error as exc:
            if is_corruption(exc):
                raise _damaged(self.path, exc) from exc
            raise

    # -- engine-neutral statements (the query modules use these, never ``con``) ----------------
    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None:
        """Run one statement (DuckDB dialect, ``?`` parameters) for its effect."""
        if self._temp_views and sql.startswith("CREATE OR REPLACE VIEW "):
            sql = "CREATE OR REPLACE TEMP VIEW " + sql[len("CREATE OR REPLACE VIEW ") :]
        self.con.execute(sql, list(params) if params is not None else [])

    def fetchall(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of a query as tuples."""
        return self.con.execute(sql, list(params) if params is not None else []).fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around the block: committed at its end, rolled back on an error."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    @contextlib.contextmanager
    def register_frame(self, name: str, frame: pd.DataFrame | pa.Table) -> Iterator[None]:
        """``frame`` readable as the table ``name`` inside the block."""
        self.con.register(name, frame)
        try:
            yield
        finally:
            self.con.unregister(name)

    @contextlib.contextmanager
    def engine_settings(self, **settings: str | bool) -> Iterator[None]:
        """DuckDB settings for the block (reset after it); other engines ignore them."""
        for name, value in settings.items():
            self.con.execute(f"SET {name} = {str(value).lower()}")
        try:
            yield
        finally:
            for name in settings:
                self.con.execute(f"RESET {name}")

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, list(params) if params is not None else []).df()
        except duckdb.Error as exc:
            if is_corruption(exc):
                raise _damaged(self.path, exc) from exc
            raise

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {_q(table)}"))

    def copy_to(self, dest: str | Path) -> None:
        """Write a consistent copy of the store file to ``dest``: the write-ahead log is folded
        into the file first (``CHECKPOINT``), then the file is copied while this connection
        still holds it, so no other process writes in between."""
        if self.path == ":memory:":
            raise StoreError("an in-memory store has no file to copy")
        import shutil

        if not self.read_only:
            self.con.execute("CHECKPOINT")
        shutil.copyfile(self.path, dest)

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
