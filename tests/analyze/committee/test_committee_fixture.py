"""The committee features and statistics on small fixtures whose answers are computed by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from winloss import Workspace
from winloss.analyze.committee.analysis import CommitteeAnalysis
from winloss.analyze.committee.features import derive_route, normalise_route
from winloss.analyze.stats.stratified import mantel_haenszel
from winloss.analyze.stats.threshold_scan import candidate_cuts, scan_cuts

T = pd.Timestamp


def _deal(
    deal_id: str, outcome: str, segment: str, closed: str | None, amount: float = 1000.0
) -> dict[str, object]:
    return {
        "deal_id": deal_id,
        "account_id": f"A-{deal_id}",
        "created_at": T("2026-01-01"),
        "closed_at": T(closed) if closed else T("2026-09-01"),
        "outcome": outcome,
        "segment": segment,
        "amount": amount,
    }


DEALS = pd.DataFrame(
    [
        _deal("D1", "won", "SMB", "2026-03-01"),
        _deal("D2", "lost", "SMB", "2026-03-01"),
        _deal("D3", "won", "Enterprise", "2026-03-01"),
        _deal("D4", "lost", "Enterprise", "2026-03-01"),
        {**_deal("D5", "open", "SMB", None), "created_at": T("2026-05-01")},
        _deal("D6", "won", "Mid-Market", "2026-03-01"),
        _deal("D7", "lost", "Mid-Market", "2026-03-01"),
    ]
)

_S = [
    "deal_id",
    "contact_id",
    "role",
    "seniority",
    "start_date",
    "engaged_at",
    "reached_via",
    "introduced_by",
    "left_at",
]
PEOPLE = pd.DataFrame(
    [
        # D1: the DM was introduced by the champion (rule 1), 10 days in; champion hired 31 days before
        ("D1", "D1-C1", "champion", "manager", T("2025-12-01"), T("2026-01-01"), None, None, None),
        ("D1", "D1-C2", "decision_maker", "c-level", None, T("2026-01-11"), None, "D1-C1", None),
        # D2: DM engaged the same day as the champion (nobody before: direct); champion left mid-deal
        ("D2", "D2-C1", "champion", "manager", None, T("2026-01-01"), None, None, T("2026-02-01")),
        ("D2", "D2-C2", "decision_maker", "c-level", None, T("2026-01-01"), None, None, None),
        # D3: the economic buyer was only ever met in an activity (day 19), after two threads:
        # consensus; D3-C4 is listed but never engaged
        ("D3", "D3-C1", "champion", "director", None, T("2026-01-01"), None, None, None),
        ("D3", "D3-C2", "influencer", "manager", None, T("2026-01-05"), None, None, None),
        ("D3", "D3-C3", "economic_buyer", "vp", None, None, None, None, None),
        ("D3", "D3-C4", "user", "staff", None, None, None, None, None),
        # D4: a recorded route wins over the introducer
        ("D4", "D4-C1", "champion", "manager", None, T("2026-01-01"), None, None, None),
        (
            "D4",
            "D4-C2",
            "decision_maker",
            "c-level",
            None,
            T("2026-02-01"),
            "Partner introduction",
            "customer",
            None,
        ),
        # D5: open and single-threaded
        ("D5", "D5-C1", "champion", "manager", None, T("2026-05-01"), None, None, None),
        # D6: introduced by a customer
        ("D6", "D6-C1", "champion", "manager", None, T("2026-01-01"), None, None, None),
        ("D6", "D6-C2", "decision_maker", "c-level", None, T("2026-01-03"), None, "customer", None),
        # D7: one thread before the DM, and it is not a champion: other
        ("D7", "D7-C1", "influencer", "manager", None, T("2026-01-01"), None, None, None),
        ("D7", "D7-C2", "decision_maker", "c-level", None, T("2026-01-10"), None, None, None),
        # a row whose deal is not in the store
        ("D-GHOST", "X1", "champion", "manager", None, T("2026-01-01"), None, None, None),
    ],
    columns=_S,
)

ACTIVITIES = pd.DataFrame(
    [
        ("A1", "D3", "D3-C3", "meeting", T("2026-01-20 10:00")),
        ("A2", "D3", "D3-C1", "call", T("2026-01-02 10:00")),
        ("A3", "D-GHOST", "X1", "call", T("2026-01-02 10:00")),
    ],
    columns=["activity_id", "deal_id", "contact_id", "type", "occurred_at"],
)


@pytest.fixture(scope="module")
def result() -> object:
    ws = Workspace(":memory:")
    ws.import_file("deals", DEALS)
    ws.import_file("stakeholders", PEOPLE, on_orphan="keep")  # the ghost deal: reported, not joined
    ws.import_file("activities", ACTIVITIES, on_orphan="keep")
    out = CommitteeAnalysis(min_support=1, as_of=dt.date(2026, 6, 1)).run(ws.store)
    ws.close()
    return out


def test_features_by_hand(result: object) -> None:
    f = result.deals.set_index("deal_id")  # type: ignore[attr-defined]
    assert f["engaged_stakeholders"].to_dict() == {
        "D1": 2,
        "D2": 2,
        "D3": 3,
        "D4": 2,
        "D5": 1,
        "D6": 2,
        "D7": 2,
    }
    assert f.loc["D3", "listed_stakeholders"] == 4
    assert f["dm_route"].to_dict() == {
        "D1": "champion",
        "D2": "direct",
        "D3": "consensus",
        "D4": "partner_introduction",
        "D5": None,
        "D6": "customer_introduction",
        "D7": "other",
    }
    assert f.loc["D4", "dm_route_source"] == "recorded"
    assert f.loc["D3", "dm_route_source"] == "derived"
    assert f["days_to_dm"].dropna().astype(int).to_dict() == {
        "D1": 10,
        "D2": 0,
        "D3": 19,
        "D4": 31,
        "D6": 2,
        "D7": 9,
    }
    assert f.loc["D1", "champion_tenure_days"] == 31
    assert bool(f.loc["D2", "champion_left"]) and not bool(f.loc["D1", "champion_left"])
    assert f.loc["D3", "seniority_levels"] == 3  # director, manager, vp (the user never engaged)
    assert not f.loc["D7", "has_champion"] and f.loc["D3", "has_decision_maker"]


def test_orphan_rows_are_reported_with_their_keys(result: object) -> None:
    warnings = " ".join(result.warnings)  # type: ignore[attr-defined]
    assert "1 stakeholders row(s) reference deals that are not in the store" in warnings
    assert "D-GHOST/X1" in warnings and "A3 (deal D-GHOST)" in warnings
    assert "D-GHOST" not in set(result.deals["deal_id"])  # type: ignore[attr-defined]


def test_open_deal_risks_and_map() -> None:
    ws = Workspace(":memory:")
    ws.import_file("deals", DEALS)
    ws.import_file("stakeholders", PEOPLE, on_orphan="keep")  # the ghost deal: reported, not joined
    ws.import_file("activities", ACTIVITIES, on_orphan="keep")
    out = ws.committee(deal_id="D3", min_support=1, as_of=dt.date(2026, 6, 1))
    assert out.committee_map is not None
    people = out.committee_map.people
    assert people["contact_id"].tolist() == ["D3-C1", "D3-C2", "D3-C3", "D3-C4"]
    assert people.set_index("contact_id").loc["D3-C3", "activities"] == 1
    assert out.committee_map.activities["activity_id"].tolist() == ["A2", "A1"]
    assert out.risks["deal_id"].tolist() == ["D5"]
    ws.close()


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("Top-down", "direct"),
        ("through champion", "champion"),
        ("Champion intro", "champion"),
        ("customer intro", "customer_introduction"),
        ("Partner", "partner_introduction"),
        ("consensus across threads", "consensus"),
        ("met at a conference", "other"),
        ("  ", None),
        (None, None),
    ],
)
def test_route_spellings(text: str | None, route: str | None) -> None:
    assert normalise_route(text) == route


def test_route_derivation_rules() -> None:
    assert derive_route("C1", "C1", None, 3, True) == "champion"  # introducer first
    assert derive_route(None, "C1", None, 1, True) == "champion"
    assert derive_route("partner", "C1", None, 0, False) == "partner_introduction"
    assert derive_route(None, "C1", None, 0, False) == "direct"
    assert derive_route(None, "C1", None, 2, True) == "consensus"
    assert derive_route(None, "C1", None, 1, False) == "other"


def test_threshold_scan_by_hand() -> None:
    x = np.array([1, 1, 1, 2, 2, 3, 3, 3], dtype=float)
    won = np.array([0, 0, 1, 1, 1, 1, 0, 1], dtype=bool)
    np.testing.assert_array_equal(candidate_cuts(x), [1.0, 2.0])
    scan = scan_cuts(x, won, min_support=2)
    np.testing.assert_array_equal(scan.n_in, [3, 5])
    np.testing.assert_array_equal(scan.wins_in, [1, 3])
    # scipy's Fisher test of the same tables (tolerance 1e-9)
    for i, table in enumerate(([[1, 2], [4, 1]], [[3, 2], [2, 1]])):
        assert scan.p_values[i] == pytest.approx(stats.fisher_exact(table)[1], abs=1e-9)
    assert scan.chosen == 0  # the larger |z|
    # landmark: cut 1 sees only deals still running after day 1 (the first two drop out)
    landmark = scan_cuts(x, won, min_support=1, eligible=np.array([1, 1, 5, 5, 5, 5, 5, 5.0]))
    np.testing.assert_array_equal(landmark.n_in, [1, 3])
    np.testing.assert_array_equal(landmark.n_out, [5, 3])


def test_mantel_haenszel_matches_statsmodels() -> None:
    """Reference: statsmodels StratifiedTable (pooled odds ratio; CMH test with correction)."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    rng = np.random.default_rng(1)
    strata = rng.integers(0, 3, 400)
    group = rng.random(400) < 0.3 + 0.15 * strata
    won = rng.random(400) < 0.25 + 0.1 * strata + 0.1 * group
    ratio, p = mantel_haenszel(group, won, strata)
    tables = [
        np.array(
            [
                [np.sum(group & won & (strata == s)), np.sum(group & ~won & (strata == s))],
                [np.sum(~group & won & (strata == s)), np.sum(~group & ~won & (strata == s))],
            ]
        )
        for s in range(3)
    ]
    ref = StratifiedTable(tables)
    assert ratio == pytest.approx(ref.oddsratio_pooled, rel=1e-9)
    assert p == pytest.approx(ref.test_null_odds(correction=True).pvalue, rel=1e-9)
