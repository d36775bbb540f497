"""Analyses the report sections share, computed once per report through the context cache.

Each function returns the analysis result object (or ``None`` when it could not run: the reason
is a report note). Sections read attributes of these results, never their JSON keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from winloss.model.deals import DealFilter
from winloss.report.document import ReportContext

if TYPE_CHECKING:
    from winloss.analyze.audit.analysis import AuditResult
    from winloss.analyze.concentrations.result import ConcentrationResult
    from winloss.analyze.forecast.analysis import BacktestResult, ForecastResult
    from winloss.analyze.scoring.analysis import ScoreResult
    from winloss.analyze.scoring.evaluation import EvaluationResult
    from winloss.analyze.targeting.analysis import TargetingResult
    from winloss.model.period import Quarter
    from winloss.plan.action_plan import ActionPlan


def discovery_split(ctx: ReportContext) -> tuple[list[str], list[str]]:
    """The discovery window (recent quarters up to the review) and the earlier backtest quarters."""
    from winloss.plan.action_plan import closed_quarters, split_quarters

    if ctx.quarter is None:
        return [], []
    split = ctx.cached(
        "split", lambda: split_quarters(closed_quarters(ctx.store), str(ctx.quarter), None)
    )
    return split if split is not None else ([], [])


def window_findings(ctx: ReportContext) -> ConcentrationResult | None:
    """Concentrations on the discovery window."""
    from winloss.plan.action_plan import window_analysis

    discovery, _ = discovery_split(ctx)
    if ctx.quarter is None:  # no close dates: every closed deal
        from winloss.analyze.concentrations.analysis import ConcentrationAnalysis

        return ctx.cached(
            "window_findings", lambda: ConcentrationAnalysis(record=False).run(ctx.store)
        )
    if not discovery:
        return None
    quarter = ctx.quarter
    return ctx.cached("window_findings", lambda: window_analysis(ctx.store, quarter, discovery))


def quarter_findings(ctx: ReportContext) -> ConcentrationResult | None:
    """Concentrations of the review quarter alone; records the findings register (unless the
    context does not record)."""
    from winloss.analyze.concentrations.analysis import ConcentrationAnalysis

    return ctx.cached(
        "quarter_findings",
        lambda: ConcentrationAnalysis(
            deal_filter=DealFilter(quarter=str(ctx.quarter)), record=ctx.record
        ).run(ctx.store),
    )


def action_plan(ctx: ReportContext) -> ActionPlan | None:
    """The action plan of the review quarter (recorded in the register)."""
    from winloss.plan.action_plan import PlanSettings, build_plan

    quarter = str(ctx.quarter) if ctx.quarter is not None else None
    return ctx.cached(
        "plan",
        lambda: build_plan(
            ctx.store,
            PlanSettings(quarter=quarter, record=ctx.record),
            analysis=window_findings(ctx),
            cache=ctx.cached,
            source=ctx.source,
            now=ctx.now,
        ),
    )


def audit(ctx: ReportContext) -> AuditResult | None:
    """The data-integrity audit the plan's capture actions come from (every deal for the latest
    quarter, as `winloss audit`; deals dated up to an earlier review quarter's end)."""
    from winloss.plan.action_plan import plan_audit

    return ctx.cached("audit", lambda: plan_audit(ctx.store, ctx.quarter))


def evaluation(ctx: ReportContext) -> EvaluationResult | None:
    """Out-of-sample evaluation of the win model (shared by the plan and the forecast)."""
    from winloss.analyze.scoring.evaluation import ModelEvaluation

    return ctx.cached("evaluation", lambda: ModelEvaluation().run(ctx.source))


def accounts(ctx: ReportContext) -> TargetingResult | None:
    """Accounts ranked by fit (shared by the plan and the forecast section)."""
    from winloss.analyze.targeting.analysis import AccountTargeting

    return ctx.cached("accounts", lambda: AccountTargeting().run(ctx.source))


def forecast(ctx: ReportContext) -> ForecastResult | None:
    """The bookings forecast of the quarter after the review; its interval is corrected by the
    errors of the report's own backtest (replayed once, computed first)."""
    from winloss.analyze.forecast.analysis import Forecast

    nxt = str(forecast_quarter(ctx))
    past = backtest(ctx)
    return ctx.cached("forecast", lambda: Forecast(quarter=nxt).run(ctx.source, backtest=past))


def forecast_quarter(ctx: ReportContext) -> Quarter:
    """The quarter the report forecasts: the one after the review, or the reviewed quarter
    itself while it is still running (:func:`~winloss.analyze.forecast.analysis.forecast_quarter_after`)."""
    from winloss.analyze.forecast.analysis import forecast_quarter_after

    assert ctx.quarter is not None
    return forecast_quarter_after(ctx.quarter, ctx.source.deals())


def backtest(ctx: ReportContext) -> BacktestResult | None:
    """Forecasts replayed at past quarter starts."""
    from winloss.analyze.forecast.analysis import ForecastBacktest

    return ctx.cached("forecast_backtest", lambda: ForecastBacktest().run(ctx.source))


def open_deal_scores(ctx: ReportContext) -> ScoreResult | None:
    """P(win) of the open deals."""
    from winloss.analyze.scoring.analysis import Scoring

    return ctx.cached("scores", lambda: Scoring().run(ctx.source))
