"""The demo's committee paragraph when nothing is significant."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from winloss.demo.committee_steps import committees


def test_no_significant_finding_is_said_rather_than_an_empty_list() -> None:
    # "261 closed deals, 161 hypotheses:" was followed by nothing at all
    finding = SimpleNamespace(significant=False)
    result = SimpleNamespace(
        inputs=SimpleNamespace(n=261),
        hypotheses_tested=161,
        findings=[finding],
        best_routes=[],
        risks=pd.DataFrame({"risk_count": [0, 2]}),
    )
    ws: Any = SimpleNamespace(committee=lambda: result)
    lines = committees(ws, None).splitlines()  # type: ignore[arg-type]
    assert lines == [
        "261 closed deals, 161 hypotheses:",
        "  none is significant after the correction for 161 tests (winloss committee lists them all)",
        "1 of 2 open deals flagged (winloss committee --open)",
    ]


def test_the_demo_plants_the_decision_maker_disagreement_it_documents(demo_store: Any) -> None:
    """The demo's committee note ("the captured 'decision maker engaged' and the stakeholder list
    disagree") is a planted data-quality defect (documented in demo/generator.py): exactly the
    closed deals whose capture says the decision maker was engaged while only the champion is
    listed, counted here from the tables themselves."""
    import re

    from winloss import Workspace

    with Workspace(demo_store, read_only=True) as ws:
        deals = ws.deals()
        people = ws.table("stakeholders")
        note = next(w for w in ws.committee().warnings if "disagree on" in w)
    closed = deals[
        deals["outcome"].isin(["won", "lost"]) & deals["deal_id"].isin(people["deal_id"])
    ]
    dm = set(people.loc[people["role"].isin(["decision_maker", "economic_buyer"]), "deal_id"])
    said = closed["decision_maker_engaged"].fillna(False).astype(bool)
    listed = closed["deal_id"].isin(dm)
    solo = closed["deal_id"].map(people.groupby("deal_id").size()) == 1
    assert not (~said & listed).any()
    assert ((said & ~listed) == (said & solo)).all()  # every disagreement is a champion-only list
    count = int((said & ~listed).sum())
    assert count > 0
    assert re.search(rf"disagree on {count:,} of {len(closed):,} closed deals", note), note
