"""What changed since last quarter: findings that are new, gone, stronger or weaker."""

from __future__ import annotations

from html import escape

from winloss.report.document import ReportContext, Section, table_html
from winloss.report.shared import quarter_findings

ORDER = {"new": 0, "stronger": 1, "weaker": 2, "gone": 3, "held": 4, "same": 4}


def build(ctx: ReportContext) -> Section | None:
    if ctx.quarter is None:  # no close dates: nothing to compare quarter over quarter
        return None
    data = quarter_findings(ctx)
    if data is None:
        return None
    register = data.get("register") or []
    prev = str(ctx.quarter.previous())
    if not register:
        html = (f'<p class="note">Nothing to compare: no findings register for {escape(prev)}.'
                " Each quarter's review records one.</p>")
        return Section("changes", "What changed since last quarter", html,
                       {"previous": prev, "register": []})
    # predictive findings first; those on fields known only after the outcome last
    rows = sorted(register, key=lambda r: ("known only after the outcome" in (r["statement"] or ""),
                                           ORDER.get(r["status"], 9), r["key"]))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(),
                                                        key=lambda kv: ORDER.get(kv[0], 9)))
    table = table_html(
        [{**r, "difference": None if r.get("difference") is None else
          f"{r['difference'] * 100:+.0f} pts",
          "previous_difference": None if r.get("previous_difference") is None else
          f"{r['previous_difference'] * 100:+.0f} pts"} for r in rows],
        [("status", "status"), ("direction", "direction"), ("statement", "finding"),
         ("difference", f"difference {ctx.quarter}"), ("previous_difference",
                                                        f"difference {prev}")])
    html = (f"<p>Scope: the {data['deals']:,} closed deals of {escape(str(ctx.quarter))} "
            f"alone, against the findings recorded for {escape(prev)}: {escape(summary)}. One "
            "quarter holds fewer deals than the window of the findings above, so its cut points "
            "and rates differ from theirs.</p>"
            f"{table}")
    return Section("changes", "What changed since last quarter", html,
                   {"previous": prev, "register": rows})
