"""A demo store and its report, built once for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from winloss import Workspace


@pytest.fixture(scope="session")
def demo_report(demo_store: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("report")
    copy = out / "demo.duckdb"
    copy.write_bytes(demo_store.read_bytes())
    ws = Workspace(copy)
    report = ws.report()
    html = report.save(out / "report.html")
    data = json.loads(report.to_json())
    ws.close()
    return html, data
