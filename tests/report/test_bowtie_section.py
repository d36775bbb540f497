"""The Bowtie section of the quarterly report on the demo store."""

from __future__ import annotations

import shutil
from pathlib import Path

from winloss import Workspace
from winloss.report.charts import bowtie_chart
from winloss.report.document import SECTIONS, ReportContext
from winloss.report.sections import bowtie


def test_section_shows_the_bowtie_chart_table_and_loops(demo_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, db)
    with Workspace(db) as ws:
        ctx = ReportContext(ws.store, ws.quarter("2026Q3"))
        section = bowtie.build(ctx)
        result = ws.bowtie()
    assert "winloss.report.sections.bowtie:build" in SECTIONS
    assert section is not None and section.charts == ("bowtie", "bowtie-retention")
    assert 'data-chart="bowtie"' in section.html and "<script" not in section.html
    for row in result.stages.itertuples():
        assert f"VM {row.volume:,}" in section.html
    assert "Nurture loop" in section.html and "Growth loop" in section.html
    assert [s["stage"] for s in section.data["stages"]] == list(result.stages["stage"])


def test_chart_escapes_names_and_shows_missing_values_as_dashes() -> None:
    svg = bowtie_chart(
        "b",
        "t",
        [
            {
                "stage": "<script>",
                "side": "pre",
                "volume": 10,
                "conversion": float("nan"),
                "median_days": None,
            },
            {
                "stage": "growth",
                "side": "post",
                "volume": 3,
                "conversion": 0.5,
                "median_days": 12.0,
            },
        ],
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "CR –" in svg and "CR 50%" in svg and "Δt 12 d" in svg
    assert svg.count("<polygon") == 2


def test_empty_store_has_no_section(tmp_path: Path) -> None:
    with Workspace(tmp_path / "empty.duckdb") as ws:
        ctx = ReportContext(ws.store, ws.quarter("2026Q3"))
        assert bowtie.build(ctx) is None
        assert ctx.notes  # the reason is kept as a report note
