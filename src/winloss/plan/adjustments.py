"""Forecast, scoring and targeting adjustments for the action plan.

- **forecast**: confidence corrections from the model's out-of-sample calibration. First one overall
  correction, when all deals together won more or less than predicted beyond chance (a drifting
  win rate shows up here, once). Then, against the overall-corrected probabilities, a segment or
  owner gets its own correction only when its wins differ beyond chance after Benjamini–Hochberg
  over every group of both dimensions (q ≤ 0.05, 30+ deals); the correction is observed /
  corrected predicted. Deals without a segment or owner are not a group.
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
#: The overall correction is applied when its two-sided p-value is at most this.
OVERALL_ALPHA = 0.05
#: Group labels that mean "not recorded" (never a group of their own).
MISSING_LABELS = frozenset({"", "nan", "none", "null", "(none)", "(missing)", "<na>"})


def _z_test(wins: float, expected: float, variance: float) -> float:
    """Two-sided p-value of wins against the Poisson-binomial mean (normal approximation)."""
    return float(2 * stats.norm.sf(abs(wins - expected) / np.sqrt(max(variance, 1e-9))))


def overall_calibration(predictions: pd.DataFrame) -> dict[str, Any]:
    """All out-of-sample deals together: predicted vs won, and the correction if beyond chance.

    ``shift`` is the logit shift δ that makes Σ expit(logit p + δ) equal the wins (0 when the
    difference is within chance); ``correction`` is observed / mean predicted.
    """
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    p = predictions["probability"].to_numpy(dtype=float)
    won = predictions["won"].to_numpy(dtype=float)
    n, wins = len(p), float(won.sum())
    mean_p = float(p.mean()) if n else float("nan")
    p_value = _z_test(wins, float(p.sum()), float((p * (1 - p)).sum())) if n else 1.0
    shift = 0.0
    if n and p_value <= OVERALL_ALPHA and 0 < wins < n:
        z = logit(np.clip(p, 1e-6, 1 - 1e-6))
        shift = float(brentq(lambda d: float(expit(z + d).sum()) - wins, -20, 20))
    observed = wins / n if n else float("nan")
    return {
        "deals": n,
        "wins": wins,
        "mean_predicted": mean_p,
        "observed": observed,
        "p_value": p_value,
        "corrected": shift != 0.0,
        "shift": shift,
        "correction": observed / mean_p if shift != 0.0 else 1.0,
    }


def segment_calibration(
    predictions: pd.DataFrame, by: str = "segment", *, shift: float = 0.0
) -> pd.DataFrame:
    """Mean predicted vs observed win rate per group of out-of-sample predictions.

    ``shift`` (logit scale, from :func:`overall_calibration`) is applied to every probability
    first, so groups are compared with the corrected whole. The test of a group compares its wins
    with the sum of its predicted probabilities (normal approximation of the Poisson-binomial,
    variance Σp(1−p)); ``q_value`` is Benjamini–Hochberg over the groups of this table. A group is
    miscalibrated at q ≤ 0.05 with 30+ deals. Deals without a label are left out.
    """
    if predictions.empty or by not in predictions.columns:
        return pd.DataFrame()
    label = predictions[by].astype("string").str.strip()
    predictions = predictions[label.notna() & ~label.str.lower().isin(MISSING_LABELS)]
    if predictions.empty:
        return pd.DataFrame()
    if shift:
        from scipy.special import expit, logit

        z = logit(np.clip(predictions["probability"].to_numpy(dtype=float), 1e-6, 1 - 1e-6))
        predictions = predictions.assign(probability=expit(z + shift))
    p = predictions.assign(variance=predictions["probability"] * (1 - predictions["probability"]))
    g = (
        p.groupby(by)
        .agg(
            deals=("won", "size"),
            wins=("won", "sum"),
            mean_predicted=("probability", "mean"),
            expected_wins=("probability", "sum"),
            variance=("variance", "sum"),
        )
        .reset_index()
    )
    lo, hi = wilson_interval(g["wins"].to_numpy(float), g["deals"].to_numpy(float))
    g["observed"] = g["wins"] / g["deals"]
    g["ci_low"], g["ci_high"] = lo, hi
    z = (g["wins"] - g["expected_wins"]) / np.sqrt(g["variance"].clip(lower=1e-9))
    g["p_value"] = 2 * stats.norm.sf(np.abs(z.to_numpy(float)))
    g["q_value"] = benjamini_hochberg(g["p_value"].to_numpy(float))
    g["miscalibrated"] = (g["q_value"] <= 0.05) & (g["deals"] >= MIN_SEGMENT_DEALS)
    g["correction"] = np.where(g["miscalibrated"], g["observed"] / g["mean_predicted"], 1.0)
    return g.drop(columns=["variance"]).rename(columns={by: "group"}).assign(dimension=by)


#: A split's predictions measure the live model's calibration when its model was trained on at
#: least this share of the deals the latest split's model was trained on.
LIKE_LIVE_SHARE = 0.5


def like_the_live_model(evaluation: EvaluationResult) -> pd.DataFrame:
    """The out-of-sample predictions of the splits whose models resemble the one in use: trained
    on at least :data:`LIKE_LIVE_SHARE` of the latest split's training deals. Maven's first split,
    trained on one quarter (82 % won), predicted 82 % for a quarter that won 62 %: with it the plan
    scaled every probability by 0.86, taking today's 63 % to 54 %, below every recent quarter."""
    predictions = evaluation.predictions
    splits = list(getattr(evaluation, "splits", ()) or ())
    sizes = {str(s["split"]): int(s["n_train"]) for s in splits if "n_train" in s}
    if not sizes or "split" not in predictions.columns or "n_train" not in splits[-1]:
        return predictions
    latest = sizes[str(splits[-1]["split"])]
    keep = [name for name, n in sizes.items() if n >= LIKE_LIVE_SHARE * latest]
    return predictions[predictions["split"].astype(str).isin(keep)].reset_index(drop=True)


def _spread_check(evaluation: EvaluationResult) -> dict[str, Any]:
    """The evaluation's calibration error (the one ``model evaluate`` and the report show)
    against what a calibrated score shows by chance on the same test deals: a level that is
    right on average can hide probabilities too spread out or too bunched."""
    from winloss.analyze.stats.calibration import calibration_state, chance_ece, ece

    p = evaluation.predictions["probability"].to_numpy(dtype=float)
    error, chance = ece(evaluation.predictions["won"].to_numpy(dtype=float), p), chance_ece(p)
    return {
        "n": len(p),
        "ece": error,
        "chance_ece": chance,
        "state": calibration_state(error, chance),
    }


def forecast_actions(
    evaluation: EvaluationResult | None,
) -> tuple[list[Action], list[dict[str, Any]]]:
    """One overall confidence correction, then per segment/owner only where beyond chance."""
    from winloss.plan.action_plan import Action

    if evaluation is None or evaluation.predictions.empty:
        return [], []
    predictions = like_the_live_model(evaluation)
    overall = overall_calibration(predictions)
    tables = [
        segment_calibration(predictions, by, shift=overall["shift"]) for by in ("segment", "owner")
    ]
    table = (
        pd.concat([t for t in tables if len(t)], ignore_index=True)
        if any(len(t) for t in tables)
        else pd.DataFrame()
    )
    actions: list[Action] = []
    if overall["corrected"]:
        direction = "over" if overall["mean_predicted"] > overall["observed"] else "under"
        actions.append(
            Action(
                key="forecast:overall",
                kind="forecast",
                title=f"Scale all win probabilities by {overall['correction']:.2f}",
                detail=(
                    f"Out of sample the model {direction}estimates wins overall: it predicted "
                    f"{overall['mean_predicted']:.0%} on average, {overall['deals']:,} deals won "
                    f"{overall['observed']:.0%} (p = {overall['p_value']:.2g}; splits whose "
                    "models were trained on at least half as many deals as the latest). One "
                    "correction "
                    "for everyone; groups are corrected only where they differ from the "
                    "corrected whole."
                ),
                priority=1,
                evidence={"action": "forecast", "overall": overall},
            )
        )
    if not table.empty:
        # multiplicity over every group of both dimensions together
        table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(float))
        table["miscalibrated"] = (table["q_value"] <= 0.05) & (table["deals"] >= MIN_SEGMENT_DEALS)
        table["correction"] = np.where(
            table["miscalibrated"], table["observed"] / table["mean_predicted"], 1.0
        )
        off = table[table["miscalibrated"]].sort_values("deals", ascending=False)
        for r in off.itertuples(index=False):
            direction = "over" if r.mean_predicted > r.observed else "under"
            after = " after the overall correction" if overall["corrected"] else ""
            actions.append(
                Action(
                    key=f"forecast:{r.dimension}={r.group}",
                    kind="forecast",
                    title=f"Scale win probabilities for {r.dimension} {r.group} by "
                    f"{r.correction:.2f}",
                    detail=(
                        f"Out of sample the model {direction}estimates {r.dimension} {r.group}"
                        f"{after}: it predicted {r.mean_predicted:.0%} on average, deals won "
                        f"{r.observed:.0%} (95 % CI {r.ci_low:.0%}–{r.ci_high:.0%}, "
                        f"{r.deals:,} deals; q = {r.q_value:.2g} over every segment and owner "
                        "compared)."
                    ),
                    priority=len(actions) + 1,
                    evidence={
                        "action": "forecast",
                        "calibration": {
                            k: (v.item() if hasattr(v, "item") else v)
                            for k, v in r._asdict().items()
                        },
                    },
                )
            )
    spread = _spread_check(evaluation) if not actions else None
    if spread is not None and spread["state"] == "off":
        actions.append(
            Action(
                key="forecast:calibration",
                kind="forecast",
                title="Read the win probabilities as a ranking: their level is right, their "
                "spread is not",
                detail=(
                    "Out of sample, neither all deals together nor any segment or owner won "
                    "differently from the model's predictions on average beyond chance "
                    "(Benjamini–Hochberg over the groups, q > 0.05), so no scaling is proposed. "
                    f"But the predictions are off beyond chance across the {spread['n']:,} "
                    f"time-ordered test deals (calibration error {spread['ece']:.3f}; a "
                    f"calibrated score shows up to {spread['chance_ece']:.3f} by chance): some "
                    "deals' probabilities are too high and others too low. Rank and prioritise "
                    "deals by them; do not read 70 % as seven wins in ten. (The bookings "
                    "forecast's range is corrected separately, by its own backtest.)"
                ),
                priority=1,
                evidence={"action": "forecast", "overall": overall, "spread": spread},
            )
        )
    if not actions:
        actions.append(
            Action(
                key="forecast:calibration",
                kind="forecast",
                title="Keep the win probabilities as they are",
                detail=(
                    "Out of sample, neither all deals together nor any segment or owner won "
                    "differently from the model's predictions beyond chance "
                    "(Benjamini–Hochberg over the groups, q > 0.05): no correction of the "
                    "deals' win probabilities is needed"
                    + (
                        f", and across the {spread['n']:,} time-ordered test deals their "
                        f"calibration error ({spread['ece']:.3f}) is within what a calibrated "
                        f"score shows by chance (up to {spread['chance_ece']:.3f})"
                        if spread is not None and spread["state"] == "ok"
                        else f"; {spread['n']:,} time-ordered test deals are too few to tell "
                        "whether the probabilities are spread right (calibration error "
                        f"{spread['ece']:.3f}; up to {spread['chance_ece']:.3f} by chance)"
                        if spread is not None
                        else ""
                    )
                    + ". (The bookings forecast's range is corrected separately, by its own "
                    "backtest.)"
                ),
                priority=1,
                evidence={"action": "forecast", "overall": overall},
            )
        )
    rows = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in table.to_dict(orient="records")
    ]
    return actions, rows


def scoring_actions(leads: ScoreResult | None) -> list[Action]:
    """What the lead-scoring model (creation-time fields) weighs most."""
    from winloss.plan.action_plan import Action

    if leads is None:
        return []
    importances = leads.importances
    top = (
        [i for i in records(importances) if (i.get("share") or 0) > 0 and i.get("helps", True)][:5]
        if "share" in importances.columns
        else []
    )
    if not top:
        return []
    words = ", ".join(f"{i['label']} ({i['share']:.0%})" for i in top)
    unclear = [
        i["label"]
        for i in records(importances)
        if (i.get("share") or 0) > 0 and not i.get("helps", True)
    ]
    if unclear:  # they carry some weight, but on held-out deals it is not told apart from noise
        words += (
            f"; {', '.join(unclear[:4])}{' and others' if len(unclear) > 4 else ''} add too "
            "little on held-out deals to be told apart from noise"
        )
    model = leads.model
    return [
        Action(
            key="scoring:lead-weights",
            kind="scoring",
            title="Score new leads on what is known at creation: "
            + ", ".join(i["label"] for i in top[:3]),
            detail=(
                f"The lead model ({plain_model_name(str(model.get('model', 'model')))}, "
                f"chosen by validation) weighs "
                f"{words}. Load the scores into the CRM with `winloss leads --format csv` "
                "(keyed by the CRM id)."
            ),
            priority=1,
            evidence={"action": "scoring", "importances": top},
        )
    ]


def no_account_skill(accounts: TargetingResult) -> bool:
    """Whether the account model fell back to the win rate (every account fits equally) or no
    profile field helps on held-out deals (the fit differences are not backed: the accounts
    themselves then give no tiers)."""
    from winloss.analyze.scoring.analysis import no_field_helps

    return accounts.model.get("model") == "base_rate" or no_field_helps(accounts.importances)


def targeting_actions(
    accounts: TargetingResult | None, *, top: int = 25
) -> tuple[list[Action], dict[str, list[dict[str, Any]]]]:
    """Target accounts (best ideal-customer fit without a win yet) and expansion candidates."""
    from winloss.plan.action_plan import Action

    if accounts is None or accounts.summary.empty:
        return [], {}
    frame: pd.DataFrame = accounts.summary
    prospects = frame[frame["won"] == 0].sort_values("icp_fit", ascending=False).head(top)
    if no_account_skill(accounts):
        # every account fits alike: a "top 25" would be an arbitrary list a team would still
        # call down; the plan's note says why there is none
        prospects = prospects.iloc[0:0]
    customers = (
        frame[frame["won"] > 0].sort_values("expansion_potential", ascending=False).head(top)
    )
    cols_p = [
        c
        for c in (
            "account_id",
            "account_name",
            "tier",
            "icp_fit",
            "icp_low",
            "icp_high",
            "fit_reasons",
            "open_pipeline",
        )
        if c in frame.columns
    ]
    cols_c = [
        c
        for c in (
            "account_id",
            "account_name",
            "mrr",
            "expansion_potential",
            "next_products",
            "icp_fit",
        )
        if c in frame.columns
    ]
    lists = {
        "target_accounts": _records(prospects[cols_p]),
        "expansion": _records(customers[cols_c]),
    }
    actions = []
    if len(prospects):
        actions.append(
            Action(
                key="targeting:icp",
                kind="targeting",
                title=f"Target the {len(prospects)} best-fitting accounts without a win yet",
                detail=(
                    "Ranked by fit to won deals (ideal-customer profile) with its interval; the "
                    "list is under lists.target_accounts (`winloss accounts --format csv` for "
                    "all)."
                ),
                priority=1,
                evidence={"action": "targeting"},
            )
        )
    if len(customers):
        actions.append(
            Action(
                key="targeting:expansion",
                kind="targeting",
                title=f"Expand the {len(customers)} customers with the most potential",
                detail=(
                    f"Ranked by expansion potential ({_expansion_basis(frame)}); the list is "
                    "under lists.expansion."
                ),
                priority=len(actions) + 1,  # 1 when there is no account list to target
                evidence={"action": "targeting"},
            )
        )
    return actions, lists


def _expansion_basis(frame: pd.DataFrame) -> str:
    """What the expansion potential was computed from, for this store: products not yet bought
    only where a product field exists, recurring revenue only where subscriptions do (the plan
    named both for a Salesforce export that had neither)."""
    products = "next_products" in frame.columns and (frame["next_products"].fillna("") != "").any()
    basis = (
        "products not yet bought, weighted by their adoption among peers"
        if products
        else "repeat-purchase rate × median won amount × the customer's size (no product field)"
    )
    if "mrr_change" in frame.columns and frame["mrr_change"].notna().any():
        basis += "; recurring revenue and its change over the year beside it"
    return basis


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for r in frame.to_dict(orient="records"):
        out.append(
            {
                k: (
                    None
                    if isinstance(v, float) and np.isnan(v)
                    else v.item()
                    if hasattr(v, "item")
                    else v
                )
                for k, v in r.items()
            }
        )
    return out


def adjustment_actions(
    source: DealSource, cache: Cache | None = None
) -> tuple[list[Action], dict[str, list[dict[str, Any]]], list[str]]:
    """Forecast, scoring and targeting actions; ``cache(key, compute)`` shares model runs."""
    from winloss.analyze.scoring.analysis import ModelSettings
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
    # the plan reads the lead model's importances and name only: no bootstrap refits (they
    # give the per-lead intervals) and no per-lead factors, which leave both unchanged
    lead_settings = ModelSettings(purpose="lead", n_bootstrap=0)
    leads = get("leads", lambda: LeadScoring(settings=lead_settings, explain=False).run(source))
    accounts = get("accounts", lambda: AccountTargeting().run(source))
    f_actions, calibration = forecast_actions(evaluation)
    t_actions, lists = targeting_actions(accounts)
    if accounts is not None and no_account_skill(accounts):
        notes.append(
            "no targeting action: no account field predicts a win better than the overall win "
            f"rate ({accounts.base_rate:.0%}), so every account without a win fits equally and "
            "no target accounts are listed"
        )
    lists = {"segment_calibration": calibration, **lists}
    return f_actions + scoring_actions(leads) + t_actions, lists, notes
