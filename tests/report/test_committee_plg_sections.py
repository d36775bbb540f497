"""The buying-committee and PLG report sections: inline SVG, escaped CRM strings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from winloss import Workspace
from winloss.analyze.committee.result import CommitteeMap
from winloss.report.document import ReportContext
from winloss.report.sections import committee, plg

T = pd.Timestamp


def test_committee_map_svg_escapes_and_draws_introductions() -> None:
    people = pd.DataFrame(
        [
            (
                "C1",
                "<b>Eve & co</b>",
                "CFO",
                "champion",
                "vp",
                T("2026-01-01"),
                3,
                "direct",
                None,
                None,
                None,
            ),
            (
                "C2",
                "Bob",
                "CEO",
                "decision_maker",
                "c-level",
                T("2026-01-20"),
                1,
                "champion",
                "C1",
                None,
                None,
            ),
            (
                "C3",
                "Ann",
                "Analyst",
                "user",
                "staff",
                T("2026-01-25"),
                0,
                None,
                "partner",
                T("2026-02-10"),
                None,
            ),
        ],
        columns=[
            "contact_id",
            "name",
            "title",
            "role",
            "seniority",
            "reached_at",
            "activities",
            "reached_via",
            "introduced_by",
            "left_at",
            "start_date",
        ],
    )
    acts = pd.DataFrame(
        [("A1", "C1", "call", T("2026-01-02")), ("A2", "C2", "meeting", T("2026-01-21"))],
        columns=["activity_id", "contact_id", "type", "occurred_at"],
    )
    cmap = CommitteeMap("D<1>", {"created_at": T("2026-01-01")}, people, acts, (), ())
    svg = committee.committee_map_svg(cmap)
    assert "<b>" not in svg and "&lt;b&gt;Eve &amp; co&lt;/b&gt;" in svg
    assert 'data-chart="committee-map-D&lt;1&gt;"' in svg
    assert svg.count('marker-end="url(#arrow)"') == 1  # C1 introduced C2
    assert "introduced by partner" in svg  # an introducer from outside the committee
    assert svg.count("<circle") == 2 and "left on day 40" in svg


def test_sections_render_on_the_demo(demo_store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo.duckdb"
    copy.write_bytes(demo_store.read_bytes())
    ws = Workspace(copy)
    ctx = ReportContext(ws.store, ws.quarter("2026Q3"))
    sec = committee.build(ctx)
    assert sec is not None and "committee-engaged" in sec.charts
    assert 'data-chart="committee-engaged"' in sec.html
    assert sec.data["findings"] and "committee_maps" in sec.data
    assert all(f'data-chart="{name}"' in sec.html for name in sec.charts)
    sec = plg.build(ctx)
    assert sec is not None, ctx.notes
    assert "motions" in sec.data and all(f'data-chart="{n}"' in sec.html for n in sec.charts)
    ws.close()
