"""Every bad input ends one of two ways: imported with every value right, or refused in one line
(file, row, column, what to do) with the store exactly as it was (issue #11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.ingest.bad_inputs import CASES, Case
from tests.ingest.store_state import fingerprint_connection
from winloss import WinlossError, Workspace
from winloss.model.schema import table_for

BASELINE = (
    "deal_id,outcome,created_at,amount,segment\n"
    "B1,won,2025-11-03,100,SMB\nB2,lost,2025-12-01,200,Enterprise\n"
)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Workspace]:
    """A store holding three known deals, so 'unchanged' is a real comparison."""
    ws = Workspace(":memory:")  # the same transactions as a file; the CLI tests use files
    base = tmp_path / "baseline.csv"
    base.write_text(BASELINE)
    ws.import_deals(base)
    yield ws
    ws.close()


def _write(case: Case, folder: Path) -> Path:
    path = folder / case.name
    if callable(case.content):
        case.content(path)
    else:
        path.write_bytes(case.content)
    return path


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        return bool(actual == pytest.approx(expected))
    if isinstance(expected, pd.Timestamp):
        return bool(pd.Timestamp(actual) == expected)
    return bool(actual == expected)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, seeded: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = _write(case, folder)
    before = fingerprint_connection(seeded.store.con)
    table = table_for(case.table)
    stored_before = len(seeded.table(table.name))
    if case.refused:
        with pytest.raises(WinlossError) as info:
            seeded.import_file(case.table, path, **case.options)
        message = str(info.value)
        assert "\n" not in message, "a refusal is one line"
        for part in case.refused:
            assert part in message, f"{part!r} not in: {message}"
        assert "unexpected" not in message.casefold()
        assert fingerprint_connection(seeded.store.con) == before, "the store changed"
        return
    result = seeded.import_file(case.table, path, **case.options)
    stored = seeded.table(table.name)
    if case.rows is not None:
        assert result.inserted + result.updated == case.rows
        assert len(stored) - stored_before == case.rows
    key = table.key[0] if table.name != "stakeholders" else "contact_id"
    if table.name == "activities":
        key = "activity_id"
    rows = stored.set_index(key)
    for ident, values in case.expect.items():
        assert ident in rows.index, f"{ident!r} not stored"
        for column, expected in values.items():
            actual = rows.loc[ident, column]
            assert _same(actual, expected), f"{ident}.{column}: {actual!r} != {expected!r}"


def test_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if c.refused) >= 30
