"""Activity types that differ only in case or spacing are one action type, and the import says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from winloss import Workspace


def _deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "created_at": ["2025-01-02", "2025-01-03"],
            "closed_at": ["2025-03-01", "2025-03-02"],
            "outcome": ["won", "lost"],
        }
    )


def _activities(types: list[str], start: int = 0) -> pd.DataFrame:
    n = len(types)
    return pd.DataFrame(
        {
            "activity_id": [f"A{start + i}" for i in range(n)],
            "deal_id": ["D1" if i % 2 else "D2" for i in range(n)],
            "type": types,
            "occurred_at": [f"2025-01-{10 + i:02d}" for i in range(n)],
        }
    )


def test_case_and_spacing_variants_are_one_type(tmp_path: Path) -> None:
    with Workspace(tmp_path / "s.duckdb") as ws:
        ws.import_deals(_deals())
        first = _activities(
            ["Email", "EMAIL", "Email", "email", "Discovery  call", "discovery call"]
        )
        result = ws.import_file("activities", first)
        types = ws.table("activities").set_index("activity_id")["type"]
        # the file's most used spelling; a tie goes to the single-spaced one
        assert types.to_dict() == {
            "A0": "Email",
            "A1": "Email",
            "A2": "Email",
            "A3": "Email",
            "A4": "discovery call",
            "A5": "discovery call",
        }
        note = next(n for n in result.notes if n.startswith("type: read"))
        assert "'EMAIL' as 'Email' (1 row(s))" in note and "'email' as 'Email'" in note
        assert "'Discovery  call' as 'discovery call'" in note
        # a later file is read in the store's spelling, even where its own majority differs
        later = ws.import_file("activities", _activities(["EMAIL", "EMAIL", "Demo"], start=10))
        stored = ws.table("activities")
        assert sorted(stored["type"].unique()) == ["Demo", "Email", "discovery call"]
        assert (stored["type"] == "Email").sum() == 6
        assert any("'EMAIL' as 'Email' (2 row(s))" in n for n in later.notes)
        # nothing to fold: no note
        plain = ws.import_file("activities", _activities(["Demo", "Email"], start=20))
        assert not any(n.startswith("type: read") for n in plain.notes)


def test_a_tie_goes_to_the_written_out_spelling_then_the_first_in_the_file(tmp_path: Path) -> None:
    """One "CALL" and one "Call" used to become "CALL" (code-point order); shouting loses a tie,
    and between equally written spellings the file's first is kept."""
    with Workspace(tmp_path / "s.duckdb") as ws:
        ws.import_deals(_deals())
        ws.import_file("activities", _activities(["CALL", "Call", "call", "E-Mail", "E-mail"]))
        types = ws.table("activities").set_index("activity_id")["type"]
        assert set(types[["A0", "A1", "A2"]]) == {"Call"}
        assert set(types[["A3", "A4"]]) == {"E-Mail"}
