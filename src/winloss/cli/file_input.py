"""Commands that read the store or, given a FILE, the file directly (in memory, nothing written)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from winloss.cli.data_commands import mapping_options
from winloss.cli.main import State


def file_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """FILE argument, mapping options and ``--on-duplicate`` for commands that read a file."""
    f = click.option(
        "--on-duplicate",
        type=click.Choice(["error", "keep-last", "keep-first"]),
        default="keep-last",
        show_default=True,
        help="FILE only: what to do with an id that occurs more than once.",
    )(f)
    f = click.option(
        "--month-first", is_flag=True, help="FILE only: dates are month-first (12/31/2026)."
    )(f)
    f = click.option(
        "--day-first",
        is_flag=True,
        help="FILE only: dates are day-first (31/12/2026); without either flag the file's "
        "unambiguous dates decide, as in `winloss import`.",
    )(f)
    f = mapping_options(f)
    return click.argument("file", required=False, type=click.Path(dir_okay=False, exists=True))(f)


@contextmanager
def workspace_for(
    state: State, file: str | None, opts: dict[str, Any], *, say_notes: bool = True
) -> Iterator[Any]:
    """The store's workspace, or an in-memory one holding FILE (closed afterwards).

    What reading FILE noted (duplicates kept, values read as another word, columns left out) is
    said on stderr unless ``say_notes`` is false (a command whose result carries the notes)."""
    from winloss.errors import UsageError, WinlossError

    mapping_given = any(
        opts.get(k)
        for k in (
            "preset",
            "mapping_file",
            "columns",
            "won_values",
            "lost_values",
            "day_first",
            "month_first",
        )
    )
    if file is None:
        if mapping_given:
            raise UsageError(
                "--preset, --mapping, --column, --won-value, --lost-value, --day-first and "
                "--month-first apply "
                "to a FILE, e.g. `winloss analyze deals.csv --column "
                "outcome=Status`"
            )
        yield state.workspace()
        return
    try:
        ws = _from_file(file, opts)
    except WinlossError as exc:  # FILE is read for this command only: nothing is ever imported
        exc.args = tuple(
            a.replace("Nothing was imported.", "Nothing was analysed.") if isinstance(a, str) else a
            for a in exc.args
        )
        raise
    if say_notes:
        from winloss.cli.render import message
        from winloss.store.summary_queries import deal_import_notes

        for note in deal_import_notes(ws.store):
            message(f"note: {note}")
    try:
        yield ws
    finally:
        ws.close()


def _from_file(file: str, opts: dict[str, Any]) -> Any:
    """An in-memory workspace holding FILE, read with the command's mapping options."""
    from winloss.model.mapping import parse_column_flags
    from winloss.workspace import Workspace

    return Workspace.from_file(
        file,
        preset=opts.get("preset"),
        mapping=opts.get("mapping_file"),
        columns=parse_column_flags(opts.get("columns") or ()),
        won_values=opts.get("won_values") or (),
        lost_values=opts.get("lost_values") or (),
        on_duplicate=opts.get("on_duplicate", "keep-last"),
        day_first=opts.get("day_first") or None,
        month_first=opts.get("month_first") or None,
    )
