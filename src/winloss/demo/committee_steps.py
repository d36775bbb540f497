"""Demo steps of the buying-committee and product-led-growth analyses."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winloss.demo.run import DemoOptions
    from winloss.workspace import Workspace


def committees(ws: Workspace, options: DemoOptions) -> str:
    """Significant committee findings, the best route per segment, open deals flagged."""
    result = ws.committee()
    lines = [f"{result.inputs.n:,} closed deals, {result.hypotheses_tested} hypotheses:"]
    significant = [
        f"  {'wins' if f.direction == 'win' else 'loses'} more: {f.statement} "
        f"({f.group.win_rate:.0%} vs {f.rest.win_rate:.0%}, q = {f.q_value:.1g})"
        for f in result.findings
        if f.significant
    ]
    lines += significant or [
        f"  none is significant after the correction for {result.hypotheses_tested} tests "
        "(winloss committee lists them all)"
    ]
    lines += [
        f"  best route to the decision maker in {b.segment}: {b.route} "
        f"({b.evidence.win_rate:.0%}, next {b.runner_up} {b.runner_up_win_rate:.0%})"
        for b in result.best_routes
        if b.size_band == "all"
    ]
    flagged = int((result.risks["risk_count"] > 0).sum())
    lines.append(f"{flagged} of {len(result.risks)} open deals flagged (winloss committee --open)")
    return "\n".join(lines)


def product_led_growth(ws: Workspace, options: DemoOptions) -> str:
    """The activation milestone, the PQL score and the accounts ready for sales."""
    result = ws.plg()
    lines = []
    m = result.milestone
    if m is not None:
        (n1, k1), (n0, k0) = m.held_out_met, m.held_out_not_met
        lines.append(
            f"activation milestone: {m.statement}; held-out conversion {k1}/{n1} vs {k0}/{n0}"
        )
    if result.score is not None:
        lines.append(f"PQL score: {result.score.verdict()}")
    lines.append(f"{len(result.ready)} accounts ready for a sales touch (winloss plg --accounts)")
    return "\n".join(lines)
