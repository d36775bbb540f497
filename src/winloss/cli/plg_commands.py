"""``winloss plg``: activation milestones, PQL scores, accounts ready for sales, PLG vs sales-led."""

from __future__ import annotations

import datetime as dt

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message
from winloss.serialize import dumps


@click.command("plg")
@click.option(
    "--accounts",
    "show_accounts",
    is_flag=True,
    help="Accounts still in their trial horizon with no deal yet: PQL score, milestone "
    "and the evidence; ready ones first.",
)
@click.option(
    "--horizon-days",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="A conversion is a won deal closed within this many days of the first event.",
)
@click.option(
    "--window",
    "windows",
    type=click.IntRange(min=1),
    multiple=True,
    default=(7, 14, 21, 30),
    show_default=True,
    help="Candidate milestone window in days (repeatable).",
)
@click.option(
    "--held-out",
    "held_out_share",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.3,
    show_default=True,
    help="Share of labelled accounts (the latest) kept to check the milestone.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False-discovery rate of the milestone candidates.",
)
@click.option(
    "--min-support",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Accounts needed on each side of a milestone.",
)
@click.option(
    "--prior-usage-days",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="Usage in this many days before a sales-led deal counts as prior use.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Make the analysis at this date [default: the latest date in the data].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstraps.")
@format_option
@pass_state
def plg(
    state: State,
    /,
    show_accounts: bool,
    horizon_days: int,
    windows: tuple[int, ...],
    held_out_share: float,
    alpha: float,
    min_support: int,
    prior_usage_days: int,
    as_of: dt.datetime | None,
    seed: int,
    fmt: str,
) -> None:
    """Product-led growth: what usage precedes a purchase, who is ready for sales now, and how
    PLG-sourced deals compare with sales-led ones."""
    ws = state.workspace()
    result = ws.plg(
        horizon_days=horizon_days,
        windows=tuple(windows),
        held_out_share=held_out_share,
        alpha=alpha,
        min_support=min_support,
        prior_usage_days=prior_usage_days,
        as_of=as_of.date() if as_of else None,
        seed=seed,
    )
    for warning in result.warnings:
        message(f"note: {warning}")
    m = result.milestone
    if show_accounts:
        if fmt == "json":
            click.echo(dumps(result.to_dict()["accounts"]))
            return
        frame = result.accounts
        if fmt == "table":
            frame = frame[
                [
                    "account_id",
                    "segment",
                    "days_since_first_event",
                    "active_users_in_window",
                    "milestone_met",
                    "pql_score",
                    "ready",
                    "evidence",
                ]
            ]
        emit_frame(
            frame,
            fmt,
            title=f"accounts in trial at {result.as_of}: "
            f"{len(result.ready)} ready for a sales touch",
            max_rows=max(len(frame), 1),
        )
        return
    if fmt == "json":
        click.echo(result.to_json())
        return
    if m is not None:
        (n1, k1), (n0, k0) = m.held_out_met, m.held_out_not_met
        message(
            f"activation milestone: {m.statement}: converted {m.train_met[1]}/"
            f"{m.train_met[0]} vs {m.train_not_met[1]}/{m.train_not_met[0]} (q = "
            f"{m.q_value:.2g}); held-out {k1}/{n1} vs {k0}/{n0} (p = "
            f"{m.held_out_p_value:.2g}, {'holds' if m.holds_on_held_out else 'does not hold'})"
        )
    if result.score is not None:
        s = result.score
        message(f"PQL score: {s.verdict()}")
        message(f"{len(result.ready)} accounts ready now (winloss plg --accounts)")
    emit_frame(result.motions, fmt, title="PLG-sourced vs sales-led deals")
    if fmt == "table":
        emit_frame(
            result.prior_usage[
                [
                    "segment",
                    "n_used",
                    "win_rate_used",
                    "n_not_used",
                    "win_rate_not_used",
                    "odds_ratio",
                    "or_ci_low",
                    "or_ci_high",
                    "q_value",
                ]
            ],
            fmt,
            title="sales-led deals at accounts that used the product before: "
            + result.prior_usage_text(),
        )
