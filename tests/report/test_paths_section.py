"""The action-paths section of the quarterly report: graph chart, removal effects, escaping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from winloss import Workspace
from winloss.report.document import ReportContext
from winloss.report.sections.paths import build


def test_paths_section_charts_and_escaping(demo_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store, path)
    ws = Workspace(path)
    deal = ws.deals(closed_only=True).iloc[0]
    ws.import_file(
        "activities",
        pd.DataFrame(
            {
                "activity_id": ["X-1"],
                "deal_id": [deal["deal_id"]],
                "type": ["<script>alert(1)"],
                "occurred_at": [pd.Timestamp(deal["created_at"]) + pd.Timedelta(hours=1)],
            }
        ),
        unknown_values="keep",
    )
    section = build(ReportContext(ws.store, ws.quarter("2026Q3")))
    assert section is not None
    assert section.charts == ("path-graph", "path-removal")
    assert 'data-chart="path-graph"' in section.html
    assert "<script>" not in section.html and "&lt;script&gt;" in section.html
    removal = pd.DataFrame(section.data["removal_effects"])
    assert set(removal["action"]) >= {"email", "call", "demo", "proposal"}
    assert removal["removal_effect"].between(0, 1).all()
    ws.close()
