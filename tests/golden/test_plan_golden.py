"""Golden file: the action plan's JSON on a fixed demo seed.

Refresh only on purpose: ``python -m pytest tests/golden --update-golden`` and review the diff.
Floats are compared with a relative tolerance of 1e-9 (library versions may move the last digits).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.golden.compare import assert_json_close
from winloss import Workspace

GOLDEN = Path(__file__).with_name("plan_demo_1500_seed3.json")


def test_plan_json_matches_golden(
    demo_store_1500: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_1500, copy)
    ws = Workspace(copy)
    # model-free parts only: the adjustments depend on model fits tested elsewhere
    ws.plan(quarter="2026Q2", adjustments=False)  # last quarter's plan: this one re-measures it
    plan = json.loads(ws.plan(adjustments=False).to_json())
    ws.close()
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(json.dumps(plan, indent=2, ensure_ascii=False) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert_json_close(plan, expected)
    kinds = {a["kind"] for a in plan["actions"]}
    assert {"capture", "qualification"} <= kinds
    assert plan["lists"]["remeasured"], "the earlier quarter's actions were not re-measured"
