"""Keep CSV exports from attacking the spreadsheet that opens them (CSV injection).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula, so a CRM string such as ``=HYPERLINK(...)`` or
``+cmd|' /C calc'!A0`` would run when an export is opened. Following OWASP's advice, such a cell
is written with a leading single quote (``'=HYPERLINK(...)``), which spreadsheets show as text.
Plain numbers (``-1200``, ``+3.5``, ``-1e3``) are not formulas and are left as they are, and
numeric columns are never touched. Every CSV winloss writes goes through here: ``deals``,
``score``, ``leads``, ``accounts``, ``analyze``, ``plan`` and ``import --check``.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

__all__ = ["FORMULA_START", "neutralise_cell", "neutralise_csv_text", "neutralise_frame"]


def neutralise_cell(value: str) -> str:
    """``value`` made inert for a spreadsheet: a quote before a formula-like start."""
    if value and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _neutralise_series(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    return series.map(lambda v: neutralise_cell(v) if isinstance(v, str) else v)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot become formulas."""
    out = pd.DataFrame(
        {i: _neutralise_series(frame.iloc[:, i]) for i in range(frame.shape[1])},
        index=frame.index,
    )
    out.columns = [neutralise_cell(str(c)) for c in frame.columns]
    return out


def neutralise_csv_text(text: str) -> str:
    """CSV text re-written with every formula-like cell neutralised (for ready-made CSV)."""
    rows = csv.reader(io.StringIO(text, newline=""))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    return buf.getvalue()
