"""``winloss committee`` and ``winloss plg`` on the demo store and on an empty one."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.runner import run
from winloss.cli.main import main


def test_committee_findings_json(demo_store_3000: Path) -> None:
    code, out, err = run("--db", str(demo_store_3000), "committee", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    keys = {f["key"]: f for f in data["findings"]}
    assert keys["engaged_stakeholders"]["condition"] == "engaged_stakeholders < 2"
    assert data["hypotheses_tested"] >= len(data["findings"])
    assert {b["segment"] for b in data["best_routes"]} >= {"SMB", "Enterprise"}


def test_committee_open_deals_csv(demo_store_3000: Path) -> None:
    code, out, err = run("--db", str(demo_store_3000), "committee", "--open", "--format", "csv")
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert {"deal_id", "flags", "reasons", "suggested_route"} <= set(frame.columns)
    single = frame[frame["engaged_stakeholders"] < 2]
    assert len(single) and single["flags"].str.contains("single-threaded").all()


def test_committee_map_of_one_deal(demo_store_3000: Path) -> None:
    code, out, err = run("--db", str(demo_store_3000), "committee", "D-000003", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["deal_id"] == "D-000003"
    assert {p["contact_id"] for p in data["people"]} == {
        "D-000003-C1",
        "D-000003-C2",
        "D-000003-C3",
    }


def test_unknown_deal_is_a_usage_error(
    demo_store_3000: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(demo_store_3000), "committee", "NO-SUCH-DEAL"]) == 2
    assert "no deal 'NO-SUCH-DEAL'" in capsys.readouterr().err


def test_plg_json_and_accounts(demo_store_3000: Path) -> None:
    code, out, err = run("--db", str(demo_store_3000), "plg", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["milestone"]["statement"] == "≥ 3 active users within 14 days of the first event"
    assert data["candidates_tested"] > 100
    code, out, err = run("--db", str(demo_store_3000), "plg", "--accounts", "--format", "csv")
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert frame["ready"].any() and frame["evidence"].notna().all()


def test_empty_store_says_what_to_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from winloss import Workspace

    db = str(tmp_path / "empty.duckdb")
    Workspace(db).close()  # a store with nothing in it (a missing one is refused earlier)
    assert main(["--db", db, "committee"]) == 1
    assert "winloss import stakeholders FILE" in capsys.readouterr().err
    assert main(["--db", db, "plg"]) == 1
    assert "winloss import usage FILE" in capsys.readouterr().err


def test_committee_map_heading_on_a_small_store(tmp_path: Path) -> None:
    """A deal without a segment read "lost, None, decision maker via —"; a store under
    2 × --min-support closed deals refused the map."""
    from tests.analyze.committee.test_committee import _committee_store

    db = tmp_path / "c.duckdb"
    ws = _committee_store(str(db), [True] * 40)
    ws.close()  # type: ignore[attr-defined]
    code, out, err = run("--db", str(db), "committee", "d3", "--min-support", "30")
    assert code == 0, err
    assert "d3: won, no decision maker reached; flags: none" in " ".join(out.split())
    assert "None" not in out and "too few to test what wins" in err
    code, out, err = run("--db", str(db), "committee", "d4", "--min-support", "30")
    assert "d4: lost, decision maker via direct;" in " ".join(out.split())
