"""Leak controls: fields filled in at the outcome, and the disclosure of value companions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from winloss import Workspace


def test_amount_zero_on_every_lost_deal_is_skipped_as_a_leak() -> None:
    rng = np.random.default_rng(4)
    n = 600
    won = rng.random(n) < 0.4
    segment = rng.choice(["SMB", "Enterprise"], n)
    won |= (segment == "Enterprise") & (rng.random(n) < 0.3)
    frame = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(n)],
            "outcome": np.where(won, "won", "lost"),
            "created_at": "2026-01-01",
            "amount": np.where(won, rng.integers(1_000, 50_000, n), 0),  # Maven-style: lost = 0
            "segment": segment,
        }
    )
    ws = Workspace(":memory:")
    ws.import_deals(frame)
    data = ws.analyze(record=False).to_dict()
    assert "amount" in data["skipped_attributes"]
    assert "leak" in data["skipped_attributes"]["amount"]
    fields = {c["field"] for f in data["findings"] for c in f["conditions"]}
    assert "amount" not in fields
    assert "segment" in fields  # the real effect is still found


def test_value_companions_are_disclosed_and_can_be_turned_off() -> None:
    from winloss.analyze.scoring.analysis import ModelSettings

    rng = np.random.default_rng(5)
    n = 400
    amount = rng.integers(1, 400, n) * 250.0
    won = rng.random(n) < 0.4
    frame = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(n)],
            "outcome": np.where(won, "won", "lost"),
            "amount": amount,
            "segment": rng.choice(["a", "b"], n),
        }
    )
    ws = Workspace.from_file(frame)
    on = ws.evaluate_model()
    assert any("how round amount is" in c for c in on.caveats)
    off = ws.evaluate_model(settings=ModelSettings(value_companions=False, n_bootstrap=0))
    assert not any("how round" in c for c in off.caveats)


def test_forecast_backtest_warns_of_one_sided_misses() -> None:
    from winloss.analyze.forecast.analysis import bias_caveats

    table = pd.DataFrame(
        {
            "expected": [120.0, 130, 150],
            "actual": [100.0, 100, 100],
            "in_interval": [False, False, False],
        }
    )
    notes = bias_caveats(table, 0.8)
    assert any("too high in every one of 3" in n for n in notes)
    assert any("too narrow" in n for n in notes)
    mixed = table.assign(expected=[90.0, 130, 100.5], in_interval=[True, True, True])
    assert bias_caveats(mixed, 0.8) == []


def test_too_few_deals_to_test_anything_says_why() -> None:
    frame = pd.DataFrame(
        {"outcome": ["won", "lost"] * 12 + ["won"], "segment": ["a", "b", "c"] * 8 + ["a"]}
    )
    result = Workspace.from_file(frame).analyze(record=False).to_dict()
    assert result["hypotheses_tested"] == 0
    assert any("min_support" in w for w in result["warnings"])
