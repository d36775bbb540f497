"""The demo's planted path effects (demo/generator.py PATH_EFFECTS) are recovered per segment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from winloss import Workspace
from winloss.analyze.paths.analysis import ChainSettings, NextAction, PathChains


@pytest.fixture(scope="module")
def ws(demo_store_1500: Path) -> Iterator[Workspace]:
    w = Workspace(demo_store_1500, read_only=True)
    yield w
    w.close()


def test_executive_meeting_is_an_enterprise_micro_action(ws: Workspace) -> None:
    result = PathChains(by="segment", bootstrap=100).run(ws.store)
    micro = result.micro_actions
    hit = micro[(micro["group"] == "Enterprise") & (micro["action"] == "executive meeting")]
    assert len(hit) == 1
    assert not ((micro["group"] != "Enterprise") & (micro["action"] == "executive meeting")).any()
    # the segment models are shrunk towards the pooled one, not replaced by it
    assert 1 < result.prior_strength < 10_000


def test_next_action_ranks_the_executive_meeting_higher_in_enterprise(ws: Workspace) -> None:
    result = NextAction(by="segment", bootstrap=100).run(ws.store)
    c = result.candidates
    assert set(c["deal_id"]) == set(
        ws.deals(closed_only=False).query("outcome == 'open'")["deal_id"]
    )
    exec_rows = c[c["action"] == "executive meeting"]
    by_group = exec_rows.groupby("group")["p_win_after"].mean()
    assert by_group["Enterprise"] > by_group["Mid-Market"] > by_group["SMB"]
    # the same state: the intervals of Enterprise and SMB after an executive meeting do not overlap
    table = ChainSettings(by="segment", bootstrap=100).load(ws.store)
    fitted = ChainSettings(by="segment", bootstrap=100).fit(table)
    after: dict[str, tuple[float, float, float]] = {}
    for name in ("Enterprise", "SMB"):
        fit = fitted.segments[name]
        state = fit.model.state_code(["email", "call", "discovery call", "executive meeting"])
        i = fit.chain.index(state)
        low, high = fit.win_interval
        after[name] = (fit.chain.p_win[i], low[i], high[i])
    assert after["Enterprise"][1] > after["SMB"][2]
    assert "not a causal effect" in result.caveat


def test_order_two_chain_sees_the_demo_before_discovery(ws: Workspace) -> None:
    settings = ChainSettings(order=2, bootstrap=100)
    fit = settings.fit(settings.load(ws.store)).pooled
    low, high = fit.win_interval
    demo = fit.chain.index(fit.model.state_code(["email", "demo"]))
    call = fit.chain.index(fit.model.state_code(["email", "call"]))
    assert fit.chain.p_win[demo] < fit.chain.p_win[call]
    assert high[demo] < low[call]
    assert fit.visits(fit.model.state_code(["email", "demo"])) >= 100


def test_unknown_deal_is_a_usage_error(ws: Workspace) -> None:
    from winloss.errors import UsageError

    with pytest.raises(UsageError, match="no deal 'D-NOPE'"):
        NextAction(deal_ids=("D-NOPE",), bootstrap=0).run(ws.store)
