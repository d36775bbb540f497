"""The plan's expansion action says what its ranking was computed from, for this store."""

from __future__ import annotations

from tests.analyze.targeting.test_targeting import account_deals
from winloss import Workspace
from winloss.analyze.targeting.analysis import AccountTargeting
from winloss.plan.adjustments import targeting_actions


def _detail(with_product: bool) -> str:
    frame = account_deals(300, seed=2)
    if not with_product:
        frame = frame.drop(columns=["product"])
    result = AccountTargeting().run(Workspace.from_file(frame).store)
    actions, lists = targeting_actions(result)
    assert lists["expansion"]
    return next(a.detail for a in actions if a.key == "targeting:expansion")


def test_the_expansion_action_names_its_real_basis() -> None:
    """A Salesforce export without products or subscriptions: the plan said the customers were
    "ranked by expansion potential (products not yet bought, recurring revenue trend)"."""
    without = _detail(with_product=False)
    assert "repeat-purchase rate × median won amount" in without
    assert "products not yet bought" not in without and "recurring revenue" not in without
    assert "products not yet bought" in _detail(with_product=True)
