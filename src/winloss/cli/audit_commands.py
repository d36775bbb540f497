"""``winloss audit``: the data-integrity audit and its ranked fix list."""

from __future__ import annotations

import datetime as dt

import click

from winloss.analyze.audit import DETAIL_TABLES
from winloss.analyze.audit.analysis import RANK_RULE
from winloss.analyze.audit.checks import share_text
from winloss.cli.main import State, pass_state
from winloss.cli.render import date_range_options, emit_frame, format_option, message
from winloss.serialize import dumps


@click.command()
@click.option("--quarter", help="Deals closed in this fiscal quarter, e.g. 2026Q3.")
@date_range_options
@click.option(
    "--detail",
    type=click.Choice(DETAIL_TABLES),
    default=None,
    help="Show one detail table instead of the fix list.",
)
@click.option(
    "--fresh-days",
    type=click.IntRange(0, 365),
    default=7,
    show_default=True,
    help="A capture within this many days of the close is fresh.",
)
@click.option(
    "--min-pushes",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="Report deals whose close date was pushed this many times or more.",
)
@format_option
@pass_state
def audit(
    state: State,
    quarter: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    detail: str | None,
    fresh_days: int,
    min_pushes: int,
    fmt: str,
) -> None:
    """Audit data integrity: blanks, late captures, odd dates, stage skips, pushed close dates,
    duplicates and typos, ranked by how much each fix matters.

    JSON holds the fix list and every detail table; CSV and the table show the fix list (or the
    --detail table).
    """
    result = state.workspace().audit(
        quarter=quarter,
        since=since.date() if since else None,
        until=until.date() if until else None,
        fresh_days=fresh_days,
        min_close_date_pushes=min_pushes,
    )
    inputs = result.inputs
    message(
        f"audited {inputs['deals']:,} deals ({inputs['closed_deals']:,} closed): "
        f"{len(result.issues)} issue(s)"
    )
    for note in result.notes:
        message(f"note: {note}")
    if detail is not None:
        emit_frame(getattr(result, detail), fmt, title=detail, max_rows=500)
        return
    if fmt == "json":
        click.echo(dumps(result.to_dict()))
        return
    frame = result.summary
    if fmt == "table":
        message(RANK_RULE)
        frame = frame[["rank", "severity", "issue", "deals", "share", "score", "action"]].assign(
            share=lambda f: f["share"].map(share_text),
            score=lambda f: f["score"].round().astype(int),
        )
    emit_frame(frame, fmt, title="data-integrity fix list", max_rows=100)
