"""Qualification rules and their backtest, checked by hand on a small fixture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winloss.plan.rules import (
    QualificationRule,
    backtest_rule,
    backtest_totals,
    condition_mask,
    rule_from_conditions,
)

# 10 closed deals over two quarters. By hand:
#   stakeholders < 2: deals 1, 2, 3 (Q1) and 6, 7 (Q2); of these only deal 3 won.
FIXTURE = pd.DataFrame(
    {
        "deal_id": [f"d{i}" for i in range(1, 11)],
        "quarter": ["2026Q1"] * 5 + ["2026Q2"] * 5,
        "outcome": ["lost", "lost", "won", "won", "lost", "lost", "lost", "won", "won", "won"],
        "stakeholders": [1, 1, 1, 3, 4, 1, 0, 2, 5, 2],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0],
        "cycle_days": [30, 40, 50, 60, 70, 80, 90, 100, 110, 120],
        "pain_category": ["ux", None, "process", "ux", "cost", "ux", "ux", "process", None, "cost"],
    }
)


def test_condition_operators() -> None:
    f = FIXTURE
    assert condition_mask(f, {"field": "stakeholders", "op": "<", "value": 2}).sum() == 5
    assert condition_mask(
        f, {"field": "stakeholders", "op": "between", "value": [2, 4]}
    ).tolist() == [False, False, False, True, True, False, False, True, False, True]
    assert condition_mask(f, {"field": "pain_category", "op": "==", "value": "ux"}).sum() == 4
    # != never matches a missing value; is_missing does
    assert condition_mask(f, {"field": "pain_category", "op": "!=", "value": "ux"}).sum() == 4
    assert (
        condition_mask(f, {"field": "pain_category", "op": "is_missing", "value": None}).sum() == 2
    )
    assert condition_mask(f, {"field": "no_such_field", "op": "==", "value": 1}).sum() == 0


def test_deprioritise_rule_backtest_by_hand() -> None:
    rule = QualificationRule(
        "k", "deprioritise", ({"field": "stakeholders", "op": "<", "value": 2},), "", "loss"
    )
    rows = backtest_rule(rule, FIXTURE, ["2026Q1", "2026Q2"])
    q1, q2 = rows
    # Q1: excludes d1 (lost, 30 days), d2 (lost, 40), d3 (won, 30.0 revenue)
    assert (q1.excluded_deals, q1.excluded_wins, q1.avoided_losses) == (3, 1, 2)
    assert q1.excluded_won_revenue == 30.0 and q1.days_saved == 70
    assert q1.win_rate_before == pytest.approx(2 / 5) and q1.win_rate_after == pytest.approx(1 / 2)
    # Q2: excludes d6 (lost, 80 days) and d7 (lost, 90 days); keeps 3 wins
    assert (q2.excluded_deals, q2.excluded_wins, q2.avoided_losses) == (2, 0, 2)
    assert q2.days_saved == 170 and q2.win_rate_after == 1.0
    totals = backtest_totals(rows)
    assert totals["avoided_losses"] == 4 and totals["excluded_wins"] == 1
    assert totals["days_saved"] == 240
    assert totals["win_rate_before"] == pytest.approx(5 / 10)
    assert totals["win_rate_after"] == pytest.approx(4 / 5)
    assert totals["losses_avoided_per_win_lost"] == 4
    # the value measure by hand: won revenue 30+40+80+90+100 = 340 over 750 selling days
    # (every closed deal's cycle); 240 days saved are worth 240 * 340 / 750 = 108.8 against the
    # 30 of won revenue given up
    assert totals["value_unit"] == "revenue" and totals["effort_unit"] == "selling days"
    assert totals["saving"] == pytest.approx(108.8) and totals["cost"] == 30.0
    assert totals["net_value"] == pytest.approx(78.8) and totals["pays_off"] is True
    # without amounts, wins take the place of revenue: 5 wins / 750 days * 240 = 1.6 > 1 win
    no_amount = backtest_totals(
        backtest_rule(rule, FIXTURE.drop(columns="amount"), ["2026Q1", "2026Q2"])
    )
    assert no_amount["value_unit"] == "wins"
    assert no_amount["saving"] == pytest.approx(1.6) and no_amount["cost"] == 1.0


def test_win_finding_becomes_require_or_prioritise() -> None:
    # deals with >= 2 stakeholders win 4 of 5; outside it 1 of 5 (0.2 <= 0.6 * 0.5) -> require
    # (a field the rep does not control: the same split as a region)
    fixture = FIXTURE.assign(region=np.where(FIXTURE["stakeholders"] >= 2, "A", "B"))
    rule = rule_from_conditions(
        ({"field": "region", "op": "==", "value": "A"},), "win", fixture, statement="s"
    )
    assert rule.action == "require"
    np.testing.assert_array_equal(rule.excluded(fixture), FIXTURE["stakeholders"] < 2)
    # stakeholders are the rep's to change: a coaching action, which drops no deal
    rule = rule_from_conditions(
        ({"field": "stakeholders", "op": ">=", "value": 2},), "win", FIXTURE, statement="s"
    )
    assert rule.action == "coach" and rule.excluded(FIXTURE).sum() == 0
    # process pain: outside it, deals still win 3 of 8 (0.375 > 0.3) -> prioritise, excludes none
    rule = rule_from_conditions(
        ({"field": "pain_category", "op": "==", "value": "process"},), "win", FIXTURE, statement="s"
    )
    assert rule.action == "prioritise" and rule.excluded(FIXTURE).sum() == 0
    loss = rule_from_conditions(
        ({"field": "pain_category", "op": "==", "value": "ux"},), "loss", FIXTURE
    )
    assert loss.action == "deprioritise"
