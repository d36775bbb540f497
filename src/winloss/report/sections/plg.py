"""Product-led growth: the activation milestone, the PQL score, accounts ready for sales, and the
PLG motion against the sales-led one."""

from __future__ import annotations

from html import escape
from typing import Any

from winloss.analyze.plg.analysis import PLGAnalysis
from winloss.analyze.plg.result import PLGResult
from winloss.report.charts import LOSS, NEUTRAL, WIN, hbar_chart, reliability_chart
from winloss.report.document import ReportContext, Section, table_html


def _pct(k: int, n: int) -> str:
    return f"{k / n:.0%} of {n:,}" if n else "—"


def build(ctx: ReportContext) -> Section | None:
    result: PLGResult | None = ctx.cached("plg", lambda: PLGAnalysis().run(ctx.store))
    if result is None:
        return None
    parts: list[str] = [
        f"<p>{result.accounts_with_usage:,} accounts used the product; {result.labelled_accounts:,} "
        f"have a known outcome (converted — a won deal within {result.horizon_days} days of "
        "their first event — or observed that long). The earlier 70 % discover, the later 30 % "
        "check.</p>"
    ]
    charts: list[str] = []
    m = result.milestone
    if m is not None:
        (n1, k1), (n0, k0) = m.train_met, m.train_not_met
        (h1, j1), (h0, j0) = m.held_out_met, m.held_out_not_met
        parts.append(
            f'<div class="finding win"><div>Activation milestone: {escape(m.statement)}.</div>'
            f'<div class="evidence">converted {_pct(k1, n1)} with it vs {_pct(k0, n0)} without '
            f"(q = {m.q_value:.2g}, {len(result.candidates):,} candidates); held-out "
            f"{_pct(j1, h1)} vs {_pct(j0, h0)} (p = {m.held_out_p_value:.2g}: "
            f"{'holds' if m.holds_on_held_out else 'does not hold'})</div></div>"
        )
        ms = m.to_dict()
        rates = [ms[s][k] for s in ("train", "held_out") for k in ("met", "not_met")]
        charts.append("plg-milestone")
        parts.append(
            hbar_chart(
                "plg-milestone",
                "Conversion with and without the milestone (95 % interval)",
                [
                    "discovery: reached",
                    "discovery: not reached",
                    "held-out: reached",
                    "held-out: not reached",
                ],
                [r["rate"] or 0.0 for r in rates],
                lows=[r["ci_low"] or 0.0 for r in rates],
                highs=[r["ci_high"] or 0.0 for r in rates],
                colors=[WIN, LOSS, WIN, LOSS],
            )
        )
    s = result.score
    if s is not None:
        verdict = s.verdict()
        parts.append(
            "<h3>Product-qualified-lead score</h3>"
            f"<p>{escape(verdict[:1].upper() + verdict[1:])}.</p>"
        )
        rel = s.reliability
        if len(rel):
            charts.append("plg-reliability")
            parts.append(
                reliability_chart(
                    "plg-reliability",
                    "PQL score: predicted vs observed conversion (held-out accounts)",
                    rel["mean_predicted"].tolist(),
                    rel["observed"].tolist(),
                    rel["n"].astype(int).tolist(),
                    unit="account",
                    rate="conversion",
                )
            )
    ready = result.ready
    m = result.milestone
    caution = (
        " The milestone that marks them does not hold on the held-out accounts: a list to test, "
        "not a proven signal."
        if len(ready) and m is not None and not m.holds_on_held_out
        else ""
    )
    parts.append(
        f"<h3>Accounts ready for a sales touch now</h3><p>{len(ready):,} of "
        f"{len(result.accounts):,} accounts in their trial with no deal yet.{escape(caution)}</p>"
    )
    if len(ready):
        parts.append(
            table_html(
                ready.head(15).to_dict(orient="records"),
                [
                    ("account_id", "account"),
                    ("segment", "segment"),
                    ("days_since_first_event", "days in"),
                    ("pql_score", "PQL score"),
                    ("evidence", "evidence"),
                ],
                numeric={"days_since_first_event", "pql_score"},
            )
        )
    motions = result.motions[result.motions["segment"] == "all"]
    parts.append("<h3>PLG-sourced against sales-led deals</h3>")
    parts.append(
        table_html(
            [_motion_row(r) for r in motions.to_dict(orient="records")],
            [
                ("motion", "motion"),
                ("metric", "metric"),
                ("value", "value"),
                ("ci_low", "95 % low"),
                ("ci_high", "95 % high"),
                ("n", "deals"),
            ],
            numeric={"value", "ci_low", "ci_high", "n"},
        )
    )
    seg = result.motions[
        (result.motions["segment"] != "all") & (result.motions["metric"] == "win_rate")
    ]
    if len(seg):
        charts.append("plg-motion-segments")
        parts.append(
            hbar_chart(
                "plg-motion-segments",
                "Win rate by motion and segment (95 % interval)",
                [f"{m_} · {s_}" for m_, s_ in zip(seg["motion"], seg["segment"], strict=True)],
                seg["value"].tolist(),
                lows=seg["ci_low"].tolist(),
                highs=seg["ci_high"].tolist(),
                colors=[WIN if x == "PLG-sourced" else NEUTRAL for x in seg["motion"]],
            )
        )
    prior = result.prior_usage
    parts.append(
        "<h3>Does product use help the sales-led motion?</h3><p>Sales-led deals at accounts "
        "that used the product before, against those that had not, by segment: "
        f"{escape(result.prior_usage_text())}.</p>"
    )
    parts.append(
        table_html(
            [_prior_row(r) for r in prior.to_dict(orient="records")],
            [
                ("segment", "segment"),
                ("n_used", "used before"),
                ("win_rate_used", "won"),
                ("n_not_used", "not used"),
                ("win_rate_not_used", "won"),
                ("odds_ratio", "odds ratio"),
                ("or_ci_low", "95 % low"),
                ("or_ci_high", "95 % high"),
                ("q_value", "q"),
            ],
            numeric={
                "n_used",
                "win_rate_used",
                "n_not_used",
                "win_rate_not_used",
                "odds_ratio",
                "or_ci_low",
                "or_ci_high",
                "q_value",
            },
        )
    )
    data: dict[str, Any] = result.to_dict()
    return Section(
        "plg", "Product-led growth", "".join(parts), data, tuple(charts), result.warnings
    )


#: The motion metrics in words, and how their values read (a share, days, money).
METRIC_WORDS = {
    "win_rate": ("win rate", "share"),
    "median_cycle_days_won": ("median days to a win", "days"),
    "median_amount_won": ("median won amount", "money"),
    "expansion_rate": ("customers who expanded", "share"),
    "nrr_12m": ("net revenue retention, 12 months", "share"),
}


def _shown(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    number = float(value)
    if kind == "share":
        return f"{number:.0%}"
    return f"{number:,.0f}"


def _motion_row(r: dict[str, Any]) -> dict[str, Any]:
    """A motion metric as people read it: "win rate 31 %" rather than "win_rate 0.307"."""
    words, kind = METRIC_WORDS.get(str(r["metric"]), (str(r["metric"]).replace("_", " "), ""))
    return {
        **r,
        "metric": words,
        **{k: _shown(r.get(k), kind) for k in ("value", "ci_low", "ci_high")},
    }


def _prior_row(r: dict[str, Any]) -> dict[str, Any]:
    """Win rates as percentages, odds ratios to two decimals."""
    out = dict(r)
    for k in ("win_rate_used", "win_rate_not_used"):
        out[k] = _shown(r.get(k), "share")
    for k in ("odds_ratio", "or_ci_low", "or_ci_high"):
        v = r.get(k)
        out[k] = "" if v is None or v != v else f"{float(v):.2f}"
    return out
