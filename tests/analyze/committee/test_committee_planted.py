"""The committee effects planted in the demo company are found: right sign, thresholds within 10 %.

The truth is :data:`winloss.demo.committees_and_usage.PLANTED_COMMITTEE` and the deal-level effects
of :mod:`winloss.demo.generator` (fewer than 2 stakeholders, decision maker engaged, champion hired
≤ 180 days before the deal).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from winloss import Workspace
from winloss.analyze.committee.features import derive_route, normalise_route
from winloss.analyze.committee.result import CommitteeResult
from winloss.demo.committees_and_usage import PLANTED_COMMITTEE
from winloss.demo.generator import PLANTED


@pytest.fixture(scope="module")
def result(demo_store_3000: Path) -> CommitteeResult:
    ws = Workspace(demo_store_3000, read_only=True)
    out = ws.committee()
    ws.close()
    return out


def _found(result: CommitteeResult, key: str) -> object:
    f = result.finding(key)
    assert f is not None, f"{key} was not tested"
    assert f.significant, f"{key}: q = {f.q_value}"
    return f


def test_fewer_than_two_engaged_stakeholders_loses(result: CommitteeResult) -> None:
    f = _found(result, "engaged_stakeholders")
    assert f.direction == "loss"  # type: ignore[attr-defined]
    assert f.threshold + 1 == PLANTED["stakeholders_below"]  # type: ignore[attr-defined]
    assert f.statement == "fewer than 2 engaged stakeholders"  # type: ignore[attr-defined]


def test_decision_maker_engaged_wins(result: CommitteeResult) -> None:
    f = _found(result, "has_decision_maker")
    assert f.direction == "win" and f.adjusted_odds_ratio > 1  # type: ignore[attr-defined]


def test_new_champion_threshold_within_ten_percent(result: CommitteeResult) -> None:
    f = _found(result, "champion_tenure_days")
    planted = PLANTED["champion_new_within_days"]
    assert f.direction == "win"  # type: ignore[attr-defined]
    assert abs(f.threshold - planted) <= 0.1 * planted  # type: ignore[attr-defined]


def test_champion_leaving_mid_deal_loses(result: CommitteeResult) -> None:
    f = _found(result, "champion_left")
    assert f.direction == "loss" and f.adjusted_odds_ratio < 1  # type: ignore[attr-defined]


def test_decision_maker_reached_late_loses_near_day_30(result: CommitteeResult) -> None:
    f = _found(result, "days_to_dm")
    planted = PLANTED_COMMITTEE["dm_late_after_days"]
    assert f.direction == "win"  # type: ignore[attr-defined]  # reached early wins
    assert abs(f.threshold - planted) <= 0.1 * planted  # type: ignore[attr-defined]


def test_best_route_per_segment(result: CommitteeResult) -> None:
    expected = {"SMB": "direct", "Mid-Market": "champion", "Enterprise": "champion"}
    for segment, route in expected.items():
        best = result.best_route(segment)
        assert best is not None and best.route == route, (segment, best)
    routes = result.routes[result.routes["size_band"] == "all"].set_index(["segment", "route"])
    # the planted contrasts, by sign: direct beats champion in SMB, and the reverse in Enterprise
    assert routes.loc[("SMB", "direct"), "win_rate"] > routes.loc[("SMB", "champion"), "win_rate"]
    assert (
        routes.loc[("Enterprise", "champion"), "win_rate"]
        > routes.loc[("Enterprise", "direct"), "win_rate"]
    )


def test_no_planted_effect_no_finding(result: CommitteeResult) -> None:
    """Blockers and users have no planted effect (their seats are compared within equal
    committee sizes and decision-maker presence)."""
    for key in ("has_blocker", "has_user"):
        f = result.finding(key)
        assert f is not None and not f.significant, key


def test_derived_routes_agree_with_recorded_ones(result: CommitteeResult) -> None:
    """Independent check of the derivation: on decision makers whose route is recorded, deriving
    it from the introducer and the timeline gives the same route for ≥ 95 % of them."""
    d = result.deals[result.deals["dm_route_source"] == "recorded"]
    derived = [
        derive_route(i, c, r, int(t), bool(b))
        for i, c, r, t, b in zip(
            d["dm_introduced_by"],
            d["champion_id"],
            d["dm_introducer_role"],
            d["threads_before_dm"],
            d["champion_before_dm"],
            strict=True,
        )
    ]
    recorded = d["dm_recorded_route"].map(normalise_route)
    assert (pd.Series(derived, index=d.index) == recorded).mean() >= 0.95


def test_win_rates_match_pandas(result: CommitteeResult) -> None:
    closed = result.deals[result.deals["outcome"] != "open"]
    won = closed["outcome"] == "won"
    f = result.finding("engaged_stakeholders")
    assert f is not None
    single = closed["engaged_stakeholders"] < 2
    assert f.group.n == int(single.sum()) and f.group.wins == int((single & won).sum())
    row = result.by_engaged[result.by_engaged["engaged_stakeholders"] == "2"].iloc[0]
    assert row["win_rate"] == pytest.approx(won[closed["engaged_stakeholders"] == 2].mean())


def test_open_deal_flags_follow_the_findings(result: CommitteeResult) -> None:
    risks = result.risks.set_index("deal_id")
    open_deals = result.deals[result.deals["outcome"] == "open"].set_index("deal_id")
    single = open_deals.index[open_deals["engaged_stakeholders"] < 2]
    assert len(single) and all("single-threaded" in risks.loc[d, "flags"] for d in single)
    no_dm = open_deals.index[~open_deals["has_decision_maker"].astype(bool)]
    assert all("no decision maker" in risks.loc[d, "flags"] for d in no_dm)
    # new champions win more in the demo: being new is no risk
    assert not risks["flags"].str.contains("champion new").any()
    smb = risks[(risks["segment"] == "SMB") & risks["flags"].str.contains("no decision maker")]
    assert len(smb) and set(smb["suggested_route"]) <= {
        "direct",
        "customer_introduction",
        "partner_introduction",
        "champion",
        "consensus",
    }
    assert (smb["suggested_route"] == "direct").mean() >= 0.5
