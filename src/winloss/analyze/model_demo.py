"""The demo step of the win model: evaluation, scores of open deals, next quarter's forecast.

Registered in ``winloss.demo.run.DEMO_STEPS`` as ``winloss.analyze.model_demo:demo_step``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from winloss.analyze.evaluation import ModelEvaluation
from winloss.analyze.forecast import Forecast, data_end
from winloss.analyze.scoring import Scoring
from winloss.model.period import quarter_of

if TYPE_CHECKING:
    from winloss.demo.run import DemoOptions
    from winloss.workspace import Workspace


def demo_step(ws: Workspace, options: DemoOptions) -> str:
    """One paragraph: out-of-sample quality beside plain boosting, scores, the next quarter."""
    evaluation = ModelEvaluation(max_splits=2).run(ws)
    scores = Scoring(explain=False).run(ws)
    deals = ws.deals()
    last = data_end(deals) or options.as_of
    quarter = quarter_of(last + dt.timedelta(days=1), ws.fiscal_year_start_month)
    if (quarter.end - last).days < 14:  # the quarter is all but over: forecast the next one
        quarter = quarter.next()
    forecast = Forecast(str(quarter), draws=5000).run(ws)
    plain = evaluation.baselines["gradient_boosting_plain"]
    t = forecast.totals
    return (
        f"win model ({evaluation.method} on the last 2 quarters, {evaluation.n_test:,} test "
        f"deals): AUC "
        f"{evaluation.metrics['auc']:.3f}, Brier {evaluation.metrics['brier']:.3f} (plain "
        f"boosting {plain['auc']:.3f} / {plain['brier']:.3f}); {len(scores.scores):,} open deals "
        f"scored; {quarter} forecast {t['expected']:,.0f} (P10 {t['p10']:,.0f} – P90 "
        f"{t['p90']:,.0f}) from {t['n_deals']:,} open deals"
    )
