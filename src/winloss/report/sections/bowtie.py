"""The Bowtie section: both sides of the sale, retention, lifetime value and the loops."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from winloss.analyze.bowtie.loops import describe_loops
from winloss.report.charts import bowtie_chart, line_chart
from winloss.report.document import ReportContext, Section, table_html


def _kpi(label: str, value: str, sub: str = "") -> str:
    return (
        f'<div class="kpi"><div class="label">{escape(label)}</div><div class="value">'
        f'{escape(value)}</div><div class="delta">{escape(sub)}</div></div>'
    )


def _pct(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}%}"


def _days(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.0f} days"


def build(ctx: ReportContext) -> Section | None:
    from winloss.analyze.bowtie.analysis import Bowtie

    result = ctx.cached("bowtie", lambda: Bowtie().run(ctx.store))
    if result is None or result.stages.empty or int(result.stages["volume"].sum()) == 0:
        return None
    stages = result.stages
    records: list[dict[str, Any]] = stages.to_dict(orient="records")
    parts: list[str] = []
    charts = ["bowtie"]
    ret = result.retention.to_dict()
    cycle = result.cycle.iloc[0].to_dict() if len(result.cycle) else {}
    all_ltv = result.ltv.iloc[0].to_dict() if len(result.ltv) else {}
    # the Bowtie measures every deal in the store up to the data's last day, not the review
    # quarter: said once, so its win rate and cycle are not read against the headline's
    parts.append(
        f'<p class="note">Every deal in the store, as of {escape(result.as_of.isoformat())} — '
        "not only the quarter under review (the quarter's own figures are in the headline).</p>"
    )
    parts.append(
        '<div class="kpis">'
        + "".join(
            [
                _kpi(
                    "win rate (open deals censored)",
                    _pct(cycle.get("win_rate")),
                    f"naive open = lost: {_pct(cycle.get('naive_win_rate'))}",
                ),
                _kpi(
                    "sales cycle (won deals)",
                    _days(cycle.get("median_days_won")),
                    "median, measured on the deals",
                ),
                _kpi(
                    "NRR / GRR",
                    f"{_pct(ret.get('nrr'))} / {_pct(ret.get('grr'))}",
                    "trailing 12 months",
                ),
                _kpi(
                    "monthly logo churn",
                    _pct(ret.get("monthly_churn"), digits=1),
                    f"{ret.get('customers', 0):,} customers",
                ),
                _kpi(
                    "lifetime value",
                    f"{all_ltv['ltv']:,.0f}" if all_ltv else "–",
                    "per customer, retention curve extended",
                ),
            ]
        )
        + "</div>"
    )
    parts.append(
        bowtie_chart("bowtie", "The Bowtie: volume, conversion and time per stage", records)
    )
    rows = [
        {
            **r,
            "cr": f"{_pct(r['conversion'])} ({_pct(r['conversion_ci_low'])}–"
            f"{_pct(r['conversion_ci_high'])})"
            if r["stage"] != "commit" and _pct(r["conversion"]) != "–"
            else "–",
            "naive": _pct(r["naive_conversion"]),
        }
        for r in records
    ]
    parts.append(
        table_html(
            rows,
            [
                ("stage", "stage"),
                ("side", "side"),
                ("volume", "VM"),
                ("cr", "CR (95 % CI)"),
                ("naive", "open = lost"),
                ("median_days", "Δt median days"),
                ("censored", "still open"),
            ],
            numeric={"volume", "median_days", "censored"},
        )
    )
    parts.append(
        "<p>Conversion treats deals still open (customers still active) as censored, "
        "not lost; the naive column counts them as lost. The knot's time is the sales "
        "cycle of won deals, measured on the deals.</p>"
    )
    curve = result.retention.curve
    if len(curve):
        charts.append("bowtie-retention")
        parts.append(
            line_chart(
                "bowtie-retention",
                "Logo retention (Kaplan–Meier) by month",
                [str(m) for m in curve["month"]],
                {"retained": curve["retention"].astype(float).tolist()},
            )
        )
    if len(result.ltv):
        parts.append("<h3>Lifetime value</h3>")
        parts.append(
            table_html(
                result.ltv.to_dict(orient="records"),
                [
                    ("group", "group"),
                    ("customers", "customers"),
                    ("churned", "churned"),
                    ("arpu", "MRR/customer"),
                    ("monthly_churn", "monthly churn"),
                    ("ltv", "LTV"),
                    ("ltv_observed", "LTV observed only"),
                ],
                numeric={"customers", "churned", "arpu", "monthly_churn", "ltv", "ltv_observed"},
            )
        )
    parts += [
        f"<p><b>{escape(name)}:</b> {escape(text, quote=False)}</p>"
        for name, text in describe_loops(result.loops)
    ]
    data = result.to_dict()
    return Section(
        "bowtie",
        "The Bowtie: before and after the sale",
        "".join(parts),
        {k: data[k] for k in ("stages", "retention", "ltv", "loops", "cohort", "as_of")},
        tuple(charts),
        tuple(result.warnings),
    )
