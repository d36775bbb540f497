"""The real public datasets in ../shared/data import with their presets (skipped when absent)."""

from __future__ import annotations

import pytest

from tests.conftest import IBM_CSV, MAVEN_CSV, require
from winloss import DuplicateKeyError, Workspace


def test_ibm_refuses_duplicates_then_imports_keep_last(ws: Workspace) -> None:
    path = require(IBM_CSV)
    with pytest.raises(DuplicateKeyError) as info:
        ws.import_deals(path)
    assert info.value.surplus_rows == 196
    assert "Nothing was imported" in str(info.value)
    assert ws.store.count("deals") == 0
    result = ws.import_deals(path, on_duplicate="keep-last")
    assert result.rows_read == 78_025
    assert result.inserted == 78_025 - 196
    counts = ws.store.query("SELECT outcome, count(*) AS n FROM deals GROUP BY 1")
    assert set(counts["outcome"]) == {"won", "lost"}
    # Competitor Type keeps the literal category "None"
    comp = ws.store.query("SELECT competitor_type, count(*) AS n FROM deals GROUP BY 1")
    assert "None" in set(comp["competitor_type"])
    assert comp["competitor_type"].notna().all()
    known = {f.name: f.known for f in ws.field_catalog()}
    for col in (
        "elapsed_days_in_sales_stage",
        "sales_stage_change_count",
        "total_days_identified_through_closing",
        "total_days_identified_through_qualified",
        "ratio_days_identified_to_total_days",
        "ratio_days_validated_to_total_days",
        "ratio_days_qualified_to_total_days",
    ):
        assert known[col] == "after", col
    assert known["competitor_type"] == "before"


def test_ibm_totals_survive_the_round_trip(ws: Workspace) -> None:
    """Total amount and wins equal an independent pandas computation on the same rows."""
    import pandas as pd

    path = require(IBM_CSV)
    ws.import_deals(path, on_duplicate="keep-last")
    raw = pd.read_csv(path).drop_duplicates("Opportunity Number", keep="last")
    stored = ws.deals()
    assert len(stored) == len(raw)
    assert stored["amount"].sum() == pytest.approx(raw["Opportunity Amount USD"].sum())
    assert (stored["outcome"] == "won").sum() == (raw["Opportunity Result"] == "Won").sum()


def test_maven_imports_open_deals_as_open_and_joins_side_files(ws: Workspace) -> None:
    path = require(MAVEN_CSV)
    result = ws.import_deals(path)
    assert result.inserted == 8_800
    outcomes = dict(
        ws.store.con.execute("SELECT outcome, count(*) FROM deals GROUP BY 1").fetchall()
    )
    assert outcomes == {"won": 4_238, "lost": 2_473, "open": 2_089}
    d = ws.deals()
    # the sector comes from accounts.csv, the region from sales_teams.csv
    assert "technolgy" in set(d["industry"].dropna())
    assert d["region"].notna().all()
    unmatched = ws.store.query("SELECT * FROM unmatched_values WHERE field = 'product'")
    assert unmatched["value"].tolist() == ["GTXPro"]
    assert any("no created date" in n for n in result.notes)


TELCO_CSV = MAVEN_CSV.parents[1] / "ibm_telco_customer_churn" / "Telco-Customer-Churn.csv"


@pytest.mark.realdata
def test_telco_won_value_alone_makes_the_other_value_lost(ws: Workspace) -> None:
    """Issue #9: ``--won-value No`` on Telco stores 5,174 won / 1,869 lost (counted here with
    the csv module, independently of winloss)."""
    import csv

    path = require(TELCO_CSV)
    with path.open(newline="") as fh:
        churn = [row["Churn"] for row in csv.DictReader(fh)]
    options = {
        "columns": {"deal_id": "customerID", "outcome": "Churn"},
        "won_values": ("No",),
        "no_dates": True,
    }
    check = ws.check("deals", path, **options)
    assert check.problems.empty and check.outcomes == {
        "won": churn.count("No"),
        "lost": churn.count("Yes"),
        "open": 0,
    }
    result = ws.import_deals(path, **options)
    assert dict(result.outcomes) == {"won": 5_174, "lost": 1_869, "open": 0}
    stored = dict(ws.store.con.execute("SELECT outcome, count(*) FROM deals GROUP BY 1").fetchall())
    assert stored == {"won": 5_174, "lost": 1_869}


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("flag", "parts"),
    [
        ({"outcome": "NoSuchCol"}, ("'NoSuchCol'", "has no column")),
        ({"amount": "close_valu"}, ("'close_valu'", "did you mean 'close_value'")),
        ({"foo": "deal_stage"}, ("unknown column role 'foo'", "roles are")),
    ],
)
def test_maven_wrong_column_flags_are_refused(
    ws: Workspace, flag: dict[str, str], parts: tuple[str, ...]
) -> None:
    from winloss import UsageError

    path = require(MAVEN_CSV)
    with pytest.raises(UsageError) as info:
        ws.import_deals(path, columns=flag)
    assert all(p in str(info.value) for p in parts)
    assert ws.store.count("deals") == 0
