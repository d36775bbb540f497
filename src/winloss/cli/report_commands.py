"""The quarterly report command."""

from __future__ import annotations

from pathlib import Path

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import check_output_path, message


@click.command()
@click.option(
    "--quarter",
    help="The quarter to review, e.g. 2026Q3 (default: the latest quarter with closed deals).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default="winloss-report.html",
    show_default=True,
    help="Where to write the report: .html (self-contained) or .json.",
)
@click.option(
    "--json",
    "json_output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the same content as JSON to this file.",
)
@pass_state
def report(state: State, quarter: str | None, output: str, json_output: str | None) -> None:
    """Write the quarterly review: one self-contained HTML file that opens offline."""
    check_output_path(output, "--output")
    check_output_path(json_output, "--json")
    ws = state.workspace()
    result = ws.report(quarter=quarter)
    path = result.save(output)
    if json_output:
        result.save(json_output if json_output.endswith(".json") else json_output + ".json")
    for note in result.notes:
        message(f"note: {note}")
    message(f"wrote the {result.period} report ({len(result.sections)} sections) to {path}")
    click.echo(str(Path(path).resolve()))
