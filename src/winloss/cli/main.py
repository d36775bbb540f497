"""The ``winloss`` command line: a thin layer over :class:`winloss.Workspace`.

Commands are registered by name in :data:`COMMANDS` and imported only when invoked, so
``winloss --help`` stays fast. Each command parses options, makes one library call, renders.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

#: command name -> "module:attribute" (modules under winloss.cli); help text shown in --help
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "winloss.cli.data_commands:demo",
        "Generate a demo company, import it, run everything.",
    ),
    "import": (
        "winloss.cli.data_commands:import_cmd",
        "Import a CSV/Excel/Parquet file into the store.",
    ),
    "template": ("winloss.cli.data_commands:template", "Print the CSV header of a table."),
    "schema": (
        "winloss.cli.data_commands:schema",
        "Show the data model (columns, types, when known).",
    ),
    "deals": ("winloss.cli.data_commands:deals", "List and filter stored deals."),
    "info": ("winloss.cli.data_commands:info", "Summarise the store."),
    "settings": (
        "winloss.cli.data_commands:settings",
        "Show or change the store's settings (fiscal year start).",
    ),
    "analyze": (
        "winloss.cli.analyze_commands:analyze",
        "Find where wins and losses concentrate, on the store or a FILE.",
    ),
    "plan": (
        "winloss.cli.plan_commands:plan",
        "The action plan: capture fixes, backtested rules, adjustments; CSV/JSON/YAML.",
    ),
    "report": (
        "winloss.cli.report_commands:report",
        "Write the quarterly review as one self-contained HTML file (or JSON).",
    ),
    "audit": (
        "winloss.cli.audit_commands:audit",
        "Audit data integrity: blanks, late captures, odd dates, typos; a ranked fix list.",
    ),
    "model": (
        "winloss.cli.model_commands:model",
        "The win-probability model: `model evaluate` out of sample, beside baselines.",
    ),
    "score": (
        "winloss.cli.model_commands:score",
        "Score open deals: calibrated win probability, interval, top factors.",
    ),
    "forecast": (
        "winloss.cli.model_commands:forecast",
        "Quarter bookings forecast with P10/P50/P90, by segment and owner; --backtest.",
    ),
    "leads": (
        "winloss.cli.model_commands:leads",
        "Lead scores from creation-time fields, graded A-D; CSV keyed by the CRM id.",
    ),
    "accounts": (
        "winloss.cli.model_commands:accounts",
        "Rank accounts by ideal-customer fit and expansion potential.",
    ),
    "qbr": (
        "winloss.cli.qbr_commands:qbr",
        "QBR basics: loss/win reasons, competitors, win rates by group, stages, coverage.",
    ),
    "bowtie": (
        "winloss.cli.bowtie_commands:bowtie",
        "The Bowtie: VM/CR/Δt per stage before and after the sale, retention, NRR, LTV.",
    ),
    "simulate": (
        "winloss.cli.bowtie_commands:simulate",
        "Compounding simulator: revenue per quarter, levers ranked, P(growth target).",
    ),
    "paths": (
        "winloss.cli.paths_commands:paths",
        "Action paths: the graph by outcome, variants, Markov chains, evaluate, event logs.",
    ),
    "next-action": (
        "winloss.cli.paths_commands:next_action",
        "Next best actions for open deals, ranked by P(win) after them; --all for every open deal.",
    ),
    "serve": (
        "winloss.cli.web_commands:serve",
        "Run the local web app: capture after close, coverage, interviews, dashboards.",
    ),
    "user": ("winloss.cli.web_commands:user", "Web-app accounts: `user add`, `user list`."),
    "captures": (
        "winloss.cli.web_commands:captures",
        "Captures: rep vs buyer agreement, interview plan, value sources, precedence.",
    ),
    "committee": (
        "winloss.cli.committee_commands:committee",
        "Buying committees: multithreading findings, open-deal risks, a deal's map.",
    ),
    "plg": (
        "winloss.cli.plg_commands:plg",
        "Product-led growth: activation milestones, PQL scores, PLG vs sales-led.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class State:
    """Options shared by every command; builds the workspace on demand."""

    def __init__(self, db: str | None, debug: bool) -> None:
        self.db = db
        self.debug = debug
        self._workspace: Any = None

    def workspace(self, *, read_only: bool = False) -> Any:
        """The workspace; ``read_only`` for commands that only read (a read-only store works,
        and a missing store is not created)."""
        if self._workspace is None:
            from winloss.store.open import is_server_url
            from winloss.workspace import Workspace

            target = str(Workspace.default_path() if self.db is None else self.db)
            self._check_store_exists(target)
            new = target != ":memory:" and not is_server_url(target) and not Path(target).exists()
            self._workspace = Workspace(self.db, read_only=read_only)
            if new:  # one command, one store: the slot holds the latest only
                CREATED[:] = [(Path(target), self._workspace)]
        return self._workspace

    @staticmethod
    def _check_store_exists(target: str) -> None:
        """Only the commands that write a new store (:data:`STORE_CREATING`) may create one;
        every other command refuses a store file that is not there rather than create an empty
        one (a mistyped --db would otherwise analyse nothing, and leave a stray file)."""
        from winloss.errors import UsageError
        from winloss.store.open import is_server_url

        ctx = click.get_current_context(silent=True)
        names: list[str] = []
        while ctx is not None and ctx.parent is not None:  # the root's name is the program's
            names.insert(0, ctx.info_name or "")
            ctx = ctx.parent
        words = tuple(names)
        creates = any(words[: len(prefix)] == prefix for prefix in STORE_CREATING)
        if (
            words
            and not creates
            and target != ":memory:"
            and not is_server_url(target)
            and not Path(target).exists()
        ):
            folder = Path(target).parent
            where = "" if folder.is_dir() else f" (the folder {folder} does not exist)"
            raise UsageError(
                f"no store at {target}{where}: check --db (or $WINLOSS_DB), or import your "
                "deals first with `winloss import deals FILE` (an event log: `winloss paths "
                "import FILE`; or try `winloss demo`)"
            )


#: Commands (command words) that may create the store; every other command needs it to exist.
STORE_CREATING = frozenset(
    {
        ("import",),
        ("demo",),
        ("paths", "import"),
        ("settings",),
        ("user", "add"),
        ("serve",),
    }
)

#: Store files this process created, with their workspace: removed again when the command
#: fails (a failed first import leaves no empty store behind; see :func:`_discard_created`).
CREATED: list[tuple[Path, Any]] = []
#: set by ``import`` once its rows are committed: a Ctrl-C after that says so, not "nothing"
COMMITTED: list[str] = []


def _discard_created() -> None:
    """Close and delete the stores this failed command created."""
    while CREATED:
        path, workspace = CREATED.pop()
        with contextlib.suppress(Exception):  # already closed, or never fully opened
            workspace.close()
        for file in (path, path.with_name(path.name + ".wal")):
            file.unlink(missing_ok=True)


pass_state = click.make_pass_decorator(State)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="WINLOSS_DB",
    default=None,
    metavar="PATH",
    help="The DuckDB store file, or a postgresql:// URL for a shared PostgreSQL store "
    "[env WINLOSS_DB; default ./winloss.duckdb].",
)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="winloss", prog_name="winloss")
@click.pass_context
def cli(ctx: click.Context, db: str | None, debug: bool) -> None:
    """winloss: why deals are won or lost, and what to do about it.

    Start with `winloss demo`, or import your CRM export with `winloss import deals FILE`.
    """
    ctx.obj = State(db, debug)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning winloss errors into one-line messages."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(
        os.environ.get("WINLOSS_DEBUG")
    )
    CREATED.clear()
    COMMITTED.clear()
    code = 1
    try:
        code = _run(argv, debug)
        return code
    finally:
        if code != 0:
            _discard_created()
        CREATED.clear()


def _settled(argv: list[str] | None) -> None:
    """The exit status is decided (130 after a Ctrl-C): a further interrupt while the process
    ends — a second Ctrl-C, or the one DuckDB raises again for an interrupted query — must not
    turn it into death by SIGINT (status -2, seen once in the fault tests)."""
    if argv is None:  # a real process (tests calling main() keep their handler)
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(argv: list[str] | None, debug: bool) -> int:
    try:
        cli.main(args=argv, prog_name="winloss", standalone_mode=False)
        if argv is None:  # a real process: a Ctrl-C while Python exits is not an error
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _settled(argv)
        click.echo(
            "note: Ctrl-C arrived after the import was committed: every row above is stored"
            if COMMITTED
            else "interrupted (Ctrl-C); an import is all-or-nothing, so nothing was half-written",
            err=True,
        )
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages
        from winloss.errors import WinlossError

        if debug:
            raise
        if isinstance(exc, WinlossError):
            click.echo(f"error: {exc}", err=True)
            return exc.exit_code
        if "query interrupted" in str(exc).casefold():  # DuckDB turns a Ctrl-C into this
            _settled(argv)
            click.echo(
                "interrupted (Ctrl-C); an import is all-or-nothing, so nothing was half-written",
                err=True,
            )
            return 130
        if type(exc).__module__.startswith("duckdb") and "corrupt" in str(exc).casefold():
            click.echo(
                "error: the store is damaged (a block fails its checksum: "
                f"{str(exc).splitlines()[0][:160]}); restore it from a backup or move it "
                "aside and import again",
                err=True,
            )
            return 1
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the "
            "traceback, and please report it)",
            err=True,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
