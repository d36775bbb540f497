"""Captures fill the deals' SPICED fields (buyer > rep > CRM, latest first) and the audit sees it.

Fixture: 6 closed deals and 1 open. Hand count of ``pain_category`` on the 6 closed deals:
CRM fills D1 only (1/6). Captures: D1 rep "ux" (D1 stays filled), D2 rep "process", D3 rep "cost"
then buyer "technology", D4 two rep captures, the later one blank on pain and the earlier "ux",
D7 (open) rep "cost". After import, filled closed deals: D1, D2, D3, D4 = 4/6.
``stakeholders``: CRM none; D3 buyer 4 → 1/6.
"""

from __future__ import annotations

import pandas as pd
import pytest

from winloss.workspace import Workspace


def _deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4", "D5", "D6", "D7"],
            "created_at": ["2024-01-02"] * 7,
            "closed_at": [
                "2024-03-01",
                "2024-03-02",
                "2024-03-03",
                "2024-03-04",
                "2024-03-05",
                "2024-03-06",
                "2024-06-30",
            ],
            "outcome": ["won", "lost", "lost", "won", "lost", "won", "open"],
            "owner": ["ann", "ann", "bob", "bob", "bob", "ann", "ann"],
            "pain_category": ["cost", None, None, None, None, None, None],
            "loss_reason": [None, "price", None, None, "timing", None, None],
        }
    )


def _captures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D3", "D4", "D4", "D7"],
            "captured_at": [
                "2024-03-03",
                "2024-03-04",
                "2024-03-05",
                "2024-03-20",
                "2024-03-05",
                "2024-03-09",
                "2024-07-01",
            ],
            "respondent": ["rep", "rep", "rep", "buyer", "rep", "rep", "rep"],
            "pain_category": ["ux", "process", "cost", "technology", "ux", None, "cost"],
            "stakeholders": [None, None, 2, 4, None, None, None],
            "primary_reason": [None, "product gap", "price", "no budget", "champion", None, None],
        }
    )


@pytest.fixture()
def ws() -> Workspace:
    w = Workspace(":memory:")
    w.import_deals(_deals())
    return w


def _completeness(ws: Workspace, field: str) -> float:
    table = ws.audit().completeness
    return float(table.loc[table["field"] == field, "completeness"].iloc[0])


def test_captures_change_spiced_fields_and_audit_completeness(ws: Workspace) -> None:
    assert _completeness(ws, "pain_category") == pytest.approx(1 / 6)
    assert _completeness(ws, "stakeholders") == pytest.approx(0 / 6)
    ws.import_file("captures", _captures())
    deals = ws.deals().set_index("deal_id")
    # buyer over rep over CRM; latest non-blank answer within one respondent
    assert deals.loc["D1", "pain_category"] == "ux"  # rep over CRM "cost"
    assert deals.loc["D2", "pain_category"] == "process"
    assert deals.loc["D3", "pain_category"] == "technology"  # buyer over rep
    assert deals.loc["D4", "pain_category"] == "ux"  # later capture blank: earlier kept
    assert deals.loc["D3", "stakeholders"] == 4
    # primary_reason fills the outcome's reason
    assert deals.loc["D3", "loss_reason"] == "no budget"
    assert deals.loc["D2", "loss_reason"] == "product gap"
    assert deals.loc["D4", "win_reason"] == "champion"
    assert deals.loc["D5", "loss_reason"] == "timing"  # CRM value, no capture
    assert _completeness(ws, "pain_category") == pytest.approx(4 / 6)
    assert _completeness(ws, "stakeholders") == pytest.approx(1 / 6)
    src = ws.field_sources().set_index(["deal_id", "field"])["source"]
    assert src[("D1", "pain_category")] == "rep"
    assert src[("D3", "pain_category")] == "buyer"
    assert src[("D5", "loss_reason")] == "crm"
    assert pd.isna(src[("D6", "pain_category")])
    counts = ws.field_source_counts()
    pain = counts[counts["field"] == "pain_category"].set_index("source")["deals"].to_dict()
    assert pain == {"rep": 3, "buyer": 1, "blank": 2}
    loss = counts[counts["field"] == "loss_reason"].set_index("source")["deals"].to_dict()
    assert loss == {"rep": 1, "buyer": 1, "crm": 1}  # D2, D3, D5: the lost deals only


def test_precedence_is_configurable(ws: Workspace) -> None:
    ws.import_file("captures", _captures())
    ws.set_capture_precedence("crm,rep")
    deals = ws.deals().set_index("deal_id")
    assert deals.loc["D1", "pain_category"] == "cost"  # CRM first
    assert deals.loc["D3", "pain_category"] == "cost"  # buyer ignored
    assert ws.capture_precedence == ("crm", "rep")
    from winloss.errors import UsageError

    with pytest.raises(UsageError, match="at most once"):
        ws.set_capture_precedence("rep,rep")


def test_pending_and_coverage(ws: Workspace) -> None:
    import datetime as dt

    ws.import_file("captures", _captures())
    pending = ws.pending_captures("bob", freshness_days=7, today=dt.date(2024, 3, 10))
    assert pending["deal_id"].tolist() == ["D5"]
    assert pending["days_left"].tolist() == [2]  # 2024-03-05 + 7 - 2024-03-10
    cov = ws.capture_coverage(freshness_days=3).set_index("owner")
    # ann: D1 (2 days), D2 (2 days), D6 none; bob: D3 (2), D4 (1), D5 none
    assert cov.loc["ann", ["closed", "captured", "fresh", "buyer"]].tolist() == [3, 2, 2, 0]
    assert cov.loc["bob", ["closed", "captured", "fresh", "buyer"]].tolist() == [3, 2, 2, 1]


def test_record_capture_validates_vocabulary(ws: Workspace) -> None:
    from winloss.errors import WinlossError

    ws.record_capture(
        "D6", "rep", {"pain_category": "Price", "stakeholders": "3"}, captured_by="ann"
    )
    assert ws.deal("D6")["pain_category"] == "cost"  # synonym normalised
    with pytest.raises(WinlossError):
        ws.record_capture("D6", "rep", {"pain_category": "astrology"}, captured_by="ann")
    with pytest.raises(WinlossError, match="unknown deal"):
        ws.record_capture("NOPE", "rep", {}, captured_by="ann")
