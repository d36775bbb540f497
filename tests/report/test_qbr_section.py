"""The QBR section's reason tables: a dozen owners become rows, so the table fits the page."""

from __future__ import annotations

from types import SimpleNamespace

from winloss.report.sections.qbr import MAX_GROUP_COLUMNS, _pivot


def _shares(groups: int, reasons: tuple[str, ...]) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(by="owner", group=f"Rep {g}", value=r, share=0.25, ci_low=0.1, ci_high=0.5)
        for g in range(groups)
        for r in reasons
    ]


def test_few_groups_are_columns() -> None:
    rows, columns = _pivot(_shares(3, ("Price", "Timing")), "owner")
    assert [c[1] for c in columns] == ["reason", "Rep 0", "Rep 1", "Rep 2"]
    assert [r["reason"] for r in rows] == ["Price", "Timing"]


def test_many_groups_are_rows_with_every_cell() -> None:
    groups = MAX_GROUP_COLUMNS + 6
    rows, columns = _pivot(_shares(groups, ("Price", "Timing", "No decision")), "owner")
    assert [c[1] for c in columns] == ["owner", "Price", "Timing", "No decision"]
    assert len(rows) == groups
    key = columns[0][0]
    assert [r[key] for r in rows] == [f"Rep {g}" for g in range(groups)]
    assert all(r["Price"] == "25\u00a0%\u00a0(10–50)" for r in rows)
