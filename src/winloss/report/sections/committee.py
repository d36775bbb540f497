"""Buying committees: what multithreading did for closed deals, open deals at risk, committee maps.

The committee map of a deal is an inline SVG: one row per person (role, seniority), a marker where
they were reached (days from the deal's start), a dot per activity with them (engagement over
time), a cross where they left, and an arrow from whoever introduced them.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from winloss.analyze.committee.analysis import CommitteeAnalysis, committee_map
from winloss.analyze.committee.result import CommitteeFinding, CommitteeMap, CommitteeResult
from winloss.report.charts import GRID, LOSS, NEUTRAL, TEXT, WIN, hbar_chart
from winloss.report.document import ReportContext, Section, table_html

ROLE_COLOURS = {
    "champion": WIN,
    "decision_maker": "#6a3d9a",
    "economic_buyer": "#6a3d9a",
    "influencer": NEUTRAL,
    "user": "#1b9e9e",
    "blocker": LOSS,
}
#: Committee maps shown: flagged open deals with the largest committees (the maps worth reading),
#: then the most flags, then the largest amount.
MAPS = 3


def _finding_html(f: CommitteeFinding) -> str:
    g, r = f.group, f.rest
    adjusted = (
        f"; odds ratio within equal committee sizes {f.adjusted_odds_ratio:.2f}"
        if f.adjusted_odds_ratio is not None
        else ""
    )
    evidence = (
        f"n = {g.n:,}, won {g.win_rate:.0%} (95 % CI {g.ci_low:.0%}–{g.ci_high:.0%}) vs "
        f"{r.win_rate:.0%} ({r.ci_low:.0%}–{r.ci_high:.0%}) for the other {r.n:,}; "
        f"q = {f.q_value:.2g}{adjusted}"
    )
    cls = "win" if f.direction == "win" else "loss"
    return (
        f'<div class="finding {cls}"><div>Deals with {escape(f.statement)} '
        f"{'win more' if f.direction == 'win' else 'lose more'}.</div>"
        f'<div class="evidence">{escape(evidence)}</div></div>'
    )


def committee_map_svg(cmap: CommitteeMap, *, width: int = 720) -> str:
    """The committee map of one deal as inline SVG (every CRM string escaped)."""
    people = cmap.people.reset_index(drop=True)
    start = pd.Timestamp(cmap.deal["created_at"])
    reached = pd.to_datetime(people["reached_at"])
    acts = cmap.activities
    times = pd.to_datetime(acts["occurred_at"]) if len(acts) else pd.Series(dtype="datetime64[ns]")
    ends = [reached.max(), times.max() if len(times) else None]
    last = float(
        max([int((t - start).days) for t in ends if t is not None and not pd.isna(t)] + [30])
    )
    row_h, left, right, top = 30, 230, 20, 28
    height = top + row_h * max(1, len(people)) + 30
    plot = width - left - right

    def x(day: float) -> float:
        return left + plot * max(0.0, min(day, last)) / last

    row_of = {str(c): i for i, c in enumerate(people["contact_id"])}
    parts: list[str] = []
    for i in range(5):
        day = last * i / 4
        parts.append(
            f'<line x1="{x(day):.1f}" y1="{top - 8}" x2="{x(day):.1f}" y2="{height - 22}" '
            f'stroke="{GRID}" /><text x="{x(day):.1f}" y="{height - 8}" font-size="10" '
            f'fill="{TEXT}" text-anchor="middle">day {day:.0f}</text>'
        )
    for i, p in people.iterrows():
        y = top + i * row_h + row_h / 2
        role = str(p["role"] or "other")
        colour = ROLE_COLOURS.get(role, GRID)
        label = f"{p['name'] or p['contact_id']} · {role}"
        if p["seniority"] is not None and not pd.isna(p["seniority"]):
            label += f" · {p['seniority']}"
        short = label if len(label) <= 36 else label[:35] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="11" fill="{TEXT}" '
            f'text-anchor="end"><title>{escape(label)}</title>{escape(short)}</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-dasharray="2 4" />'
        )
        mine = times[acts["contact_id"].astype(str) == str(p["contact_id"])] if len(acts) else []
        for t in mine:
            parts.append(
                f'<circle cx="{x((t - start).days):.1f}" cy="{y:.1f}" r="2.5" fill="{colour}" '
                f'opacity="0.6" />'
            )
        if not pd.isna(reached.iat[i]):
            day = (reached.iat[i] - start).days
            via = p["reached_via"] if p["reached_via"] is not None else ""
            parts.append(
                f'<rect x="{x(day) - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
                f'fill="{colour}"><title>{escape(label)}: reached on day {day}'
                f"{escape(f' via {via}' if via and not pd.isna(via) else '')}</title></rect>"
            )
        if p["left_at"] is not None and not pd.isna(p["left_at"]):
            day = (pd.Timestamp(p["left_at"]) - start).days
            parts.append(
                f'<text x="{x(day):.1f}" y="{y + 4:.1f}" font-size="14" fill="{LOSS}" '
                f'text-anchor="middle"><title>left on day {day}</title>×</text>'
            )
        intro = p["introduced_by"]
        if intro is not None and not pd.isna(intro) and not pd.isna(reached.iat[i]):
            day = (reached.iat[i] - start).days
            if str(intro) in row_of:
                j = row_of[str(intro)]
                y0 = top + j * row_h + row_h / 2
                parts.append(
                    f'<path d="M{x(day) - 14:.1f},{y0:.1f} L{x(day) - 14:.1f},{y - 6:.1f}" '
                    f'stroke="{TEXT}" stroke-width="1" fill="none" marker-end="url(#arrow)">'
                    f"<title>introduced by {escape(str(intro))}</title></path>"
                )
            else:
                parts.append(
                    f'<text x="{x(day) + 8:.1f}" y="{y - 6:.1f}" font-size="10" fill="{TEXT}">'
                    f"introduced by {escape(str(intro))}</text>"
                )
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" '
        f'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{TEXT}" /></marker></defs>'
    )
    title = f"Committee map of {cmap.deal_id}"
    return (
        f'<svg class="chart" data-chart="committee-map-{escape(cmap.deal_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{defs}{"".join(parts)}</svg>'
    )


def _maps(ctx: ReportContext, result: CommitteeResult) -> list[CommitteeMap]:
    flagged = (
        result.risks[result.risks["risk_count"] > 0]
        .sort_values(["engaged_stakeholders", "risk_count", "amount"], ascending=False)
        .head(MAPS)
    )
    maps: list[CommitteeMap] = []
    for deal_id in flagged["deal_id"]:
        maps.append(committee_map(ctx.store, result, str(deal_id)))
    return maps


def build(ctx: ReportContext) -> Section | None:
    result: CommitteeResult | None = ctx.cached(
        "committee", lambda: CommitteeAnalysis().run(ctx.store)
    )
    if result is None:
        return None
    parts = [
        f"<p>{result.inputs.n:,} closed deals; {result.hypotheses_tested:,} hypotheses tested "
        "(every candidate threshold, role and route), Benjamini–Hochberg at "
        f"q ≤ {result.alpha}. Roles and the champion leaving are compared within equal numbers "
        "of engaged people.</p>"
    ]
    charts = ["committee-engaged"]
    e = result.by_engaged
    parts.append(
        hbar_chart(
            "committee-engaged",
            "Win rate by number of engaged stakeholders (95 % interval)",
            [
                f"{k} engaged (n = {n:,})"
                for k, n in zip(e["engaged_stakeholders"], e["n"], strict=True)
            ],
            e["win_rate"].tolist(),
            lows=e["ci_low"].tolist(),
            highs=e["ci_high"].tolist(),
        )
    )
    significant = [f for f in result.findings if f.significant]
    parts.append(
        "".join(_finding_html(f) for f in significant)
        or '<p class="note">No committee finding passed the significance bar.</p>'
    )
    best = [b for b in result.best_routes if b.size_band == "all"]
    if best:
        parts.append("<h3>The route to the decision maker that won, by segment</h3>")
        parts.append(
            table_html(
                [
                    {
                        "segment": b.segment,
                        "route": _words(b.route),
                        "win_rate": f"{b.evidence.win_rate:.0%}",
                        "ci": f"{b.evidence.ci_low:.0%}–{b.evidence.ci_high:.0%}",
                        "n": b.evidence.n,
                        "next": f"{_words(b.runner_up)} {b.runner_up_win_rate:.0%}",
                        "q": f"{b.q_value:.2g}",
                    }
                    for b in best
                ],
                [
                    ("segment", "segment"),
                    ("route", "best route"),
                    ("win_rate", "won"),
                    ("ci", "95 % CI"),
                    ("n", "deals"),
                    ("next", "next best"),
                    ("q", "q (vs other routes)"),
                ],
                numeric={"n"},
            )
        )
    risky = result.risks[result.risks["risk_count"] > 0]
    parts.append(
        f"<h3>Open deals at risk</h3><p>{len(risky):,} of {len(result.risks):,} open deals carry "
        "at least one flag from a significant finding.</p>"
    )
    if len(risky):
        parts.append(
            table_html(
                [
                    {**r, "suggested_route": _words(r.get("suggested_route"))}
                    for r in risky.head(15).to_dict(orient="records")
                ],
                [
                    ("deal_id", "deal"),
                    ("segment", "segment"),
                    ("amount", "amount"),
                    ("engaged_stakeholders", "engaged"),
                    ("flags", "flags"),
                    ("suggested_route", "suggested route"),
                    ("suggestion_evidence", "why that route"),
                ],
                numeric={"amount", "engaged_stakeholders"},
            )
        )
    maps = _maps(ctx, result)
    if maps:
        parts.append(
            '<h3>Committee maps</h3><p class="note">Squares: when each person was reached '
            "(hover for the route); dots: activities with them; ×: left the customer; arrows: "
            "who introduced whom.</p>"
        )
        for cmap in maps:
            parts.append(f"<h4>{escape(cmap.deal_id)}: {escape(', '.join(cmap.flags))}</h4>")
            parts.append(committee_map_svg(cmap))
            charts.append(f"committee-map-{cmap.deal_id}")
    data: dict[str, Any] = {k: v for k, v in result.to_dict().items() if k != "committee_map"}
    data["committee_maps"] = [m.to_dict() for m in maps]
    return Section(
        "committee",
        "Buying committees: multithreading and the route to the decision maker",
        "".join(parts),
        data,
        tuple(charts),
        result.warnings,
    )


def _words(route: object) -> str:
    """A route as people write it: ``customer_introduction`` → ``customer introduction``."""
    if route is None or (isinstance(route, float) and route != route):
        return ""
    return str(route).replace("_", " ")
