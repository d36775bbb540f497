"""The DuckDB store: migrations, settings, fiscal quarters, derived fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from winloss import StoreError, Workspace
from winloss.model.period import parse_quarter, quarter_of
from winloss.store.duckdb_store import MIGRATIONS, DuckDBStore


def test_new_store_is_at_the_latest_schema_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    s = DuckDBStore(path)
    assert s.schema_version == len(MIGRATIONS)
    s.close()
    s2 = DuckDBStore(path)
    assert s2.schema_version == len(MIGRATIONS)
    s2.close()


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    s = DuckDBStore(path)
    s.con.execute("UPDATE _meta SET value = '999' WHERE key = 'schema_version'")
    s.close()
    with pytest.raises(StoreError, match="newer winloss"):
        DuckDBStore(path)


@pytest.mark.parametrize(
    ("start_month", "day", "expected"),
    [
        (1, "2026-03-31", "2026Q1"),
        (1, "2026-04-01", "2026Q2"),
        (2, "2026-02-01", "2027Q1"),
        (2, "2026-01-31", "2026Q4"),
        (7, "2026-07-15", "2027Q1"),
        (7, "2026-06-30", "2026Q4"),
        (10, "2026-12-31", "2027Q1"),
    ],
)
def test_fiscal_quarters_agree_between_python_and_sql(
    tmp_path: Path, start_month: int, day: str, expected: str
) -> None:
    d = dt.date.fromisoformat(day)
    q = quarter_of(d, start_month)
    assert str(q) == expected
    assert q.start <= d <= q.end
    assert parse_quarter(expected, start_month) == q
    ws = Workspace(tmp_path / "q.duckdb")
    ws.set_fiscal_year_start(start_month)
    ws.import_deals(
        pd.DataFrame(
            {"deal_id": ["a"], "outcome": ["won"], "created_at": ["2020-01-01"], "closed_at": [day]}
        )
    )
    assert ws.deals()["quarter"].tolist() == [expected]
    ws.close()


def test_quarter_navigation() -> None:
    q = parse_quarter("2026Q1")
    assert str(q.previous()) == "2025Q4" and str(q.next()) == "2026Q2"
    assert q.start == dt.date(2026, 1, 1) and q.end == dt.date(2026, 3, 31)


def test_derived_fields(ws: Workspace) -> None:
    ws.import_deals(
        pd.DataFrame(
            {
                "deal_id": ["a", "b"],
                "outcome": ["won", "open"],
                "created_at": ["2026-01-10", "2026-02-01"],
                "closed_at": ["2026-03-01", None],
                "critical_event_date": ["2026-04-20", None],
                "champion_start_date": ["2025-12-01", "2020-02-01"],
            }
        )
    )
    d = ws.deals().set_index("deal_id")
    assert d.loc["a", "cycle_days"] == 50
    assert d.loc["a", "days_to_critical_event"] == 100
    assert d.loc["a", "champion_tenure_days"] == 40
    assert pd.isna(d.loc["b", "cycle_days"]) and pd.isna(d.loc["b", "quarter"])
    assert d.loc["b", "champion_tenure_days"] == (dt.date(2026, 2, 1) - dt.date(2020, 2, 1)).days


def test_a_close_before_the_creation_has_no_cycle(ws: Workspace) -> None:
    """Back-dated or swapped dates (the audit lists them) give no cycle: -342 days was counted
    among the shortest cycles by the concentration search. A same-day close is a 0-day cycle."""
    ws.import_deals(
        pd.DataFrame(
            {
                "deal_id": ["swapped", "same-day", "normal"],
                "outcome": ["won", "lost", "won"],
                "created_at": ["2025-02-05", "2025-03-01 09:00", "2025-01-01"],
                "closed_at": ["2024-02-29", "2025-03-01 08:00", "2025-01-31"],
            }
        )
    )
    d = ws.deals().set_index("deal_id")
    assert pd.isna(d.loc["swapped", "cycle_days"]) and d.loc["swapped", "quarter"] == "2024Q1"
    assert d.loc["same-day", "cycle_days"] == 0 and d.loc["normal", "cycle_days"] == 30


def test_filters(demo_store: Path) -> None:
    from winloss import DealFilter

    ws = Workspace(demo_store, read_only=True)
    allq = ws.closed_deals()
    q = ws.closed_deals(DealFilter(quarter="2026Q2"))
    assert len(q) == (allq["quarter"] == "2026Q2").sum() > 0
    smb = ws.deals(DealFilter(segment="SMB"))
    assert set(smb["segment"]) == {"SMB"}
    ws.close()


def test_a_store_opened_read_only_answers_its_first_arrow_query(tmp_path: Path) -> None:
    """Opening read-only read the schema version with fetchone() and left the result
    unfinished: the first con.sql() (every Arrow read) then failed with 'connection has an
    unfinished result'. Likewise after get_setting()."""
    from winloss import Workspace

    db = tmp_path / "w.duckdb"
    with Workspace(db) as ws:
        ws.import_deals(
            pd.DataFrame(
                {
                    "deal_id": ["a", "b"],
                    "outcome": ["won", "lost"],
                    "created_at": ["2026-01-05"] * 2,
                }
            )
        )
    with Workspace(db, read_only=True) as ws:
        assert ws.store.closed_deal_columns(["deal_id"]).num_rows == 2
        ws.store.get_setting("fiscal_year_start_month")
        assert ws.store.closed_deal_columns(["deal_id"]).num_rows == 2


def test_a_read_only_open_of_an_older_store_reads_todays_views(tmp_path: Path) -> None:
    """A store whose views an older winloss wrote (open deals with a cycle_days) kept them when
    opened read-only: today's views are made temporary for that connection, the file untouched."""
    import hashlib

    import duckdb

    db = tmp_path / "old.duckdb"
    with Workspace(db) as ws:
        ws.import_deals(
            pd.DataFrame(
                {
                    "deal_id": ["a", "b"],
                    "outcome": ["won", "open"],
                    "created_at": ["2026-01-01", "2026-01-02"],
                    "closed_at": ["2026-02-01", "2026-05-01"],
                }
            )
        )
    con = duckdb.connect(str(db))  # what an older version left: other views, older signature
    con.execute(
        "CREATE OR REPLACE VIEW deals_enriched AS SELECT *, 999 AS old_marker, "
        "CAST(date_diff('day', created_at, closed_at) AS BIGINT) AS cycle_days FROM deals"
    )
    con.execute("UPDATE _meta SET value = '2|old' WHERE key = '_views_signature'")
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with Workspace(db, read_only=True) as ws:
        deals = ws.deals().set_index("deal_id")
    assert "old_marker" not in deals.columns
    assert pd.isna(deals.loc["b", "cycle_days"]) and deals.loc["a", "cycle_days"] == 31
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    with Workspace(db) as ws:  # a writable open rewrites them for good
        assert "old_marker" not in ws.deals().columns
    con = duckdb.connect(str(db), read_only=True)
    assert "old_marker" not in {r[0] for r in con.execute("DESCRIBE deals_enriched").fetchall()}
    con.close()


def _store_before_the_competitor_migration(db: Path) -> Any:
    """A store as the schema before captures.competitor/interviewee left it (deal a lost to
    Acme, deal b won): views dropped, both columns dropped, the schema version one back. Returns
    an open DuckDB connection to it for the caller's own rows; the caller closes it."""
    import duckdb

    with Workspace(db) as ws:
        ws.import_deals(
            pd.DataFrame(
                {
                    "deal_id": ["a", "b"],
                    "outcome": ["lost", "won"],
                    "created_at": ["2026-01-01", "2026-01-02"],
                    "closed_at": ["2026-02-01", "2026-02-03"],
                    "competitor": ["Acme", None],
                }
            )
        )
    con = duckdb.connect(str(db))
    for view in ("deal_field_sources", "deals_enriched", "deals_resolved", "capture_values"):
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute("ALTER TABLE captures DROP COLUMN competitor")
    con.execute("ALTER TABLE captures DROP COLUMN interviewee")
    con.execute(
        "UPDATE _meta SET value = ? WHERE key = 'schema_version'", [str(len(MIGRATIONS) - 1)]
    )
    return con


def test_migration_splits_the_interviewee_out_of_captured_by(tmp_path: Path) -> None:
    """The web app wrote a buyer interview's interviewee into captured_by ("boss (interviewed Jo,
    CFO)"); the migration that adds the interviewee and competitor columns splits it out."""
    db = tmp_path / "old.duckdb"
    con = _store_before_the_competitor_migration(db)
    con.execute(
        "INSERT INTO captures (deal_id, captured_at, respondent, primary_reason, captured_by) "
        "VALUES ('a', '2026-02-03 10:00', 'buyer', 'Price', 'boss (interviewed Jo, CFO (EMEA))'),"
        " ('a', '2026-02-02 10:00', 'rep', 'Price', 'ann (interviewed nobody)')"
    )
    con.close()
    with Workspace(db) as ws:
        assert ws.store.schema_version == len(MIGRATIONS)
        caps = ws.deal_captures("a").set_index("respondent")
        assert caps.loc["buyer", "captured_by"] == "boss"
        assert caps.loc["buyer", "interviewee"] == "Jo, CFO (EMEA)"
        # only buyer interviews were written so; a rep's own text stays as it was
        assert caps.loc["rep", "captured_by"] == "ann (interviewed nobody)"
        assert pd.isna(caps.loc["rep", "interviewee"])
        assert ws.deal("a")["competitor"] == "Acme"  # no capture names one: the CRM's stays


def test_a_read_only_open_of_a_store_before_the_competitor_migration_reads_its_deals(
    tmp_path: Path,
) -> None:
    """A read-only open builds today's views for that connection without running migrations:
    the views read captures.competitor, which an older store lacks ("damaged or unreadable:
    Binder Error: Column competitor")."""
    db = tmp_path / "old.duckdb"
    con = _store_before_the_competitor_migration(db)
    con.execute(
        "INSERT INTO captures (deal_id, captured_at, respondent, primary_reason) VALUES "
        "('a', '2026-02-03 10:00', 'buyer', 'Price'), ('a', '2026-02-02 10:00', 'rep', 'Price')"
    )
    con.execute("UPDATE _meta SET value = '2|old' WHERE key = '_views_signature'")
    con.close()
    with Workspace(db, read_only=True) as ws:
        deals = ws.deals().set_index("deal_id")
        assert deals.loc["a", "competitor"] == "Acme" and len(deals) == 2
        assert deals.loc["a", "loss_reason"] == "Price"  # resolved from the captures it has
        # rep and buyer agree on the one field both answered; the missing column is not a field
        fields = ws.capture_agreement().fields.set_index("field")
        assert "competitor" not in fields.index
        assert fields.loc["primary_reason", "deals"] == 1
