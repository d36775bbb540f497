"""The report's default quarter: the latest with closed deals, unless the data has barely begun
it (a stranger's report was about one deal closed two weeks into a quarter)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from winloss import Workspace
from winloss.report.document import latest_closed_quarter


def _store(last_close: str) -> Workspace:
    closes = pd.date_range("2026-01-10", "2026-09-20", periods=40).strftime("%Y-%m-%d").tolist()
    closes.append(last_close)
    n = len(closes)
    frame = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "outcome": ["won" if i % 3 else "lost" for i in range(n)],
            "created_at": ["2025-12-01"] * n,
            "closed_at": closes,
            "amount": [1000.0] * n,
        }
    )
    return Workspace.from_file(frame)


def test_a_quarter_barely_begun_is_not_the_default() -> None:
    ws = _store("2026-10-15")  # 15 of 92 days of Q4: the review is Q3
    q = latest_closed_quarter(ws.store)
    assert q is not None and str(q) == "2026Q3"


def test_a_quarter_mostly_covered_is_the_default() -> None:
    ws = _store("2026-11-20")  # 51 of 92 days
    q = latest_closed_quarter(ws.store)
    assert q is not None and str(q) == "2026Q4"


def test_a_single_quarter_is_the_default_however_short() -> None:
    frame = pd.DataFrame(
        {
            "deal_id": ["A", "B"],
            "outcome": ["won", "lost"],
            "created_at": ["2026-10-01", "2026-10-02"],
            "closed_at": ["2026-10-05", "2026-10-06"],
        }
    )
    q = latest_closed_quarter(Workspace.from_file(frame).store)
    assert q is not None and str(q) == "2026Q4"


def test_a_context_that_does_not_record_leaves_the_register_alone(
    demo_store: Path, tmp_path: Path
) -> None:
    """The web dashboards build with ``record=False`` (on a copy of the store): the quarter's
    findings are computed but not recorded; a report's context records them."""
    import shutil

    from winloss.report.document import ReportContext
    from winloss.report.shared import quarter_findings

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, db)
    with Workspace(db) as ws:
        q = ws.quarter("2026Q2")
        before = ws.store.count("analysis_runs")
        quiet = quarter_findings(ReportContext(ws.store, q, record=False))
        assert quiet is not None and quiet.findings is not None
        assert ws.store.count("analysis_runs") == before
        loud = quarter_findings(ReportContext(ws.store, q))
        assert loud is not None
        assert ws.store.count("analysis_runs") == before + 1
