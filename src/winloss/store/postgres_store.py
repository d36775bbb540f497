"""PostgreSQL as a shared team store: the same schema, migrations and named queries as DuckDB.

``--db postgresql://user@host/dbname`` (or ``WINLOSS_DB``) opens a :class:`PostgresStore`. The
named queries of store/ are written once in DuckDB's dialect; :func:`pg_sql` turns each into
PostgreSQL's (sqlglot, plus the few rewrites sqlglot leaves to us: ``GROUP BY ALL``,
``arg_max``/``arg_min``, ``quarter()``, unsigned integer types, ``INSERT OR REPLACE``), cached per
statement. The DDL comes from :mod:`winloss.model.schema` and the one ``MIGRATIONS`` list of
:mod:`winloss.store.duckdb_store`, run through the same translation.

Concurrency: every import runs in one transaction that first takes the store's transaction-level
advisory lock (``pg_advisory_xact_lock``), so imports from several processes queue rather than
interleave — none loses or duplicates a row, and ``inserted``/``updated`` are exact. Captures from
the web app are single-row ``INSERT ... ON CONFLICT DO UPDATE`` statements that need no lock;
analyses read under PostgreSQL's MVCC and never wait for a writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pyarrow as pa

from winloss.errors import ImportInterrupted, StoreError, UsageError
from winloss.model.prepared_import import CustomField, PreparedImport
from winloss.model.schema import DEALS, DUCKDB_TYPES
from winloss.store.custom_columns import clear_superseded, delete_rows_not_incoming
from winloss.store.duckdb_store import (
    _VIEWS_VERSION,
    MIGRATIONS,
    DuckDBStore,
    ImportResult,
    _q,
    sigint_deferred,
)
from winloss.store.engine import Dialect

#: The advisory-lock key every writer of the schema or of an import takes (``'winloss'``).
ADVISORY_LOCK = 0x77696E6C6F7373
#: The views of the store, dependants first (dropped in this order, created in reverse).
VIEWS = ("deals_enriched", "deal_field_sources", "deals_resolved", "capture_values")


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages)."""
    url = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


_SUBQUERY_NAMES = itertools.count(1)


# -- DuckDB SQL → PostgreSQL ---------------------------------------------------------------------
def _pg_node(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Select):
        group = node.args.get("group")
        if group is not None and group.args.get("all"):
            keys = [
                exp.Literal.number(i)
                for i, e in enumerate(node.expressions, start=1)
                if not e.find(exp.AggFunc, exp.Window)
            ]
            node.set("group", exp.Group(expressions=keys) if keys else None)
        return node
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArgMax | exp.ArgMin):
        return _arg_extreme(node.this, node.expression.this)
    if isinstance(node, exp.ArgMax | exp.ArgMin) and not isinstance(node.parent, exp.Filter):
        return _arg_extreme(node, None)
    if (
        isinstance(node, exp.Subquery)
        and not node.alias
        and isinstance(node.parent, exp.From | exp.Join)
    ):  # PostgreSQL before 16 names every subquery in FROM
        return exp.alias_(node, f"_sub{next(_SUBQUERY_NAMES)}", copy=False)
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.Func):
        node.set("this", exp.paren(node.this, copy=False))  # (array_agg(...))[1:5]
        return node
    if isinstance(node, exp.BitwiseLeftShift):  # PostgreSQL shifts by an INTEGER only
        node.set("expression", exp.cast(node.expression, "INT"))
        return node
    if isinstance(node, exp.ToDays):  # to_days(n) → n * INTERVAL '1 day'
        return exp.Mul(
            this=exp.paren(node.this, copy=False),
            expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY")),
        )
    if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
        return _asof_join(node)
    if isinstance(node, exp.Mode) and node.this is not None:  # an ordered-set aggregate there
        import sqlglot

        text = f"SELECT MODE() WITHIN GROUP (ORDER BY {node.this.sql('postgres')})"
        return sqlglot.parse_one(text, read="postgres").expressions[0]
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue | exp.Last):
        node = node.this  # the replacement below skips NULLs itself
    if isinstance(node, exp.AnyValue | exp.Last) and not isinstance(node.parent, exp.Window):
        # PostgreSQL 15 has neither: the store's aggregates (created by ``migrate``)
        name = "winloss_any_value" if isinstance(node, exp.AnyValue) else "winloss_last_value"
        return exp.Anonymous(this=name, expressions=[node.this])
    if isinstance(node, exp.Quarter):
        return exp.Extract(this=exp.var("QUARTER"), expression=node.this)
    if isinstance(node, exp.DataType):
        mapped = {
            exp.DataType.Type.UBIGINT: "BIGINT",
            exp.DataType.Type.UINT: "BIGINT",
            exp.DataType.Type.INT128: "NUMERIC",
            exp.DataType.Type.UINT128: "NUMERIC",
        }.get(node.this)
        return exp.DataType.build(mapped) if mapped else node
    time_format = (exp.TimeToStr, exp.StrToTime, exp.StrToDate, exp.UnixToStr)
    if (
        isinstance(node, exp.Literal)
        and node.is_string
        and "%" in node.this
        # a strftime/strptime format: sqlglot rewrites it to TO_CHAR's tokens (no % left)
        and not isinstance(node.parent, time_format)
    ):
        return exp.Literal.string(node.this.replace("%", "%%"))
    return node


def _arg_extreme(agg: Any, condition: Any) -> Any:
    """``arg_max(x, y) FILTER (WHERE c)`` → ``(array_agg(x ORDER BY y DESC) FILTER (WHERE c AND
    x IS NOT NULL AND y IS NOT NULL))[1]`` (DuckDB's arg_max skips NULL values and keys)."""
    from sqlglot import exp

    value, key = agg.this, agg.expression
    order = "DESC" if isinstance(agg, exp.ArgMax) else "ASC"
    cond = f"({value.sql('postgres')}) IS NOT NULL AND ({key.sql('postgres')}) IS NOT NULL"
    if condition is not None:
        cond = f"({condition.sql('postgres')}) AND {cond}"
    text = (
        f"(ARRAY_AGG({value.sql('postgres')} ORDER BY {key.sql('postgres')} {order}) "
        f"FILTER (WHERE {cond}))[1]"
    )
    import sqlglot

    return sqlglot.parse_one(text, read="postgres")


def _asof_join(join: Any) -> Any:
    """DuckDB's ``ASOF [LEFT] JOIN t r ON <equalities> AND r.x <= l.y`` as a LATERAL join: per
    left row, the matching right row with the nearest ``r.x`` (the greatest for ``<=``/``<``, the
    least for ``>=``/``>``); ``LEFT`` keeps left rows without a match."""
    import sqlglot
    from sqlglot import exp

    right = join.this
    alias = right.alias_or_name
    conjuncts = (
        list(join.args["on"].flatten())
        if isinstance(join.args["on"], exp.And)
        else [join.args["on"]]
    )
    order = None
    for cond in conjuncts:
        if not isinstance(cond, exp.LT | exp.LTE | exp.GT | exp.GTE):
            continue
        left_side = {c.table for c in cond.this.find_all(exp.Column)}
        if alias in left_side:  # r.x OP l.y: the right column on the left
            key, descending = cond.this, isinstance(cond, exp.LT | exp.LTE)
        else:  # l.y OP r.x
            key, descending = cond.expression, isinstance(cond, exp.GT | exp.GTE)
        order = f"{key.sql('postgres')} {'DESC' if descending else 'ASC'}"
    if order is None:
        raise ValueError("an ASOF join needs one inequality on the right table")
    kind = "LEFT JOIN" if str(join.args.get("side") or "").upper() == "LEFT" else "JOIN"
    text = (
        f"SELECT * FROM _l {kind} LATERAL (SELECT * FROM {right.sql('postgres')} WHERE "
        f"{join.args['on'].sql('postgres')} ORDER BY {order} LIMIT 1) AS {alias} ON TRUE"
    )
    return sqlglot.parse_one(text, read="postgres").args["joins"][0]


@functools.lru_cache(maxsize=4096)
def pg_sql(sql: str) -> str:
    """``sql`` (DuckDB dialect, one statement, ``?`` placeholders) as PostgreSQL text for psycopg
    (``%s`` placeholders, literal ``%`` doubled)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_pg_node)
    return str(tree.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE))


_PG_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    1043: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1700: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1009: pa.list_(pa.string()),
    1015: pa.list_(pa.string()),
    1016: pa.list_(pa.int64()),
    1007: pa.list_(pa.int32()),
}


def _column(values: list[Any], oid: int) -> pa.Array:
    kind = _PG_TYPES.get(oid)
    if oid == 1700:
        values = [None if v is None else float(v) for v in values]
    if kind is None:
        return pa.array(values)
    return pa.array(values, type=kind)


def _pg_type(duckdb_type: str) -> str:
    from sqlglot import exp

    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("postgres")


class _Migrator:
    """The ``con`` a migration function receives: DuckDB-dialect SQL run on PostgreSQL."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def execute(self, query: str, parameters: Any = None, /) -> Any:
        return self._store._cursor(query, parameters)


class PostgresStore(DuckDBStore):
    """A winloss store in a PostgreSQL database, shared by a team.

    It offers every method of :class:`~winloss.store.duckdb_store.DuckDBStore` (whose type the
    layers annotate) and holds one psycopg connection in autocommit mode; writes run in explicit
    transactions.
    """

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        import psycopg

        self.path = url
        self.url = url
        self.read_only = read_only
        self._pk: dict[str, list[str]] = {}
        self._in_tx = False
        self._converter: Any = None
        try:
            self.pg = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                f"cannot connect to the PostgreSQL store {mask_url(url)} ({first[:200]}); check "
                "that the server runs and the URL's host, port, user, password and database are "
                "right (postgresql://user:password@host:5432/dbname)"
            ) from None
        try:
            if read_only:
                self.pg.execute("SET default_transaction_read_only = on")
                self.schema_version  # noqa: B018 - fails early on a database that is not a store
            else:
                self.migrate()
        except BaseException:
            self.pg.close()
            raise

    # -- running SQL ----------------------------------------------------------------------------
    def _rewrite(self, sql: str) -> str:
        """DuckDB statements sqlglot cannot carry over, rewritten into DuckDB SQL it can."""
        head = sql.lstrip()[:40].upper()
        if head.startswith("INSERT OR REPLACE INTO"):
            match = re.match(r"\s*INSERT OR REPLACE INTO\s+(\"[^\"]+\"|\w+)(.*)", sql, re.S | re.I)
            assert match is not None
            table, rest = match.group(1), match.group(2)
            name = table.strip('"')
            key = self._primary_key(name)
            cols = [c for c in self._columns(name) if c not in key]
            action = (
                "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in cols)
                if cols
                else "DO NOTHING"
            )
            return (
                f"INSERT INTO {table}{rest} ON CONFLICT ({', '.join(_q(k) for k in key)}) {action}"
            )
        return sql

    def _text(self, sql: str) -> str:
        # sqlglot reads ``?::TYPE`` as a parse error: spelled as a CAST first
        return pg_sql(re.sub(r"\?::(\w+)", r"CAST(? AS \1)", self._rewrite(sql)))

    def _cursor(self, sql: str, params: Iterable[Any] | None = None) -> Any:
        import psycopg

        args = [_adapt(v) for v in params] if params is not None else []
        match = re.match(r"\s*CREATE OR REPLACE TEMP(?:ORARY)? TABLE\s+(\"[^\"]+\"|\w+)", sql, re.I)
        if match:
            self.pg.execute(f"DROP TABLE IF EXISTS {match.group(1)}")
            sql = re.sub(r"(?i)CREATE OR REPLACE TEMP", "CREATE TEMP", sql, count=1)
        try:
            return self.pg.execute(self._text(sql), args)
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"the PostgreSQL store {mask_url(self.url)} failed ({str(exc).strip()[:200]}); "
                "check that the server is still running, then retry"
            ) from exc

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None:
        self._cursor(sql, params)

    def fetchall(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        return list(self._cursor(sql, params).fetchall())

    def scalar(self, sql: str, params: Iterable[Any] | None = None) -> Any:
        row = self._cursor(sql, params).fetchone()
        return row[0] if row else None

    def row(self, sql: str, params: Iterable[Any] | None = None) -> tuple[Any, ...]:
        found = self._cursor(sql, params).fetchone()
        if found is None:
            raise StoreError(f"the store returned no row for: {sql}")
        return tuple(found)

    @property
    def dialect(self) -> Dialect:
        return "postgres"

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        cur = self._cursor(sql, params)
        desc = cur.description or []
        rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in desc]
        arrays = [_column(list(vals), d.type_code) for vals, d in zip(columns, desc, strict=True)]
        return pa.Table.from_arrays(arrays, names=_unique([d.name for d in desc]))

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pd.DataFrame:
        """The result as pandas, converted exactly as DuckDB converts its own results."""
        import duckdb

        table = self.arrow(sql, list(params) if params is not None else [])
        if self._converter is None:  # the module's default connection is shared by threads
            self._converter = duckdb.connect(":memory:")
        return self._converter.from_arrow(table).df()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:
            yield
            return
        self._in_tx = True
        try:
            with self.pg.transaction():
                yield
        finally:
            self._in_tx = False

    @contextlib.contextmanager
    def register_frame(self, name: str, frame: pd.DataFrame | pa.Table) -> Iterator[None]:
        """``frame`` as the temporary table ``name`` (created, filled by COPY, dropped)."""
        table = (
            frame
            if isinstance(frame, pa.Table)
            else pa.Table.from_pandas(frame, preserve_index=False)
        )
        cols = ", ".join(f"{_q(f.name)} {_arrow_pg_type(f.type)}" for f in table.schema)
        self.pg.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        self.pg.execute(f"CREATE TEMP TABLE {_q(name)} ({cols})")
        try:
            self._copy(name, table)
            yield
        finally:
            with contextlib.suppress(Exception):
                self.pg.execute(f"DROP TABLE IF EXISTS {_q(name)}")

    def _copy(self, name: str, table: pa.Table) -> None:
        """Load ``table`` into ``name`` with COPY: as CSV written by Arrow (every value quoted,
        NULL unquoted, so an empty string stays one), or row by row for nested types."""
        import pyarrow.csv as pacsv

        names = ", ".join(_q(c) for c in table.column_names)
        columns = []
        for field, col in zip(table.schema, table.columns, strict=True):
            kind = field.type
            if pa.types.is_dictionary(kind):
                col = col.cast(kind.value_type)
            elif pa.types.is_timestamp(kind) and kind.unit == "ns":
                col = col.cast(pa.timestamp("us", kind.tz), safe=False)
            columns.append(col)
        flat = pa.Table.from_arrays(columns, names=table.column_names)
        if all(_csv_safe(f.type) for f in flat.schema):
            buffer = io.BytesIO()
            pacsv.write_csv(
                flat,
                buffer,
                pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
            )
            with (
                self.pg.cursor() as cur,
                cur.copy(f"COPY {_q(name)} ({names}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(buffer.getvalue())
            return
        data = flat.to_pydict()
        values = [data[c] for c in flat.column_names]
        with self.pg.cursor() as cur, cur.copy(f"COPY {_q(name)} ({names}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)

    @contextlib.contextmanager
    def engine_settings(self, **settings: str | bool) -> Iterator[None]:
        """DuckDB's settings mean nothing to PostgreSQL."""
        yield

    def _primary_key(self, table: str) -> list[str]:
        if table not in self._pk:
            rows = self.pg.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)",
                [table],
            ).fetchall()
            self._pk[table] = [str(r[0]) for r in rows]
        return self._pk[table]

    def _columns(self, table: str) -> list[str]:
        rows = self.pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- schema -----------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        exists = self.pg.execute("SELECT to_regclass('_meta') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = self.pg.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS) and self._views_current():
            return  # the common case (the web app opens the store per request): no lock taken
        with self.transaction():
            self.pg.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            self.execute(
                "CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
            )
            current = self.schema_version
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"{mask_url(self.url)} was written by a newer winloss (schema {current}); "
                    "upgrade winloss"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[version - 1](_Migrator(self))
                self.execute(
                    "INSERT OR REPLACE INTO _meta VALUES ('schema_version', ?)", [str(version)]
                )
            for statement in _COMPAT_FUNCTIONS:
                self.pg.execute(statement)
            self._create_views()

    def _signature(self) -> str:
        return (
            f"{_VIEWS_VERSION}|{self.fiscal_year_start_month}|"
            f"{self.get_setting('capture_precedence')}|{self._deal_columns()}"
        )

    def _views_current(self) -> bool:
        return bool(
            self.get_setting("_views_signature") == self._signature()
            and self.pg.execute(
                "SELECT to_regclass('deals_enriched') IS NOT NULL AND "
                "to_regprocedure('winloss_any_value(anyelement)') IS NOT NULL"
            ).fetchone()
            == (True,)
        )

    def _deal_columns(self) -> str:
        return ",".join(
            str(r[0])
            for r in self.pg.execute(
                "SELECT column_name || ':' || data_type FROM information_schema.columns "
                "WHERE table_name IN ('deals', 'captures') AND table_schema = current_schema() "
                "ORDER BY table_name, ordinal_position"
            ).fetchall()
        )

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        exists = self.pg.execute("SELECT to_regclass('_meta') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return default
        row = self.pg.execute("SELECT value FROM _meta WHERE key = %s", [key]).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        if key == "capture_precedence":
            from winloss.store.capture_queries import parse_precedence

            value = ",".join(parse_precedence(value))
        with self.transaction():
            self.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", [key, value])
            if key in ("fiscal_year_start_month", "capture_precedence"):
                self._create_views()

    def _create_views(self) -> None:
        m = self.fiscal_year_start_month
        if not 1 <= m <= 12:
            raise UsageError("fiscal_year_start_month must be 1..12")
        signature = self._signature()
        if self._views_current():
            return
        from winloss.store.capture_queries import create_capture_views, parse_precedence

        with self.transaction():
            self.pg.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            self.pg.execute(f"DROP VIEW IF EXISTS {', '.join(VIEWS)} CASCADE")
            create_capture_views(
                self,
                parse_precedence(self.get_setting("capture_precedence")),
                deal_columns=self._columns("deals"),
            )
            self.execute(_enriched_view_sql(m))
            self.execute("INSERT OR REPLACE INTO _meta VALUES ('_views_signature', ?)", [signature])

    # -- writing ----------------------------------------------------------------------------
    def write(
        self, prepared: PreparedImport, *, content_sha256: str = "", preset: str | None = None
    ) -> ImportResult:
        """Upsert a prepared import in one transaction under the store's advisory lock."""
        import psycopg

        if self.read_only:
            raise StoreError(f"{mask_url(self.url)} is open read-only; open it for writing")
        table = prepared.table
        frame = prepared.frame
        key = list(table.key)
        cols = list(frame.columns)
        defer = contextlib.ExitStack()
        interrupted: list[bool] = []
        replaced = 0
        try:
            with self.transaction():
                self.pg.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
                existing_cols = set(self._columns(table.name))
                known_custom = {c.name: c for c in self.custom_fields(table.name)}
                registry: list[list[Any]] = []
                changes_views = False
                for cf in prepared.custom_fields:
                    if cf.name not in existing_cols:
                        self.pg.execute(
                            f"ALTER TABLE {_q(table.name)} ADD COLUMN {_q(cf.name)} "
                            f"{_pg_type(DUCKDB_TYPES[cf.dtype])}"
                        )
                for cf in prepared.custom_fields:
                    if cf.name in known_custom and known_custom[cf.name].dtype != cf.dtype:
                        old = known_custom[cf.name].dtype
                        if {old, cf.dtype} <= {"int", "float"}:
                            cf_type = "float"
                        else:
                            cf_type = "category" if cf.dtype != "string" else "string"
                        if not changes_views and table.name in ("deals", "captures"):
                            self.pg.execute(f"DROP VIEW IF EXISTS {', '.join(VIEWS)} CASCADE")
                            changes_views = True
                        pg_type = _pg_type(DUCKDB_TYPES[cf_type])
                        self.pg.execute(
                            f"ALTER TABLE {_q(table.name)} ALTER COLUMN {_q(cf.name)} TYPE "
                            f"{pg_type} USING {_q(cf.name)}::{pg_type}"
                        )
                        cf = CustomField(cf.name, cf.label, cf_type, cf.known, cf.analyse)
                    registry.append([table.name, cf.name, cf.label, cf.dtype, cf.known, cf.analyse])
                self._insert_rows("custom_fields", registry)
                # the incoming rows: a temp table with the target's column types, filled by COPY
                self.pg.execute("DROP TABLE IF EXISTS _incoming")
                self.pg.execute(
                    f"CREATE TEMP TABLE _incoming ON COMMIT DROP AS SELECT "
                    f"{', '.join(_q(c) for c in cols)} FROM {_q(table.name)} WITH NO DATA"
                )
                self._copy("_incoming", pa.Table.from_pandas(frame, preserve_index=False))
                on = " AND ".join(f"t.{_q(k)} = i.{_q(k)}" for k in key)
                updated = int(
                    self.pg.execute(
                        f"SELECT count(*) FROM _incoming i JOIN {_q(table.name)} t ON {on}"
                    ).fetchone()[0]  # type: ignore[index]
                )
                non_key = [c for c in cols if c not in key]
                action = (
                    "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in non_key)
                    if non_key
                    else "DO NOTHING"
                )
                self.pg.execute(
                    f"INSERT INTO {_q(table.name)} ({', '.join(_q(c) for c in cols)}) "
                    f"SELECT {', '.join(_q(c) for c in cols)} FROM _incoming "
                    f"ON CONFLICT ({', '.join(_q(k) for k in key)}) {action}"
                )
                if prepared.superseded_custom and len(key) == 1:
                    clear_superseded(self, table.name, key[0], prepared.superseded_custom)
                if prepared.whole_deals and len(key) == 1 and "deal_id" in cols:
                    replaced = delete_rows_not_incoming(self, table.name, key[0])
                inserted = len(frame) - updated
                self._record_import(prepared, content_sha256, preset, inserted, updated)
                if table is DEALS or changes_views or table.name == "captures":
                    self._create_views()
                interrupted = defer.enter_context(sigint_deferred())
        except BaseException as exc:
            defer.close()
            if isinstance(exc, KeyboardInterrupt):
                raise ImportInterrupted(
                    f"{prepared.file}: interrupted before the import was committed; nothing was "
                    "imported and the store is unchanged. Run the import again."
                ) from None
            if isinstance(exc, psycopg.Error):
                raise StoreError(
                    f"{prepared.file}: the store refused the import ({str(exc).strip()[:300]}); "
                    "nothing was imported"
                ) from exc
            raise
        with defer:
            return ImportResult(
                table=table.name,
                file=prepared.file,
                rows_read=prepared.rows_read,
                inserted=inserted,
                updated=updated,
                duplicates_dropped=prepared.duplicates_dropped,
                custom_fields=tuple(c.name for c in prepared.custom_fields),
                notes=tuple(prepared.notes),
                outcomes=tuple(prepared.outcome_counts().items()),
                orphans_dropped=prepared.orphans_dropped,
                replaced_rows=replaced,
                interrupted_after_commit=bool(interrupted),
            )

    def _insert_rows(self, table: str, rows: list[list[Any]]) -> None:
        """Upsert many rows at once (COPY into a temp table, then one INSERT ... ON CONFLICT)."""
        if not rows:
            return
        names = self._columns(table)
        frame = pd.DataFrame(rows, columns=names)
        key = self._primary_key(table)
        # the last row of a key wins, as with DuckDB's INSERT OR REPLACE
        frame = frame.drop_duplicates(subset=key, keep="last") if key else frame
        self.pg.execute("DROP TABLE IF EXISTS _rows")
        self.pg.execute(f"CREATE TEMP TABLE _rows AS SELECT * FROM {_q(table)} WITH NO DATA")
        try:
            self._copy("_rows", pa.Table.from_pandas(frame, preserve_index=False))
            self.execute(f"INSERT OR REPLACE INTO {_q(table)} SELECT * FROM _rows")
        finally:
            self.pg.execute("DROP TABLE IF EXISTS _rows")

    def custom_fields(self, table: str = "deals") -> list[CustomField]:
        rows = self.fetchall(
            "SELECT name, label, dtype, known, is_analysed FROM custom_fields WHERE table_name = ? "
            "ORDER BY name",
            [table],
        )
        return [CustomField(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def deal_ids(self) -> pd.Series:
        return self.query("SELECT deal_id FROM deals")["deal_id"]

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {_q(table)}"))

    def copy_to(self, dest: str | Path) -> None:
        raise StoreError(
            "a PostgreSQL store is not a file: copy it with pg_dump rather than winloss"
        )

    def close(self) -> None:
        self.pg.close()
        if self._converter is not None:
            self._converter.close()


#: Functions the translated queries call where PostgreSQL lacks DuckDB's (created by ``migrate``).
_COMPAT_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION winloss_keep_last(anyelement, anyelement) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE AS 'SELECT coalesce($2, $1)'",
    "CREATE OR REPLACE FUNCTION winloss_keep_first(anyelement, anyelement) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE AS 'SELECT coalesce($1, $2)'",
    # DuckDB's any_value (the first non-NULL value)
    "CREATE OR REPLACE AGGREGATE winloss_any_value(anyelement) "
    "(SFUNC = winloss_keep_first, STYPE = anyelement)",
    # last_value ignoring NULLs (DuckDB's lag(x IGNORE NULLS) over the preceding rows)
    "CREATE OR REPLACE AGGREGATE winloss_last_value(anyelement) "
    "(SFUNC = winloss_keep_last, STYPE = anyelement)",
)


def _enriched_view_sql(month: int) -> str:
    from winloss.store.duckdb_store import enriched_view_sql

    return enriched_view_sql(month)


def _adapt(value: Any) -> Any:
    """Python values psycopg can send: numpy scalars as Python ones, pandas' missing as None."""
    if value is None or isinstance(value, str | int | float | bool | dt.date | decimal.Decimal):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _csv_safe(kind: pa.DataType) -> bool:
    """Whether Arrow writes this type as CSV text PostgreSQL reads back unchanged."""
    return bool(
        pa.types.is_boolean(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_date32(kind)
        or (pa.types.is_timestamp(kind) and kind.tz is None)
        or pa.types.is_null(kind)
    )


def _arrow_pg_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "DOUBLE PRECISION"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP" if kind.tz is None else "TIMESTAMPTZ"
    return "TEXT"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out
