"""The data-quality section of a store without any capture."""

from __future__ import annotations

import pandas as pd

from winloss import Workspace
from winloss.report.document import ReportContext
from winloss.report.sections.quality import build


def test_a_store_without_captures_says_so_instead_of_empty_charts() -> None:
    """Maven: fifteen SPICED bars at 0 %, a flat 0 % line and one "not captured" bar, none saying
    why. A store with no SPICED answer gets one sentence and the fix list."""
    n = 120
    created = pd.date_range("2026-01-01", periods=n, freq="D")
    frame = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "outcome": ["won" if i % 3 == 0 else "lost" for i in range(n)],
            "created_at": created,
            "closed_at": created + pd.Timedelta(days=30),
            "amount": [1000.0 + i for i in range(n)],
            "owner": ["Ann" if i % 2 else "Bob" for i in range(n)],
        }
    )
    ws = Workspace.from_file(frame)
    section = build(ReportContext(ws.store, ws.quarter("2026Q2"), record=False))
    assert section is not None
    assert "No SPICED field is filled on any closed deal" in section.html
    assert not {"spiced-completeness", "spiced-completeness-trend", "capture-freshness"} & set(
        section.charts
    )
    assert "Ranked fix list" in section.html
