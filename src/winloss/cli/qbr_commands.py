"""``winloss qbr``: the QBR basics — reasons, competitors, win rates by group, stages, coverage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message, period_filter_options


@click.command()
@click.option("--quarter", help="Deals closed in this fiscal quarter, e.g. 2026Q3.")
@period_filter_options
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(["reasons", "competitors", "win-rates", "stages", "coverage"]),
    help="Only these tables (repeatable; default all).",
)
@format_option
@pass_state
def qbr(
    state: State,
    quarter: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    segment: str | None,
    owner: str | None,
    tables: tuple[str, ...],
    fmt: str,
) -> None:
    """QBR basics: loss and win reasons by quarter, segment and owner; win rate against each
    competitor and by segment, owner and source over quarters; stage-to-stage conversion and
    pipeline coverage. Every share and rate with its Wilson 95 % interval."""
    from winloss.model.deals import DealFilter

    flt = DealFilter(
        quarter=quarter,
        since=since.date() if since else None,
        until=until.date() if until else None,
        segment=segment,
        owner=owner,
    )
    result = state.workspace().qbr(flt)
    if fmt == "json":
        click.echo(result.to_json())
        return
    if fmt == "csv":
        emit_frame(result.summary, "csv")
        return
    wanted = set(tables) or {"reasons", "competitors", "win-rates", "stages", "coverage"}
    message(f"QBR basics — {result.scope}: {result.inputs.n:,} closed deals")
    for note in result.skipped:
        message(f"skipped: {note}")
    for warning in result.warnings:
        message(f"warning: {warning}")
    if "reasons" in wanted:
        for field in ("loss_reason", "win_reason"):
            rows = [s for s in result.reasons if s.field == field and s.by == "all"]
            if rows:
                emit_frame(
                    _frame(
                        [
                            {
                                "reason": s.value,
                                "deals": s.deals,
                                "share (95 % CI)": _pct(s.share, s.ci_low, s.ci_high),
                            }
                            for s in rows
                        ]
                    ),
                    "table",
                    title=f"{field.replace('_', ' ')} — share of "
                    f"{'lost' if field == 'loss_reason' else 'won'} deals",
                )
    if "competitors" in wanted and result.competitors:
        emit_frame(_rates(result.competitors), "table", title="Win rate against each competitor")
    if "win-rates" in wanted:
        from winloss.analyze.qbr.analysis import RATE_DIMENSIONS

        for dim in RATE_DIMENSIONS:
            rows = [r for r in result.win_rates if r.dimension == dim and r.quarter is None]
            if rows:
                emit_frame(_rates(rows), "table", title=f"Win rate by {dim}")
    if "stages" in wanted and result.stages:
        emit_frame(
            _frame(
                [
                    {
                        "stage": s.stage,
                        "to": s.next_stage,
                        "reached": s.reached,
                        "moved on": s.moved_on,
                        "still open": s.still_open,
                        "conversion (95 % CI)": _pct(s.rate, s.ci_low, s.ci_high),
                    }
                    for s in result.stages
                ]
            ),
            "table",
            # its scope is not the closed deals of the header line: deals of every outcome
            # reach stages, and those still open are censored
            title="Stage-to-stage conversion — deals of every outcome in scope; those still "
            "open at a stage are not counted as failures",
        )
    if "coverage" in wanted and result.coverage:
        c = result.coverage
        cover = f"{c['coverage']:.1f}×" if c["coverage"] is not None else "n/a"
        click.echo(
            f"Pipeline coverage of {c['quarter']}: {c['open_pipeline']:,.0f} open "
            f"({result.coverage_deals()}) against average bookings of "
            f"{c['average_bookings']:,.0f} ({', '.join(c['quarters_averaged'])}): {cover}"
        )


def _pct(rate: float, low: float, high: float) -> str:
    return f"{100 * rate:.0f} % ({100 * low:.0f}–{100 * high:.0f})"


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def _rates(rows: Any) -> Any:
    return _frame(
        [
            {
                "group": r.group,
                "deals": r.deals,
                "won": r.wins,
                "win rate (95 % CI)": _pct(r.win_rate, r.ci_low, r.ci_high),
            }
            for r in rows
        ]
    )
