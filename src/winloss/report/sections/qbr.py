"""QBR basics: loss and win reasons, competitors, win rates by group over quarters, stage
conversion and pipeline coverage — over the same quarters as the findings."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from winloss.analyze.qbr.analysis import RATE_DIMENSIONS
from winloss.report.charts import hbar_chart, line_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.labels import percent
from winloss.report.shared import discovery_split


def _cell(share: float, low: float, high: float) -> str:
    return f"{percent(share)} ({100 * low:.0f}–{100 * high:.0f})".replace(" (", "\u00a0(")


#: More groups than this (and than reasons) are laid out as rows, so the table fits the page.
MAX_GROUP_COLUMNS = 6
#: The row-label key of a table with groups as rows (not a possible reason value).
_GROUP_KEY = "\x00group"


def _pivot(shares: list[Any], by: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Reasons as rows and groups (quarters, segments, owners) as columns — or, for many groups
    (a dozen owners), groups as rows and reasons as columns."""
    mine = [s for s in shares if s.by == by]
    groups = list(dict.fromkeys(s.group for s in mine))
    reasons = list(dict.fromkeys(s.value for s in mine))
    if len(groups) > max(MAX_GROUP_COLUMNS, len(reasons)):
        by_group: dict[str, dict[str, Any]] = {}
        for s in mine:
            cell = _cell(s.share, s.ci_low, s.ci_high)
            by_group.setdefault(s.group, {_GROUP_KEY: s.group})[s.value] = cell
        return list(by_group.values()), [(_GROUP_KEY, by)] + [(r, r) for r in reasons]
    rows: dict[str, dict[str, Any]] = {}
    for s in mine:
        rows.setdefault(s.value, {"reason": s.value})[s.group] = _cell(s.share, s.ci_low, s.ci_high)
    columns = [("reason", "reason")] + [(g, g) for g in groups]
    return list(rows.values()), columns


def build(ctx: ReportContext) -> Section | None:
    from winloss.model.deals import DealFilter

    discovery, _ = discovery_split(ctx)
    if ctx.quarter is not None and discovery:
        flt: DealFilter | None = DealFilter(
            since=ctx.store.quarter(discovery[0]).start, until=ctx.quarter.end
        )
        period = f"{discovery[0]}–{discovery[-1]}" if len(discovery) > 1 else discovery[0]
    else:
        flt, period = None, "all closed deals"
    from winloss.analyze.qbr.analysis import QbrAnalysis

    result = ctx.cached("qbr", lambda: QbrAnalysis(deal_filter=flt).run(ctx.store))
    if result is None:
        return None
    parts = [
        f"<p>Scope: {result.inputs.n:,} closed deals of {escape(period)} (the quarters of "
        "the findings). Shares and win rates with their 95 % intervals.</p>"
    ]
    charts: list[str] = []
    for field, outcome in (("loss_reason", "lost"), ("win_reason", "won")):
        shares = [s for s in result.reasons if s.field == field]
        if not shares:
            continue
        label = "Loss reasons" if field == "loss_reason" else "Win reasons"
        parts.append(f"<h3>{label}: share of {outcome} deals</h3>")
        for by in ("quarter", "segment", "owner"):
            rows, columns = _pivot(shares, by)
            if rows and len(columns) > 2:
                parts.append(f'<p class="note">By {by}.</p>')
                parts.append(table_html(rows, columns))
    competitors = [r for r in result.competitors if r.deals >= 5]
    if competitors:
        charts.append("competitor-win-rates")
        overall = sum(r.wins for r in competitors) / max(1, sum(r.deals for r in competitors))
        parts.append(
            hbar_chart(
                "competitor-win-rates",
                "Win rate against each competitor (95 % interval)",
                [r.group for r in competitors],
                [r.win_rate for r in competitors],
                lows=[r.ci_low for r in competitors],
                highs=[r.ci_high for r in competitors],
                reference=overall,
            )
        )
    segments = [r for r in result.win_rates if r.dimension == "segment" and r.quarter]
    if segments:
        quarters = sorted({str(r.quarter) for r in segments})
        values: dict[str, list[float | None]] = {}
        for r in segments:
            values.setdefault(r.group, [None] * len(quarters))[quarters.index(str(r.quarter))] = (
                r.win_rate
            )
        series: dict[str, Sequence[float | None]] = dict(values)
        charts.append("segment-win-rate-trend")
        parts.append(
            line_chart(
                "segment-win-rate-trend", "Win rate by segment per quarter", quarters, series
            )
        )
    # segments over quarters are the chart above; without quarters they are a table too
    for dim in [d for d in RATE_DIMENSIONS if d != "segment" or not segments]:
        group_rates = [r for r in result.win_rates if r.dimension == dim and r.quarter is None]
        if group_rates:
            parts.append(f"<h3>Win rate by {dim}</h3>")
            parts.append(
                table_html(
                    [
                        {
                            "group": r.group,
                            "deals": f"{r.deals:,}",
                            "won": f"{r.wins:,}",
                            "rate": _cell(r.win_rate, r.ci_low, r.ci_high),
                        }
                        for r in group_rates
                    ],
                    [
                        ("group", dim),
                        ("deals", "closed"),
                        ("won", "won"),
                        ("rate", "win rate (95 % interval)"),
                    ],
                    numeric={"deals", "won"},
                )
            )
    if result.stages:
        parts.append("<h3>Stage-to-stage conversion</h3>")
        parts.append(
            '<p class="note">Of the deals that reached a stage and have since moved '
            "on or closed, the share that reached the next; deals still open at a "
            "stage are not counted as failures.</p>"
        )
        parts.append(
            table_html(
                [
                    {
                        "stage": s.stage,
                        "to": s.next_stage,
                        "reached": f"{s.reached:,}",
                        "moved": f"{s.moved_on:,}",
                        "open": f"{s.still_open:,}",
                        "rate": _cell(s.rate, s.ci_low, s.ci_high),
                    }
                    for s in result.stages
                ],
                [
                    ("stage", "stage"),
                    ("to", "next"),
                    ("reached", "reached"),
                    ("moved", "moved on"),
                    ("open", "still open"),
                    ("rate", "conversion"),
                ],
                numeric={"reached", "moved", "open"},
            )
        )
    if result.coverage and result.coverage.get("coverage") is not None:
        c = result.coverage
        parts.append("<h3>Pipeline coverage</h3>")
        parts.append(
            f"<p>Open pipeline expected to close in {escape(c['quarter'])}: "
            f"{c['open_pipeline']:,.0f} ({escape(result.coverage_deals())}), "
            f"{c['coverage']:.1f}× the average won revenue of "
            f"{escape(', '.join(c['quarters_averaged']))} "
            f"({c['average_bookings']:,.0f}).</p>"
        )
    notes = tuple(f"skipped: {s}" for s in result.skipped) + tuple(result.warnings)
    return Section(
        "qbr",
        "QBR basics: reasons, competitors, win rates, stages",
        "".join(parts),
        result.to_dict(),
        tuple(charts),
        notes,
    )
