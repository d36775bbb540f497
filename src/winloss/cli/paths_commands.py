"""Action-path commands: ``paths`` (graph and variants), ``paths markov``, ``paths evaluate``,
``paths export``/``import``/``refresh`` and ``next-action``. Each: parse → one facade call → render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click

from winloss.cli.engine_options import engine_options, spark_engine
from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message
from winloss.errors import UsageError
from winloss.serialize import dumps


def _filter(segment: str | None) -> Any:
    from winloss.model.deals import DealFilter

    return DealFilter(segment=segment) if segment else None


def _store_filter(state: State, segment: str | None) -> Any:
    """The deal filter of ``--segment``, refused when no stored deal has that segment: an unknown
    value would otherwise give empty tables that look like a result."""
    flt = _filter(segment)
    if flt is None:
        return None
    ws = state.workspace()
    if ws.deals(flt).empty:
        known = sorted({str(v) for v in ws.deals()["segment"].dropna()})
        listed = ", ".join(repr(v) for v in known) if known else "none (the deals have no segment)"
        raise UsageError(
            f"--segment {segment!r}: no deal has this segment; the segments are {listed}"
        )
    return flt


def _order(value: str) -> int | None:
    if value == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--order {value!r}: give 1, 2, 3, 4 or auto") from None


def chain_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Flags shared by the chain commands (fields of ChainSettings)."""
    for option in reversed(
        [
            click.option(
                "--by",
                default=None,
                metavar="COLUMN",
                help="Per-segment chains shrunk towards the pooled one (segment, region, …).",
            ),
            click.option("--segment", default=None, help="Only deals of this segment."),
            click.option(
                "--order",
                default="1",
                show_default=True,
                help="Markov order 1-4, or auto (held-out likelihood).",
            ),
            click.option(
                "--silent-days",
                type=float,
                default=30.0,
                show_default=True,
                help="A gap longer than this becomes a 'silent' step (0: off).",
            ),
            click.option(
                "--aged-days",
                type=float,
                default=180.0,
                show_default=True,
                help="An 'aged' step once a deal is older than this (0: off).",
            ),
            click.option(
                "--bootstrap",
                type=click.IntRange(0, 5000),
                default=200,
                show_default=True,
                help="Bootstrap replicates for the intervals (0: none).",
            ),
            click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed."),
            click.option(
                "--as-of",
                type=click.DateTime(),
                default=None,
                help="Judge open deals' silence at this time [default: latest activity].",
            ),
        ]
    ):
        f = option(f)
    return f


def _chain_settings(
    *,
    by: str | None,
    order: str,
    silent_days: float,
    aged_days: float,
    bootstrap: int,
    seed: int,
    as_of: dt.datetime | None,
) -> dict[str, Any]:
    """The ChainSettings fields from the values of :func:`chain_options` (less ``--segment``)."""
    return {
        "by": by,
        "order": _order(order),
        "silent_days": silent_days,
        "aged_days": aged_days,
        "bootstrap": bootstrap,
        "seed": seed,
        "as_of": as_of,
    }


def _warn(result: Any) -> None:
    for w in getattr(result, "warnings", ()):
        message(f"note: {w}")


@click.group("paths", invoke_without_command=True)
@click.option(
    "--by",
    default=None,
    metavar="COLUMN",
    help="Split the graph and the variants by a deal column (segment, region, …).",
)
@click.option("--segment", default=None, help="Only deals of this segment.")
@click.option("--edges", is_flag=True, help="Show the directly-follows edges, not the variants.")
@click.option(
    "--nodes",
    is_flag=True,
    help="Show the graph's nodes: deals through each action and the share of closed ones won.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Variants kept per group.",
)
@engine_options
@format_option
@pass_state
@click.pass_context
def paths(
    ctx: click.Context,
    state: State,
    /,
    by: str | None,
    segment: str | None,
    edges: bool,
    nodes: bool,
    top: int,
    fmt: str,
    **engine_opts: Any,
) -> None:
    """The engagement graph: directly-follows edges by outcome and path variants with win rates.

    Win rates count deals: a node's (`--nodes`) or an edge's (`--edges`, column win_rate) is the
    share of the closed deals through it that were won, each deal once however often it repeats
    the action. The edges' n/won/lost/open/win_share count transitions.

    Subcommands: markov, evaluate, export, import, refresh. `--engine spark --deals PATH
    --activities PATH --edges` counts the edges on Spark (docs/engines.md).
    """
    if edges and nodes:
        raise UsageError("give --edges or --nodes, not both")
    spark = spark_engine(engine_opts)
    if spark is not None:
        if ctx.invoked_subcommand is not None or not edges:
            raise UsageError(
                "--engine spark counts the directly-follows edges only: use `winloss paths "
                "--engine spark --deals … --activities … --edges` (variants and the "
                "subcommands read the DuckDB store)"
            )
        from winloss.workspace import Workspace

        frame = Workspace.path_edges_on(spark, _filter(segment), by=by)
        message(
            "note: on Spark each edge counts transitions (n, won, lost, open, win_share); the "
            "deals through each edge and their win rate are counted on the store"
        )
        emit_frame(frame, fmt, title="Directly-follows edges")
        return
    if ctx.invoked_subcommand is not None:
        return
    result = state.workspace().path_graph(_store_filter(state, segment), by=by, top_variants=top)
    _warn(result)
    if fmt == "json":
        click.echo(result.to_json())
    elif nodes:
        emit_frame(result.nodes, fmt, title="Nodes: deals through each action, share of closed won")
    else:
        emit_frame(
            result.edges if edges else result.variants,
            fmt,
            title="Directly-follows edges" if edges else "Path variants",
        )


@paths.command("markov")
@chain_options
@format_option
@pass_state
def markov(
    state: State,
    /,
    segment: str | None,
    fmt: str,
    **chain: Any,
) -> None:
    """Markov chain of the paths: removal effect of each action, P(win | state), micro-actions."""
    result = state.workspace().path_chains(
        _store_filter(state, segment),
        **_chain_settings(**chain),
    )
    _warn(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    message(
        f"order {result.order}; P(win) from the start: "
        + ", ".join(f"{k} {v:.1%}" for k, v in result.p_win_start.items())
    )
    emit_frame(result.removal_effects, fmt, title="Removal effects")
    if fmt == "table" and not result.micro_action_tests.empty:
        tests = result.micro_action_tests
        message(
            f"segment micro-actions: {int(tests['finding'].sum())} of {len(tests)} "
            f"segment × action tests survive Benjamini–Hochberg at q < {result.micro_fdr:g}"
        )
        shown = tests[
            ["group", "action", "removal_effect", "ci_low", "ci_high", "others_max"]
            + ["p_value", "q_value", "finding"]
        ]
        emit_frame(shown.head(10), fmt, title="Segment micro-action tests (smallest q first)")


@paths.command("evaluate")
@click.option(
    "--prefix",
    default="4,6,8",
    show_default=True,
    help="Comma-separated numbers of first actions k.",
)
@click.option("--order", default="auto", show_default=True, help="Markov order 1-4, or auto.")
@click.option(
    "--train-share",
    type=float,
    default=0.7,
    show_default=True,
    help="Share of closed deals, created first, used for training.",
)
@click.option("--silent-days", type=float, default=30.0, show_default=True)
@click.option("--aged-days", type=float, default=180.0, show_default=True)
@click.option("--segment", default=None, help="Only deals of this segment.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--no-censoring-guard",
    is_flag=True,
    help="Keep deals created within the usual cycle of the data's end (biased test).",
)
@format_option
@pass_state
def evaluate(
    state: State,
    /,
    prefix: str,
    order: str,
    train_share: float,
    silent_days: float,
    aged_days: float,
    segment: str | None,
    seed: int,
    no_censoring_guard: bool,
    fmt: str,
) -> None:
    """P(win | first k actions and their timing) on later deals, beside baselines."""
    try:
        prefixes = tuple(int(p) for p in prefix.split(",") if p.strip())
    except ValueError:
        raise UsageError(
            f"--prefix {prefix!r}: give comma-separated integers, e.g. 4,6,8"
        ) from None
    result = state.workspace().evaluate_paths(
        _store_filter(state, segment),
        prefixes=prefixes,
        order=_order(order),
        train_share=train_share,
        silent_days=silent_days,
        aged_days=aged_days,
        seed=seed,
        censoring_guard=None if no_censoring_guard else 0.95,
    )
    _warn(result)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "csv":
        emit_frame(result.summary, fmt)
    else:
        emit_frame(result.compact(), fmt, title=f"Path model (order {result.order}) vs baselines")


@paths.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--segment", default=None, help="Only deals of this segment.")
@pass_state
def export(state: State, /, file: str, segment: str | None) -> None:
    """Write the activities as an event log: FILE.csv (case/activity/timestamp) or FILE.xes[.gz]."""
    n = state.workspace().export_event_log(file, _store_filter(state, segment))
    message(f"wrote {n:,} events to {file}")


@paths.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--won",
    multiple=True,
    required=True,
    help="An activity that means won (repeatable); as the outcome it is removed from the path, "
    "and it is never offered as a next action.",
)
@click.option(
    "--lost",
    multiple=True,
    required=True,
    help="An activity that means lost (repeatable); as the outcome it is removed from the path, "
    "and it is never offered as a next action.",
)
@click.option(
    "--outcome-event",
    type=click.Choice(["final", "any"]),
    default="final",
    show_default=True,
    help="final: a case is won or lost when its last event is a --won/--lost activity; any: "
    "its last --won/--lost activity decides wherever it is (the events after it are after the "
    "close and are not imported).",
)
@click.option(
    "--lifecycle",
    type=click.Choice(["complete", "all"]),
    default="complete",
    show_default=True,
    help="When the log records lifecycle transitions (start, complete …): complete takes only "
    "completed events as steps; all takes every event.",
)
@click.option(
    "--day-first",
    is_flag=True,
    help="Read dates such as 06/03/2021 as 6 March (needed when every date reads both ways).",
)
@click.option(
    "--month-first",
    is_flag=True,
    help="Read dates such as 06/03/2021 as 3 June (needed when every date reads both ways).",
)
@click.option(
    "--case",
    "case_col",
    default=None,
    help="CSV: the case id column [default: case:concept:name, else a column such as 'Case ID'].",
)
@click.option(
    "--activity",
    "activity_col",
    default=None,
    help="CSV: the activity column [default: concept:name, else a column such as 'Activity'].",
)
@click.option(
    "--timestamp",
    "timestamp_col",
    default=None,
    help="CSV: the timestamp column [default: time:timestamp, else a column such as "
    "'Complete Timestamp' or 'Timestamp'].",
)
@format_option
@pass_state
def import_log(
    state: State,
    /,
    file: str,
    won: tuple[str, ...],
    lost: tuple[str, ...],
    outcome_event: str,
    lifecycle: str,
    day_first: bool,
    month_first: bool,
    case_col: str | None,
    activity_col: str | None,
    timestamp_col: str | None,
    fmt: str,
) -> None:
    """Import a CSV or XES (.xes.gz) event log as deals and activities."""
    result = state.workspace().import_event_log(
        file,
        won=won,
        lost=lost,
        outcome_event=outcome_event,
        lifecycle=lifecycle,
        day_first=day_first,
        month_first=month_first,
        case=case_col,
        activity=activity_col,
        timestamp=timestamp_col,
    )
    data = {
        "file": file,
        "events_read": result.events_read,
        "cases": result.cases,
        "won": result.won,
        "lost": result.lost,
        "open": result.open,
        "outcome_events_removed": result.outcome_events_removed,
        "activities": len(result.activities),
        "lifecycle_events_skipped": result.lifecycle_events_skipped,
        "events_after_outcome": result.events_after_outcome,
        "steps_replaced": result.steps_replaced,
        "notes": list(result.notes),
    }
    if fmt == "json":
        click.echo(dumps(data))
    else:
        message(
            f"imported {result.cases:,} cases ({result.won:,} won, {result.lost:,} lost, "
            f"{result.open:,} open) and {len(result.activities):,} activities from "
            f"{result.events_read:,} events; {result.outcome_events_removed:,} won/lost "
            "events became the outcomes (and are not steps)"
        )
        for note in result.notes:
            message(f"note: {note}")


@paths.command("refresh")
@click.option("--silent-days", type=float, default=30.0, show_default=True)
@click.option("--aged-days", type=float, default=180.0, show_default=True)
@format_option
@pass_state
def refresh(state: State, /, silent_days: float, aged_days: float, fmt: str) -> None:
    """Update the stored transition counts for new or changed deals only (no full refit)."""
    counts = state.workspace().refresh_path_counts(silent_days=silent_days, aged_days=aged_days)
    if fmt == "json":
        click.echo(dumps(counts))
    else:
        message(
            f"recounted {counts['recounted']:,} deals, kept {counts['unchanged']:,}, "
            f"removed {counts['removed']:,}"
        )


@click.command("next-action")
@click.argument("deal_ids", nargs=-1)
@click.option("--all", "all_open", is_flag=True, help="Every open deal (a CSV for the CRM).")
@click.option(
    "--top",
    type=click.IntRange(1, 50),
    default=None,
    help="Candidates per deal [default: all for one deal, 3 with --all].",
)
@click.option(
    "--min-support",
    type=click.IntRange(0, None),
    default=5,
    show_default=True,
    help="Candidates seen fewer times from this state rank last, flagged.",
)
@chain_options
@format_option
@pass_state
def next_action(
    state: State,
    /,
    deal_ids: tuple[str, ...],
    all_open: bool,
    top: int | None,
    min_support: int,
    segment: str | None,
    fmt: str,
    **chain: Any,
) -> None:
    """Rank the next actions of an open deal (DEAL_ID …) or of every open deal (--all).

    P(win) after each candidate, with a bootstrap interval and the support. Association learnt from
    past deals, not a causal effect.
    """
    if not deal_ids and not all_open:
        raise UsageError("name a deal (winloss next-action D-000123) or use --all")
    if deal_ids and all_open:
        raise UsageError("give deal ids or --all, not both")
    if top is None and all_open:
        top = 3
    ws = state.workspace()
    if chain["by"] is None and "segment" in ws.store.deal_columns_present():
        chain["by"] = "segment"
    result = ws.next_action(
        deal_ids or None,
        _store_filter(state, segment),
        top=top,
        min_support=min_support,
        **_chain_settings(**chain),
    )
    _warn(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    frame = result.candidates
    if fmt == "table":
        message(result.caveat)
        thin = frame["low_support"].astype(bool)
        if thin.any():
            frame = frame.assign(action=frame["action"].where(~thin, frame["action"] + " *"))
            message(
                f"note: * marks a step fewer than {min_support} past deals took from the same "
                "state: ranked after the others, the better-evidenced first (by support), as "
                "its P(win) is mostly a guess from shorter histories"
            )
        frame = frame[
            [
                "deal_id",
                "group",
                "state",
                "p_win_now",
                "rank",
                "action",
                "p_win_after",
                "ci_low",
                "ci_high",
                "support",
            ]
        ]
    emit_frame(
        frame,
        fmt,
        title="Next best actions (p_win_now: from the deal's path so far; `winloss score` "
        "gives the win model's, from its fields)",
        max_rows=500,
    )
