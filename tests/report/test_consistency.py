"""One computation per figure (#9 point 5): for the demo's latest quarter, every finding, count and
forecast figure that appears in more than one output (console/JSON of the CLI, the plan, the
report) is the same, and every printed threshold is the applied one."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.analyze.concentrations.conditions import format_number
from winloss.errors import InsufficientDataError

FINDING_KEYS = (
    "id",
    "conditions",
    "direction",
    "n",
    "wins",
    "win_rate",
    "ci_low",
    "ci_high",
    "q_value",
)


@pytest.fixture(scope="module")
def outputs(demo_store_1500: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report (model-heavy parts stubbed: they are not compared here), then the CLI on the
    same store."""
    path = tmp_path_factory.mktemp("consistency") / "demo.duckdb"
    shutil.copy(demo_store_1500, path)
    mp = pytest.MonkeyPatch()

    def skipped(*_: Any, **__: Any) -> Any:
        raise InsufficientDataError("not needed for the consistency test")

    # the report runs the analyses on the store (not through the facade): skip them there
    from winloss.analyze.scoring.analysis import Scoring
    from winloss.analyze.scoring.evaluation import ModelEvaluation
    from winloss.analyze.scoring.leads import LeadScoring
    from winloss.analyze.targeting.analysis import AccountTargeting

    # the backtest runs: the forecast's P10–P90 is corrected by its errors, as in the CLI
    for cls in (ModelEvaluation, Scoring, LeadScoring, AccountTargeting):
        mp.setattr(cls, "run", skipped)
    ws = Workspace(path)
    report = ws.report()
    html = report.to_html()
    ws.close()
    mp.undo()
    sections = {s.key: s.data for s in report.sections}
    quarter = report.period
    window = sections["findings"]["period"]
    first = window.split("–")[0]
    db = ["--db", str(path)]
    ws = Workspace(path)
    since, until = ws.quarter(first).start, ws.quarter(quarter).end
    nxt = str(ws.quarter(quarter).next())
    ws.close()

    def cli_json(*args: str) -> Any:
        code, out, err = run(*db, *args, "--format", "json")
        assert code == 0, err
        return json.loads(out)

    return {
        "sections": sections,
        "html": html,
        "quarter": quarter,
        "window_cli": cli_json(
            "analyze", "--since", str(since), "--until", str(until), "--no-record"
        ),
        "quarter_cli": cli_json("analyze", "--quarter", quarter, "--no-record"),
        "plan_cli": cli_json("plan", "--no-record", "--no-adjustments"),
        "forecast_cli": cli_json("forecast", "--quarter", nxt),
        "audit_cli": cli_json("audit"),
        "qbr_cli": cli_json("qbr", "--since", str(since), "--until", str(until)),
    }


def _pick(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f[k] for k in FINDING_KEYS}


def test_window_findings_are_one_computation(outputs: dict[str, Any]) -> None:
    report = outputs["sections"]["findings"]["analysis"]
    cli = outputs["window_cli"]
    assert (report["deals"], report["wins"]) == (cli["deals"], cli["wins"])
    assert [_pick(f) for f in report["findings"]] == [_pick(f) for f in cli["findings"]]
    assert [_pick(f) for f in report["related_findings"]] == [
        _pick(f) for f in cli["related_findings"]
    ]
    # the plan's rules cite the same findings, in the report and in `winloss plan`
    by_id = {f["id"]: _pick(f) for f in cli["findings"]}
    for plan in (outputs["sections"]["plan"], outputs["plan_cli"]):
        cited = [a["evidence"]["finding"] for a in plan["actions"] if a["kind"] == "qualification"]
        assert cited
        for finding in cited:
            assert {k: finding[k] for k in FINDING_KEYS} == by_id[finding["id"]]


def test_latest_quarter_counts_agree(outputs: dict[str, Any]) -> None:
    head = outputs["sections"]["headline"]
    cli = outputs["quarter_cli"]
    assert head["quarter"] == outputs["quarter"] == cli["period"]
    assert (head["closed_deals"], head["wins"]) == (cli["deals"], cli["wins"])
    assert head["win_rate"] == pytest.approx(cli["baseline_win_rate"], abs=1e-12)
    # the "what changed" rows are the quarter's own findings (statement and difference)
    register = {
        r["key"]: r for r in outputs["sections"]["changes"]["register"] if r["status"] != "gone"
    }
    for f in cli["findings"]:
        assert register[f["key"]]["statement"] == f["statement"]
        assert register[f["key"]]["difference"] == pytest.approx(f["difference"], abs=1e-12)
    # the QBR section counts the same window as the findings
    assert (
        outputs["sections"]["qbr"]["inputs"]["n"]
        == outputs["qbr_cli"]["inputs"]["n"]
        == outputs["window_cli"]["deals"]
    )


def test_forecast_figures_agree(outputs: dict[str, Any]) -> None:
    report = outputs["sections"]["forecast"]["forecast"]
    cli = outputs["forecast_cli"]
    for key in ("quarter", "n_deals", "expected", "p10", "p50", "p90", "expected_wins"):
        assert report[key] == cli[key], key


def test_plan_and_audit_count_the_same_deals(outputs: dict[str, Any]) -> None:
    audit = {i["key"]: (i["deals"], i["of"]) for i in outputs["audit_cli"]["issues"]}
    for plan in (outputs["sections"]["plan"], outputs["plan_cli"]):
        captures = [a for a in plan["actions"] if a["kind"] == "capture"]
        assert captures
        for a in captures:
            issue = a["evidence"]["issue"]
            assert (issue["deals"], issue["of"]) == audit[issue["key"]], issue["key"]


#: The demo's whole-number fields (counts of days and stakeholders).
WHOLE_NUMBER_FIELDS = {
    "stakeholders",
    "cycle_days",
    "days_to_critical_event",
    "champion_tenure_days",
}


def test_printed_thresholds_are_the_applied_ones(outputs: dict[str, Any]) -> None:
    """A threshold in a sentence reads back as exactly the cut the analysis applied."""
    findings = [
        *outputs["window_cli"]["findings"],
        *outputs["window_cli"]["related_findings"],
        *outputs["quarter_cli"]["findings"],
    ]
    checked = 0
    for f in findings:
        for c in f["conditions"]:
            if c["op"] not in ("<=", ">", "<", ">=") or isinstance(c["value"], bool):
                continue
            v = float(c["value"])
            if c["field"] in WHOLE_NUMBER_FIELDS:
                # a count reads as the first or last whole number the cut keeps
                bound = {
                    ">": ("at least", math.floor(v) + 1),
                    ">=": ("at least", math.ceil(v)),
                    "<": ("at most", math.ceil(v) - 1),
                    "<=": ("at most", math.floor(v)),
                }[c["op"]]
                assert f"{bound[0]} {bound[1]:,} " in f["statement"], (c, f["statement"])
                checked += 1
                continue
            printed = format_number(v)
            assert printed in f["statement"], (printed, f["statement"])
            assert float(printed.replace(",", "")) == v
            checked += 1
    assert checked
    # and a cut with a decimal tail keeps it (59.55 is not printed 59.5)
    assert format_number(59.55) == "59.55" and format_number(1337.25) == "1,337.25"
    assert re.fullmatch(r"[\d,]+", format_number(72700.0))


def test_report_reads_without_help(outputs: dict[str, Any]) -> None:
    """#9 points 4 and 9 on the rendered page."""
    from winloss.report.charts import nice_ticks
    from winloss.report.labels import model_name

    html = outputs["html"]
    findings = outputs["sections"]["findings"]["analysis"]
    chart = re.search(r'data-chart="findings-win-rates".*?</svg>', html, re.S)
    assert chart is not None
    labels = re.findall(r"<title>([^<]*)</title>", chart.group(0))[1:]
    drawn = [f for f in findings["findings"] if not f["post_outcome"]]
    assert len(labels) == min(12, len(drawn))
    assert not any("==" in t or "_" in t for t in labels)  # plain words, not field names
    assert not any("cycle" in t for t in labels)  # post-outcome drivers are never a bar
    post = [f for f in findings["findings"] if f["post_outcome"]]
    if post:
        assert html.index("Known only after the outcome") > html.index("Drivers known before")
    # the plan's subsections are numbered 1, 2, 3 … once each
    plan = html[html.index('id="plan"') :]
    plan = plan[: plan.index("</section>")]
    numbers = [int(n) for n in re.findall(r"<h3>(\d+)\. ", plan)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert html.count("Target accounts") <= 1
    for cell in re.findall(r"<td>(.*?)</td>", plan):
        assert cell.count("Unblocks:") <= 1
    assert "won revenue lost" in plan  # the backtest table
    # every tick on every axis is a round number
    for ticks in re.findall(r'text-anchor="middle">(\d+)\u00a0?%</text>', html):
        assert int(ticks) % 5 == 0
    assert nice_ticks(0, 0.47) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert nice_ticks(0, 614) == [0, 200, 400, 600, 800]
    assert model_name("gradient_boosting_plain") == "gradient boosting, uncalibrated"
    assert "break-after: avoid" in html and "<figcaption>" in html
