"""Findings: where wins and losses concentrate over the recent quarters, with their evidence."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from winloss.report.charts import LOSS, WIN, hbar_chart
from winloss.report.document import ReportContext, Section
from winloss.report.shared import discovery_split, window_findings

if TYPE_CHECKING:
    from winloss.analyze.concentrations.result import Finding


def _finding_html(f: Finding) -> str:
    tags = '<span class="tag post">known only after the outcome: explains, does not ' \
        'predict</span>' if f.post_outcome else ""
    adjusted = ""
    if f.holds_when_adjusted is not None:
        adjusted = ("holds when the other findings are accounted for" if f.holds_when_adjusted
                    else "does not hold once the other findings are accounted for")
    evidence = (f"n = {f.n:,}, wins {f.wins:,}; win rate {f.win_rate:.0%} "
                f"(95 % CI {f.ci_low:.0%}–{f.ci_high:.0%}) vs {f.rest_win_rate:.0%}; "
                f"lift {f.lift:.2f}; q = {f.q_value:.2g}; held in {f.quarters_held} of "
                f"{f.quarters_seen} quarters" + (f"; {adjusted}" if adjusted else ""))
    return (f'<div class="finding {escape(f.direction)}"><div>{escape(f.statement)}{tags}'
            f'</div><div class="evidence">{escape(evidence)}</div></div>')


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
    period = f"{discovery[0]}–{discovery[-1]}" if len(discovery) > 1 else discovery[0]
    intro = (f"<p>{result.deals:,} closed deals in {escape(period)}, {result.wins:,} won "
             f"({result.baseline_win_rate:.0%}). {result.hypotheses_tested:,} hypotheses were "
             "tested; a finding is shown when its q-value (Benjamini–Hochberg over all of them) "
             "is at most 0.05.</p>")
    charts: list[str] = []
    names: tuple[str, ...] = ()
    if findings:
        top = findings[:12]
        charts.append(hbar_chart(
            "findings-win-rates", "Win rate of each finding (95 % interval) against the overall "
            "rate", [_label(f) for f in top],
            [f.win_rate for f in top], lows=[f.ci_low for f in top],
            highs=[f.ci_high for f in top], reference=result.baseline_win_rate,
            colors=[WIN if f.direction == "win" else LOSS for f in top]))
        names = ("findings-win-rates",)
        body = "".join(_finding_html(f) for f in findings)
    else:
        body = '<p class="note">No concentration passed the significance bar in this window.' \
            "</p>"
    return Section("findings", "Where wins and losses concentrate", intro + "".join(charts) +
                   body, {"period": period, "analysis": result.to_dict()}, names,
                   tuple(result.warnings))
