"""The "What changed" section says what it compares with: a register, or a fresh analysis."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from winloss.model.period import parse_quarter


@pytest.mark.parametrize(
    ("notes", "words"),
    [
        ((), "against the findings recorded for 2017Q3"),
        (
            ("2017Q3 was not recorded: compared with a fresh analysis of 2017Q3",),
            "against a fresh analysis of 2017Q3 (its findings were not recorded)",
        ),
    ],
)
def test_the_comparison_is_named_as_it_was_made(
    monkeypatch: pytest.MonkeyPatch, notes: tuple[str, ...], words: str
) -> None:
    """Maven's report said "against the findings recorded for 2017Q3"; the register had none
    (`analyze` said so afterwards): the comparison was with a fresh analysis."""
    from winloss.report.sections import changes

    entry = SimpleNamespace(
        status="new", direction="win", statement="a finding", key="k", difference=0.1,
        previous_difference=None, to_dict=lambda: {"key": "k"},
    )  # fmt: skip
    result = SimpleNamespace(register=[entry], deals=1985, notes=notes)
    monkeypatch.setattr(changes, "quarter_findings", lambda ctx: result)
    ctx: Any = SimpleNamespace(quarter=parse_quarter("2017Q4"))
    section = changes.build(ctx)
    assert section is not None and words in section.html


def test_a_finding_of_last_quarter_not_significant_now_is_not_called_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stranger's report called a champion effect "gone" while the quarter still showed 26 %
    against 41 %, only not beyond chance on its 75 deals."""
    from winloss.report.sections import changes

    entry = SimpleNamespace(
        status="gone", direction="loss", statement="champion new == no", key="k",
        difference=None, previous_difference=-0.2, to_dict=lambda: {"key": "k", "status": "gone"},
    )  # fmt: skip
    result = SimpleNamespace(register=[entry], deals=75, notes=())
    monkeypatch.setattr(changes, "quarter_findings", lambda ctx: result)
    ctx: Any = SimpleNamespace(quarter=parse_quarter("2025Q2"))
    section = changes.build(ctx)
    assert section is not None
    assert ">gone<" not in section.html and "1 gone" not in section.html
    assert "1 not beyond chance now" in section.html
    assert "may have faded, or still hold on too few deals" in section.html
    assert section.data["register"][0]["status"] == "gone"  # the register's own status stays
