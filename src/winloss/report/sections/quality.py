"""Data quality: SPICED completeness, capture freshness and the ranked fix list of the audit."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from winloss.analyze.audit.analysis import RANK_RULE
from winloss.analyze.audit.checks import share_text
from winloss.analyze.concentrations.conditions import plain_label
from winloss.report.charts import LOSS, NEUTRAL, WIN, hbar_chart, line_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.shared import audit
from winloss.serialize import plain

#: The fix list shows every issue up to this many (it stopped at 12 of the demo's 15, silently,
#: leaving out the typo fix whose effect the QBR tables show); the rest are counted.
MAX_FIXES = 40


def build(ctx: ReportContext) -> Section | None:
    result = audit(ctx)
    if result is None:
        return None
    parts: list[str] = []
    charts: list[str] = []
    comp: pd.DataFrame = result.completeness
    spiced = comp[comp["importance"] == "spiced"]
    # no SPICED answer anywhere (a CRM export without captures, as Maven's): a sentence, not
    # fifteen empty bars, a flat line and one "not captured" bar
    nothing = bool(len(spiced)) and float(spiced["completeness"].astype(float).max()) == 0.0
    if nothing:
        parts.append(
            '<p class="note">No SPICED field is filled on any closed deal: the store has no '
            "captures yet. Start with the capture form (<code>winloss serve</code>) or "
            "<code>winloss import captures FILE</code>; the fix list below starts there.</p>"
        )
    if len(spiced) and not nothing:
        charts.append("spiced-completeness")
        parts.append(
            hbar_chart(
                "spiced-completeness",
                "Completeness of each SPICED field on closed deals",
                [f"{r.group}: {plain_label(str(r.field))}" for r in spiced.itertuples()],
                spiced["completeness"].astype(float).tolist(),
                colors=[
                    WIN if c >= 0.9 else NEUTRAL if c >= 0.6 else LOSS
                    for c in spiced["completeness"]
                ],
                full_scale=True,
            )
        )
    by_q: pd.DataFrame = result.completeness_by_quarter
    # a trend over quarters: deals without a close date are in no quarter (the table shows them)
    by_q = by_q[by_q["quarter"].astype(str).str.fullmatch(r"\d{4}Q[1-4]")] if len(by_q) else by_q
    if len(by_q) and by_q["quarter"].nunique() > 1 and not nothing:
        sq = by_q[by_q["importance"] == "spiced"]
        trend = sq.groupby("quarter").apply(
            lambda g: g["filled"].sum() / max(1, g["deals"].sum()), include_groups=False
        )
        charts.append("spiced-completeness-trend")
        parts.append(
            line_chart(
                "spiced-completeness-trend",
                "SPICED completeness per quarter (all fields)",
                [str(q) for q in trend.index],
                {"completeness": trend.tolist()},
                full_scale=True,
            )
        )
    fresh: pd.DataFrame = result.freshness_distribution
    if len(fresh) and fresh["deals"].sum() > 0 and not nothing:
        charts.append("capture-freshness")
        parts.append(
            hbar_chart(
                "capture-freshness",
                "Days from close to capture",
                fresh["days_to_capture"].astype(str).tolist(),
                fresh["deals"].astype(float).tolist(),
                pct=False,
            )
        )
    fixes = result.summary.head(MAX_FIXES)
    rows: list[dict[str, Any]] = fixes.to_dict(orient="records")
    parts.append("<h3>Ranked fix list</h3>")
    parts.append(f'<p class="note">{escape(RANK_RULE)}</p>')
    left = len(result.summary) - len(fixes)
    parts.append(
        table_html(
            [{**r, "share": share_text(r["share"]), "score": round(r["score"])} for r in rows],
            [
                ("rank", "#"),
                ("severity", "severity"),
                ("issue", "issue"),
                ("deals", "deals"),
                ("share", "share"),
                ("score", "score"),
                ("action", "what to do"),
            ],
            numeric={"rank", "deals", "score"},
        )
    )
    if left > 0:
        parts.append(
            f'<p class="note">and {left} more lower-ranked issue(s): '
            "<code>winloss audit</code> lists them all</p>"
        )
    data = {
        "issues": plain([i.to_dict() for i in result.issues]),
        "spiced_completeness": spiced.to_dict(orient="records"),
    }
    return Section("quality", "Data quality", "".join(parts), data, tuple(charts))
