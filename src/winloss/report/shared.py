"""Analyses the report sections share, computed once per report through the context cache."""

from __future__ import annotations

from typing import Any

from winloss.report.document import ReportContext


def discovery_split(ctx: ReportContext) -> tuple[list[str], list[str]]:
    """The discovery window (recent quarters up to the review) and the earlier backtest quarters."""
    from winloss.plan.action_plan import closed_quarters, split_quarters

    return ctx.cached("split", lambda: split_quarters(closed_quarters(ctx.ws), str(ctx.quarter),
                                                      None))  # type: ignore[no-any-return]


def window_findings(ctx: ReportContext) -> dict[str, Any] | None:
    """Concentrations on the discovery window (documented JSON form)."""
    from winloss.plan.action_plan import window_analysis

    discovery, _ = discovery_split(ctx)
    if not discovery:
        return None
    return ctx.cached(  # type: ignore[no-any-return]
        "window_findings", lambda: window_analysis(ctx.ws, ctx.quarter, discovery))


def quarter_findings(ctx: ReportContext) -> dict[str, Any] | None:
    """Concentrations of the review quarter alone; records the findings register."""
    from winloss.model.deals import DealFilter

    return ctx.cached(  # type: ignore[no-any-return]
        "quarter_findings",
        lambda: ctx.ws.analyze(DealFilter(quarter=str(ctx.quarter))).to_dict())


def action_plan(ctx: ReportContext) -> Any:
    """The action plan of the review quarter (recorded in the register)."""
    from winloss.plan.action_plan import PlanSettings, build_plan

    return ctx.cached("plan", lambda: build_plan(
        ctx.ws, PlanSettings(quarter=str(ctx.quarter)), analysis=window_findings(ctx),
        cache=ctx.cached, now=ctx.now))


def audit(ctx: ReportContext) -> Any:
    """The data-integrity audit of everything up to the end of the review quarter."""
    return ctx.cached("audit", lambda: ctx.ws.audit(until=ctx.quarter.end))
