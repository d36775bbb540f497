"""Findings: where wins and losses concentrate over the recent quarters, with their evidence.

Predictive drivers (fields known before the outcome) lead; drivers on fields known only after the
outcome have their own list and never a place in the chart; the related findings (significant, but
explained by a driver) follow in one compact table.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from winloss.report.charts import LOSS, WIN, hbar_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.labels import condition_label, interval, percent
from winloss.report.shared import discovery_split, window_findings

#: Keys of the analysis that describe one execution, not the deals: its random id (the window
#: analysis is not recorded, so the id names nothing in the store) and its wall time. Left out of
#: the report so that the same store and clock give the same report, byte for byte.
RUN_ONLY_KEYS = frozenset({"run_id", "elapsed_seconds"})

if TYPE_CHECKING:
    from winloss.analyze.concentrations.result import Finding


def _conditions(f: Finding) -> list[dict[str, Any]]:
    return [c.to_dict() for c in f.conditions]


def _finding_html(f: Finding) -> str:
    adjusted = ""
    if f.holds_when_adjusted is not None:
        adjusted = (
            "holds when the other findings are accounted for"
            if f.holds_when_adjusted
            else "does not hold once the other findings are accounted for"
        )
    held = f"; held in {f.quarters_held} of {f.quarters_seen} quarters" if f.quarters_seen else ""
    evidence = (
        f"{f.n:,} deals, {f.wins:,} won: {percent(f.win_rate)} "
        f"(95 % CI {interval(f.ci_low, f.ci_high)}) against "
        f"{percent(f.rest_win_rate)} for the rest; q = {f.q_text()}{held}"
        + (f"; {adjusted}" if adjusted else "")
    )
    return (
        f'<div class="finding {escape(f.direction)}"><div><strong>{escape(f.id)}.'
        f'</strong> {escape(f.statement)}</div><div class="evidence">{escape(evidence)}'
        "</div></div>"
    )


def _related_table(related: tuple[Finding, ...], *, drivers: bool) -> str:
    rows = []
    for f in related:
        effect = f.conditional_effect or {}
        diff = effect.get("difference")
        given = (
            ""
            if diff is None
            else (f"{round(100 * diff):+d} pts" if round(100 * diff) else "0 pts")
            + ("" if effect.get("holds") else " (explained)")
        )
        rows.append(
            {
                "id": f.id,
                "finding": condition_label(_conditions(f)) + (" †" if f.post_outcome else ""),
                "deals": f"{f.n:,}",
                "won": f"{percent(f.win_rate)} vs {percent(f.rest_win_rate)}",
                "q": f.q_text(),
                "related": ", ".join(f.explained_by or []) or "—",
                "given": given,
            }
        )
    columns = [
        ("id", "#"),
        ("finding", "deals where"),
        ("deals", "deals"),
        ("won", "won (vs rest)"),
        ("q", "q"),
    ]
    if drivers:
        columns += [("related", "related to"), ("given", "beyond the drivers")]
    return table_html(
        rows,
        columns,
        numeric={"deals"},
        css_class="related",
    )


def _label(f: Finding) -> str:
    parts = []
    for c in f.conditions:
        value = list(c.value) if isinstance(c.value, tuple) else c.value  # [low, high]
        parts.append(f"{c.field} {c.op} {value}")
    return f"{f.id}. " + " & ".join(parts)


def build(ctx: ReportContext) -> Section | None:
    discovery, _ = discovery_split(ctx)
    result = window_findings(ctx)
    if result is None:
        return None
    findings = result.findings
    related = result.related
    before = [f for f in findings if not f.post_outcome]
    after = [f for f in findings if f.post_outcome]
    if discovery:
        period = f"{discovery[0]}–{discovery[-1]}" if len(discovery) > 1 else discovery[0]
    else:
        period = "all closed deals (no close dates)"
    intro = (
        f"<p>Scope: {result.deals:,} closed deals of {escape(period)} — the window the "
        f"action plan's rules are discovered on — {result.wins:,} won "
        f"({percent(result.baseline_win_rate)}). {result.hypotheses_tested:,} hypotheses "
        "were tested; a finding is shown when its q-value (corrected for every hypothesis "
        "tried) is at most 0.05. <em>Drivers</em> are the short set that explains the "
        "rest, each significant over every hypothesis, pairs of conditions included; "
        "<em>related findings</em> are single conditions significant over every hypothesis "
        "or among the single conditions alone, with the drivers that explain them.</p>"
    )
    charts: list[str] = []
    names: tuple[str, ...] = ()
    parts = [intro]
    if before:
        top = before[:12]
        charts.append(
            hbar_chart(
                "findings-win-rates",
                "Win rate where each driver holds (95 % interval) against the overall rate"
                + (
                    f" — the first {len(top)} of {len(before)} drivers; all are listed below"
                    if len(before) > len(top)
                    else ""
                ),
                [f"{f.id}. {condition_label(_conditions(f))}" for f in top],
                [f.win_rate for f in top],
                lows=[f.ci_low for f in top],
                highs=[f.ci_high for f in top],
                reference=result.baseline_win_rate,
                colors=[WIN if f.direction == "win" else LOSS for f in top],
            )
        )
        names = ("findings-win-rates",)
        parts.append("<h3>Drivers known before the outcome</h3>")
        parts += charts
        parts += [_finding_html(f) for f in before]
    else:
        single = (
            " The single conditions listed below pass it when only single conditions are "
            "counted; no driver explains them, so read each on its own."
            if any(not f.post_outcome for f in related)
            else ""
        )
        parts.append(
            '<p class="note">No driver on a field known before the outcome passed '
            "the significance bar over every hypothesis tried in this window (pairs of "
            f"conditions included).{single}</p>"
        )
    if after:
        parts.append("<h3>† Known only after the outcome: they explain, they do not predict</h3>")
        parts += [_finding_html(f) for f in after]
    if related:
        parts.append("<h3>Related findings</h3>")
        parts.append(_related_table(related, drivers=bool(findings)))
    return Section(
        "findings",
        "Where wins and losses concentrate",
        "".join(parts),
        {
            "period": period,
            "analysis": {k: v for k, v in result.to_dict().items() if k not in RUN_ONLY_KEYS},
        },
        names,
        tuple(result.warnings),
    )
