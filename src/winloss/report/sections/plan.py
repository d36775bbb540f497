"""The action plan: capture fixes, backtested qualification rules, adjustments, re-measurement."""

from __future__ import annotations

from html import escape
from typing import Any

from winloss.report.charts import LOSS, WIN, hbar_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.shared import action_plan

KIND_TITLES = {
    "capture": "1. Data capture and integrity",
    "qualification": "2. Qualification rules (backtested on earlier quarters)",
    "forecast": "3. Forecast confidence",
    "scoring": "3. Lead scoring",
    "targeting": "3. Target accounts and expansion",
}


def build(ctx: ReportContext) -> Section | None:
    plan = action_plan(ctx)
    if plan is None:
        return None
    data = plan.to_dict()
    parts = [f"<p>Findings discovered on {escape(', '.join(plan.discovery_quarters))}; rules "
             f"backtested on {escape(', '.join(plan.backtest_quarters) or 'no earlier quarter')}."
             " Status: <em>proposed</em> is new this quarter, <em>kept</em> was in an earlier "
             "plan and is re-measured below.</p>"]
    charts: list[str] = []
    by_kind: dict[str, list[Any]] = {}
    for a in plan.actions:
        by_kind.setdefault(a.kind, []).append(a)
    for kind, actions in by_kind.items():
        parts.append(f"<h3>{escape(KIND_TITLES.get(kind, kind))}</h3>")
        parts.append(table_html(
            [{"priority": a.priority, "status": a.status, "title": a.title, "detail": a.detail}
             for a in actions],
            [("priority", "#"), ("status", "status"), ("title", "action"), ("detail", "evidence")],
            numeric={"priority"}))
    rules = [a for a in plan.actions if a.kind == "qualification"
             and a.evidence["backtest"]["totals"].get("quarters")
             and a.evidence["action"] != "prioritise"]
    if rules:
        labels, values, colors = [], [], []
        for a in rules:
            t = a.evidence["backtest"]["totals"]
            labels += [f"#{a.priority} losses avoided", f"#{a.priority} wins lost"]
            values += [float(t["avoided_losses"]), float(t["excluded_wins"])]
            colors += [WIN, LOSS]
        charts.append(hbar_chart("rule-backtest", "Backtest of each qualification rule: lost "
                                 "deals avoided against won deals excluded", labels, values,
                                 pct=False, colors=colors))
        parts.insert(1, charts[-1])
    remeasured = plan.lists.get("remeasured") or []
    if remeasured:
        parts.append("<h3>Did last quarter's changes work?</h3>")
        parts.append(table_html(
            [{**r, "then": _share(r, "then"), "now": _share(r, "now")} for r in remeasured],
            [("proposed_in", "proposed"), ("title", "action"), ("then", "then"), ("now", "now"),
             ("status", "status")]))
    for key, rows in plan.lists.items():
        if key == "remeasured" or not rows:
            continue
        parts.append(f"<h3>{escape(key.replace('_', ' ').capitalize())}</h3>")
        cols = [(c, c.replace("_", " ")) for c in list(rows[0])[:8]]
        parts.append(table_html(rows[:25], cols))
    return Section("plan", "Action plan", "".join(parts), data,
                   ("rule-backtest",) if charts else (), tuple(plan.notes))


def _share(r: dict[str, Any], when: str) -> str:
    v = r.get(f"share_{when}", r.get(f"share_matching_{when}"))
    return "" if v is None else f"{v:.0%}"
