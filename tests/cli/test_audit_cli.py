"""``winloss audit`` driven in-process through click's runner, on a copy of the demo store."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.cli.main import main
from winloss.demo.generator import LATE_CAPTURE_OWNER


@pytest.fixture(scope="module")
def db(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("audit-cli") / "demo.duckdb"
    shutil.copy(demo_store, target)
    return str(target)


def test_json_holds_the_ranked_fix_list_and_the_detail_tables(db: str) -> None:
    code, out, err = run("--db", db, "audit", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    with Workspace(db) as ws:  # the same configuration as the CLI's open connection
        expected = ws.audit()
    assert [i["key"] for i in data["issues"]] == [i.key for i in expected.issues]
    assert [i["rank"] for i in data["issues"]] == list(range(1, len(data["issues"]) + 1))
    late = next(i for i in data["issues"] if i["key"] == f"freshness:owner:{LATE_CAPTURE_OWNER}")
    assert late["deals"] == expected.issue(late["key"]).deals and late["action"]
    assert data["inputs"]["deals"] == 600
    assert {"completeness", "vocabulary", "stage_order"} <= set(data["tables"])
    assert f"{len(data['issues'])} issue(s)" in err  # the message goes to stderr


def test_csv_and_table_and_detail(db: str) -> None:
    code, out, _ = run("--db", db, "audit", "--format", "csv", "--quarter", "2026Q2")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns[:4]) == ["rank", "severity", "issue", "deals"]
    with Workspace(db) as ws:  # the same configuration as the CLI's open connection
        expected = ws.audit(quarter="2026Q2")
    assert frame["deals"].tolist() == [i.deals for i in expected.issues]
    code, out, _ = run("--db", db, "audit")
    assert code == 0 and "data-integrity fix list" in out
    code, out, _ = run("--db", db, "audit", "--detail", "vocabulary", "--format", "json")
    assert code == 0
    assert any(r["value"] == "helthcare" for r in json.loads(out))


def test_the_table_shows_what_the_rank_follows(db: str) -> None:
    """A trial read a "low" issue ranked above a "medium" one as a bug: the rank follows the score
    (deals × weight, docs/audit.md), the severity the share. The table now shows the score beside
    the severity, and says the rule."""
    code, out, err = run("--db", db, "audit")
    assert code == 0
    assert "Ranked by score = deals × weight" in " ".join(err.split())
    header = next(line for line in out.splitlines() if "severity" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "rank",
        "severity",
        "issue",
        "deals",
        "share",
        "score",
        "action",
    ]
    with Workspace(db) as ws:
        issues = ws.audit().issues
    scores = [i.deals * i.weight for i in issues]
    assert scores == sorted(scores, reverse=True) == [i.score for i in issues]
    rows = [line for line in out.splitlines() if line.startswith("│") and line[1:7].strip()]
    shown = [int(r.split("│")[6]) for r in rows]  # the first line of each issue's row
    assert shown == [round(s) for s in scores]


def test_a_bad_quarter_is_a_usage_error(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "audit", "--quarter", "next"]) == 2
    assert "2026Q3" in capsys.readouterr().err  # the message says how to write it
