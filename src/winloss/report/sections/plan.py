"""The action plan: capture fixes, backtested qualification rules, adjustments, re-measurement."""

from __future__ import annotations

from html import escape
from typing import Any

from winloss.report.charts import LOSS, WIN, hbar_chart
from winloss.report.document import ReportContext, Section, _text, table_html
from winloss.report.labels import field_label, interval, percent
from winloss.report.shared import action_plan

KIND_TITLES = {
    "capture": "Data capture and integrity",
    "qualification": "Qualification rules and coaching",
    "forecast": "Win probabilities (forecast confidence)",
    "scoring": "Lead scoring",
    "targeting": "Target accounts and expansion",
}

#: Lists rendered by their own tables (or not at all) rather than the generic list table.
OWN_TABLES = {"remeasured", "rules_not_proposed"}

LIST_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "segment_calibration": [
        ("dimension", "by"),
        ("group", "group"),
        ("deals", "deals"),
        ("mean_predicted", "predicted (after any overall correction)"),
        ("observed", "won"),
        ("interval", "95 % interval"),
        ("correction", "correction"),
    ],
    "target_accounts": [
        ("account_name", "account"),
        ("tier", "tier"),
        ("icp_fit", "fit"),
        ("fit_reasons", "why"),
        ("open_pipeline", "open pipeline"),
    ],
    "findings_outside_window": [
        ("finding", "finding (all closed deals)"),
        ("deals_all", "deals, all"),
        ("win_rate_all", "won, all"),
        ("deals_window", "deals, window"),
        ("win_rate_window", "won, window"),
        ("rest_win_rate_window", "rest won, window"),
        ("reason", "why no rule"),
    ],
    "expansion": [
        ("account_name", "account"),
        ("mrr", "recurring revenue"),
        ("expansion_potential", "potential"),
        ("next_products", "next products"),
        ("icp_fit", "fit"),
    ],
}
PERCENT_COLUMNS = {
    "mean_predicted",
    "observed",
    "icp_fit",
    "win_rate_all",
    "win_rate_window",
    "rest_win_rate_window",
}
LIST_TITLES = {
    "segment_calibration": "Win-probability calibration by segment and owner",
    "target_accounts": "Target accounts (best fit, no win yet)",
    "expansion": "Customers to expand",
    "findings_outside_window": "Findings over all quarters that the discovery window does not confirm",
}


def _money(v: Any) -> str:
    return "" if v is None else f"{float(v):,.0f}"


def _backtest_rows(plan: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for a in plan.actions:
        if a.kind != "qualification" or a.evidence["action"] in ("prioritise", "coach"):
            continue
        t = a.evidence["backtest"]["totals"]
        if not t.get("quarters"):
            continue
        rows.append(
            {
                "label": f"Rule #{a.priority}",  # the plan's own number
                "rule": f"#{a.priority} {a.title}",
                "status": "proposed",
                "losses": t["avoided_losses"],
                "days": t["days_saved"],
                "saving": t["saving"],
                "wins": t["excluded_wins"],
                "revenue": t["excluded_won_revenue"],
                "net": t["net_value"],
                "unit": t["value_unit"],
            }
        )
    for k, r in enumerate(data["lists"].get("rules_not_proposed") or [], start=1):
        rows.append(
            {
                "label": f"Not proposed {k}",  # never a number the plan gives another rule
                "rule": r["rule"],
                "status": "not proposed: costs more than it saves",
                "losses": r["losses_avoided"],
                "days": r["days_saved"],
                "saving": r["saving"],
                "wins": r["wins_lost"],
                "revenue": r["won_revenue_lost"],
                "net": r["saving"] - r["cost"],
                "unit": r["value_unit"],
            }
        )
    return rows


def _list_table(key: str, rows: list[dict[str, Any]]) -> str:
    """A list as a table: plain headers, percentages, and no column that is the same on every
    row (said once above the table instead); rows that are all alike become one sentence."""
    columns = LIST_COLUMNS.get(key) or [(c, c.replace("_", " ")) for c in list(rows[0])[:8]]
    shown = []
    for r in rows[:25]:
        row = dict(r)
        for c in PERCENT_COLUMNS & set(row):
            row[c] = percent(row[c]) if isinstance(row[c], (int, float)) else row[c]
        if key == "segment_calibration":
            row["interval"] = interval(r.get("ci_low"), r.get("ci_high"))
            row["correction"] = (
                f"× {r['correction']:.2f}" if r.get("miscalibrated") else "none needed"
            )
        if isinstance(row.get("next_products"), list):
            row["next_products"] = ", ".join(map(str, row["next_products"]))
        shown.append(row)
    constant = [
        (k, h) for k, h in columns if len(shown) > 1 and len({str(r.get(k)) for r in shown}) == 1
    ]
    varying = [(k, h) for k, h in columns if (k, h) not in constant]
    # a column empty on every row says nothing: neither a column nor "Same on every row: why ."
    constant = [(k, h) for k, h in constant if _text(shown[0].get(k)).strip()]
    note = ""
    if constant:
        note = (
            '<p class="note">Same on every row: '
            + "; ".join(f"{escape(h)} {escape(_text(shown[0].get(k)))}" for k, h in constant)
            + ".</p>"
        )
    # the rest of a long list is in the JSON and the CLI: say so (5 of Maven's 30 owners went
    # missing from the calibration table without a word)
    more = (
        f'<p class="note">The first {len(shown)} of {len(rows):,} rows; '
        "<code>winloss plan --format json</code> lists them all.</p>"
        if len(rows) > len(shown)
        else ""
    )
    if len(shown) > 1 and len({tuple(str(r.get(k)) for k, _ in varying) for r in shown}) == 1:
        return note + f'<p class="note">{len(shown)} rows, all alike.</p>' + more
    return note + table_html(shown, varying) + more


def build(ctx: ReportContext) -> Section | None:
    plan = action_plan(ctx)
    if plan is None:
        return None
    data = plan.to_dict()
    if plan.discovery_quarters:
        scope = (
            f"Rules are discovered on {', '.join(plan.discovery_quarters)} and backtested "
            f"on {', '.join(plan.backtest_quarters) or 'no earlier quarter (judged in sample)'}"
            "."
        )
    else:
        scope = (
            "The deals have no close dates: rules are discovered and judged on every closed "
            "deal (in sample); there is no backtest on earlier quarters."
        )
    status = (
        " Status: <em>proposed</em> is new this quarter, <em>kept</em> was in an earlier plan "
        "and is re-measured below."
        if plan.discovery_quarters
        else ""  # without quarters there is no earlier plan to keep or re-measure
    )
    period = "all closed deals" if plan.period == "all" else plan.period
    parts = [f"<p>Plan for {escape(period)}. {escape(scope)}{status}</p>"]
    charts: list[str] = []
    by_kind: dict[str, list[Any]] = {}
    for a in plan.actions:
        by_kind.setdefault(a.kind, []).append(a)
    order = [k for k in KIND_TITLES if k in by_kind] + [k for k in by_kind if k not in KIND_TITLES]
    for number, kind in enumerate(order, start=1):
        actions = by_kind[kind]
        parts.append(f"<h3>{number}. {escape(KIND_TITLES.get(kind, kind))}</h3>")
        parts.append(
            table_html(
                [
                    {
                        "priority": a.priority,
                        "status": a.status,
                        "title": a.title,
                        "detail": a.detail,
                    }
                    for a in actions
                ],
                [
                    ("priority", "#"),
                    ("status", "status"),
                    ("title", "action"),
                    ("detail", "evidence"),
                ],
                numeric={"priority"},
                prose={"title", "detail"},
            )
        )
        if kind == "qualification":
            parts.append(_backtest_html(plan, data, charts))
    remeasured = plan.lists.get("remeasured") or []
    if remeasured:
        parts.append("<h3>Did last quarter's changes work?</h3>")
        parts.append(
            "<p>Then and now: the share of closed deals with the problem (a capture action) or "
            "matching the rule (a qualification rule), in the quarter the action was proposed "
            "and in this one; for a rule, how the deals it names win now.</p>"
        )
        parts.append(
            table_html(
                [
                    {
                        **r,
                        "then": _share(r, "then"),
                        "now": _share(r, "now"),
                        "measured": _measured(r),
                    }
                    for r in remeasured
                ],
                [
                    ("proposed_in", "proposed"),
                    ("title", "action"),
                    ("measured", "share of deals"),
                    ("then", "then"),
                    ("now", "now"),
                    ("status", "status"),
                ],
            )
        )
    for key, rows in plan.lists.items():
        if key in OWN_TABLES or not rows:
            continue
        parts.append(f"<h3>{escape(LIST_TITLES.get(key, field_label(key).capitalize()))}</h3>")
        parts.append(_list_table(key, rows))
    return Section(
        "plan",
        "Action plan",
        "".join(parts),
        data,
        ("rule-backtest",) if charts else (),
        tuple(plan.notes),
    )


def _backtest_html(plan: Any, data: dict[str, Any], charts: list[str]) -> str:
    rows = _backtest_rows(plan, data)
    if not rows:
        return ""
    unit = rows[0]["unit"]
    worth = "won revenue" if unit == "revenue" else "wins"
    html = f"<p>{escape(data['value_measure'].capitalize())}.</p>" + table_html(
        [
            {
                **r,
                "losses": f"{r['losses']:,}",
                "days": f"{r['days']:,.0f}",
                "saving": _money(r["saving"]) if unit == "revenue" else f"{r['saving']:.1f}",
                "wins": f"{r['wins']:,}",
                "revenue": _money(r["revenue"]),
                "net": _money(r["net"]) if unit == "revenue" else f"{r['net']:+.1f}",
            }
            for r in rows
        ],
        [
            ("label", ""),
            ("rule", "rule"),
            ("status", "status"),
            ("losses", "losses avoided"),
            ("days", "selling days saved"),
            ("saving", f"worth ({worth})"),
            ("wins", "wins lost"),
            ("revenue", "won revenue lost"),
            ("net", "net"),
        ],
        numeric={"losses", "days", "saving", "wins", "revenue", "net"},
    )
    labels, values, colors = [], [], []
    for r in rows:
        labels += [f"{r['label']}: selling time saved", f"{r['label']}: {worth} lost"]
        values += [float(r["saving"]), float(r["revenue"] if unit == "revenue" else r["wins"])]
        colors += [WIN, LOSS]
    chart = hbar_chart(
        "rule-backtest",
        f"Backtest of each rule: selling time saved (valued in {worth}) against {worth} lost",
        labels,
        values,
        pct=False,
        colors=colors,
    )
    charts.append(chart)
    return chart + html


def _measured(r: dict[str, Any]) -> str:
    """What "then" and "now" count for one re-measured action."""
    if "share_matching_now" not in r and "share_matching_then" not in r:
        return "with the problem"
    text = "matching the rule"
    won, rest = r.get("win_rate_matching_now"), r.get("win_rate_rest_now")
    if won is not None and rest is not None:
        text += f" (now winning {percent(won)} against {percent(rest)} for the rest)"
    return text


def _share(r: dict[str, Any], when: str) -> str:
    v = r.get(f"share_{when}", r.get(f"share_matching_{when}"))
    return "" if v is None else percent(v)
