"""The heavy queries, written once, give identical results on every engine.

The demo company is imported into a DuckDB store; its tables are written to Parquet and each
other engine reads that Parquet. Every query of store/heavy_queries.py and the concentration
analysis must agree with DuckDB (to float tolerance), and DuckDB's counts are checked against
pandas/numpy computed from the Parquet files independently.

To add an engine: name it in ``OTHER_ENGINES`` and give it a module-scoped fixture
``<name>_engine(demo_parquet)`` returning a :class:`~winloss.store.engine.SqlEngine` over the
Parquet tables (a ``DealReads`` for the concentration test).

PostgreSQL reads the same demo company imported into a store on a throwaway cluster.
Without PySpark or Java (or PostgreSQL's binaries) the cases skip with the reason; with ``CI``
set they fail.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.browser import in_ci

OTHER_ENGINES = ("spark", "postgres")
AS_OF = dt.date(2026, 6, 30)
PARQUET_TABLES = ("deals", "activities", "stage_history", "subscriptions", "usage_events")
CATEGORICAL = ["segment", "region", "industry", "source", "lead_temperature", "criteria_co_created"]
NUMERIC = ["amount", "stakeholders", "cycle_days", "impact_value", "champion_tenure_days"]


@dataclass(frozen=True)
class DemoParquet:
    store_path: Path
    folder: Path

    def tables(self) -> dict[str, str]:
        return {t: str(self.folder / f"{t}.parquet") for t in PARQUET_TABLES}


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI is set: the engine tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def demo_parquet(demo_store_1500: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoParquet:
    """A private copy of the 1,500-deal demo store and its tables as Parquet."""
    from winloss.store.duckdb_store import DuckDBStore

    folder = tmp_path_factory.mktemp("engines")
    path = folder / "demo.duckdb"
    shutil.copy(demo_store_1500, path)
    store = DuckDBStore(path)
    try:
        for table in PARQUET_TABLES:
            # the deals as the analyses see them (captures resolved), before the derived fields
            source = "deals_resolved" if table == "deals" else table
            store.con.execute(
                f"COPY (SELECT * FROM {source}) TO '{folder / (table + '.parquet')}' "
                "(FORMAT parquet)"
            )
    finally:
        store.close()
    return DemoParquet(path, folder)


@pytest.fixture(scope="module")
def duck(demo_parquet: DemoParquet) -> Iterator[Any]:
    from winloss.store.duckdb_store import DuckDBStore

    store = DuckDBStore(demo_parquet.store_path)
    yield store
    store.close()


@pytest.fixture(scope="session")
def spark_session() -> Any:
    """One small local Spark session for the test session."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("PySpark is not installed (pip install 'winloss[test]')")
    if shutil.which("java") is None and not Path("/usr/lib/jvm").exists():
        _unavailable("Java is not installed (Spark needs Java 17)")
    from winloss.store.spark_engine import spark_session as make

    return make("local[2]", app_name="winloss-tests", shuffle_partitions=4)


@pytest.fixture(scope="module")
def spark_engine(demo_parquet: DemoParquet, duck: Any, spark_session: Any) -> Any:
    from winloss.store.spark_engine import SparkEngine

    return SparkEngine(
        demo_parquet.tables(),
        session=spark_session,
        fiscal_year_start_month=duck.fiscal_year_start_month,
    )


@pytest.fixture(scope="module")
def postgres_engine(pg_server: str) -> Iterator[Any]:
    """The same demo company imported into a PostgreSQL store (a new database on the session's
    throwaway cluster, tests/store/conftest.py): the store is its own engine."""
    import uuid

    import psycopg

    from winloss import Workspace
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    name = "engines_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    ws = Workspace(pg_server.replace("/postgres?", f"/{name}?"))
    import_demo(ws, generate_demo(1500, seed=3))  # as the session's demo_store_1500
    yield ws.store
    ws.close()
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=OTHER_ENGINES)
def engine(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_engine")


def _frame(table: pa.Table | pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = table.to_pandas() if isinstance(table, pa.Table) else table.copy()
    for col in frame.columns:
        if pd.api.types.is_integer_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            frame[col] = frame[col].astype("int64")
    return frame.sort_values(keys, na_position="first").reset_index(drop=True)


def _same(a: pa.Table | pd.DataFrame, b: pa.Table | pd.DataFrame, keys: list[str]) -> None:
    left, right = _frame(a, keys), _frame(b, keys)
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right) > 0
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-9, atol=1e-9)


# -- DuckDB against an independent computation -------------------------------------------------
def _closed(demo_parquet: DemoParquet, duck: Any) -> pd.DataFrame:
    deals = duck.query("SELECT * FROM deals_enriched")
    return deals[deals["outcome"].isin(["won", "lost"])]


def test_duckdb_condition_counts_match_pandas(demo_parquet: DemoParquet, duck: Any) -> None:
    from winloss.store.heavy_queries import condition_counts

    closed = _closed(demo_parquet, duck)
    got = condition_counts(duck, CATEGORICAL).to_pandas()
    for attr in CATEGORICAL:
        col = closed[attr]
        text = col.map(
            lambda v: (
                None
                if pd.isna(v)
                else str(v).lower()
                if isinstance(v, (bool, np.bool_))
                else str(v)
            )
        )
        expect = (
            pd.DataFrame({"value": text, "won": closed["outcome"] == "won"})
            .groupby("value", dropna=False)["won"]
            .agg(["size", "sum"])
        )
        mine = got[got["attribute"] == attr].set_index("value")
        assert len(mine) == len(expect)
        for value, row in expect.iterrows():
            key = None if pd.isna(value) else value
            hit = mine[mine.index.isna()] if key is None else mine.loc[[key]]
            assert int(hit["n"].iloc[0]) == row["size"], (attr, value)
            assert int(hit["wins"].iloc[0]) == row["sum"], (attr, value)


def test_duckdb_threshold_scan_matches_numpy(demo_parquet: DemoParquet, duck: Any) -> None:
    from winloss.store.heavy_queries import threshold_scan

    closed = _closed(demo_parquet, duck)
    got = threshold_scan(duck, NUMERIC).to_pandas()
    for attr in NUMERIC:
        x = closed[attr].astype(float).to_numpy()
        won = (closed["outcome"] == "won").to_numpy()
        keep = ~np.isnan(x)
        x, won = x[keep], won[keep]
        mine = got[got["attribute"] == attr]
        assert np.array_equal(mine["value"].to_numpy(), np.unique(x))
        for t, n_le, wins_le in list(
            zip(mine["value"], mine["n_le"], mine["wins_le"], strict=True)
        )[::7]:
            assert n_le == int((x <= t).sum()) and wins_le == int(won[x <= t].sum())
        assert (mine["n_total"] == len(x)).all() and (mine["wins_total"] == int(won.sum())).all()


def test_duckdb_transition_counts_match_pandas(demo_parquet: DemoParquet, duck: Any) -> None:
    from winloss.store.heavy_queries import transition_counts

    acts = pd.read_parquet(demo_parquet.folder / "activities.parquet")
    deals = pd.read_parquet(demo_parquet.folder / "deals.parquet")[["deal_id", "outcome"]]
    deals = deals.rename(columns={"outcome": "deal_outcome"})
    acts = acts.merge(deals, on="deal_id").sort_values(["deal_id", "occurred_at", "activity_id"])
    counts: dict[tuple[str, str, str], int] = {}
    for _, g in acts.groupby("deal_id", sort=False):
        outcome = g["deal_outcome"].iloc[0]
        walk = ["(start)", *g["type"], f"({outcome})"]
        for a, b in zip(walk, walk[1:], strict=False):
            key = (outcome, a, b)
            counts[key] = counts.get(key, 0) + 1
    got = transition_counts(duck, with_median=False).to_pandas()
    mine = {(r.outcome, r.source, r.target): int(r.n) for r in got.itertuples()}
    assert mine == counts


# -- every engine against DuckDB ---------------------------------------------------------------
def test_condition_counts_identical(duck: Any, engine: Any) -> None:
    from winloss.store.heavy_queries import condition_counts

    _same(
        condition_counts(duck, CATEGORICAL),
        condition_counts(engine, CATEGORICAL),
        ["attribute", "value"],
    )
    where, params = duck.filter_sql(None)
    where = "segment = ? AND closed_at >= ?"
    params = ["Mid-Market", dt.date(2025, 1, 1)]
    _same(
        condition_counts(duck, CATEGORICAL, where, params),
        condition_counts(engine, CATEGORICAL, where, params),
        ["attribute", "value"],
    )


def test_threshold_scan_identical(duck: Any, engine: Any) -> None:
    from winloss.store.heavy_queries import threshold_scan

    _same(threshold_scan(duck, NUMERIC), threshold_scan(engine, NUMERIC), ["attribute", "value"])


def test_transition_counts_identical(duck: Any, engine: Any) -> None:
    from winloss.store.heavy_queries import directly_follows_sql, transition_counts

    group = "coalesce(CAST(d.segment AS VARCHAR), '(blank)')"
    keys = ["grp", "outcome", "source", "target"]
    _same(transition_counts(duck, group), transition_counts(engine, group), keys)
    _same(
        duck.arrow(directly_follows_sql()),
        engine.arrow(directly_follows_sql()),
        ["source", "target"],
    )


def test_funnels_identical(duck: Any, engine: Any) -> None:
    from winloss.store import bowtie_queries
    from winloss.store.heavy_queries import deal_cycle_counts

    # the store's DuckDB query (kept for speed) is the reference of the portable one
    reference = bowtie_queries.deal_cycle_counts(duck, as_of=AS_OF, cohort="quarter")
    _same(deal_cycle_counts(duck, as_of=AS_OF, cohort="quarter"), reference, ["cohort", "days"])

    for cohort in ("quarter", "month"):
        kwargs = {"as_of": AS_OF, "cohort": cohort, "fiscal_year_start_month": 2}
        _same(
            deal_cycle_counts(duck, **kwargs),
            deal_cycle_counts(engine, **kwargs),
            ["cohort", "days"],
        )
    bounded = {
        "as_of": AS_OF,
        "cohort": "quarter",
        "since": dt.date(2025, 1, 1),
        "until": dt.date(2025, 12, 31),
    }
    _same(
        deal_cycle_counts(duck, **bounded), deal_cycle_counts(engine, **bounded), ["cohort", "days"]
    )


def _mrr_reference(subs: pd.DataFrame, windows: list[tuple[str, dt.date, dt.date]]) -> pd.DataFrame:
    """MRR at each window's start and end by pandas: the latest row on or before the date."""
    subs = subs.assign(period_start=pd.to_datetime(subs["period_start"]))
    subs = subs.assign(churn=subs["event"] == "churn")
    rows = (
        subs.groupby(["account_id", "period_start"])
        .agg(churn=("churn", "any"), mrr=("mrr", "max"))
        .reset_index()
    )
    rows["mrr"] = np.where(rows["churn"], 0.0, rows["mrr"].astype(float))
    out = []
    for label, start, end in windows:
        for account, g in rows.groupby("account_id"):
            before = g[g["period_start"] <= pd.Timestamp(start)]
            if before.empty:
                continue
            at_start = before.sort_values("period_start")["mrr"].iloc[-1]
            at_end = g[g["period_start"] <= pd.Timestamp(end)].sort_values("period_start")
            if at_start > 0:
                out.append((label, account, at_start, at_end["mrr"].iloc[-1]))
    return pd.DataFrame(out, columns=["window", "account_id", "mrr_start", "mrr_end"])


def test_retention_identical_and_equal_to_pandas(
    demo_parquet: DemoParquet, duck: Any, engine: Any
) -> None:
    from winloss.store.heavy_queries import mrr_windows

    windows = [("12m", dt.date(2025, 6, 30), AS_OF), ("6m", dt.date(2025, 12, 31), AS_OF)]
    keys = ["window", "account_id"]
    ours = mrr_windows(duck, windows)
    subs = pd.read_parquet(demo_parquet.folder / "subscriptions.parquet")
    _same(ours, _mrr_reference(subs, windows), keys)
    _same(ours, mrr_windows(engine, windows), keys)
    assert mrr_windows(duck, []).num_rows == 0


def test_concentration_findings_identical(duck: Any, engine: Any) -> None:
    from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
    from winloss.model.deals import DealFilter

    assert [f.name for f in engine.field_catalog()] == [f.name for f in duck.field_catalog()]
    # all closed deals (findings), and one quarter (compared with a fresh analysis of the one before)
    for flt, some in ((None, True), (DealFilter(quarter="2026Q1", segment="Mid-Market"), False)):
        analysis = ConcentrationAnalysis(deal_filter=flt, record=False, bootstrap=20)
        a, b = analysis.run(duck), analysis.run(engine)
        assert a.inputs.n == b.inputs.n > 0
        assert len(a.findings) == len(b.findings)
        assert len(a.findings) > 0 or not some
        assert a.notes == b.notes
        for x, y in zip(a.findings, b.findings, strict=True):
            assert x.statement == y.statement
            assert (x.n, x.wins) == (y.n, y.wins)
            assert x.p_value == pytest.approx(y.p_value, rel=1e-9)
            assert x.q_value == pytest.approx(y.q_value, rel=1e-9)


def test_presale_funnel_identical_and_equal_to_the_store_query(duck: Any, engine: Any) -> None:
    from winloss.analyze.bowtie.stages import PRE_SALE, StageMapping
    from winloss.store import bowtie_queries
    from winloss.store.heavy_queries import presale_spell_counts

    mapping = StageMapping.default()
    orders = mapping.orders(bowtie_queries.stage_name_counts(duck)["name"])
    assert any(o < 0 for _, o in orders) and any(o == 3 for _, o in orders)
    keys = ["ord", "cohort", "days"]
    for cohort, since in (("quarter", None), ("month", dt.date(2025, 3, 1))):
        kwargs: dict[str, Any] = {
            "as_of": AS_OF,
            "cohort": cohort,
            "entry_stage_order": PRE_SALE.index(mapping.deal_entry_stage),
            "since": since,
        }
        ours = presale_spell_counts(
            duck, orders, fiscal_year_start_month=duck.fiscal_year_start_month, **kwargs
        )
        # the DuckDB query of bowtie_queries (a registered stage map) is the reference
        _same(ours, bowtie_queries.presale_spell_counts(duck, orders, **kwargs), keys)
        other = presale_spell_counts(
            engine, orders, fiscal_year_start_month=duck.fiscal_year_start_month, **kwargs
        )
        _same(ours, other, keys)


def test_cli_engine_options_are_checked_before_spark_starts(tmp_path: Path) -> None:
    from tests.cli.runner import run
    from winloss.errors import UsageError

    db = str(tmp_path / "empty.duckdb")
    with pytest.raises(UsageError, match="apply to --engine spark"):
        run("--db", db, "analyze", "--deals", "deals.parquet")
    with pytest.raises(UsageError, match="--engine spark needs the deals"):
        run("--db", db, "analyze", "--engine", "spark")


def test_cli_analyze_on_spark_matches_the_store(
    demo_parquet: DemoParquet, spark_session: Any, tmp_path: Path
) -> None:
    """`winloss analyze --engine spark --deals …` prints the store's findings (JSON compared)."""
    import json

    from tests.cli.runner import run

    store = tmp_path / "copy.duckdb"
    shutil.copy(demo_parquet.store_path, store)
    flags = ["--depth", "1", "--no-record", "--format", "json"]
    code, out, _ = run("--db", str(store), "analyze", *flags)
    assert code == 0
    deals = str(demo_parquet.folder / "deals.parquet")
    code, out_spark, _ = run("analyze", "--engine", "spark", "--deals", deals, *flags)
    assert code == 0
    a, b = json.loads(out), json.loads(out_spark)
    assert (a["deals"], a["wins"]) == (b["deals"], b["wins"])
    assert len(a["findings"]) > 0
    assert [f["statement"] for f in a["findings"]] == [f["statement"] for f in b["findings"]]
    q_spark = [f["q_value"] for f in b["findings"]]
    assert [f["q_value"] for f in a["findings"]] == pytest.approx(q_spark, rel=1e-9)


def test_cli_paths_edges_on_spark_match_the_store(
    demo_parquet: DemoParquet, spark_session: Any, tmp_path: Path
) -> None:
    """`winloss paths --engine spark … --edges` prints the store's edges table (CSV compared)."""
    import io

    from tests.cli.runner import run
    from winloss.errors import UsageError

    store = tmp_path / "copy.duckdb"
    shutil.copy(demo_parquet.store_path, store)
    flags = ["--by", "segment", "--edges", "--format", "csv"]
    code, out, _ = run("--db", str(store), "paths", *flags)
    assert code == 0
    tables = ["--deals", str(demo_parquet.folder / "deals.parquet")]
    tables += ["--activities", str(demo_parquet.folder / "activities.parquet")]
    code, out_spark, _ = run("paths", "--engine", "spark", *tables, *flags)
    assert code == 0
    keys = ["group", "source", "target"]
    here, there = pd.read_csv(io.StringIO(out)), pd.read_csv(io.StringIO(out_spark))
    # the store adds the deals through each edge (counted from each deal's path); the transition
    # counts both engines give are identical
    assert {"deals", "win_rate"} <= set(here.columns) - set(there.columns)
    _same(here[list(there.columns)], there, keys)
    with pytest.raises(UsageError, match="--edges"):
        run("paths", "--engine", "spark", *tables)
