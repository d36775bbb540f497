"""What the PQL score's held-out check allows, said once (``ScoreModel.verdict``) and shown alike by
the console, the JSON, the report and the web app.

The 300-deal demo (seed 7, the user trial) scores 19 later accounts at AUC 0.45 with a calibration
error of 0.231 and no calibration map: it used to read "Held-out AUC 0.45 … calibration: checked on
held-out accounts, no correction needed".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.analyze.plg.result import PLGResult, ScoreModel


def score_model(**values: float | dict[str, str]) -> ScoreModel:
    base: dict[str, object] = {
        "features": ("milestone",),
        "coefficients": {"intercept": 0.0, "milestone": 0.0},
        "train_accounts": 44,
        "held_out_accounts": 19,
        "held_out_auc": 0.45,
        "held_out_brier": 0.252,
        "held_out_ece": 0.231,
        "base_rate": 0.25,
        "calibration": {"method": "none"},
        "reliability": pd.DataFrame(),
        "held_out_p_value": 0.65,
        "train_rate": 0.23,
        "held_out_base_brier": 0.224,
        "held_out_chance_ece": 0.299,
    }
    base.update(values)
    return ScoreModel(**base)  # type: ignore[arg-type]


def test_a_score_below_chance_on_few_accounts_is_not_to_be_acted_on() -> None:
    s = score_model()
    text = s.verdict()
    assert text.startswith(
        "on 19 later accounts the score ranks no better than chance (AUC 0.45; Brier 0.252 "
        "against 0.224 for the training conversion rate of 23%): do not act on it; calibration: "
        "too few held-out accounts to tell whether the probabilities are right (calibration "
        "error 0.231; a calibrated score shows up to 0.299 on 19 accounts by chance)"
    )
    assert "no correction needed" not in text
    assert not s.ranks_beyond_chance and not s.actionable
    assert s.calibration_check == "too few"


@pytest.mark.parametrize(
    ("values", "expected", "check"),
    [
        # above 0.5 but within chance on 19 accounts
        (
            {"held_out_auc": 0.58, "held_out_p_value": 0.27},
            "the score is not shown to rank beyond chance (AUC 0.58, p = 0.27; Brier",
            "too few",
        ),
        # ranks, but its probabilities are worse than the conversion rate's
        (
            {"held_out_auc": 0.66, "held_out_p_value": 0.01, "held_out_brier": 0.25},
            "ranks beyond chance (AUC 0.66, p = 0.01) but its probabilities are no closer",
            "too few",
        ),
        # enough accounts, calibrated within chance: the only case that says "no correction"
        (
            {
                "held_out_accounts": 400,
                "held_out_auc": 0.74,
                "held_out_p_value": 1e-9,
                "held_out_brier": 0.15,
                "held_out_base_brier": 0.19,
                "held_out_ece": 0.03,
                "held_out_chance_ece": 0.06,
            },
            "on 400 later accounts the score ranks beyond chance (AUC 0.74, p < 0.001) and "
            "predicts better than the conversion rate (Brier 0.150 against 0.190 for the training "
            "conversion rate of 23%); calibration: checked on held-out accounts, no correction "
            "needed (calibration error 0.030)",
            "none",
        ),
        # an error beyond what chance gives
        (
            {"held_out_accounts": 400, "held_out_ece": 0.15, "held_out_chance_ece": 0.06},
            "calibration: off beyond chance (calibration error 0.150, where a calibrated score "
            "shows up to 0.060 on 400 accounts)",
            "off",
        ),
    ],
)
def test_what_the_held_out_check_allows(
    values: dict[str, float], expected: str, check: str
) -> None:
    s = score_model(**values)
    assert expected in s.verdict()
    assert s.calibration_check == check
    assert ("no correction needed" in s.verdict()) is (check == "none")


@pytest.fixture(scope="module")
def trial_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user trial's store: `winloss demo --deals 300` (seed 7)."""
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    path = tmp_path_factory.mktemp("demo300") / "demo.duckdb"
    ws = Workspace(path)
    import_demo(ws, generate_demo(300, seed=7))
    ws.close()
    yield path


@pytest.fixture(scope="module")
def trial(trial_store: Path) -> PLGResult:
    ws = Workspace(trial_store, read_only=True)
    result = ws.plg()
    ws.close()
    return result


def test_the_trial_score_says_it_does_not_beat_chance(trial: PLGResult) -> None:
    s = trial.score
    assert s is not None
    assert s.held_out_accounts == 19 and s.held_out_auc == pytest.approx(0.4487, abs=1e-4)
    assert s.calibration["method"] == "none"
    assert s.held_out_ece == pytest.approx(0.2311, abs=1e-4)
    # the training conversion rate c scores Brier c² + (1 − 2c)·j/n when j of the n converted:
    # j must come out a whole number of accounts
    c, n = s.train_rate, s.held_out_accounts
    j = n * (s.held_out_base_brier - c**2) / (1 - 2 * c)
    assert j == pytest.approx(round(j), abs=1e-9) and 0 < round(j) < n
    assert not s.ranks_beyond_chance and s.held_out_p_value > 0.05
    text = s.verdict()
    assert text.startswith("on 19 later accounts the score ranks no better than chance (AUC 0.45")
    assert "do not act on it" in text and "no correction needed" not in text
    assert "too few held-out accounts to tell" in text
    # not acted on: no account is ready because of the score alone
    accounts = trial.accounts
    assert not (accounts["ready"] & ~accounts["milestone_met"]).any()
    scored = accounts["pql_score"].notna()
    assert (
        accounts.loc[scored, "evidence"]
        .str.contains("not used: it does not rank later accounts beyond chance")
        .all()
    )


def test_console_json_report_and_web_show_the_same_verdict(
    trial_store: Path, trial: PLGResult, tmp_path: Path
) -> None:
    import shutil
    from html import escape

    from tests.web.conftest import PASSWORDS, TODAY, login
    from winloss.report.document import ReportContext
    from winloss.report.sections import plg as plg_section
    from winloss.web import create_app
    from winloss.web.auth import hash_password

    assert trial.score is not None
    verdict = trial.score.verdict()
    code, out, err = run("--db", str(trial_store), "plg")
    assert code == 0, err
    assert " ".join(f"PQL score: {verdict}".split()) in " ".join(err.split())
    code, out, err = run("--db", str(trial_store), "plg", "--format", "json")
    assert code == 0, err
    data = json.loads(out)["score"]
    assert data["verdict"] == verdict and data["ranks_beyond_chance"] is False
    assert data["calibration_check"] == "too few"
    ws = Workspace(trial_store, read_only=True)
    section = plg_section.build(ReportContext(ws.store, None, record=False))
    ws.close()
    assert section is not None
    assert "On 19 later accounts the score ranks no better than chance (AUC 0.45" in section.html
    assert "no correction needed" not in section.html
    assert section.data["score"]["verdict"] == verdict
    db = tmp_path / "web.duckdb"
    shutil.copy(trial_store, db)
    with Workspace(db) as w:
        w.add_user("boss", hash_password(PASSWORDS["boss"]), "manager", None)
    page = login(create_app(db, today=lambda: TODAY, testing=True), "boss")
    text = page.get("/dashboards/committees").text
    assert escape(verdict[:1].upper() + verdict[1:]) in text
    assert "no correction needed" not in text


def test_held_out_metrics_are_not_graded_by_the_map_fitted_on_them() -> None:
    """The Platt map is chosen on the held-out accounts; its held-out Brier score is that of
    maps fitted on the other half (the 600-deal demo: calibration error 0.005 in sample)."""
    from winloss.analyze.stats.calibration import CalibrationMap, brier, cross_fitted

    rng = np.random.default_rng(4)
    p = rng.uniform(0.05, 0.6, 37)
    y = (rng.random(37) < np.clip(2 * p - 0.1, 0, 1)).astype(float)
    in_sample = CalibrationMap("sigmoid").fit(p, y).apply(p)
    held = cross_fitted(p, y, "sigmoid", seed=0)
    assert brier(y, held) > brier(y, in_sample)
    np.testing.assert_array_equal(cross_fitted(p, y, "none"), p)


def test_later_accounts_all_alike_cannot_check_the_score() -> None:
    """Every later account converted (or none did): no AUC, and the sentence says why rather
    than print "AUC nan"."""
    s = score_model(held_out_auc=float("nan"), held_out_p_value=float("nan"))
    text = s.verdict()
    assert text.startswith("on 19 later accounts the score cannot be checked: they all have the")
    assert "nan" not in text.split(";")[0] and not s.actionable


def test_a_score_that_ranks_but_does_not_beat_the_rate_says_so_per_account() -> None:
    """An account's evidence said "no better than chance" beside a verdict that the score ranks
    beyond chance (its probabilities only are no closer than the conversion rate)."""
    import numpy as np

    from winloss.analyze.plg.analysis import PLGAnalysis

    s = score_model(held_out_auc=0.70, held_out_p_value=0.001, held_out_brier=0.25,
                    held_out_base_brier=0.22, held_out_accounts=80)  # fmt: skip
    assert s.ranks_beyond_chance and not s.beats_base_rate and not s.actionable
    assert "ranks beyond chance" in s.verdict()
    accounts = pd.DataFrame(
        {
            "account_id": ["A1"],
            "segment": ["SMB"],
            "first_at": [pd.Timestamp("2026-01-01")],
            "days_since_first_event": [30],
            "users": [3],
        }
    )
    counts = pd.DataFrame({"*|users_14": [3.0], "*|events_14": [9.0]})
    table = PLGAnalysis()._ready(
        accounts, counts, np.array([0.9]), np.array([True]), np.array([30]), 14, None, s
    )
    evidence = table["evidence"].iloc[0]
    assert "not used: its probabilities are no closer than the conversion rate" in evidence
    assert "no better than chance" not in evidence and not table["ready"].iloc[0]
