"""The action-paths section of the quarterly report: graph chart, removal effects, escaping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

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
    # the common paths' win rates read as percentages with their interval (was "0.00627")
    assert section.data["variants"]
    assert "(no activities)" not in {v["variant"] for v in section.data["variants"]}
    for v in section.data["variants"]:
        rate = f"{100 * v['win_rate']:.0f}\u00a0%"
        assert f"<td class=num>{rate}</td>" in section.html, rate
    ws.close()


def test_graph_nodes_show_the_share_of_closed_deals_won(demo_store: Path) -> None:
    """The chart's node labels are deal win rates, not activity shares: ``(start)`` reads the win
    rate of the closed deals with activities and ``email`` that of the closed deals with an email
    (reference: pandas on the stored activities, each deal once)."""
    ws = Workspace(demo_store, read_only=True)
    acts = ws.table("activities").drop(columns="outcome", errors="ignore")
    acts = acts.merge(ws.deals()[["deal_id", "outcome"]], on="deal_id")
    closed = acts[acts["outcome"].isin(["won", "lost"])]

    def rate(deals: pd.DataFrame) -> float:
        once = deals.drop_duplicates("deal_id")
        return float((once["outcome"] == "won").mean())

    expected = {
        "(start)": rate(closed),
        "email": rate(closed[closed["type"] == "email"]),
        "demo": rate(closed[closed["type"] == "demo"]),
    }
    section = build(ReportContext(ws.store, ws.quarter("2026Q3")))
    assert section is not None
    labels = dict(re.findall(r">([^<>]+)</text><text[^>]*>(\d+)% won</text>", section.html))
    for node, value in expected.items():
        assert labels[node] == f"{value:.0%}".rstrip("%"), node
    nodes = {r["node"]: r for r in section.data["nodes"]}
    for node, value in expected.items():
        assert nodes[node]["win_rate"] == pytest.approx(value, rel=1e-12), node
    ws.close()
