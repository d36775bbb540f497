"""``winloss committee``: buying-committee findings, open-deal risks, one deal's committee map."""

from __future__ import annotations

import datetime as dt

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message
from winloss.serialize import dumps


@click.command("committee")
@click.argument("deal_id", required=False)
@click.option(
    "--open",
    "open_deals",
    is_flag=True,
    help="Open deals with their risk flags, the reasons and the route that worked for "
    "similar deals.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False-discovery rate of the findings.",
)
@click.option(
    "--min-support",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Closed deals needed on each side of a threshold.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Judge open deals at this date [default: the latest date in the data].",
)
@format_option
@pass_state
def committee(
    state: State,
    /,
    deal_id: str | None,
    open_deals: bool,
    alpha: float,
    min_support: int,
    as_of: dt.datetime | None,
    fmt: str,
) -> None:
    """Multithreading: engaged stakeholders, roles, routes to the decision maker.

    Without arguments: what won on closed deals (discovered thresholds, roles, the champion
    leaving, timing, the best route to the decision maker per segment). With --open: every open
    deal's risk flags. With DEAL_ID: that deal's committee map (people, roles, who introduced whom,
    when each was reached).
    """
    ws = state.workspace()
    result = ws.committee(
        deal_id=deal_id, alpha=alpha, min_support=min_support, as_of=as_of.date() if as_of else None
    )
    for warning in result.warnings:
        message(f"note: {warning}")
    if deal_id and result.committee_map is not None:
        cmap = result.committee_map
        if fmt == "json":
            click.echo(dumps(cmap.to_dict()))
            return
        deal = cmap.deal
        if cmap.people.empty:
            message(
                f"note: no stakeholder is recorded for {deal_id}: import its contacts with "
                "`winloss import stakeholders FILE` to see its committee"
            )
        for reason in cmap.reasons:
            message(f"risk: {reason}")
        route = _given(deal.get("dm_route"))
        said = [_given(deal.get("outcome")), _given(deal.get("segment"))]
        said.append(f"decision maker via {route}" if route else "no decision maker reached")
        emit_frame(
            cmap.people,
            fmt,
            title=f"{deal_id}: {', '.join(w for w in said if w)}; flags: "
            f"{', '.join(cmap.flags) or 'none'}",
        )
        return
    if open_deals:
        if fmt == "json":
            click.echo(dumps(result.to_dict()["open_deal_risks"]))
            return
        frame = result.risks
        if fmt == "table":
            frame = frame[
                [
                    "deal_id",
                    "segment",
                    "amount",
                    "age_days",
                    "engaged_stakeholders",
                    "flags",
                    "suggested_route",
                    "suggestion_evidence",
                ]
            ]
        emit_frame(
            frame,
            fmt,
            title=f"open deals at {result.as_of}: "
            f"{int((result.risks['risk_count'] > 0).sum())} of {len(result.risks)} flagged",
            max_rows=max(len(frame), 1),
        )
        return
    if fmt == "json":
        click.echo(result.to_json())
        return
    emit_frame(
        result.summary,
        fmt,
        title=f"buying committees of {result.inputs.n:,} closed "
        f"deals ({result.hypotheses_tested} hypotheses, q ≤ {result.alpha})",
    )
    if fmt == "table":
        import pandas as pd

        best = pd.DataFrame(
            [
                {
                    "segment": b.segment,
                    "size": b.size_band,
                    "best route": b.route,
                    "win_rate": b.evidence.win_rate,
                    "ci_low": b.evidence.ci_low,
                    "ci_high": b.evidence.ci_high,
                    "n": b.evidence.n,
                    "next best": b.runner_up,
                    "next win_rate": b.runner_up_win_rate,
                    "significant": b.significant,
                }
                for b in result.best_routes
            ]
        )
        emit_frame(best, fmt, title="best route to the decision maker for similar deals")


def _given(value: object) -> str:
    """A deal value for a heading: blank for a missing one (never "None" or "nan")."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return str(value)
