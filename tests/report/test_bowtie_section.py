"""The Bowtie section of the quarterly report on the demo store."""

from __future__ import annotations

import re
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
    # its period is said: every deal, as of the data's last day (not the review quarter)
    assert f"Every deal in the store, as of {result.as_of.isoformat()}" in section.html
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


def test_a_store_without_customers_shows_dashes_not_nan(tmp_path: Path) -> None:
    """Deals only (no subscriptions, no stage history): churn, NRR and LTV have no value and
    say so with a dash; a stage whose deals are all still open has no conversion."""
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,amount\n"
        + "".join(
            f"d{i},{['won', 'lost', 'open'][i % 3]},2025-0{1 + i % 6}-03,"
            f"{'' if i % 3 == 2 else f'2025-0{2 + i % 6}-10'},{100 * (i + 1)}\n"
            for i in range(30)
        )
    )
    with Workspace(tmp_path / "w.duckdb") as ws:
        ws.import_deals(csv)
        ctx = ReportContext(ws.store, ws.quarter("2025Q3"))
        section = bowtie.build(ctx)
    assert section is not None
    assert not re.search(r"\bnan\b", section.html, flags=re.IGNORECASE)
    assert "0 customers" in section.html and "(–––)" not in section.html


def test_chart_draws_a_stage_nobody_reached_as_an_empty_outline() -> None:
    stages: list[dict[str, object]] = [
        {"stage": "lead", "side": "pre", "volume": 40, "conversion": 0.5, "median_days": 3.0},
        {"stage": "trial", "side": "pre", "volume": 0, "conversion": None, "median_days": None},
        {"stage": "expand", "side": "post", "volume": 5, "conversion": 0.2, "median_days": 9.0},
    ]
    svg = bowtie_chart("b", "t", stages)
    polygons = re.findall(r"<polygon [^>]*>", svg)
    assert len(polygons) == 3
    filled = [p for p in polygons if 'fill-opacity="0.18"' in p]
    empty = [p for p in polygons if 'fill-opacity="0"' in p]
    assert len(filled) == 2 and len(empty) == 1 and "stroke-dasharray" in empty[0]
    assert "trial: no deals reached this stage" in svg
