"""Analyses the report sections share, computed once per report through the context cache."""

from __future__ import annotations

from typing import Any

from winloss.report.document import ReportContext


def discovery_split(ctx: ReportContext) -> tuple[list[str], list[str]]:
    """The discovery window (recent quarters up to the review) and the earlier backtest quarters."""
    from winloss.plan.action_plan import closed_quarters, split_quarters

    if ctx.quarter is None:
        return [], []
    split: tuple[list[str], list[str]] = ctx.cached(
        "split", lambda: split_quarters(closed_quarters(ctx.ws), str(ctx.quarter), None))
    return split


def window_findings(ctx: ReportContext) -> dict[str, Any] | None:
    """Concentrations on the discovery window (documented JSON form)."""
    from winloss.plan.action_plan import window_analysis

    discovery, _ = discovery_split(ctx)
    if ctx.quarter is None:  # no close dates: every closed deal
        return ctx.cached(  # type: ignore[no-any-return]
            "window_findings", lambda: ctx.ws.analyze(record=False).to_dict())
    if not discovery:
        return None
    quarter = ctx.quarter
    return ctx.cached(  # type: ignore[no-any-return]
        "window_findings", lambda: window_analysis(ctx.ws, quarter, discovery))


def quarter_findings(ctx: ReportContext) -> dict[str, Any] | None:
    """Concentrations of the review quarter alone; records the findings register."""
    from winloss.model.deals import DealFilter

    return ctx.cached(  # type: ignore[no-any-return]
        "quarter_findings",
        lambda: ctx.ws.analyze(DealFilter(quarter=str(ctx.quarter))).to_dict())


def action_plan(ctx: ReportContext) -> Any:
    """The action plan of the review quarter (recorded in the register)."""
    from winloss.plan.action_plan import PlanSettings, build_plan

    quarter = str(ctx.quarter) if ctx.quarter is not None else None
    return ctx.cached("plan", lambda: build_plan(
        ctx.ws, PlanSettings(quarter=quarter), analysis=window_findings(ctx),
        cache=ctx.cached, now=ctx.now))


def audit(ctx: ReportContext) -> Any:
    """The data-integrity audit the plan's capture actions come from (every deal for the latest
    quarter, as `winloss audit`; deals dated up to an earlier review quarter's end)."""
    from winloss.plan.action_plan import plan_audit

    return ctx.cached("audit", lambda: plan_audit(ctx.ws, ctx.quarter))
