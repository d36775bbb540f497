"""A captures file is told what the web form would refuse (notes: earlier captures import)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.ingest.test_activity_types import _deals
from winloss import Workspace


def test_a_captures_file_is_told_what_the_web_form_would_refuse(tmp_path: Path) -> None:
    """`import captures` took a blank primary reason and a loss-only reason on a won deal
    without a word, while the web form refuses the first and asks about the second."""
    deals = pd.concat(
        [
            _deals(),  # D1 won, D2 lost
            pd.DataFrame(
                {
                    "deal_id": ["D3"],
                    "created_at": ["2025-01-04"],
                    "closed_at": ["2025-03-03"],
                    "outcome": ["lost"],
                    "loss_reason": ["Timing"],
                }
            ),
        ],
        ignore_index=True,
    )
    captures = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3"],
            "captured_at": ["2025-03-05 10:00"] * 3,
            "respondent": ["rep"] * 3,
            "primary_reason": ["timing", None, "Timing"],  # row 2: loss-only on a won deal
            "stakeholders": [2, 3, 4],
        }
    )
    with Workspace(tmp_path / "s.duckdb") as ws:
        ws.import_deals(deals)
        checked = ws.check("captures", captures)
        result = ws.import_file("captures", captures)
        assert len(ws.deal_captures("D2")) == 1  # imported all the same: notes, not errors
    for notes in (checked.notes, tuple(result.notes)):
        blank = next(n for n in notes if "give no primary reason" in n)
        assert blank.startswith("1 capture row(s) of closed deals give no primary reason (row 3)")
        crossed = next(n for n in notes if "only ever given to deals of the other" in n)
        assert "row 2 ('timing' on won deal D1; 1 lost deal has it)" in crossed
