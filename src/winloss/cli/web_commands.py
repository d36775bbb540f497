"""``winloss serve``, ``winloss user`` and ``winloss captures``: the web app, its accounts, and the
capture analyses (rep vs buyer agreement, interview plan, where SPICED values come from)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message
from winloss.serialize import dumps


def _db(state: State) -> str:
    from winloss.workspace import Workspace

    return state.db or Workspace.default_path()


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--fresh-days",
    type=click.IntRange(1, 365),
    default=7,
    show_default=True,
    help="Capture deadline: days after the close.",
)
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TLS certificate (PEM): serve over https with Secure cookies.",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TLS private key (PEM) of --cert.",
)
@pass_state
def serve(
    state: State, host: str, port: int, fresh_days: int, cert: str | None, key: str | None
) -> None:
    """Run the local web app: capture after close, coverage, buyer interviews, dashboards.

    The app opens the store only for the moment of each request, so CLI commands can run
    meanwhile (each waits for the other's moment; see docs/webapp.md).
    """
    from werkzeug.serving import run_simple

    from winloss.errors import UsageError
    from winloss.web import create_app

    if (cert is None) != (key is None):
        raise UsageError("give both --cert and --key to serve over https")
    db = _db(state)
    app = create_app(db, freshness_days=fresh_days, secure_cookies=cert is not None)
    from winloss.web.routes_dashboards import sweep_left_copies, warm

    for left in sweep_left_copies():
        message(f"note: removed {left}, a store copy a stopped server left behind")

    # the dashboards are built in the background from a copy of the store, so that the first
    # visit does not wait a minute for the forecast's model fits
    threading.Thread(target=warm, args=(db,), name="winloss-warm", daemon=True).start()
    scheme = "https" if cert else "http"
    message(f"winloss web app on {scheme}://{host}:{port}/ (store {db}); Ctrl-C stops it")
    if not app.config.get("TESTING") and host not in ("127.0.0.1", "localhost", "::1"):
        message("warning: listening beyond this machine; serve over https (--cert/--key)")
    from winloss.analyze.scoring.parallel import stop_workers
    from winloss.web.routes_dashboards import shutdown

    def stop(signum: int, frame: object) -> None:
        # remove the store copies and leave at once: a dashboard build may be running in a
        # background thread, and the interpreter's normal exit would wait on (or abort in) it;
        # the store itself is opened only for the moment of each request
        shutdown()
        stop_workers()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    # a service manager stops the app with SIGTERM: leave no store copy behind
    signal.signal(signal.SIGTERM, stop)
    try:
        run_simple(
            host,
            port,
            app,
            threaded=True,
            use_reloader=False,
            ssl_context=(cert, key) if cert and key else None,
        )
    finally:
        shutdown()
        stop_workers()


@click.group()
def user() -> None:
    """Accounts of the web app: `user add`, `user list`."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "manager", "rep"]), required=True)
@click.option("--owner", default=None, help="A rep's CRM owner name (the deals they own).")
@click.option(
    "--password",
    default=None,
    envvar="WINLOSS_PASSWORD",
    help="The password [env WINLOSS_PASSWORD; asked when absent].",
)
@pass_state
def user_add(
    state: State, username: str, role: str, owner: str | None, password: str | None
) -> None:
    """Create (or replace) a web-app user; the password is stored as an argon2id hash."""
    from winloss.errors import UsageError
    from winloss.web.auth import hash_password

    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    ws = state.workspace()
    if owner is not None and owner not in ws.owners():
        raise UsageError(f"no deal has owner {owner!r}; `winloss deals` shows the owner names")
    existed = ws.user(username) is not None
    ws.add_user(username, hash_password(password), role, owner)
    what = (
        "replaced (the earlier account's role, owner and password are gone)" if existed else "saved"
    )
    message(f"user {username} ({role}{', ' + owner if owner else ''}) {what}")


@user.command("list")
@format_option
@pass_state
def user_list(state: State, fmt: str) -> None:
    """List web-app users (no password hashes)."""
    emit_frame(state.workspace().users(), fmt, title="users")


@click.group()
def captures() -> None:
    """Captures: rep vs buyer agreement, the interview plan, value sources, precedence."""


@captures.command("agreement")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="False-discovery rate of the per-reason verdicts.",
)
@click.option(
    "--by",
    type=click.Choice(["field", "rep", "reason"]),
    default="field",
    show_default=True,
    help="Which table to show (JSON holds all three).",
)
@format_option
@pass_state
def agreement(state: State, alpha: float, by: str, fmt: str) -> None:
    """Where a deal has a rep capture and a buyer interview: agreement per field, per rep and
    per reason (which reasons reps over- or under-state), with Wilson intervals."""
    result = state.workspace().capture_agreement(alpha=alpha)
    message(f"{result.inputs.n} deals with both a rep capture and a buyer interview")
    for w in result.warnings:
        message(f"note: {w}")
    if fmt == "json":
        click.echo(result.to_json())
        return
    table = {"field": result.fields, "rep": result.by_rep, "reason": result.by_reason}[by]
    emit_frame(table, fmt, title=f"rep vs buyer agreement by {by}")


@captures.command("plan")
@click.option(
    "--window-days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Deals closed within this many days.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The planning date (default: today).",
)
@format_option
@pass_state
def plan(state: State, window_days: int, limit: int, today: dt.datetime | None, fmt: str) -> None:
    """Which recently closed deals to debrief with the buyer, ranked, with the reason for each."""
    result = state.workspace().interview_plan(
        window_days=window_days, limit=limit, today=today.date() if today else None
    )
    message(f"{result.candidates} deals closed in {result.inputs.period} without a buyer interview")
    for w in result.warnings:
        message(f"note: {w}")
    if fmt == "json":
        click.echo(result.to_json())
        return
    frame = result.deals
    if fmt == "table":  # the columns a person needs; CSV and JSON keep every column
        frame = frame[["rank", "deal_id", "owner", "outcome", "closed_at", "score", "reasons"]]
    emit_frame(frame, fmt, title="buyer interviews to run")


def _unknown_deal(deal_id: str, known: list[str]) -> Exception:
    """The error for ``--deal`` naming a deal the store does not have, with the closest ids."""
    import difflib

    from winloss.errors import UsageError

    if not known:
        return UsageError(f"no deal {deal_id!r}: the store has no deals; import them first")
    near = difflib.get_close_matches(deal_id, known, n=5, cutoff=0.6) or sorted(known)[:5]
    return UsageError(
        f"no deal {deal_id!r} in the store ({len(known):,} deals; e.g. {', '.join(near)}); "
        "`winloss deals` lists them"
    )


@captures.command("sources")
@click.option("--deal", "deal_id", default=None, help="One deal's fields.")
@format_option
@pass_state
def sources(state: State, deal_id: str | None, fmt: str) -> None:
    """Where the deals' SPICED values come from (buyer, rep, crm or blank)."""
    ws = state.workspace()
    if deal_id is not None and ws.deal(deal_id) is None:
        raise _unknown_deal(deal_id, [str(d) for d in ws.store.deal_ids()])
    message(f"precedence: {' > '.join(ws.capture_precedence)}")
    frame = ws.field_sources(deal_id) if deal_id else ws.field_source_counts()
    if fmt == "json":
        click.echo(dumps(frame.to_dict(orient="records")))
        return
    emit_frame(frame, fmt, title="value sources", max_rows=1000)


@captures.command("precedence")
@click.argument("order", required=False)
@pass_state
def precedence(state: State, order: str | None) -> None:
    """Show or set which source fills the SPICED fields first, e.g. `buyer,rep,crm`."""
    ws = state.workspace()
    if order:
        ws.set_capture_precedence(order)
    click.echo(",".join(ws.capture_precedence))
