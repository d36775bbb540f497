"""The action-plan command."""

from __future__ import annotations

from pathlib import Path

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import check_output_path, emit_frame, message


@click.command()
@click.option(
    "--quarter",
    help="The quarter under review, e.g. 2026Q3 (default: the latest quarter with closed deals).",
)
@click.option(
    "--window",
    type=click.IntRange(1, 40),
    default=None,
    help="Quarters on which findings are discovered (default: half the quarters, at "
    "most 4); the quarters before are the backtest.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "yaml"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also export the plan to a file: .csv, .json, .yaml/.yml (for the CRM admin).",
)
@click.option(
    "--no-record", is_flag=True, help="Do not write the actions to the quarterly register."
)
@click.option(
    "--no-adjustments",
    is_flag=True,
    help="Leave out the forecast, scoring and targeting adjustments (no model is fitted; faster).",
)
@pass_state
def plan(
    state: State,
    quarter: str | None,
    window: int | None,
    fmt: str,
    output: str | None,
    no_record: bool,
    no_adjustments: bool,
) -> None:
    """The action plan: capture fixes, backtested qualification rules, forecast, scoring and
    targeting adjustments — kept in a quarterly register and re-measured every quarter."""
    if output:
        check_output_path(output, "--output")
        if Path(output).suffix.lower() not in (".csv", ".json", ".yaml", ".yml"):
            from winloss.errors import UsageError

            raise UsageError(f"{output}: export as .csv, .json or .yaml")
    ws = state.workspace()
    result = ws.plan(
        quarter=quarter, window=window, record=not no_record, adjustments=not no_adjustments
    )
    from winloss.csv_safety import neutralise_csv_text

    renders = {
        "json": result.to_json,
        "yaml": result.to_yaml,
        "csv": lambda: neutralise_csv_text(result.to_csv()),
    }
    if output:
        suffix = Path(output).suffix.lower().lstrip(".")
        kind = {"yml": "yaml"}.get(suffix, suffix)
        if kind not in renders:
            from winloss.errors import UsageError

            raise UsageError(f"{output}: export as .csv, .json or .yaml")
        tmp = Path(output + ".tmp")
        tmp.write_text(renders[kind](), encoding="utf-8")
        tmp.replace(output)
        message(f"wrote the plan to {output}")
    for note in result.notes:
        message(f"note: {note}")
    if fmt in renders:
        click.echo(renders[fmt](), nl=False)
        return
    found = ", ".join(result.discovery_quarters) or "every closed deal (no close dates)"
    message(
        f"action plan for {result.period}: findings from {found}"
        f"; backtest on {', '.join(result.backtest_quarters) or 'no earlier quarter'}"
    )
    emit_frame(result.summary, "table", title=f"Action plan — {result.period}")
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for a in result.actions:
        # an action's words quote the data (a rule's value, a rep's name): text, not markup
        console.print(f"[bold]{a.kind} #{a.priority}[/] {escape(a.title)}\n  {escape(a.detail)}")
