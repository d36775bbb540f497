"""``winloss bowtie`` and ``winloss simulate`` in-process on a copy of the demo store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.cli.main import main

STAGE_KEYS = {
    "stage",
    "side",
    "volume",
    "conversion",
    "conversion_ci_low",
    "conversion_ci_high",
    "median_days",
    "censored",
}


@pytest.fixture(scope="module")
def db(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("bowtie-cli") / "demo.duckdb"
    shutil.copy(demo_store, target)
    return str(target)


def test_bowtie_json_is_the_documented_shape(db: str) -> None:
    code, out, err = run("--db", db, "bowtie", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {"stages", "retention", "ltv", "loops", "cohorts", "cycle"} <= set(data)
    assert [s["stage"] for s in data["stages"]] == [
        "awareness",
        "education",
        "selection",
        "commit",
        "onboarding",
        "impact",
        "growth",
    ]
    assert all(set(s) >= STAGE_KEYS for s in data["stages"])
    assert {s["side"] for s in data["stages"]} == {"pre", "post"}
    assert {"curve", "grr", "nrr", "windows", "monthly_churn"} <= set(data["retention"])
    assert {"nurture", "growth"} == set(data["loops"])
    assert "NRR" in data["metrics"] and data["metrics"]["NRR"]["unit"] == "ratio"


def test_bowtie_numbers_match_pandas_on_the_demo(db: str) -> None:
    """Independent pandas counts of the demo: deals entering Prospecting, won deals, and the
    naive awareness conversion (deals that entered a later stage / deals that entered)."""
    code, out, _ = run("--db", db, "bowtie", "--format", "json")
    stages = {s["stage"]: s for s in json.loads(out)["stages"]}
    with Workspace(db) as ws:  # the same configuration as the CLI's open connection
        history = ws.table("stage_history")
        deals = ws.deals()
    first = history[history["stage"] == "Prospecting"]["deal_id"].nunique()
    later = history[~history["stage"].isin(["Prospecting", "Closed Lost"])]["deal_id"].nunique()
    assert stages["awareness"]["volume"] == first
    assert stages["awareness"]["naive_conversion"] == pytest.approx(later / first)
    assert stages["commit"]["volume"] == int((deals["outcome"] == "won").sum())
    won = deals[deals["outcome"] == "won"]
    assert stages["commit"]["median_days"] == pytest.approx(
        (won["closed_at"] - won["created_at"]).dt.days.median()
    )


def test_bowtie_table_csv_and_details(db: str) -> None:
    code, out, err = run("--db", db, "bowtie")
    assert code == 0 and "awareness" in out and "NRR" in err
    code, out, _ = run("--db", db, "bowtie", "--detail", "ltv", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("group,customers,churned,arpu")
    code, out, _ = run(
        "--db", db, "bowtie", "--cohort", "month", "--detail", "cohorts", "--format", "csv"
    )
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert frame["cohort"].str.fullmatch(r"\d{4}-\d{2}").all()


def test_simulate_json_ranks_levers(db: str) -> None:
    code, out, err = run(
        "--db",
        db,
        "simulate",
        "--lever",
        "cr.selection=+5%",
        "--lever",
        "nrr=+2pt",
        "--lever",
        "dt.selection=-10%",
        "--target-growth",
        "0.3",
        "--draws",
        "300",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    levers = {row["lever"]: row for row in data["levers"]}
    assert sorted(r["rank"] for r in data["levers"] if r["rank"] is not None) == [1, 2, 3]
    assert levers["cr.selection=+5%"]["effect"] > 0
    assert 0.0 <= data["monte_carlo"]["probability"] <= 1.0
    assert data["model"]["stages"][-1] == "selection"


def test_simulate_bad_lever_is_a_usage_error(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--db", db, "simulate", "--lever", "cr.nowhere=+5%"])
    assert code == 2 and "name a stage" in capsys.readouterr().err


def test_simulate_headline_goes_to_stdout(db: str) -> None:
    """The results (interval, target probability) are on stdout, so `> file` keeps them."""
    code, out, err = run(
        "--db", db, "simulate", "--target-growth", "0.1", "--draws", "200", "--lever", "vm=+5%"
    )
    assert code == 0, err
    assert "year-3 revenue 90% interval:" in out and "P(year-3 revenue ≥" in out
    assert "+10%/year" in out
    assert "interval:" not in err
    assert "Levers ranked by their effect on year-3 revenue" in out


def test_simulate_without_levers_titles_the_baseline(db: str) -> None:
    code, out, err = run("--db", db, "simulate", "--draws", "200")
    assert code == 0, err
    assert "Baseline revenue per year" in out and "Levers ranked" not in out


def test_simulate_csv_stays_parseable(db: str) -> None:
    code, out, err = run("--db", db, "simulate", "--draws", "200", "--format", "csv")
    assert code == 0, err
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert list(frame["lever"]) == ["baseline"]
    assert "interval:" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--lever", "cr.selection=+5000%"), "stays within 0–100 %"),
        (("--lever", "cr.selection=-150%"), "below -100%"),
        (("--target-growth", "-2"), "above -1"),
        (("--target-growth", "-1"), "above -1"),
    ],
)
def test_simulate_refuses_impossible_inputs(
    db: str, args: tuple[str, ...], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--db", db, "simulate", "--draws", "100", *args])
    captured = capsys.readouterr()
    assert code == 2 and expected in captured.err, captured.err
    assert "interval" not in captured.out


def test_simulate_on_deals_only_explains_zero_revenue(tmp_path: Path) -> None:
    """A store with deals and no subscriptions: revenue 0, and the command says why, how many
    won deals (and their amount, summed by pandas from the imported frame) and what to import."""
    from winloss.demo.generator import generate_demo

    deals = generate_demo(300, seed=5).tables()["deals"]
    path = tmp_path / "deals.duckdb"
    ws = Workspace(path)
    ws.import_file("deals", deals)
    ws.close()
    won = deals[deals["outcome"] == "won"]
    code, out, err = run("--db", str(path), "simulate", "--draws", "100")
    assert code == 0, err
    assert "revenue is 0" in out and "no subscriptions" in out
    assert "winloss import subscriptions FILE" in out
    assert f"{len(won):,} won deals" in out
    assert f"{won['amount'].sum():,.0f}" in out
    code, out, err = run("--db", str(path), "simulate", "--draws", "100", "--format", "json")
    data = json.loads(out)
    assert data["zero_revenue_reason"].startswith("revenue is 0")
    assert all(q["revenue"] == 0 for q in data["quarters"])


def test_bowtie_churn_table(tmp_path: Path) -> None:
    path = tmp_path / "churn.csv"
    pd.DataFrame(
        {
            "tenure": [1, 3, 4, 4],
            "MonthlyCharges": [10, 10, 10, 10],
            "Churn": ["Yes", "Yes", "No", "No"],
        }
    ).to_csv(path, index=False)
    code, out, err = run(
        "--db", str(tmp_path / "x.duckdb"), "bowtie", "--churn-table", str(path), "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["ltv"][0]["ltv"] == pytest.approx(60.0)
    assert data["stages"] == []


def test_simulate_says_what_a_growth_target_in_percent_means(db: str) -> None:
    code, out, err = run("--db", db, "simulate", "--target-growth", "30", "--draws", "100")
    assert code == 0, err
    assert "--target-growth 30 means +3000% a year; for 30 % give --target-growth 0.3" in err
    code, _, err = run("--db", db, "simulate", "--target-growth", "0.3", "--draws", "100")
    assert code == 0 and "means" not in err


def test_the_console_says_the_loops_as_the_report_does(db: str, tmp_path: Path) -> None:
    """The console printed the stage table only: on Maven, where every loss is at an account
    with another deal in flight, nothing said that the nurture loop has nothing to measure."""
    code, out, err = run("--db", db, "bowtie", "--format", "json")
    loops = json.loads(out)["loops"]
    nurture = loops["nurture"]
    code, out, err = run("--db", db, "bowtie")
    assert code == 0, err
    back = nurture["returned"]
    assert (
        f"Nurture loop: {back['count']:,} of {nurture['lost_deals']:,} lost deals' accounts "
        f"came back ({back['rate']:.0%})"
    ) in err
    assert "Growth loop: " in err
    busy = tmp_path / "busy.duckdb"
    with Workspace(busy) as ws:
        ws.import_file(
            "deals",
            pd.DataFrame(
                {
                    "deal_id": ["w1", "w2", "v1", "v2"],
                    "account_id": ["W", "W", "V", "V"],
                    "created_at": ["2026-01-01", "2026-01-15", "2026-01-02", "2026-01-20"],
                    "closed_at": ["2026-02-01", "2026-03-01", "2026-02-05", "2026-06-30"],
                    "outcome": ["lost", "won", "lost", "open"],
                }
            ),
        )
    code, out, err = run("--db", str(busy), "bowtie")
    assert code == 0, err
    assert (
        "Nurture loop: none to measure: every one of the 2 losses was at an account with "
        "another deal in flight"
    ) in err
