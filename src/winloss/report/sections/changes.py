"""What changed since last quarter: findings that are new, gone, stronger or weaker."""

from __future__ import annotations

from html import escape

from winloss.analyze.concentrations.findings_register import status_words
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.shared import quarter_findings

ORDER = {"new": 0, "stronger": 1, "weaker": 2, "gone": 3, "held": 4, "same": 4}


def _points(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:+.0f} pts"


def build(ctx: ReportContext) -> Section | None:
    if ctx.quarter is None:  # no close dates: nothing to compare quarter over quarter
        return None
    result = quarter_findings(ctx)
    if result is None:
        return None
    prev = str(ctx.quarter.previous())
    if not result.register:
        html = (
            f'<p class="note">Nothing to compare: no findings register for {escape(prev)}.'
            " Each quarter's review records one.</p>"
        )
        return Section(
            "changes", "What changed since last quarter", html, {"previous": prev, "register": []}
        )
    # predictive findings first; those on fields known only after the outcome last
    entries = sorted(
        result.register,
        key=lambda e: (
            "known only after the outcome" in (e.statement or ""),
            ORDER.get(e.status, 9),
            e.key,
        ),
    )
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
    summary = ", ".join(
        f"{n} {status_words(s)}"
        for s, n in sorted(counts.items(), key=lambda kv: ORDER.get(kv[0], 9))
    )
    table = table_html(
        [
            {
                "status": status_words(e.status),
                "direction": e.direction,
                "statement": e.statement,
                "difference": _points(e.difference),
                "previous_difference": _points(e.previous_difference),
            }
            for e in entries
        ],
        [
            ("status", "status"),
            ("direction", "direction"),
            ("statement", "finding"),
            ("difference", f"difference {ctx.quarter}"),
            ("previous_difference", f"difference {prev}"),
        ],
    )
    # the register of the previous quarter, or (not recorded) a fresh analysis of it: said as it is
    fresh = any(f"{prev} was not recorded" in str(n) for n in result.notes)
    against = (
        f"against a fresh analysis of {escape(prev)} (its findings were not recorded)"
        if fresh
        else f"against the findings recorded for {escape(prev)}"
    )
    html = (
        f"<p>Scope: the {result.deals:,} closed deals of {escape(str(ctx.quarter))} "
        f"alone, {against}: {escape(summary)}. One "
        "quarter holds fewer deals than the window of the findings above, so its cut points "
        "and rates differ from theirs."
        + (
            " A finding <em>not beyond chance now</em> was one last quarter and is not one on "
            "this quarter's deals alone: it may have faded, or still hold on too few deals to "
            "show it."
            if "gone" in counts
            else ""
        )
        + "</p>"
        f"{table}"
    )
    return Section(
        "changes",
        "What changed since last quarter",
        html,
        {"previous": prev, "register": [e.to_dict() for e in entries]},
    )
