"""Forecast, scoring and targeting adjustments of the plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from winloss.plan.adjustments import segment_calibration


def _predictions(seed: int, scale: dict[str, float], n: int = 600) -> pd.DataFrame:
    """Out-of-sample predictions whose true win rate is ``scale[segment]`` × the prediction."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(list(scale), n * len(scale))
    p = rng.uniform(0.05, 0.8, len(segment))
    true = p * np.array([scale[s] for s in segment])
    return pd.DataFrame({"segment": segment, "probability": p,
                         "won": (rng.random(len(p)) < true).astype(int)})


def test_a_miscalibrated_segment_is_found_and_corrected() -> None:
    preds = _predictions(1, {"SMB": 1.0, "Mid-Market": 1.0, "Enterprise": 0.5})
    table = segment_calibration(preds).set_index("group")
    assert table["miscalibrated"].to_dict() == {"Enterprise": True, "Mid-Market": False,
                                                "SMB": False}
    ent = preds[preds["segment"] == "Enterprise"]
    assert table.loc["Enterprise", "correction"] == pytest.approx(
        ent["won"].mean() / ent["probability"].mean())
    assert table.loc["Enterprise", "correction"] == pytest.approx(0.5, abs=0.1)
    # the p-value is the two-sided normal test of wins against the sum of probabilities
    z = (ent["won"].sum() - ent["probability"].sum()) / np.sqrt(
        (ent["probability"] * (1 - ent["probability"])).sum())
    assert table.loc["Enterprise", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_calibrated_groups_are_rarely_flagged() -> None:
    """Twenty well-calibrated groups, 30 seeds: false flags stay at the FDR level or below."""
    groups = {f"g{i}": 1.0 for i in range(20)}
    flagged = sum(int(segment_calibration(_predictions(seed, groups, n=150))["miscalibrated"]
                      .any()) for seed in range(30))
    assert flagged <= 3
