"""The heavy queries on DuckDB, Spark (local) and PostgreSQL: one run, figures and ratios.

``python benchmarks/bench_engines.py`` (add ``--max-events 100000000`` for the 100M case,
``--pg-throwaway`` or ``--pg-url postgresql://…`` for PostgreSQL) generates with DuckDB, as Parquet
in a temporary folder:

- activities: 1M, 10M (and 100M) events over deals of 20 events on average, 8 action types,
  timestamps with ties broken by ``activity_id``;
- deals: 1M deals with 10 analysed attributes (5 categorical, 5 numeric) and planted effects.

and times, on each engine, the *same SQL text* of store/heavy_queries.py (transpiled):

- action-path counting: the directly-follows transition counts (``directly_follows_sql``: a window
  ``lag`` per deal ordered by time, grouped by (source, target)) at every events size;
- the concentration scan on 1M deals: ``condition_counts`` over the 5 categorical attributes and
  ``threshold_scan`` over the 5 numeric ones (per distinct value with cumulative counts).

DuckDB and Spark read the same Parquet files (DuckDB through views over ``read_parquet``, Spark
through temporary views); PostgreSQL reads a table loaded beforehand (the load is not timed).
Every engine's result is checked equal to DuckDB's. Scaling: seconds per million events from
one size to the next ten-fold size — a ratio above 1.2 means the cost grows faster than linear.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from winloss.store.duckdb_store import deals_enriched_sql  # noqa: E402
from winloss.store.engine import Dialect, transpile  # noqa: E402
from winloss.store.heavy_queries import (  # noqa: E402
    condition_counts,
    directly_follows_sql,
    threshold_scan,
)

CATEGORICAL = ["segment", "region", "industry", "source", "product"]
NUMERIC = ["amount", "stakeholders", "impact_value", "cycle_days", "champion_tenure_days"]
TYPES = ["email", "call", "meeting", "demo", "proposal", "negotiation", "trial", "follow_up"]


# -- data --------------------------------------------------------------------------------------
def make_events(path: Path, n: int) -> None:
    """``n`` activities over n/20 deals, written by DuckDB (a first-order chain of types)."""
    deals = max(1, n // 20)
    types = "[" + ", ".join(f"'{t}'" for t in TYPES) + "]"
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"""
        COPY (
          SELECT 'A' || i AS activity_id, 'D' || (hash(i) % {deals}) AS deal_id,
                 {types}[1 + CAST(hash(i * 7 + 1) % 8 AS INTEGER)] AS type,
                 TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i * 3) % 50000000 AS BIGINT))
                   AS occurred_at
          FROM range({n}) t(i)
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    con.close()


def make_deals(path: Path, n: int) -> None:
    """``n`` deals (half closed won/lost) with 10 attributes, as the canonical ``deals`` table."""
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT 'D' || i AS deal_id, 'ACC' || (i % 50000) AS account_id,
                 'rep' || (i % 200) AS owner,
                 DATE '2023-01-01' + CAST(hash(i) % 900 AS INTEGER) AS created_at,
                 DATE '2023-01-01' + CAST(hash(i) % 900 AS INTEGER)
                   + CAST(hash(i + 1) % 200 AS INTEGER) AS closed_at,
                 CASE WHEN hash(i + 2) % 100 < 30 + (i % 3) * 10 THEN 'won' ELSE 'lost' END
                   AS outcome,
                 CAST(1000 + hash(i + 3) % 200000 AS DOUBLE) AS amount,
                 ['SMB', 'Mid-Market', 'Enterprise'][1 + i % 3] AS segment,
                 ['EMEA', 'NA', 'APAC', 'LATAM'][1 + CAST(hash(i + 4) % 4 AS INTEGER)] AS region,
                 'industry' || (hash(i + 5) % 12) AS industry,
                 'source' || (hash(i + 6) % 6) AS source,
                 'product' || (hash(i + 7) % 5) AS product,
                 CAST(1 + hash(i + 8) % 12 AS BIGINT) AS stakeholders,
                 CAST(hash(i + 9) % 1000000 AS DOUBLE) / 100.0 AS impact_value,
                 DATE '2020-01-01' + CAST(hash(i + 10) % 1500 AS INTEGER) AS champion_start_date,
                 CAST(NULL AS DATE) AS critical_event_date
          FROM range({n}) t(i)
        ) TO '{path}' (FORMAT parquet)""")
    con.close()


# -- engines -----------------------------------------------------------------------------------
class DuckParquet:
    """DuckDB over the Parquet files (views), the embedded default."""

    def __init__(self, deals: Path, events: Path | None) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"CREATE VIEW deals AS SELECT * FROM read_parquet('{deals}')")
        self.con.execute("CREATE VIEW deals_enriched AS " + deals_enriched_sql("deals", 1))
        if events is not None:
            self.con.execute(f"CREATE VIEW activities AS SELECT * FROM read_parquet('{events}')")

    @property
    def dialect(self) -> Dialect:
        return "duckdb"

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.con.sql(sql, params=list(params) or None).to_arrow_table()


class Postgres:
    """PostgreSQL with ``deals_enriched`` loaded as a table (the derived fields from DuckDB)."""

    def __init__(self, url: str, deals: Path) -> None:
        import psycopg

        self.con = psycopg.connect(url, autocommit=True)
        duck = duckdb.connect()
        duck.execute(f"CREATE VIEW deals AS SELECT * FROM read_parquet('{deals}')")
        cols = ["outcome", *CATEGORICAL, *NUMERIC]
        csv = deals.with_suffix(".csv")
        duck.execute(
            f"COPY (SELECT {', '.join(cols)} FROM ({deals_enriched_sql('deals', 1)})) "
            f"TO '{csv}' (HEADER false)"
        )
        duck.close()
        types = {c: "TEXT" for c in ["outcome", *CATEGORICAL]} | {
            c: "DOUBLE PRECISION" for c in NUMERIC
        }
        with self.con.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS deals_enriched")
            cur.execute(
                "CREATE TABLE deals_enriched (" + ", ".join(f"{c} {types[c]}" for c in cols) + ")"
            )
            with (
                cur.copy("COPY deals_enriched FROM STDIN (FORMAT csv)") as copy,
                open(csv, "rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            cur.execute("ANALYZE deals_enriched")

    @property
    def dialect(self) -> Dialect:
        return "postgres"

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        with self.con.cursor() as cur:
            cur.execute(transpile(sql, "postgres"), list(params))  # type: ignore[arg-type]
            names = [d.name for d in cur.description or []]
            rows = cur.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder, run as the ``postgres`` user."""
    bin_dir = Path("/usr/lib/postgresql/15/bin")
    folder = Path(tempfile.mkdtemp(prefix="winloss-pg-"))
    shutil.chown(folder, "postgres")
    data, sock = folder / "data", folder

    def run(*args: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *args], check=True, capture_output=True)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(folder / "log"),
        "-o",
        f"-k {sock} -p 55439 -c listen_addresses='' -c shared_buffers=512MB "
        "-c work_mem=256MB -c max_parallel_workers_per_gather=2",
        "start",
    )
    try:
        yield f"postgresql:///postgres?host={sock}&port=55439&user=postgres"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def timed(fn: Callable[[], pa.Table]) -> tuple[float, pa.Table]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def same(a: pa.Table, b: pa.Table, keys: list[str]) -> bool:
    left = a.to_pandas().sort_values(keys).reset_index(drop=True)
    right = b.to_pandas().sort_values(keys).reset_index(drop=True)
    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return False
    for col in left.columns:
        x, y = left[col], right[col]
        if x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
            if not ((x.astype(float) - y.astype(float)).abs() <= 1e-9 * (1 + x.abs())).all():
                return False
        elif not (x.astype(str) == y.astype(str)).all():
            return False
    return True


def concentration_scan(engine: Any) -> pa.Table:
    counts = condition_counts(engine, CATEGORICAL)
    scan = threshold_scan(engine, NUMERIC)
    return pa.table({"parts": [counts.num_rows, scan.num_rows]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-events", type=int, default=10_000_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--pg-url", help="an existing PostgreSQL database to load and query")
    parser.add_argument(
        "--pg-throwaway", action="store_true", help="start a PostgreSQL 15 cluster in a temp dir"
    )
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--spark-memory", default="8g")
    args = parser.parse_args()

    sizes = [n for n in (1_000_000, 10_000_000, 100_000_000) if n <= args.max_events]
    folder = Path(tempfile.mkdtemp(prefix="winloss-bench-engines-"))
    try:
        deals = folder / "deals.parquet"
        started = time.perf_counter()
        make_deals(deals, args.deals)
        events = {}
        for n in sizes:
            events[n] = folder / f"events_{n}.parquet"
            make_events(events[n], n)
        print(
            f"generated {args.deals:,} deals and events {sizes} in "
            f"{time.perf_counter() - started:.1f} s ({folder})",
            flush=True,
        )

        from winloss.store.spark_engine import SparkEngine, spark_session

        spark = spark_session(
            args.spark_master,
            app_name="winloss-bench",
            shuffle_partitions=16,
            config={"spark.driver.memory": args.spark_memory},
        )
        rows: list[tuple[str, str, float, str]] = []

        # -- action-path counting ------------------------------------------------------------
        path_secs: dict[str, dict[int, float]] = {"duckdb": {}, "spark": {}}
        sql = directly_follows_sql()
        # Spark's first query pays the JIT and planner warm-up: warm it on the smallest file
        SparkEngine({"deals": deals, "activities": events[sizes[0]]}, session=spark).arrow(
            "SELECT count(*) FROM activities"
        )
        for n in sizes:
            duck = DuckParquet(deals, events[n])
            d_sec, d_out = timed(lambda duck=duck: duck.arrow(sql))
            duck.con.close()
            sp = SparkEngine({"deals": deals, "activities": events[n]}, session=spark)
            s_sec, s_out = timed(lambda sp=sp: sp.arrow(sql))
            ok = same(d_out, s_out, ["source", "target"])
            path_secs["duckdb"][n], path_secs["spark"][n] = d_sec, s_sec
            rows.append((f"transitions {n / 1e6:g}M events", "duckdb", d_sec, ""))
            rows.append(
                (f"transitions {n / 1e6:g}M events", "spark", s_sec, "equal" if ok else "DIFFERENT")
            )
            print(
                f"transitions {n:>11,}: duckdb {d_sec:7.2f} s  spark {s_sec:7.2f} s  "
                f"({'equal' if ok else 'DIFFERENT'})",
                flush=True,
            )

        # -- the concentration scan on 1M deals ----------------------------------------------
        duck = DuckParquet(deals, None)
        d_sec, d_c = timed(lambda: condition_counts(duck, CATEGORICAL))
        d_sec2, d_t = timed(lambda: threshold_scan(duck, NUMERIC))
        sp = SparkEngine({"deals": deals}, session=spark)
        s_sec, s_c = timed(lambda: condition_counts(sp, CATEGORICAL))
        s_sec2, s_t = timed(lambda: threshold_scan(sp, NUMERIC))
        ok = same(d_c, s_c, ["attribute", "value"]) and same(d_t, s_t, ["attribute", "value"])
        label = f"concentration scan {args.deals / 1e6:g}M deals"
        rows.append((label, "duckdb", d_sec + d_sec2, ""))
        rows.append((label, "spark", s_sec + s_sec2, "equal" if ok else "DIFFERENT"))
        print(
            f"{label}: duckdb {d_sec + d_sec2:.2f} s  spark {s_sec + s_sec2:.2f} s "
            f"({'equal' if ok else 'DIFFERENT'})",
            flush=True,
        )
        pg_ctx: contextlib.AbstractContextManager[str | None]
        if args.pg_url:
            pg_ctx = contextlib.nullcontext(args.pg_url)
        elif args.pg_throwaway:
            pg_ctx = throwaway_postgres()
        else:
            pg_ctx = contextlib.nullcontext(None)
        with pg_ctx as url:
            if url:
                pg = Postgres(url, deals)
                p_sec, p_c = timed(lambda: condition_counts(pg, CATEGORICAL))
                p_sec2, p_t = timed(lambda: threshold_scan(pg, NUMERIC))
                ok = same(d_c, p_c, ["attribute", "value"]) and same(
                    d_t, p_t, ["attribute", "value"]
                )
                rows.append((label, "postgres", p_sec + p_sec2, "equal" if ok else "DIFFERENT"))
                print(f"{label}: postgres {p_sec + p_sec2:.2f} s", flush=True)
                pg.con.close()
        spark.stop()

        # -- report --------------------------------------------------------------------------
        base = {job: sec for job, eng, sec, _ in rows if eng == "duckdb"}
        print("\n| job | engine | seconds | vs DuckDB | result |")
        print("|---|---|---:|---:|---|")
        for job, eng, sec, note in rows:
            print(f"| {job} | {eng} | {sec:.2f} | {sec / base[job]:.2f}x | {note or 'reference'} |")
        print(
            "\nscaling of the transition counting (seconds per million events; growth ratio "
            "per ten-fold size, > 1.2 = faster than linear):"
        )
        for eng, secs in path_secs.items():
            parts = []
            for a, b in zip(sizes, sizes[1:], strict=False):
                ratio = (secs[b] / b) / (secs[a] / a)
                verdict = "faster than linear" if ratio > 1.2 else "linear or better"
                parts.append(f"{a / 1e6:g}M→{b / 1e6:g}M ×{ratio:.2f} ({verdict})")
            per_m = ", ".join(f"{n / 1e6:g}M: {secs[n] / (n / 1e6):.3f} s/M" for n in sizes)
            print(f"  {eng}: {per_m}; " + "; ".join(parts))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
