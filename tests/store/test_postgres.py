"""The PostgreSQL store (#16): the import transaction and idempotency, concurrent writers,
captures written while analyses read, and results identical to DuckDB on the demo company.

Every test runs on the throwaway cluster of ``tests/store/conftest.py`` (skipped without
PostgreSQL's binaries, failing under CI).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.ingest.test_import import DEALS_CSV, _Proxy, write
from winloss import Workspace
from winloss.errors import StoreError
from winloss.store.duckdb_store import MIGRATIONS
from winloss.store.open import open_store
from winloss.store.postgres_store import PostgresStore, mask_url, pg_sql


@pytest.fixture
def pg_ws(pg_url: str) -> Any:
    w = Workspace(pg_url)
    assert isinstance(w.store, PostgresStore)
    yield w
    w.close()


# -- the factory and its errors --------------------------------------------------------------------
def test_factory_opens_postgres_for_urls_and_duckdb_otherwise(pg_url: str, tmp_path: Path) -> None:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore) and store.dialect == "postgres"
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    duck = open_store(tmp_path / "x.duckdb")
    assert not isinstance(duck, PostgresStore) and duck.dialect == "duckdb"
    duck.close()


def test_unreachable_server_names_the_url_with_the_password_masked(tmp_path: Path) -> None:
    url = f"postgresql://ann:s3cret@/nodb?host={tmp_path}&port=1"
    with pytest.raises(StoreError) as info:
        Workspace(url)
    msg = str(info.value)
    assert "s3cret" not in msg and "ann:***@" in msg and "check that the server runs" in msg
    assert mask_url("postgres://u@h/db") == "postgres://u@h/db"
    assert (
        mask_url("postgres://u@h/db?password=pw&port=5") == "postgres://u@h/db?password=***&port=5"
    )


def test_translation_of_duckdb_only_sql() -> None:
    assert "GROUP BY 1" in pg_sql("SELECT a, count(*) FROM t GROUP BY ALL")
    text = pg_sql("SELECT arg_max(x, y) FILTER (WHERE x IS NOT NULL) FROM t")
    assert "ARRAY_AGG(x ORDER BY y DESC)" in text and "[1]" in text
    assert "EXTRACT(QUARTER FROM d)" in pg_sql("SELECT quarter(d) FROM t")
    assert pg_sql("SELECT 1 FROM t WHERE a LIKE '%x' AND b = ?").endswith("LIKE '%%x' AND b = %s")
    # a strftime format becomes TO_CHAR's tokens, not a doubled-% literal
    assert "TO_CHAR(d, 'YYYY-MM')" in pg_sql("SELECT strftime(d, '%Y-%m') FROM t WHERE a = ?")


# -- the import transaction and idempotency (the DuckDB tests of tests/ingest, on PostgreSQL) ------
def test_reimport_is_idempotent_and_upserts(pg_ws: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path, "deals.csv", DEALS_CSV)
    first = pg_ws.import_deals(f)
    assert (first.inserted, first.updated) == (3, 0)
    before = pg_ws.deals()
    again = pg_ws.import_deals(f)
    assert (again.inserted, again.updated) == (0, 3)
    pd.testing.assert_frame_equal(before, pg_ws.deals())
    changed = write(tmp_path, "deals2.csv", DEALS_CSV.replace("800", "900"))
    pg_ws.import_deals(changed)
    assert pg_ws.deals().set_index("deal_id").loc["006A3", "amount"] == 900
    assert len(pg_ws.deals()) == 3
    assert pg_ws.store.count("imports") == 3
    # the same file into DuckDB reads back the same frame
    duck = Workspace(tmp_path / "same.duckdb")
    duck.import_deals(changed)
    pd.testing.assert_frame_equal(duck.deals(), pg_ws.deals())
    duck.close()


def test_failed_write_rolls_back_everything(
    pg_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure midway (after custom columns were added and the rows copied) leaves no trace."""
    import psycopg

    pg_ws.import_deals(write(tmp_path, "good.csv", DEALS_CSV))
    before = pg_ws.deals()
    f = write(
        tmp_path,
        "more.csv",
        DEALS_CSV.replace("006A", "007A").replace("Custom Score", "Other Score"),
    )
    store = pg_ws.store
    assert isinstance(store, PostgresStore)
    real_execute = store.pg.execute
    calls = {"n": 0}

    def flaky_execute(sql: str, *args: object, **kwargs: object) -> object:
        if str(sql).startswith('INSERT INTO "deals"'):
            calls["n"] += 1
            raise psycopg.errors.DiskFull("disk full")
        return real_execute(sql, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "pg", _Proxy(store.pg, flaky_execute))
    with pytest.raises(StoreError, match="nothing was imported"):
        pg_ws.import_deals(f)
    monkeypatch.undo()
    assert calls["n"] == 1
    after = pg_ws.deals()
    assert "other_score" not in after.columns  # the ALTER TABLE was rolled back too
    pd.testing.assert_frame_equal(before, after)
    assert store.count("imports") == 1
    names = [c.name for c in store.custom_fields()]
    assert "custom_score" in names and "other_score" not in names


# -- concurrency -----------------------------------------------------------------------------------
def _deals(ids: list[str], amount: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ids,
            "outcome": ["won" if i % 2 else "lost" for i in range(len(ids))],
            "created_at": ["2026-01-05"] * len(ids),
            "closed_at": ["2026-03-05"] * len(ids),
            "amount": [amount] * len(ids),
        }
    )


def test_two_writers_importing_at_once_lose_or_duplicate_no_row(pg_url: str) -> None:
    """Two connections import at the same moment, five rounds each: files with their own deals
    and deals both share. Every row lands once; inserted + updated add up exactly."""
    Workspace(pg_url).close()  # the schema, before the race
    shared = [f"S{i:03d}" for i in range(150)]
    results: dict[str, list[Any]] = {"A": [], "B": []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            ws = Workspace(pg_url)
            for round_ in range(5):
                own = [f"{name}{round_}-{i:03d}" for i in range(200)]
                frame = _deals(own + shared, 100.0 if name == "A" else 200.0)
                barrier.wait(timeout=30)
                results[name].append(ws.import_deals(frame))
            ws.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(n,)) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    check = PostgresStore(pg_url)
    expected = 2 * 5 * 200 + len(shared)
    assert check.scalar("SELECT count(*) FROM deals") == expected
    assert check.scalar("SELECT count(DISTINCT deal_id) FROM deals") == expected
    every = results["A"] + results["B"]
    assert sum(r.inserted for r in every) == expected
    assert sum(r.updated for r in every) == 10 * 350 - expected
    assert check.count("imports") == 10
    ids = check.fetchall("SELECT import_id FROM imports ORDER BY 1")
    assert [r[0] for r in ids] == list(range(1, 11))
    # the shared deals hold the amount of whichever import committed last: one of the two, whole
    amounts = check.fetchall("SELECT DISTINCT amount FROM deals WHERE deal_id LIKE 'S%'")
    assert len(amounts) == 1 and amounts[0][0] in (100.0, 200.0)
    check.close()


def test_captures_written_while_an_analysis_reads(pg_url: str) -> None:
    """The web app's captures (single-row upserts) from two connections while a third runs the
    concentration analysis: no error, no lost capture, and the analysis sees a consistent store."""
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    ws = Workspace(pg_url)
    import_demo(ws, generate_demo(300, seed=5))
    closed = ws.store.fetchall(
        "SELECT deal_id FROM deals WHERE outcome IN ('won', 'lost') ORDER BY deal_id"
    )
    targets = [str(r[0]) for r in closed][:60]
    ws.store.execute("DELETE FROM captures WHERE respondent = 'buyer'")
    errors: list[BaseException] = []
    analyses: list[int] = []
    done = threading.Event()
    base = dt.datetime(2026, 9, 1, 10, 0)

    def capture(part: list[str], who: str) -> None:
        try:
            w = Workspace(pg_url)
            for k, deal_id in enumerate(part):
                w.record_capture(
                    deal_id,
                    "buyer",
                    {"pain_category": "cost", "primary_reason": "price"},
                    captured_by=who,
                    captured_at=base + dt.timedelta(minutes=k),
                )
            w.close()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def analyse() -> None:
        try:
            w = Workspace(pg_url)
            while not done.is_set() or not analyses:
                analyses.append(len(w.analyze().findings))
            w.close()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    reader = threading.Thread(target=analyse)
    reader.start()
    writers = [threading.Thread(target=capture, args=(targets[i::2], f"user{i}")) for i in range(2)]
    for t in writers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=120)
    assert not errors, errors
    assert analyses
    stored = ws.store.fetchall(
        "SELECT deal_id, captured_by FROM captures WHERE respondent = 'buyer' ORDER BY deal_id"
    )
    assert sorted(r[0] for r in stored) == sorted(targets)
    resolved = ws.store.query(
        "SELECT deal_id, pain_category FROM deals_enriched WHERE deal_id IN ("
        + ", ".join("?" for _ in targets)
        + ")",
        targets,
    )
    assert set(resolved["pain_category"]) == {"cost"}  # buyer answers take precedence
    ws.close()


# -- identical results on the demo company --------------------------------------------------------
def _same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif hasattr(a, "tolist") and not isinstance(a, str):  # numpy arrays and scalars
        _same(a.tolist(), b.tolist() if hasattr(b, "tolist") else b, path)
    elif isinstance(a, float) and not isinstance(b, str):
        if math.isnan(a):
            assert b is None or math.isnan(b), path
        else:
            assert b == pytest.approx(a, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def both_demo_stores(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import uuid

    import psycopg

    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    name = "demo_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    data = generate_demo(600, seed=3)
    duck = Workspace(tmp_path_factory.mktemp("duck") / "demo.duckdb")
    pg = Workspace(pg_server.replace("/postgres?", f"/{name}?"))
    assert import_demo(duck, data) == import_demo(pg, data)
    yield duck, pg
    duck.close()
    pg.close()
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_concentration_findings_identical(both_demo_stores: Any) -> None:
    duck, pg = both_demo_stores
    a, b = duck.analyze(), pg.analyze()
    assert len(a.findings) >= 2
    cols = ["statement", "direction", "n", "wins", "win_rate", "p_value", "q_value", "lift"]
    pd.testing.assert_frame_equal(a.summary[cols], b.summary[cols], check_dtype=False, rtol=1e-9)
    from winloss.model.deals import DealFilter
    from winloss.store.summary_queries import closed_quarters

    quarter = closed_quarters(duck.store)[-2]
    qa, qb = duck.analyze(DealFilter(quarter=quarter)), pg.analyze(DealFilter(quarter=quarter))
    # analysing one quarter records the findings register (register_queries) on both engines
    assert duck.store.count("analysis_runs") == pg.store.count("analysis_runs") == 1
    assert duck.store.count("findings_register") == pg.store.count("findings_register")
    pd.testing.assert_frame_equal(qa.summary[cols], qb.summary[cols], check_dtype=False, rtol=1e-9)


def test_audit_counts_identical(both_demo_stores: Any) -> None:
    duck, pg = both_demo_stores
    a, b = duck.audit(), pg.audit()
    assert len(a.issues) >= 5
    assert [(i.key, i.deals, i.of) for i in a.issues] == [(i.key, i.deals, i.of) for i in b.issues]
    assert a.tables.keys() == b.tables.keys()
    for name, frame in a.tables.items():
        other = b.tables[name]
        assert len(frame) == len(other), name
        _same(frame.to_dict("list"), other.to_dict("list"), name)


def test_qbr_tables_identical(both_demo_stores: Any) -> None:
    duck, pg = both_demo_stores
    a, b = duck.qbr(), pg.qbr()
    assert len(a.reasons) > 10 and len(a.win_rates) > 5
    da, db = a.to_dict(), b.to_dict()
    da.pop("inputs"), db.pop("inputs")
    _same(da, db)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_dtype=False, rtol=1e-9)


def test_summary_and_capture_queries_identical(both_demo_stores: Any) -> None:
    from winloss.store import capture_queries as cq
    from winloss.store import summary_queries as sq

    duck, pg = both_demo_stores
    assert sq.closed_quarters(duck.store) == sq.closed_quarters(pg.store)
    assert sq.outcome_counts(duck.store) == sq.outcome_counts(pg.store)
    assert sq.date_ranges(duck.store) == sq.date_ranges(pg.store)
    for frame_a, frame_b in [
        (cq.source_counts(duck.store), cq.source_counts(pg.store)),
        (cq.coverage(duck.store, freshness_days=7), cq.coverage(pg.store, freshness_days=7)),
        (cq.field_sources(duck.store), cq.field_sources(pg.store)),
    ]:
        pd.testing.assert_frame_equal(frame_a, frame_b, check_dtype=False)
    assert cq.reason_use(duck.store).equals(cq.reason_use(pg.store))


def test_transition_counts_and_plg_identical(both_demo_stores: Any) -> None:
    """store/paths_queries.py's DuckDB-dialect SQL runs on PostgreSQL through the store's
    translation (ASOF joins, any_value, last, to_days and mode included)."""
    from winloss.store import paths_queries as pq

    duck, pg = both_demo_stores
    key = ["source", "target"]
    a = pq.first_order_counts(duck.store).sort_values(key).reset_index(drop=True)
    b = pq.first_order_counts(pg.store).sort_values(key).reset_index(drop=True)
    assert len(a) > 10
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    da, db = duck.plg().to_dict(), pg.plg().to_dict()
    da.pop("inputs"), db.pop("inputs")
    # an account's segment is the mode of its deals' segments: on a tie DuckDB's mode() takes
    # any of them and PostgreSQL's the first in sort order, so a tied segment may differ
    for d in (da, db):
        for account in d.get("accounts", []):
            account.pop("segment", None)
    _same(da, db)


def test_web_app_capture_round_trip_on_postgres(pg_url: str) -> None:
    """The web app on the shared store: a rep's capture posted through the routes lands, resolves
    into the deal and leaves the pending list, while another connection analyses meanwhile."""
    import re

    from tests.web.conftest import build_store, login, token
    from winloss.web import create_app

    build_store(pg_url)  # type: ignore[arg-type]
    app = create_app(pg_url, today=lambda: dt.date(2024, 3, 20), testing=True)
    ann = login(app, "ann")
    assert re.findall(r'href="/deals/([A-Z0-9]+)"', ann.get("/captures").text) == ["A1", "A2"]
    reader = Workspace(pg_url)
    before = reader.qbr().to_dict()
    form = ann.get("/deals/A2/capture").text
    ok = ann.post(
        "/deals/A2/capture",
        data={
            "csrf_token": token(form),
            "pain_category": "process",
            "primary_reason": "Relationship",
            "stakeholders": "4",
            "decision_maker_engaged": "yes",
        },
    )
    assert ok.status_code == 302
    after = reader.qbr().to_dict()  # the reader's next query sees the committed capture
    assert before["inputs"]["n"] == after["inputs"]["n"]
    caps = reader.deal_captures("A2")
    deal = reader.deal("A2")
    assert len(caps) == 1 and caps.iloc[0]["captured_by"] == "ann"
    assert deal is not None
    assert deal["pain_category"] == "process" and deal["win_reason"] == "Relationship"
    assert deal["stakeholders"] == 4
    assert re.findall(r'href="/deals/([A-Z0-9]+)"', ann.get("/captures").text) == ["A1"]
    reader.close()


def test_web_requests_to_postgres_are_not_serialised(pg_url: str, tmp_path: Path) -> None:
    """Two requests hold a PostgreSQL workspace at the same time; on a DuckDB file the second
    waits for the first (one writer per file)."""
    from flask import Flask

    from winloss.web.access import install, workspace

    Workspace(pg_url).close()  # the schema, once
    app = Flask(__name__)
    install(app)  # the request's workspace is closed, and its lock released, at teardown

    def overlap(target: str) -> bool:
        holding, second_in = threading.Event(), threading.Event()
        release = threading.Event()

        def first() -> None:
            with app.test_request_context(), workspace(target):
                holding.set()
                release.wait(10)

        def second() -> None:
            holding.wait(10)
            with app.test_request_context(), workspace(target):
                second_in.set()

        threads = [
            threading.Thread(target=first, daemon=True),
            threading.Thread(target=second, daemon=True),
        ]
        for t in threads:
            t.start()
        inside = second_in.wait(3)  # did the second get in while the first held its workspace?
        release.set()
        for t in threads:
            t.join(20)
        assert not any(t.is_alive() for t in threads), "a request never finished"
        return inside

    assert overlap(pg_url)
    # at most WINLOSS_WEB_CONNECTIONS requests hold a connection; with one slot the second waits
    import winloss.web.access as access

    slots = access._SLOTS
    access._SLOTS = threading.BoundedSemaphore(1)
    try:
        assert not overlap(pg_url)
    finally:
        access._SLOTS = slots
    duck = str(tmp_path / "w.duckdb")
    Workspace(duck).close()
    assert not overlap(duck)
    assert access._LOCK.acquire(blocking=False), "the DuckDB lock was left held"
    access._LOCK.release()


def test_token_paths_and_bowtie_identical(both_demo_stores: Any) -> None:
    """The paths queries next-action and the chains read (token paths of named deals, distinct
    paths), and the Bowtie's stage table, on both engines."""
    from winloss.store import paths_queries as q

    duck, pg = both_demo_stores
    ids = duck.deals()["deal_id"].head(25).tolist()
    a, b = q.deal_token_paths(duck.store, ids), q.deal_token_paths(pg.store, ids)
    assert len(a) > 0 and list(a["deal_id"]) == list(b["deal_id"])
    assert a["tokens"].map(list).tolist() == b["tokens"].map(list).tolist()
    va, vb = q.chain_path_variants(duck.store), q.chain_path_variants(pg.store)
    assert va.num_rows > 0
    for column in ("grp", "outcome", "n"):
        assert va.column(column).to_pylist() == vb.column(column).to_pylist()
    assert va.column("tokens").to_pylist() == vb.column("tokens").to_pylist()
    sa, sb = duck.bowtie().summary, pg.bowtie().summary
    pd.testing.assert_frame_equal(sa, sb, check_dtype=False, rtol=1e-9)


def test_incremental_path_counts_identical(both_demo_stores: Any) -> None:
    """refresh_transition_counts runs through the store's transaction/execute/register_frame, so
    the incremental per-deal counts build on PostgreSQL as on DuckDB."""
    from winloss.store import paths_queries as pq

    duck, pg = both_demo_stores
    ra, rb = duck.refresh_path_counts(), pg.refresh_path_counts()
    assert ra == rb and ra["recounted"] > 0
    a = pq.stored_transition_counts(duck.store, by_segment=True)
    b = pq.stored_transition_counts(pg.store, by_segment=True)
    assert len(a) > 10
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_a_remapped_custom_field_is_held_once_on_both_engines(
    pg_ws: Workspace, tmp_path: Path
) -> None:
    """Re-imported with --column competitor="Main Rival", a file whose column was kept as the
    custom field main_rival held the fact twice (two identical findings)."""
    f = write(
        tmp_path,
        "cf.csv",
        "Opportunity ID,Stage,Created Date,Close Date,Amount,Main Rival\n"
        "1,Closed Won,2025-01-02,2025-02-03,100,Acme\n"
        "2,Closed Lost,2025-01-02,2025-02-03,100,In-house\n"
        "3,Prospecting,2025-01-02,2026-02-03,100,Acme\n",
    )
    duck = Workspace(tmp_path / "cf.duckdb")
    for ws in (pg_ws, duck):
        first = ws.import_deals(f)
        assert first.custom_fields == ("main_rival",)
        again = ws.import_deals(f, columns={"competitor": "Main Rival"})
        assert any("now imported as competitor" in n for n in again.notes)
        assert [c.name for c in ws.store.custom_fields("deals")] == []
        assert "main_rival" not in {c.name for c in ws.field_catalog()}
        frame = ws.deals().set_index("deal_id")
        assert frame["competitor"].tolist() == ["Acme", "In-house", "Acme"]
    duck.close()


def test_an_event_log_reimport_replaces_the_cases_paths_on_both_engines(
    pg_ws: Workspace, tmp_path: Path
) -> None:
    """Read again with --outcome-event any, a log whose cases went on after the decision left
    the first reading's later steps (the decision itself among them) in the store."""
    f = write(
        tmp_path,
        "log.csv",
        "Case ID,Activity,Timestamp\n"
        "A,Submit,2021-03-01\nA,Accepted,2021-03-02\nA,Archive,2021-03-09\n"
        "B,Submit,2021-03-01\nB,Denied,2021-03-04\nC,Submit,2021-03-01\nC,Accepted,2021-03-05\n",
    )
    duck = Workspace(tmp_path / "log.duckdb")
    for ws in (pg_ws, duck):
        ws.import_event_log(f, won=("Accepted",), lost=("Denied",))
        assert ws.store.count("activities") == 5  # A: Submit, Accepted, Archive; B, C: Submit
        again = ws.import_event_log(f, won=("Accepted",), lost=("Denied",), outcome_event="any")
        stored = ws.store.query("SELECT deal_id, type FROM activities ORDER BY deal_id")
        assert stored.values.tolist() == [["A", "Submit"], ["B", "Submit"], ["C", "Submit"]]
        assert any("2 steps stored by an earlier import" in n for n in again.notes)
    duck.close()
