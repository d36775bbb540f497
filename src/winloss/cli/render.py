"""Render command results: tables for people, JSON and CSV for automation (always to stdout)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any, Literal

import click

from winloss.serialize import dumps

FORMATS = ("table", "json", "csv")

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format: a table for people, JSON or CSV for automation.",
)


def date_range_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--since`` and ``--until`` (YYYY-MM-DD), in that order in ``--help``."""
    f = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date.")(f)
    return click.option(
        "--since", type=click.DateTime(["%Y-%m-%d"]), help="From this date (YYYY-MM-DD)."
    )(f)


def period_filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The deal filters ``--since``, ``--until``, ``--segment`` and ``--owner``, in that order."""
    f = click.option("--owner", help="Only this owner.")(f)
    f = click.option("--segment", help="Only this segment.")(f)
    return date_range_options(f)


def _dates_as_text(df: Any) -> Any:
    """Date columns as the table and CSV show them: 2025-01-07, with the time only when a value
    has one (never 2025-01-07T00:00:00.000)."""
    import pandas as pd

    out = df
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col].dtype):
            stamps = df[col]
            timed = bool((stamps.dropna() != stamps.dropna().dt.normalize()).any())
            text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S" if timed else "%Y-%m-%d")
            out = out.assign(**{col: text.astype(object).where(stamps.notna(), None)})
    return out


def emit_frame(frame: Any, fmt: str, *, title: str | None = None, max_rows: int = 200) -> None:
    """Write a DataFrame to stdout in the chosen format."""
    import pandas as pd

    df: pd.DataFrame = frame
    if fmt == "json":
        records = json.loads(_dates_as_text(df).to_json(orient="records", date_format="iso"))
        click.echo(dumps(records))
    elif fmt == "csv":
        from winloss.csv_safety import neutralise_frame

        # formula-like cells (=, +, -, @ …) are quoted so a spreadsheet shows them as text
        click.echo(neutralise_frame(df).to_csv(index=False), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False, header_style="bold")
        cells = [[_cell(v) for v in row] for row in df.head(max_rows).itertuples(index=False)]
        for j, col in enumerate(df.columns):
            numeric = pd.api.types.is_numeric_dtype(df[col].dtype)
            justify: Literal["right", "left"] = "right" if numeric else "left"
            # a number is never split across lines ("1,820" / ",171"): its column is as wide as
            # its widest figure, and the text columns fold instead
            widest = max((len(r[j]) for r in cells), default=0) if numeric else None
            table.add_column(str(col), justify=justify, overflow="fold", min_width=widest)
        from rich.text import Text

        for row_cells in cells:
            # plain text, never markup: a CRM value "[high] renewal" lost its "[high]" and
            # "[/x]" stopped the command with a markup error
            table.add_row(*(Text(c) for c in row_cells))
        width = max(100, Console().width)
        # wider than the screen: wider lines, never a cropped figure (a table of figures and
        # short labels at its full width; one with long text at the least width rich folds to)
        probe = Console(file=io.StringIO(), width=100_000)
        short_text = all(len(c) <= 40 for row in cells for c in row)
        measured = probe.measure(table)
        needed = measured.maximum if short_text else measured.minimum
        console = Console(file=sys.stdout, width=max(width, needed))
        console.print(table)
        if len(df) > max_rows:
            click.echo(f"… {len(df) - max_rows} more rows (use --format csv for all)", err=True)


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return str(value.date().isoformat() if value == value.normalize() else value.isoformat())
    return str(value)


def emit_mapping(data: dict[str, Any], fmt: str, *, title: str | None = None) -> None:
    """Write a dict to stdout: key/value table, JSON, or CSV of key,value."""
    if fmt == "json":
        click.echo(dumps(data))
        return
    import pandas as pd

    rows = [
        {"key": k, "value": v if not isinstance(v, (dict, list)) else dumps(v)}
        for k, v in data.items()
    ]
    emit_frame(pd.DataFrame(rows), fmt, title=title)


def message(text: str) -> None:
    """A message for people: stderr, so stdout stays data."""
    click.echo(text, err=True)


def check_output_path(path: str | None, option: str) -> None:
    """Refuse an output path whose folder does not exist (or is not writable) before any work is
    done: the plan computed for a minute and then failed with a bare FileNotFoundError."""
    import os
    from pathlib import Path

    from winloss.errors import UsageError

    if not path:
        return
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {path}: the folder {folder} is not writable")
