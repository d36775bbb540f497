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
    return pd.DataFrame(
        {"segment": segment, "probability": p, "won": (rng.random(len(p)) < true).astype(int)}
    )


def test_a_miscalibrated_segment_is_found_and_corrected() -> None:
    preds = _predictions(1, {"SMB": 1.0, "Mid-Market": 1.0, "Enterprise": 0.5})
    table = segment_calibration(preds).set_index("group")
    assert table["miscalibrated"].to_dict() == {
        "Enterprise": True,
        "Mid-Market": False,
        "SMB": False,
    }
    ent = preds[preds["segment"] == "Enterprise"]
    assert table.loc["Enterprise", "correction"] == pytest.approx(
        ent["won"].mean() / ent["probability"].mean()
    )
    assert table.loc["Enterprise", "correction"] == pytest.approx(0.5, abs=0.1)
    # the p-value is the two-sided normal test of wins against the sum of probabilities
    z = (ent["won"].sum() - ent["probability"].sum()) / np.sqrt(
        (ent["probability"] * (1 - ent["probability"])).sum()
    )
    assert table.loc["Enterprise", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_calibrated_groups_are_rarely_flagged() -> None:
    """Twenty well-calibrated groups, 30 seeds: false flags stay at the FDR level or below."""
    groups = {f"g{i}": 1.0 for i in range(20)}
    flagged = sum(
        int(segment_calibration(_predictions(seed, groups, n=150))["miscalibrated"].any())
        for seed in range(30)
    )
    assert flagged <= 3


def _drifted(seed: int, n: int = 6000) -> pd.DataFrame:
    """Predictions ~71 % on average, true win rate ~0.86× lower everywhere (one overall drift);
    24 owners and three segments, one of which (Enterprise) is a further 0.6× off; 5 % of deals
    have no owner (NaN) and some segments read "nan"."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.55, 0.87, n)
    segment = rng.choice(["SMB", "Mid-Market", "Enterprise"], n)
    true = p * 0.86 * np.where(segment == "Enterprise", 0.6, 1.0)
    owner = rng.choice([f"rep{i:02d}" for i in range(24)], n).astype(object)
    owner[rng.random(n) < 0.05] = np.nan
    segment = segment.astype(object)
    segment[rng.random(n) < 0.03] = "nan"
    return pd.DataFrame(
        {
            "segment": segment,
            "owner": owner,
            "probability": p,
            "won": (rng.random(n) < true).astype(int),
        }
    )


def test_one_overall_correction_then_groups_beyond_chance_only() -> None:
    """A drift shared by everyone gives one overall action, not one per owner; Enterprise, which
    differs from the corrected whole, gets its own; no group is named after a missing value."""
    from types import SimpleNamespace

    from winloss.plan.adjustments import forecast_actions, overall_calibration

    preds = _drifted(0)
    actions, rows = forecast_actions(SimpleNamespace(predictions=preds))
    keys = [a.key for a in actions]
    assert keys[0] == "forecast:overall"
    overall = overall_calibration(preds)
    assert overall["correction"] == pytest.approx(preds["won"].mean() / preds["probability"].mean())
    # the logit shift reproduces the observed wins exactly (hand check with scipy's expit)
    from scipy.special import expit, logit

    assert expit(logit(preds["probability"]) + overall["shift"]).sum() == pytest.approx(
        preds["won"].sum(), rel=1e-6
    )
    assert "forecast:segment=Enterprise" in keys
    assert not any(k.startswith("forecast:owner=") for k in keys)
    # against the corrected whole Enterprise is further down; the others, if flagged, slightly up
    segments = {
        a.key: a.evidence["calibration"]["correction"]
        for a in actions
        if a.key.startswith("forecast:segment=")
    }
    assert segments.pop("forecast:segment=Enterprise") < 0.8
    assert all(1 < c < 1.2 for c in segments.values())
    groups = {str(r["group"]).lower() for r in rows}
    assert not groups & {"nan", "none", ""}
    # q-values are Benjamini–Hochberg over every group of both dimensions together
    from winloss.analyze.stats.exact_tests import benjamini_hochberg

    table = pd.DataFrame(rows)
    assert np.allclose(table["q_value"], benjamini_hochberg(table["p_value"].to_numpy(float)))


def test_no_correction_when_calibrated() -> None:
    from types import SimpleNamespace

    from winloss.plan.adjustments import forecast_actions

    rng = np.random.default_rng(4)
    p = rng.uniform(0.1, 0.9, 3000)
    preds = pd.DataFrame(
        {
            "segment": rng.choice(["A", "B"], 3000),
            "owner": "x",
            "probability": p,
            "won": (rng.random(3000) < p).astype(int),
        }
    )
    actions, _ = forecast_actions(SimpleNamespace(predictions=preds))
    assert [a.key for a in actions] == ["forecast:calibration"]
    assert actions[0].title == "Keep the win probabilities as they are"
    assert "within what a calibrated score shows by chance" in actions[0].detail


def test_right_level_wrong_spread_is_read_as_a_ranking() -> None:
    """A stranger's `score` said "off beyond chance: read the scores as a ranking" while the
    plan said "Keep the win probabilities as they are": the plan tested the level only.
    Here every deal's true chance is halfway between its prediction and 50 %: the mean is right,
    the spread is too wide."""
    from types import SimpleNamespace

    from winloss.analyze.stats.calibration import chance_ece, ece
    from winloss.plan.adjustments import forecast_actions

    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 3000)
    truth = 0.5 + (p - 0.5) / 2
    won = (rng.random(3000) < truth).astype(int)
    preds = pd.DataFrame({"segment": "A", "owner": "x", "probability": p, "won": won})
    actions, _ = forecast_actions(SimpleNamespace(predictions=preds))
    assert [a.key for a in actions] == ["forecast:calibration"]
    action = actions[0]
    assert action.title.startswith("Read the win probabilities as a ranking")
    spread = action.evidence["spread"]
    assert spread["ece"] == pytest.approx(ece(won, p), abs=1e-12)
    assert spread["ece"] > spread["chance_ece"] == pytest.approx(chance_ece(p), abs=1e-12)
    assert f"calibration error {spread['ece']:.3f}" in action.detail


def test_no_targeting_action_when_no_account_field_predicts() -> None:
    """A stranger's plan said "Target the 25 best-fitting accounts" while every account had the
    same fit (the account model fell back to the win rate)."""
    from tests.analyze.targeting.test_targeting import account_deals
    from winloss import Workspace
    from winloss.analyze.targeting.analysis import AccountTargeting
    from winloss.plan.adjustments import targeting_actions

    frame = account_deals(300, seed=1)
    ws = Workspace.from_file(frame)
    skilled = AccountTargeting().run(ws.store)
    assert skilled.model["model"] != "base_rate"
    assert "targeting:icp" in {a.key for a in targeting_actions(skilled)[0]}
    # the outcome shuffled against the accounts: nothing predicts it
    rng = np.random.default_rng(5)
    noise = frame.assign(outcome=rng.permutation(frame["outcome"].to_numpy()))
    noise["industry"] = "retail"
    noise["employees"] = 100
    flat = AccountTargeting().run(Workspace.from_file(noise).store)
    assert flat.model["model"] == "base_rate"
    actions, lists = targeting_actions(flat)
    assert "targeting:icp" not in {a.key for a in actions}
    # no list either: 25 accounts picked among equals read as a ranking a team would call down
    assert lists["target_accounts"] == []
    assert lists["expansion"]  # customers to expand are not ranked by the fit model alone
    # numbered from 1 within its kind (was "targeting #2" with no #1)
    assert [a.priority for a in actions if a.kind == "targeting"] == [1]


def test_the_overall_correction_is_measured_on_models_like_the_one_in_use() -> None:
    """Maven: the first split's model, trained on one quarter (82 % won), predicted 82 % for a
    quarter that won 62 %; pooled with the others the plan scaled every probability by 0.86. Only
    splits trained on at least half the latest split's deals measure the live model."""
    from types import SimpleNamespace

    from winloss.plan.adjustments import forecast_actions, like_the_live_model

    rng = np.random.default_rng(7)

    def split(name: str, p: float, rate: float, n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "split": name,
                "segment": "all",
                "owner": "x",
                "probability": np.full(n, p),
                "won": (rng.random(n) < rate).astype(int),
            }
        )

    preds = pd.concat(
        [
            split("q2", 0.82, 0.62, 2000),
            split("q3", 0.62, 0.62, 2000),
            split("q4", 0.61, 0.6, 2000),
        ],
        ignore_index=True,
    )
    splits = [
        {"split": "q2", "n_train": 647},
        {"split": "q3", "n_train": 2679},
        {"split": "q4", "n_train": 4726},
    ]
    evaluation = SimpleNamespace(predictions=preds, splits=splits)
    kept = like_the_live_model(evaluation)  # type: ignore[arg-type]
    assert set(kept["split"]) == {"q3", "q4"} and len(kept) == 4000
    actions, _ = forecast_actions(evaluation)  # type: ignore[arg-type]
    assert not any(a.key == "forecast:overall" for a in actions)
    # with every split (the old rule) the first split's bias reads as a drift of everyone
    pooled, _ = forecast_actions(SimpleNamespace(predictions=preds))  # type: ignore[arg-type]
    assert any(a.key == "forecast:overall" for a in pooled)
