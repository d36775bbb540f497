"""``winloss analyze``: where wins and losses concentrate, on the store or directly on a file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from winloss.cli.engine_options import engine_options, spark_engine
from winloss.cli.file_input import file_options, workspace_for
from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message, period_filter_options


@click.command()
@file_options
@click.option(
    "--quarter",
    help="Deals closed in this fiscal quarter, e.g. 2026Q3 (also records "
    "the findings register and compares with the previous quarter).",
)
@period_filter_options
@click.option(
    "--depth",
    type=click.IntRange(1, 2),
    default=2,
    show_default=True,
    help="1: single conditions; 2: also pairs of conditions.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False-discovery level of the findings.",
)
@click.option(
    "--min-support",
    type=click.IntRange(min=1),
    default=None,
    help="Fewest deals a condition must cover [default: max(10, 1 % of the deals)].",
)
@click.option(
    "--max-findings",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="At most this many findings.",
)
@click.option(
    "--field", "fields", multiple=True, metavar="NAME", help="Only these attributes (repeatable)."
)
@click.option(
    "--exclude", multiple=True, metavar="NAME", help="Leave out this attribute (repeatable)."
)
@click.option("--no-record", is_flag=True, help="Do not record the findings register.")
@engine_options
@format_option
@pass_state
def analyze(
    state: State,
    /,
    file: str | None,
    quarter: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    segment: str | None,
    owner: str | None,
    preset: str | None,
    mapping_file: str | None,
    columns: tuple[str, ...],
    won_values: tuple[str, ...],
    lost_values: tuple[str, ...],
    day_first: bool,
    month_first: bool,
    on_duplicate: str,
    depth: int,
    alpha: float,
    min_support: int | None,
    max_findings: int,
    fields: tuple[str, ...],
    exclude: tuple[str, ...],
    no_record: bool,
    fmt: str,
    **engine_opts: Any,
) -> None:
    """Find where wins and losses concentrate, with counts, intervals and corrected q-values.

    Without FILE the store's closed deals are analysed. With FILE (CSV, Excel or Parquet) the
    file is analysed directly with the same mapping options as `winloss import`; a file without
    ids or dates works too (the quarter-over-quarter parts are then skipped). With `--engine
    spark --deals PATH` the deals (Parquet or a catalogue table, canonical column names) are
    read on Spark; nothing is recorded there.
    """
    from rich.console import Console

    from winloss.model.deals import DealFilter

    flt = DealFilter(
        quarter=quarter,
        since=since.date() if since else None,
        until=until.date() if until else None,
        segment=segment,
        owner=owner,
    )
    settings: dict[str, Any] = {
        "max_depth": depth,
        "alpha": alpha,
        "min_support": min_support,
        "max_findings": max_findings,
        "exclude": exclude,
        "fields": fields or None,
        "record": not no_record,
    }
    opts = {
        "preset": preset,
        "mapping_file": mapping_file,
        "columns": columns,
        "won_values": won_values,
        "lost_values": lost_values,
        "on_duplicate": on_duplicate,
        "day_first": day_first,
        "month_first": month_first,
    }
    from winloss.model.schema import ONE_OUTCOME_FIELDS

    one_outcome = tuple(f for f in fields if f in ONE_OUTCOME_FIELDS)
    rest = tuple(f for f in fields if f not in ONE_OUTCOME_FIELDS)
    if engine_opts.get("engine") == "spark":
        _analyze_on_spark(file, flt, settings, one_outcome, engine_opts, fmt)
        return
    spark_engine(engine_opts)  # --engine duckdb: rejects Spark-only options
    with workspace_for(state, file, opts, say_notes=False) as ws:  # the result holds them
        if one_outcome:
            # a loss reason exists on lost deals only: described among them, not compared
            describe_one_outcome(ws.qbr(flt), one_outcome, fmt)
            if not rest:
                return
            settings["fields"] = rest
        with Console(stderr=True).status("looking for concentrations of wins and losses…"):
            result = ws.analyze(flt, **settings)
    render(result, fmt)


def _analyze_on_spark(
    file: str | None,
    flt: Any,
    settings: dict[str, Any],
    one_outcome: tuple[str, ...],
    engine_opts: dict[str, Any],
    fmt: str,
) -> None:
    """The concentration analysis on Spark (read-only: the findings register is not recorded)."""
    from rich.console import Console

    from winloss.errors import UsageError
    from winloss.workspace import Workspace

    if file is not None:
        raise UsageError("--engine spark reads --deals PATH|TABLE, not FILE: drop FILE")
    if one_outcome:
        raise UsageError(
            f"--field {one_outcome[0]}: fields of one outcome are described with the DuckDB "
            "engine only; drop it or run without --engine spark"
        )
    engine = spark_engine(engine_opts)
    assert engine is not None
    with Console(stderr=True).status(f"looking for concentrations on Spark ({engine.master})…"):
        result = Workspace.analyze_source(engine, flt, **{**settings, "record": False})
    render(result, fmt)


def describe_one_outcome(result: Any, fields: tuple[str, ...], fmt: str) -> None:
    """Shares of each value among the deals of its one outcome, overall and by quarter, segment
    and owner, with Wilson intervals (the QBR reasons tables)."""
    import pandas as pd

    shares = [s for s in result.reasons if s.field in fields]
    if fmt == "json":
        from winloss.serialize import dumps

        click.echo(
            dumps(
                {
                    "scope": result.scope,
                    "fields": list(fields),
                    "descriptive": True,
                    "note": "a field of one outcome only is described among the deals "
                    "of that outcome, not compared across outcomes",
                    "shares": [s.to_dict() for s in shares],
                }
            )
        )
        return
    frame = pd.DataFrame([s.to_dict() for s in shares])
    if fmt == "csv":
        emit_frame(frame, "csv")
        return
    message(
        f"{', '.join(fields)}: recorded for one outcome only, so described among those "
        f"deals ({result.scope}) rather than compared; shares with 95 % intervals"
    )
    if frame.empty:
        message("no values recorded in this scope")
        return
    for (field, by), g in frame.groupby(["field", "by"], sort=False):
        table = pd.DataFrame(
            {
                "group": g["group"],
                "value": g["value"],
                "deals": g["deals"],
                "of": g["group_deals"],
                "share (95 % CI)": [
                    f"{100 * a:.0f} % ({100 * b:.0f}–{100 * c:.0f})"
                    for a, b, c in zip(g["share"], g["ci_low"], g["ci_high"], strict=True)
                ],
            }
        )
        emit_frame(table, "table", title=f"{field.replace('_', ' ')} by {by}")


def render(result: Any, fmt: str) -> None:
    """Write a :class:`ConcentrationResult`: JSON as documented, CSV of the summary, or tables
    (predictive drivers, then after-the-outcome drivers, then related findings) followed by one
    sentence per finding."""
    if fmt == "json":
        click.echo(result.to_json())
        return
    if fmt == "csv":
        emit_frame(result.summary, "csv")
        return
    message(
        f"{result.scope_text()}: {result.deals:,} closed deals, {result.wins:,} won "
        f"({100 * result.baseline_win_rate:.0f} %); {result.hypotheses_tested:,} hypotheses "
        f"tested in {result.families_tested:,} families; {len(result.findings)} driver(s) "
        f"and {len(result.related)} related finding(s) at q ≤ {result.alpha:g}"
    )
    for note in result.notes:
        message(f"note: {note}")
    for warning in result.warnings:
        message(f"warning: {warning}")
    if not result.findings and not result.related:
        message("no concentration of wins or losses stands out beyond chance")
        return
    before, after = result.predictive_findings, result.post_outcome_findings
    if before:
        emit_frame(
            _table(before),
            "table",
            title=f"Drivers known before the outcome — {result.scope_text()}",
        )
    if after:
        emit_frame(
            _table(after),
            "table",
            title="† Known only after the outcome: they explain, they do not predict",
        )
    if result.related and not result.findings:
        message(
            "no driver passed q ≤ "
            f"{result.alpha:g} over every hypothesis (pairs of conditions included); the "
            "single conditions below pass it among the single conditions alone, and no "
            "driver explains them"
        )
    if result.related:
        related = _related_table(result.related)
        if not result.findings:  # nothing to relate them to
            related = related.drop(columns=["related to", "given drivers"])
        unexplained = any(not f.explained_by for f in result.related)
        emit_frame(
            related,
            "table",
            title=(
                "Related findings: significant over every hypothesis or among the single "
                "conditions (q says which); 'related to' names the drivers that explain them"
                + (", — when none does: read those on their own" if unexplained else "")
            )
            if result.findings
            else "Significant single conditions",
        )
    for finding in (*before, *after):
        click.echo(f"{finding.id}. {finding.statement}")


def _rate(f: Any) -> str:
    return f"{100 * f.win_rate:.0f} % ({100 * f.ci_low:.0f}–{100 * f.ci_high:.0f})"


def _points(value: float) -> str:
    points = round(100 * value)
    return f"{points:+d}" if points else "0"


def _q(value: float) -> str:
    return f"{value:.0e}" if value > 0 else "<1e-300"


def _table(findings: Any) -> Any:
    import pandas as pd

    rows = []
    for f in findings:
        row = {
            "id": f.id,
            "finding": f.summary_text + (" †" if f.post_outcome else ""),
            "dir": f.direction,
            "n": f.n,
            "win rate (95 % CI)": _rate(f),
            "rest": f"{100 * f.rest_win_rate:.0f} %",
            "lift": round(f.lift, 2),
            "q": _q(f.q_value),
            "adjusted": (
                f"{_points(f.adjusted_effect)} pts" + ("" if f.holds_when_adjusted else " n.s.")
                if f.adjusted_effect is not None
                else ""
            ),
        }
        if f.quarters_seen is not None:
            row["held"] = f"{f.quarters_held}/{f.quarters_seen}"
        if f.register_status:
            row["status"] = f.register_status
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _related_table(findings: Any) -> Any:
    import pandas as pd

    rows = []
    for f in findings:
        effect = f.conditional_effect or {}
        diff = effect.get("difference")
        rows.append(
            {
                "id": f.id,
                "finding": f.summary_text
                + (" †" if f.post_outcome else "")
                + (f" (+{f.similar_conditions} similar)" if f.similar_conditions else ""),
                "n": f.n,
                "win rate (95 % CI)": _rate(f),
                "rest": f"{100 * f.rest_win_rate:.0f} %",
                "q": f.q_text(),
                "related to": ", ".join(f.explained_by) or "—",
                "given drivers": (
                    ""
                    if diff is None
                    else f"{_points(diff)} pts" + ("" if effect.get("holds") else " n.s.")
                ),
            }
        )
    return pd.DataFrame(rows)
