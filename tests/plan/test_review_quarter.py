"""Quarters without closed deals: refused outside the data, not measurable or counted as 0 inside
it; closed deals without a close date are named at import and in the QBR."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from winloss import Workspace
from winloss.errors import UsageError


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Demo deals with every deal that closed in the second-to-last quarter removed."""
    from winloss.demo.generator import generate_deals

    deals = generate_deals(500, seed=11)
    closed = deals[deals["outcome"] != "open"]
    quarters = sorted(pd.PeriodIndex(pd.to_datetime(closed["closed_at"]), freq="Q").astype(str))
    last = quarters[-1]
    quiet = str(pd.Period(last, freq="Q") - 1)
    in_quiet = (deals["outcome"] != "open") & (
        pd.PeriodIndex(pd.to_datetime(deals["closed_at"]), freq="Q").astype(str) == quiet
    )
    ws = Workspace(tmp_path_factory.mktemp("quiet") / "quiet.duckdb")
    ws.import_deals(deals[~in_quiet])
    ws.quiet = quiet  # type: ignore[attr-defined]
    return ws


def test_capture_fixes_in_a_quarter_with_no_closes_are_not_measurable(quiet: Workspace) -> None:
    q = quiet.quiet  # type: ignore[attr-defined]
    before = str(pd.Period(q, freq="Q") - 1)
    first = quiet.plan(quarter=before, adjustments=False)
    assert [a for a in first.actions if a.kind == "capture"]
    plan = quiet.plan(quarter=q, adjustments=False, record=False)
    remeasured = plan.lists["remeasured"]
    earlier = {a.key for a in first.actions if a.kind in ("capture", "qualification")}
    assert {r["key"] for r in remeasured} == earlier
    # an empty quarter's audit has no issues: that is not a fix
    assert all(r["status"] == f"not measurable: no deals closed in {q}" for r in remeasured)
    assert not any(r.get("status") == "fixed" for r in remeasured)


def test_a_quarter_after_or_before_the_data_is_refused(quiet: Workspace) -> None:
    closed = quiet.closed_deals()
    last = sorted(closed["quarter"].dropna().astype(str))[-1]
    first = sorted(closed["quarter"].dropna().astype(str))[0]
    with pytest.raises(UsageError, match=r"2031Q4 has no closed deals: it lies after the last"):
        quiet.plan(quarter="2031Q4", adjustments=False, record=False)
    with pytest.raises(
        UsageError, match=rf"lies before the first quarter with closed deals \({first}"
    ):
        quiet.report(quarter="2010Q1")
    with pytest.raises(UsageError, match=rf"Give a quarter from {first} to {last}"):
        quiet.report(quarter="2031Q4")
    assert quiet.store.count("action_register") == 0 or "2031Q4" not in set(
        quiet.store.query("SELECT period FROM action_register")["period"]
    )


def test_forecast_far_after_the_pipeline_is_refused(quiet: Workspace) -> None:
    deals = quiet.deals()
    open_close = pd.to_datetime(deals.loc[deals["outcome"] == "open", "closed_at"]).max()
    with pytest.raises(UsageError, match=r"its forecast would be 0 by construction"):
        quiet.forecast("2031Q4")
    assert open_close.year < 2031


def test_import_says_which_closed_deals_have_no_close_date(tmp_path: Path) -> None:
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "Opportunity ID,Stage,Amount,Created Date,Close Date,Opportunity Owner\n"
        "006A1,Closed Won,1000,2025-01-05,2025-03-01,Ann\n"
        "006A2,Closed Lost,2000,2025-01-07,2025-03-11,Bob\n"
        "006A3,Closed Won,1500,2025-02-05,,Ann\n"
        "006A4,Closed Lost,2500,2025-02-07,2025-04-11,Bob\n"
        "006A5,Prospecting,2500,2025-03-07,,Bob\n",
        encoding="utf-8",
    )
    ws = Workspace(tmp_path / "s.duckdb")
    result = ws.import_file("deals", csv)
    notes = [n for n in result.notes if "no close date" in n]
    # the open deal without an expected close is not a closed deal: only line 4 is named
    assert len(notes) == 1 and "1 closed deal(s)" in notes[0] and "row(s) 4)" in notes[0]
    assert ws.store.count("deals") == 5  # imported, not dropped
    qbr = ws.qbr()
    assert qbr.inputs.n == 4
    assert any(w.startswith("1 of the 4 closed deals have no close date") for w in qbr.warnings)


def test_coverage_averages_quarters_without_closes_as_zero(quiet: Workspace) -> None:
    from winloss.model.deals import DealFilter

    q = quiet.quiet  # type: ignore[attr-defined]
    closed = quiet.closed_deals()
    last = sorted(closed["quarter"].dropna().astype(str))[-1]
    won = closed[closed["outcome"] == "won"].groupby("quarter")["amount"].sum()
    recent = [str(pd.Period(last, freq="Q") - i) for i in (3, 2, 1, 0)]
    assert q in recent and q not in won.index
    expected = sum(float(won.get(r, 0.0)) for r in recent) / 4
    every = quiet.qbr().coverage
    assert every is not None and every["quarters_averaged"] == recent
    assert every["average_bookings"] == pytest.approx(expected)
    # the same figure whatever period the QBR is scoped to (the report scopes it to its window)
    scoped = quiet.qbr(DealFilter(quarter=last)).coverage
    assert scoped is not None and scoped["average_bookings"] == pytest.approx(expected)
    # a past quarter's review shows no coverage of a quarter that is already over
    past = quiet.qbr(DealFilter(quarter=recent[0]))
    assert past.coverage is None
    assert any(s.startswith(f"pipeline coverage: {recent[1]} is over") for s in past.skipped)


def test_coverage_names_open_deals_expected_before_the_next_quarter(tmp_path: Path) -> None:
    """Open deals whose expected close is before the quarter covered are not in its coverage:
    the QBR says how many and how much, so a stale pipeline is not read as a thin one."""
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,amount\n"
        "w1,won,2025-01-05,2025-03-01,1000\nl1,lost,2025-01-06,2025-03-02,500\n"
        "w2,won,2025-04-05,2025-06-01,3000\n"
        "o1,open,2025-05-01,2025-04-30,700\n"  # expected close already passed
        "o2,open,2025-05-02,2025-06-20,800\n"  # expected in the quarter under review
        "o3,open,2025-05-03,2025-08-15,900\n",  # expected in the next quarter
        encoding="utf-8",
    )
    with Workspace(tmp_path / "w.duckdb") as ws:
        ws.import_deals(csv)
        result = ws.qbr()
    c = result.coverage
    assert c is not None and c["quarter"] == "2025Q3"
    assert (c["open_deals"], c["open_pipeline"]) == (1, 900.0)
    # the data ends on 2025-06-01 (the last close): o1's expected close has passed, o2's is
    # later in the running quarter
    assert (c["past_due_deals"], c["past_due_pipeline"]) == (1, 700.0)
    assert (c["due_before_deals"], c["due_before_pipeline"]) == (1, 800.0)
    # 2025Q2's closes stop on 2025-06-01, 29 days before its end (a partial quarter, as the
    # report's headline calls it): only the complete 2025Q1 is averaged
    assert c["quarters_averaged"] == ["2025Q1"] and c["average_bookings"] == pytest.approx(1000)
    assert any(
        "1 open deal(s) (700) have an expected close date that has passed" in w
        for w in result.warnings
    )
    assert any("1 open deal(s) (800) are expected to close after" in w for w in result.warnings)


def test_audit_and_qbr_refuse_a_quarter_outside_the_data(quiet: Workspace) -> None:
    """Like the plan and the report: not 'audited 0 deals (0 closed): 0 issue(s)'."""
    from winloss.model.deals import DealFilter

    with pytest.raises(UsageError, match=r"2031Q4 has no closed deals: it lies after the last"):
        quiet.audit(quarter="2031Q4")
    with pytest.raises(UsageError, match=r"2010Q1 has no closed deals: it lies before the first"):
        quiet.qbr(DealFilter(quarter="2010Q1"))
    # a quiet quarter inside the data is still audited (nothing closed there, and it says so)
    q = quiet.quiet  # type: ignore[attr-defined]
    assert quiet.audit(quarter=q).inputs["closed_deals"] == 0


def test_audit_names_open_deals_without_dates(tmp_path: Path) -> None:
    """Maven's 2,089 open deals have no expected close and 500 no created date: the QBR skipped
    coverage for it and the forecast guessed timing, but the fix list did not say so."""
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,amount\n"
        "w1,won,2025-01-05,2025-03-01,1000\nl1,lost,2025-01-06,2025-03-02,500\n"
        "o1,open,2025-05-01,,700\no2,open,,,800\no3,open,2025-05-03,2025-08-15,900\n",
        encoding="utf-8",
    )
    with Workspace(tmp_path / "w.duckdb") as ws:
        ws.import_deals(csv)
        audit = ws.audit()
    titles = [i.title for i in audit.issues]
    assert "2 of 3 open deals have no expected close date" in titles
    assert "1 of 3 open deals has no created date" in titles
