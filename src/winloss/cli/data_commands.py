"""Data commands: demo, import, template, schema, deals, info."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import (
    check_output_path,
    date_range_options,
    emit_frame,
    emit_mapping,
    format_option,
    message,
)

TABLE_CHOICES = (
    "deals",
    "stakeholders",
    "activities",
    "stages",
    "subscriptions",
    "usage",
    "captures",
)


def mapping_options(f: click.decorators.FC) -> click.decorators.FC:
    """The field-mapping options shared by ``import`` and the commands that read a FILE."""
    f = click.option(
        "--preset",
        type=click.Choice(["auto", "salesforce", "hubspot", "ibm-win-loss", "maven-crm"]),
        default=None,
        help="A CRM export preset (default: detected from the header when one fits).",
    )(f)
    f = click.option(
        "--mapping",
        "mapping_file",
        type=click.Path(dir_okay=False),
        help="A YAML/JSON mapping file (see README: Mapping files).",
    )(f)
    f = click.option(
        "--column",
        "columns",
        multiple=True,
        metavar="ROLE=SOURCE_COLUMN",
        help="Map a source column to a role, e.g. --column deal_id='Opp ID'. Repeatable.",
    )(f)
    f = click.option(
        "--won-value",
        "won_values",
        multiple=True,
        metavar="VALUE",
        help="An outcome value that means won. Alone, the column's other values "
        "mean lost (open-deal values such as open, pending, in progress stay "
        "open); a value that is neither is an error. Repeatable.",
    )(f)
    f = click.option(
        "--lost-value",
        "lost_values",
        multiple=True,
        metavar="VALUE",
        help="An outcome value that means lost (alone: the others mean won, as above). Repeatable.",
    )(f)
    return f


@click.command("import")
@click.argument("table", type=click.Choice(TABLE_CHOICES))
@click.argument("file", type=click.Path(dir_okay=False))
@mapping_options
@click.option("--no-dates", is_flag=True, help="The file has no dates (time analyses skipped).")
@click.option(
    "--day-first",
    is_flag=True,
    help="Dates are day-first (31/12/2026). Without "
    "--day-first/--month-first the file's unambiguous dates decide; a file whose dates "
    "all read both ways is refused.",
)
@click.option("--month-first", is_flag=True, help="Dates are month-first (12/31/2026).")
@click.option(
    "--on-duplicate",
    type=click.Choice(["error", "keep-last", "keep-first"]),
    default="error",
    show_default=True,
    help="What to do with an id that occurs more than once in the file.",
)
@click.option(
    "--unknown-values",
    type=click.Choice(["error", "other", "keep"]),
    default="error",
    show_default=True,
    help="Values outside a controlled vocabulary: refuse, store as 'other', or keep.",
)
@click.option(
    "--on-orphan",
    type=click.Choice(["error", "keep", "skip"]),
    default="error",
    show_default=True,
    help="Stakeholders, activities, stages or captures naming a deal not in the store: "
    "refuse (rows listed), import them anyway, or leave them out (count and rows "
    "reported).",
)
@click.option("--sheet", default=None, help="Excel sheet name (default: the first).")
@click.option(
    "--check",
    is_flag=True,
    help="Validate only: list every problem (bad values, "
    "duplicated ids with their rows) and write nothing. Exit 1 when there are any.",
)
@format_option
@pass_state
def import_cmd(
    state: State,
    table: str,
    file: str,
    preset: str | None,
    mapping_file: str | None,
    columns: tuple[str, ...],
    won_values: tuple[str, ...],
    lost_values: tuple[str, ...],
    no_dates: bool,
    day_first: bool,
    month_first: bool,
    on_duplicate: str,
    unknown_values: str,
    on_orphan: str,
    sheet: str | None,
    check: bool,
    fmt: str,
) -> None:
    """Import FILE (CSV, Excel or Parquet) into TABLE, validated and all-or-nothing.

    Re-importing a file is safe: rows are upserted by their id.
    """
    from winloss.errors import ImportInterrupted
    from winloss.model.mapping import parse_column_flags
    from winloss.workspace import Workspace

    db_path = Path(state.db or Workspace.default_path())
    options = dict(
        preset=preset,
        mapping=mapping_file,
        columns=parse_column_flags(columns),
        won_values=won_values,
        lost_values=lost_values,
        no_dates=no_dates or None,
        day_first=day_first or None,
        month_first=month_first or None,
        on_duplicate=on_duplicate,
        unknown_values=unknown_values,
        on_orphan=on_orphan,
        sheet=sheet,
    )
    if check:
        # validation only: open the store read-only (a missing store is not created)
        found = state.workspace(read_only=True).check(table, file, **options)
        message(found.summary(Path(file).name))
        for note in found.notes:  # e.g. lookup files not found: said by the import too
            message(f"note: {note}")
        if found.problems.empty:
            return
        emit_frame(found.problems, fmt, title="problems", max_rows=10**9)
        raise SystemExit(1)
    new_store = not db_path.exists()
    ws = state.workspace()
    try:
        result = ws.import_file(table, file, **options)
    except BaseException as exc:
        if new_store and ws.store.count("imports") == 0:  # leave no empty store behind
            ws.close()
            for p in (db_path, Path(str(db_path) + ".wal")):
                p.unlink(missing_ok=True)
        if isinstance(exc, KeyboardInterrupt):
            raise ImportInterrupted(
                f"{Path(file).name}: interrupted before anything was written (nothing was imported); "
                "the store is unchanged. Run the import again."
            ) from None
        raise
    from winloss.cli.main import COMMITTED
    from winloss.store.duckdb_store import sigint_deferred

    COMMITTED.append(result.table)
    with sigint_deferred() as late:  # committed: a Ctrl-C now must not read as a failure
        for note in result.notes:
            message(f"note: {note}")
        counts = dict(result.outcomes)
        outcome_text = ": " + " / ".join(f"{n:,} {k}" for k, n in counts.items()) if counts else ""
        message(
            f"{'read' if result.duplicates_dropped else 'imported'} {result.rows_read:,} rows "
            f"from {Path(file).name} into "
            f"{result.table}: {result.inserted:,} new, {result.updated:,} updated"
            + (
                f", {result.duplicates_dropped:,} repeated id(s) not stored"
                if result.duplicates_dropped
                else ""
            )
            + f"{outcome_text} ({ws.path})"
        )
        if fmt == "table":
            # the line and notes above already say everything but the custom fields: a
            # key/value table would repeat them (issue: import notes printed twice)
            if result.custom_fields:
                message(
                    f"kept {len(result.custom_fields)} column(s) with no winloss field as custom "
                    f"fields: {', '.join(result.custom_fields)}"
                )
        else:
            emit_mapping(result.to_dict(), fmt, title="import")
    if result.interrupted_after_commit or late:
        message("note: Ctrl-C arrived after the import was committed: every row above is stored")


@click.command()
@click.argument("table", type=click.Choice(TABLE_CHOICES), default="deals")
def template(table: str) -> None:
    """Print the CSV header of TABLE with the documented columns."""
    from winloss.model.schema import table_for, template_header

    click.echo(",".join(template_header(table_for(table))))


@click.command()
@click.option("--markdown", is_flag=True, help="Print the data model as Markdown (README).")
@format_option
def schema(markdown: bool, fmt: str) -> None:
    """Show the data model: every table's columns, types and when each is known."""
    import pandas as pd

    from winloss.model.schema import DEALS, DERIVED_DEAL_FIELDS, TABLES, data_model_markdown

    if markdown:
        click.echo(data_model_markdown())
        return
    rows = []
    for t in TABLES.values():
        extra = DERIVED_DEAL_FIELDS if t is DEALS else ()
        for f in t.fields + extra:
            rows.append(
                {
                    "table": t.name,
                    "column": f.name,
                    "type": f.dtype,
                    "known": f.known,
                    "required": f.required,
                    "values": " / ".join(f.vocabulary) if f.vocabulary else "",
                    "description": f.description,
                }
            )
    emit_frame(pd.DataFrame(rows), fmt, title="winloss data model", max_rows=10_000)


@click.command()
@click.option(
    "--quarter",
    help="Deals closing in this fiscal quarter, e.g. 2026Q3: closed in it, or open with an "
    "expected close date in it (--outcome won|lost|open narrows it).",
)
@date_range_options
@click.option("--segment", help="Only this segment.")
@click.option("--outcome", type=click.Choice(["won", "lost", "open"]), help="Only this outcome.")
@click.option("--owner", help="Only this owner.")
@click.option(
    "--columns",
    "cols",
    default="deal_id,account_name,owner,segment,outcome,amount,created_at,closed_at,quarter",
    show_default=True,
    help="Comma-separated columns to show ('all' for every column).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="At most this many rows (0 = all; default 50 for a table, all for JSON and CSV).",
)
@format_option
@pass_state
def deals(
    state: State,
    quarter: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    segment: str | None,
    outcome: str | None,
    owner: str | None,
    cols: str,
    limit: int | None,
    fmt: str,
) -> None:
    """List and filter stored deals."""
    from winloss.errors import UsageError
    from winloss.model.deals import DealFilter

    ws = state.workspace(read_only=True)
    frame = ws.deals(
        DealFilter(
            quarter=quarter,
            since=since.date() if since else None,
            until=until.date() if until else None,
            segment=segment,
            outcome=outcome,
            owner=owner,
        )
    )
    if frame.empty and (owner or segment):
        # a filter value that no deal has (a different case, a segment the store lacks) said
        # only "0 deal(s)"
        every = ws.deals()
        for name, value in (("owner", owner), ("segment", segment)):
            if not value:
                continue
            have = sorted(every[name].dropna().astype(str).unique()) if name in every else []
            if value not in have:
                # quoted, so a doubled space shows; the same name in another case or spacing
                # is offered first ("Jane Doe" for the stored "jane doe")
                def norm(text: str) -> str:
                    return " ".join(text.split()).casefold()

                near = [h for h in have if norm(h) == norm(value)]
                listed = ", ".join(repr(h) for h in have[:20]) + (" …" if len(have) > 20 else "")
                message(
                    f"note: no deal has {name} {value!r}; "
                    + (f"did you mean {' or '.join(repr(h) for h in near)}? " if near else "")
                    + (f"{name}s in the store: {listed}" if have else f"no deal has a {name}")
                )
    if cols != "all":
        wanted = [c.strip() for c in cols.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in frame.columns]
        if unknown:
            raise UsageError(f"unknown column(s) {unknown}; see `winloss schema` for names")
        frame = frame[wanted]
    if limit is None:
        limit = 50 if fmt == "table" else 0
    shown = min(limit, len(frame)) if limit else len(frame)
    message(
        f"{len(frame):,} deal(s)"
        + (f"; showing {shown:,} (--limit 0 for all)" if shown < len(frame) else "")
    )
    if limit:
        frame = frame.head(limit)
    emit_frame(frame, fmt, title="deals", max_rows=max(limit, 1) if limit else 10**9)


@click.command()
@format_option
@pass_state
def info(state: State, fmt: str) -> None:
    """Summarise the store: rows per table, outcomes, dates, quarters, custom fields."""
    data = state.workspace(read_only=True).info()
    if fmt != "table":
        emit_mapping(data, fmt)
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"[bold]store[/] {escape(str(data['store']))} (schema v{data['schema_version']})")

    def say(text: str) -> None:  # a custom field's name is text, not markup ("[tier]")
        console.print(text, markup=False)

    say("rows: " + ", ".join(f"{k} {v:,}" for k, v in data["tables"].items()))
    say("deals by outcome: " + ", ".join(f"{k} {v:,}" for k, v in data["outcomes"].items()))
    if data["created"][0] or data["closed"][0]:
        say(
            f"created {data['created'][0] or '—'} … {data['created'][1] or '—'}; "
            f"closed {data['closed'][0] or '—'} … {data['closed'][1] or '—'}"
        )
    else:
        say("no dates (quarter-over-quarter and time-ordered analyses are skipped)")
    say(
        f"quarters: {', '.join(data['quarters']) or '(no close dates)'} "
        f"(fiscal year starts in month {data['fiscal_year_start_month']})"
    )
    if data["custom_fields"]:
        say(
            "custom fields: "
            + ", ".join(
                f"{c['name']} ({c['dtype']}{', after outcome' if c['known'] == 'after' else ''})"
                for c in data["custom_fields"]
            )
        )


@click.command()
@click.option(
    "--deals",
    "n_deals",
    type=click.IntRange(50, 2_000_000),
    default=3000,
    show_default=True,
    help="How many deals to generate.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default="winloss-report.html",
    show_default=True,
    help="Where to write the quarterly HTML report.",
)
@click.option(
    "--fresh/--keep",
    default=True,
    show_default=True,
    help="Start from an empty store (default; refused when the store holds imported files) "
    "or add to an existing store without deals, e.g. one whose settings you chose.",
)
@format_option
@pass_state
def demo(state: State, n_deals: int, seed: int, report_path: str, fresh: bool, fmt: str) -> None:
    """Generate a demo company, import it into the store and run every analysis.

    Uses the embedded store (./winloss.duckdb unless --db/WINLOSS_DB); no server needed.
    """
    from rich.console import Console

    from winloss.demo.run import DemoOptions, run_demo
    from winloss.workspace import Workspace

    path = state.db or Workspace.default_path()
    check_output_path(report_path, "--report")
    _check_demo_target(path, fresh)
    if fresh and path != ":memory:":
        for suffix in ("", ".wal"):
            p = Path(path + suffix)
            if p.exists():
                p.unlink()
    console = Console(stderr=True)
    with console.status("demo") as status:
        ws = state.workspace()
        result = run_demo(
            ws,
            DemoOptions(deals=n_deals, seed=seed, report_path=report_path),
            progress=lambda msg: status.update(msg),
        )
    message(
        "demo store " + ws.path + ": " + ", ".join(f"{k} {v:,}" for k, v in result.rows.items())
    )
    if fmt != "table":
        emit_mapping(result.to_dict(), fmt)
        return
    out = Console()
    for name, summary in result.steps:
        out.rule(f"[bold]{name}")
        out.print(summary, highlight=False, markup=False)  # "[high]" is text, not a style
    report = Path(report_path).resolve()
    if report.exists():
        message(f"report: {report}")


def _check_demo_target(path: str, fresh: bool) -> None:
    """Refuse a demo that would delete imported data (``--fresh`` on a store holding imports)
    or mix the demo company into existing deals (``--keep``: same deal ids, other people)."""
    from winloss.errors import UsageError
    from winloss.workspace import Workspace

    shared = "://" in path  # a PostgreSQL store: never deleted, and shared by a team
    if path == ":memory:" or (not shared and not Path(path).exists()):
        return
    with Workspace(path, read_only=True) as ws:
        files = ws.imported_files()
        deals = ws.store.count("deals")
    if shared and deals:
        from winloss.store.postgres_store import mask_url

        raise UsageError(
            f"{mask_url(path)} already holds {deals:,} deals: the demo would write its company "
            "over a shared store's deals. Run it on a store of its own: winloss --db "
            "demo.duckdb demo"
        )
    if fresh and files:
        more = f" and {len(files) - 1} more file(s)" if len(files) > 1 else ""
        raise UsageError(
            f"{path} holds data imported from {files[0]}{more}: `winloss demo` starts from an "
            "empty store and would delete it. Run the demo on a store of its own: "
            "winloss --db demo.duckdb demo"
        )
    if not fresh and deals:
        raise UsageError(
            f"{path} already holds {deals:,} deals: --keep adds the demo company to a store "
            "without deals (one whose settings you chose); here the demo's deal ids would "
            "overwrite those deals and mix two companies' contacts and activities. Drop --keep "
            "(the demo then starts from an empty store) or choose another --db"
        )


@click.command()
@click.option(
    "--fiscal-year-start",
    type=click.IntRange(1, 12),
    default=None,
    metavar="MONTH",
    help="The month (1–12) the fiscal year starts in. A fiscal year is named by the "
    "calendar year in which it ends: with April, April 2025 opens FY2026Q1.",
)
@format_option
@pass_state
def settings(state: State, fiscal_year_start: int | None, fmt: str) -> None:
    """Show the store's settings, or change them."""
    ws = state.workspace(read_only=fiscal_year_start is None)
    if fiscal_year_start is not None:
        ws.set_fiscal_year_start(fiscal_year_start)
        message(f"fiscal year starts in month {fiscal_year_start}; quarters are recomputed")
    emit_mapping(
        {
            "store": ws.path,
            "fiscal_year_start_month": ws.fiscal_year_start_month,
            "schema_version": ws.store.schema_version,
        },
        fmt,
        title="settings",
    )
