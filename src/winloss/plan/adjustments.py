"""Forecast, scoring and targeting adjustments for the action plan.

- **forecast**: per-segment confidence corrections from the model's out-of-sample calibration. A
  segment gets a correction only when its observed win rate's 95 % (Wilson) interval excludes the
  mean predicted probability; the correction is the ratio observed / predicted.
- **scoring**: the lead-scoring model (creation-time fields only) and what weighs most in it.
- **targeting**: the ideal-customer-profile accounts to target and the customers to expand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from winloss.analyze.scoring.model_names import plain_model_name
from winloss.analyze.stats.exact_tests import benjamini_hochberg
from winloss.analyze.stats.intervals import wilson_interval
from winloss.serialize import records

if TYPE_CHECKING:
    from winloss.analyze.scoring.analysis import ScoreResult
    from winloss.analyze.scoring.evaluation import EvaluationResult
    from winloss.analyze.targeting.analysis import TargetingResult
    from winloss.model.deals import DealSource
    from winloss.plan.action_plan import Action, Cache

T = TypeVar("T")

MIN_SEGMENT_DEALS = 30


def segment_calibration(predictions: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Mean predicted vs observed win rate per group of out-of-sample predictions.

    The test of a group compares its wins with the sum of its predicted probabilities (normal
    approximation of the Poisson-binomial, variance Σp(1−p)); ``q_value`` is Benjamini–Hochberg
    over the groups of this table. A group is miscalibrated at q ≤ 0.05 with 30+ deals.
    """
    if predictions.empty or by not in predictions.columns:
        return pd.DataFrame()
    p = predictions.assign(variance=predictions["probability"] * (1 - predictions["probability"]))
    g = p.groupby(by, dropna=False).agg(
        deals=("won", "size"), wins=("won", "sum"), mean_predicted=("probability", "mean"),
        expected_wins=("probability", "sum"), variance=("variance", "sum")).reset_index()
    lo, hi = wilson_interval(g["wins"].to_numpy(float), g["deals"].to_numpy(float))
    g["observed"] = g["wins"] / g["deals"]
    g["ci_low"], g["ci_high"] = lo, hi
    z = (g["wins"] - g["expected_wins"]) / np.sqrt(g["variance"].clip(lower=1e-9))
    g["p_value"] = 2 * stats.norm.sf(np.abs(z.to_numpy(float)))
    g["q_value"] = benjamini_hochberg(g["p_value"].to_numpy(float))
    g["miscalibrated"] = (g["q_value"] <= 0.05) & (g["deals"] >= MIN_SEGMENT_DEALS)
    g["correction"] = np.where(g["miscalibrated"], g["observed"] / g["mean_predicted"], 1.0)
    return g.drop(columns=["variance"]).rename(columns={by: "group"}).assign(dimension=by)


def forecast_actions(evaluation: EvaluationResult | None
                     ) -> tuple[list[Action], list[dict[str, Any]]]:
    """Confidence corrections per segment (and owner) where calibration is off."""
    from winloss.plan.action_plan import Action

    if evaluation is None or evaluation.predictions.empty:
        return [], []
    tables = [segment_calibration(evaluation.predictions, by) for by in ("segment", "owner")]
    table = pd.concat([t for t in tables if len(t)], ignore_index=True) if any(
        len(t) for t in tables) else pd.DataFrame()
    if table.empty:
        return [], []
    actions: list[Action] = []
    off = table[table["miscalibrated"]].sort_values("deals", ascending=False)
    for i, r in enumerate(off.itertuples(index=False)):
        direction = "over" if r.mean_predicted > r.observed else "under"
        actions.append(Action(
            key=f"forecast:{r.dimension}={r.group}", kind="forecast",
            title=f"Scale win probabilities for {r.dimension} {r.group} by {r.correction:.2f}",
            detail=(f"Out of sample the model {direction}estimates {r.dimension} {r.group}: it "
                    f"predicted {r.mean_predicted:.0%} on average, deals won {r.observed:.0%} "
                    f"(95 % CI {r.ci_low:.0%}–{r.ci_high:.0%}, {r.deals:,} deals; "
                    f"q = {r.q_value:.2g} over the groups compared)."),
            priority=i + 1,
            evidence={"action": "forecast", "calibration": {
                k: (v.item() if hasattr(v, "item") else v) for k, v in r._asdict().items()}}))
    if not actions:
        actions.append(Action(
            key="forecast:calibration", kind="forecast",
            title="Keep forecast confidence as it is",
            detail=("Out of sample, no segment's or owner's wins differ from the model's "
                    "predictions beyond chance (Benjamini–Hochberg over the groups, q > 0.05): "
                    "no correction needed."),
            priority=1, evidence={"action": "forecast"}))
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in table.to_dict(orient="records")]
    return actions, rows


def scoring_actions(leads: ScoreResult | None) -> list[Action]:
    """What the lead-scoring model (creation-time fields) weighs most."""
    from winloss.plan.action_plan import Action

    if leads is None:
        return []
    importances = leads.importances
    top = ([i for i in records(importances) if (i.get("share") or 0) > 0][:5]
           if "share" in importances.columns else [])
    if not top:
        return []
    words = ", ".join(f"{i['label']} ({i['share']:.0%})" for i in top)
    model = leads.model
    return [Action(
        key="scoring:lead-weights", kind="scoring",
        title="Score new leads on what is known at creation: " + ", ".join(
            i["label"] for i in top[:3]),
        detail=(f"The lead model ({plain_model_name(str(model.get('model', 'model')))}, "
                f"chosen by validation) weighs "
                f"{words}. Load the scores into the CRM with `winloss leads --format csv` "
                "(keyed by the CRM id)."),
        priority=1, evidence={"action": "scoring", "importances": top})]


def targeting_actions(accounts: TargetingResult | None, *, top: int = 25
                      ) -> tuple[list[Action], dict[str, list[dict[str, Any]]]]:
    """Target accounts (best ideal-customer fit without a win yet) and expansion candidates."""
    from winloss.plan.action_plan import Action

    if accounts is None or accounts.summary.empty:
        return [], {}
    frame: pd.DataFrame = accounts.summary
    prospects = frame[frame["won"] == 0].sort_values("icp_fit", ascending=False).head(top)
    customers = frame[frame["won"] > 0].sort_values("expansion_potential",
                                                    ascending=False).head(top)
    cols_p = [c for c in ("account_id", "account_name", "tier", "icp_fit", "icp_low",
                          "icp_high", "fit_reasons", "open_pipeline") if c in frame.columns]
    cols_c = [c for c in ("account_id", "account_name", "mrr", "expansion_potential",
                          "next_products", "icp_fit") if c in frame.columns]
    lists = {"target_accounts": _records(prospects[cols_p]),
             "expansion": _records(customers[cols_c])}
    actions = []
    if len(prospects):
        actions.append(Action(
            key="targeting:icp", kind="targeting",
            title=f"Target the {len(prospects)} best-fitting accounts without a win yet",
            detail=("Ranked by fit to won deals (ideal-customer profile) with its interval; the "
                    "list is under lists.target_accounts (`winloss accounts --format csv` for "
                    "all)."), priority=1, evidence={"action": "targeting"}))
    if len(customers):
        actions.append(Action(
            key="targeting:expansion", kind="targeting",
            title=f"Expand the {len(customers)} customers with the most potential",
            detail=("Ranked by expansion potential (products not yet bought, recurring revenue "
                    "trend); the list is under lists.expansion."), priority=2,
            evidence={"action": "targeting"}))
    return actions, lists


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for r in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in r.items()})
    return out


def adjustment_actions(source: DealSource, cache: Cache | None = None
                       ) -> tuple[list[Action], dict[str, list[dict[str, Any]]], list[str]]:
    """Forecast, scoring and targeting actions; ``cache(key, compute)`` shares model runs."""
    from winloss.analyze.scoring.evaluation import ModelEvaluation
    from winloss.analyze.scoring.leads import LeadScoring
    from winloss.analyze.targeting.analysis import AccountTargeting
    from winloss.errors import WinlossError

    notes: list[str] = []

    def get(key: str, compute: Callable[[], T]) -> T | None:
        if cache is not None:
            return cache(key, compute)
        try:
            return compute()
        except WinlossError as exc:
            notes.append(f"{key}: {exc}")
            return None

    evaluation = get("evaluation", lambda: ModelEvaluation().run(source))
    leads = get("leads", lambda: LeadScoring().run(source))
    accounts = get("accounts", lambda: AccountTargeting().run(source))
    f_actions, calibration = forecast_actions(evaluation)
    t_actions, lists = targeting_actions(accounts)
    lists = {"segment_calibration": calibration, **lists}
    return f_actions + scoring_actions(leads) + t_actions, lists, notes
