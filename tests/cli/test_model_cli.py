"""``winloss model evaluate``, ``score``, ``forecast``, ``leads`` and ``accounts`` in-process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.analyze.forecast.test_forecast import pipeline_deals
from tests.analyze.scoring.test_scoring_model import make_deals
from tests.cli.runner import run
from winloss import Workspace
from winloss.cli.main import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.duckdb"
    frame = pipeline_deals(3000, seed=5)
    rng = np.random.default_rng(5)
    frame["account_id"] = [f"A{i:03d}" for i in rng.integers(0, 300, len(frame))]
    frame["industry"] = frame["account_id"].map(
        lambda a: ["fintech", "retail", "education"][int(a[1:]) % 3]
    )
    ws = Workspace(path)
    ws.import_deals(frame)
    ws.close()
    return path


@pytest.fixture(scope="module")
def attribute_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with only attributes and a yes/no outcome: no ids, no dates."""
    frame = make_deals(400, seed=3).drop(columns=["deal_id", "true_p"])
    frame = frame.rename(columns={"outcome": "Status"})
    frame["Status"] = frame["Status"].map({"won": "Yes", "lost": "No"})
    path = tmp_path_factory.mktemp("file") / "deals.csv"
    frame.to_csv(path, index=False)
    return path


def test_help_lists_the_model_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in ("model", "score", "forecast", "leads", "accounts"):
        assert f"  {name} " in out
    code, out, _ = run("model", "--help")
    assert "evaluate" in out


def test_evaluate_file_json_has_the_documented_keys(attribute_file: Path) -> None:
    code, out, err = run(
        "model",
        "evaluate",
        str(attribute_file),
        "--column",
        "outcome=Status",
        "--won-value",
        "Yes",
        "--lost-value",
        "No",
        "--folds",
        "3",
        "--format",
        "json",
    )
    assert code == 0, err
    # what reading the file noted is said (a stranger's keep-last duplicates went unsaid here
    # while `analyze FILE` said them)
    from winloss.store.summary_queries import deal_import_notes

    with Workspace.from_file(
        attribute_file, columns={"outcome": "Status"}, won_values=("Yes",), lost_values=("No",)
    ) as ws:
        notes = deal_import_notes(ws.store)
    assert notes and all(f"note: {n}" in err for n in notes)
    data = json.loads(out)
    for key in (
        "method",
        "auc",
        "brier",
        "log_loss",
        "ece",
        "n_train",
        "n_test",
        "baselines",
        "excluded_fields",
    ):
        assert key in data
    assert data["method"] == "cv" and data["n_test"] == 400 and data["label"] == "predictive"
    for metrics in data["baselines"].values():
        assert set(metrics) == {"auc", "brier", "log_loss", "ece"}
    assert data["auc"] > data["baselines"]["base_rate"]["auc"]


def test_evaluate_store_is_time_split_and_explanatory_is_labelled(store: Path) -> None:
    code, out, err = run("--db", str(store), "model", "evaluate", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["method"] == "time-split"
    code, out, err = run(
        "--db",
        str(store),
        "model",
        "evaluate",
        "--include-post-outcome",
        "--method",
        "cv",
        "--folds",
        "3",
    )
    assert code == 0, err
    assert "explanatory, not predictive" in out
    assert "must not be used to score open deals" in err


def test_evaluate_table_and_csv(store: Path) -> None:
    code, out, _ = run("--db", str(store), "model", "evaluate", "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["model", "auc", "brier", "log_loss", "ece"]
    assert len(table) == 6  # the model and five baselines (incl. random_forest)


def test_score_csv_json_and_save(store: Path, tmp_path: Path) -> None:
    code, out, err = run("--db", str(store), "score", "--format", "csv")
    assert code == 0, err
    scores = pd.read_csv(io.StringIO(out))
    n_open = int((pipeline_deals(3000, seed=5)["outcome"] == "open").sum())
    assert len(scores) == n_open and scores["probability"].between(0, 1).all()
    assert {"ci_low", "ci_high", "factors_for", "factors_against"} <= set(scores.columns)
    assert scores["probability"].is_monotonic_decreasing
    code, out, _ = run("--db", str(store), "score", "--format", "json", "--no-explain")
    data = json.loads(out)
    assert len(data["deals"]) == n_open and data["importances"]
    assert data["model"]["interval"] == 0.8
    # the table says which interval ci_low–ci_high are (every other command shows 95 %)
    code, out, _ = run("--db", str(store), "score", "--no-explain", "--limit", "3")
    assert "80% bootstrap" in " ".join(out.split())
    code, out, err = run("--db", str(store), "score", "--limit", "3")
    assert "factors: the points of P(win) a field adds or takes for this deal" in err
    # "no correction needed" only after a held-out check that could tell, with its error
    check = data["model"]["calibration"]
    held = data["model"]["calibration_check"]
    assert held["n"] >= 100 and held["ece"] <= held["chance_ece"] <= 0.10
    if check["method"] == "none":
        assert (
            f"checked on {int(held['n']):,} held-out deals, no correction needed "
            f"(calibration error {held['ece']:.3f})"
        ) in " ".join(out.split())
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store.read_bytes())
    code, _, err = run("--db", str(copy), "score", "--save", "--no-explain", "--format", "csv")
    assert code == 0 and "stored" in err
    ws = Workspace(copy)
    assert ws.store.count("scores") == n_open
    ws.close()


def test_forecast_json_and_backtest(store: Path) -> None:
    code, out, err = run(
        "--db", str(store), "forecast", "--quarter", "2026Q1", "--draws", "2000", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["quarter"] == "2026Q1" and data["p10"] <= data["p50"] <= data["p90"]
    assert set(data["by"]) == {"segment", "owner"}
    # on screen: the headline gives the P50 too, and a total row that differs from the
    # (corrected) headline says it is before the correction (a stranger read two P10/P90 sets)
    code, out, err = run("--db", str(store), "forecast", "--quarter", "2026Q1", "--draws", "2000")
    assert code == 0, err
    assert f"P50 {data['p50']:,.0f}" in " ".join(out.split())
    if "model_expected" in data:
        assert "all, before the correction" in out
    code, out, err = run("--db", str(store), "forecast", "--backtest", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert {"quarter", "expected", "p10", "p90", "actual", "in_interval"} <= set(table.columns)


def test_leads_csv_is_keyed_by_the_crm_id(store: Path) -> None:
    code, out, err = run("--db", str(store), "leads", "--format", "csv")
    assert code == 0, err
    leads = pd.read_csv(io.StringIO(out))
    assert list(leads.columns[:3]) == ["deal_id", "lead_score", "lead_grade"]
    assert leads["deal_id"].str.startswith("F").all() and leads["deal_id"].is_unique


def test_accounts_csv(store: Path) -> None:
    code, out, err = run(
        "--db", str(store), "accounts", "--rank-by", "expansion", "--format", "csv"
    )
    assert code == 0, err
    accounts = pd.read_csv(io.StringIO(out))
    assert accounts["expansion_potential"].is_monotonic_decreasing
    assert {"icp_fit", "tier", "next_products"} <= set(accounts.columns)


def test_errors_are_one_line_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: Path
) -> None:
    # without --quarter: the quarter the report forecasts (was an error while `report` chose)
    assert main(["--db", str(store), "forecast", "--draws", "500", "--format", "json"]) == 0
    captured = capsys.readouterr()
    said = captured.err.split("forecasting ", 1)[1].split(",", 1)[0]
    assert json.loads(captured.out)["quarter"] == said
    assert main(["--db", str(store), "model", "evaluate", "--preset", "ibm-win-loss"]) == 2
    assert "apply to a FILE" in capsys.readouterr().err
    tiny = tmp_path / "tiny.csv"
    make_deals(20).drop(columns=["true_p"]).to_csv(tiny, index=False)
    assert main(["model", "evaluate", str(tiny)]) == 1
    assert "at least 30 closed deals" in capsys.readouterr().err


def test_backtest_of_a_quarter_that_has_not_ended_is_a_usage_error(tmp_path: Path) -> None:
    from winloss.demo.generator import generate_deals

    db = tmp_path / "d.duckdb"
    ws = Workspace(db)
    ws.import_deals(generate_deals(300, seed=2))
    ws.close()
    assert main(["--db", str(db), "forecast", "--backtest", "--quarter", "2027Q1"]) == 2
