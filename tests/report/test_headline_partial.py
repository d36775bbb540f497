"""The headline of a partial quarter: counts and revenue are not compared with a whole quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from winloss import Workspace
from winloss.report.document import ReportContext
from winloss.report.sections.headline import build


def _deals() -> pd.DataFrame:
    """2025Q1 and Q2 closed throughout; Q3's closes stop on 15 July (a running quarter)."""
    rows = []
    closes = pd.date_range("2025-01-02", "2025-06-28", freq="2D").tolist()
    closes += pd.date_range("2025-07-01", "2025-07-15", freq="D").tolist()
    for i, close in enumerate(closes):
        rows.append(
            {
                "deal_id": f"D{i}",
                "created_at": (close - pd.Timedelta(days=40)).date().isoformat(),
                "closed_at": close.date().isoformat(),
                "stage": "Closed Won" if i % 3 else "Closed Lost",
                "amount": 1000 + 10 * i,
            }
        )
    return pd.DataFrame(rows)


def test_partial_quarter_is_said_and_not_compared(tmp_path: Path) -> None:
    deals = _deals()
    with Workspace(tmp_path / "s.duckdb") as ws:
        ws.import_deals(deals)
        now = dt.datetime(2025, 7, 16)
        partial = build(ReportContext(ws.store, ws.quarter("2025Q3"), now))
        whole = build(ReportContext(ws.store, ws.quarter("2025Q2"), now))
    assert partial is not None and whole is not None
    assert partial.data["partial"] == "partial: closes up to 2025-07-15"
    assert "2025Q3 is a partial quarter (partial: closes up to 2025-07-15)" in partial.html
    # 15 July closes against Q2's 45: a "-30 vs last quarter" would be the calendar, not sales
    q3 = deals[deals["closed_at"] >= "2025-07-01"]
    assert partial.data["closed_deals"] == len(q3) == 15
    assert partial.html.count("partial quarter</div>") == 2  # closed deals, won revenue
    assert "pts vs last quarter" in partial.html  # the rate is still compared
    assert whole.data["partial"] is None
    assert "partial quarter</div>" not in whole.html and "is a partial quarter" not in whole.html
    assert whole.html.count("vs last quarter</div>") == 4


def test_the_median_cycle_is_one_number_in_the_headline_and_its_table(tmp_path: Path) -> None:
    """A trial read "median cycle (days) 82" above a quarter table saying 82.5."""
    deals = pd.DataFrame(
        {
            "deal_id": ["a", "b", "c", "d"],
            "created_at": ["2025-01-01", "2025-01-01", "2025-04-01", "2025-04-01"],
            "closed_at": ["2025-03-24", "2025-03-25", "2025-06-22", "2025-06-23"],  # 82, 83 days
            "outcome": ["won", "lost", "won", "lost"],
        }
    )
    with Workspace(tmp_path / "m.duckdb") as ws:
        ws.import_deals(deals)
        section = build(ReportContext(ws.store, ws.quarter("2025Q2"), dt.datetime(2025, 7, 2)))
    assert section is not None
    assert section.data["median_cycle_days"] == 82.5  # the figure itself, for automation
    assert "82.5" not in section.html
    assert '<div class="value">82</div>' in section.html
