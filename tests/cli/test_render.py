"""The console tables: a figure is never split across lines nor cropped at the screen's edge."""

from __future__ import annotations

import pandas as pd
import pytest

from winloss.cli.render import emit_frame


def test_a_wide_table_of_figures_keeps_every_figure_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`forecast --backtest` printed '1,820' and ',171' on two lines and lost its last column."""
    monkeypatch.setenv("COLUMNS", "80")
    frame = pd.DataFrame(
        {f"figure {i}": [1_820_171.0 + i, 2_357_316.0 * (i + 1)] for i in range(12)}
        | {"quarter": ["2017Q2", "2017Q3"]}
    )
    emit_frame(frame, "table", title="wide")
    out = capsys.readouterr().out
    for value in frame.drop(columns="quarter").to_numpy().ravel():
        assert f"{value:,.0f}" in out  # whole, on one line
    assert "2017Q3" in out and "figure 11" in out


def test_long_text_still_folds_to_the_screen(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    frame = pd.DataFrame({"issue": ["word " * 60], "deals": [6711]})
    emit_frame(frame, "table")
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100 and "6711" in "".join(lines)
