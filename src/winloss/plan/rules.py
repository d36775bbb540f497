"""Qualification rules from findings, and their backtest on earlier quarters.

A rule is a set of conditions in the documented finding form (``{field, op, value}``) plus what to do
with deals that match: a loss finding becomes *deprioritise deals where C*; a win finding becomes
*require C* (deals without C are dropped) when deals without C rarely win, else *prioritise C*.

The backtest replays a rule on closed deals of quarters the finding was **not** discovered on:
won deals it would have excluded (and their revenue), lost deals it would have avoided, and the
selling time saved (the cycle days of the avoided losses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from winloss.errors import UsageError

if TYPE_CHECKING:
    from winloss.analyze.concentrations.result import Finding

RuleAction = Literal["deprioritise", "require", "prioritise", "coach"]

#: Fields the seller controls during the deal: findings on them become require/coach actions
#: (get the deal there), never "deprioritise" (walk away from it).
CONTROLLABLE_FIELDS = frozenset({"stakeholders", "criteria_co_created", "decision_maker_engaged"})

#: The value measure rules are judged on (stated in the plan).
VALUE_MEASURE = (
    "a rule is proposed only when the selling time it frees is worth more than the won revenue "
    "it gives up: the cycle days of the lost deals it avoids, valued at the team's won revenue "
    "per selling day in the backtest quarters (won revenue ÷ cycle days of every closed deal), "
    "against the won revenue of the deals it would have dropped; without amounts, wins take the "
    "place of revenue, and without cycle days each deal counts as one unit of selling effort"
)
OPS = ("==", "!=", "<", "<=", ">", ">=", "between", "is_missing")


def condition_mask(frame: pd.DataFrame, condition: dict[str, Any]) -> np.ndarray:
    """Rows of ``frame`` meeting one ``{field, op, value}`` condition (missing never matches,
    except for ``is_missing``)."""
    field, op = condition["field"], condition["op"]
    value: Any = condition.get("value")
    if op not in OPS:
        raise UsageError(f"unknown condition operator {op!r}; use one of {', '.join(OPS)}")
    if field not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    col = frame[field]
    missing = col.isna().to_numpy()
    if op == "is_missing":
        return np.asarray(missing if value in (None, True) else ~missing, dtype=bool)
    if op in ("==", "!="):
        if pd.api.types.is_bool_dtype(col.dtype) or isinstance(value, bool):
            target = value if isinstance(value, bool) else str(value).lower() == "true"
            eq = (col.astype("boolean") == target).fillna(False).to_numpy(dtype=bool)
        elif pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(value, str):
            eq = (col.astype(float) == float(value)).fillna(False).to_numpy(dtype=bool)
        else:
            eq = (col.astype("string") == str(value)).fillna(False).to_numpy(dtype=bool)
        return np.asarray(eq if op == "==" else (~eq & ~missing), dtype=bool)
    values = (
        col.astype(float).to_numpy()
        if not pd.api.types.is_datetime64_any_dtype(col.dtype)
        else col.to_numpy()
    )
    with np.errstate(invalid="ignore"):
        if op == "between":
            lo, hi = value
            out = (values >= float(lo)) & (values <= float(hi))
        else:
            v = float(value)
            out = {"<": values < v, "<=": values <= v, ">": values > v, ">=": values >= v}[op]
    return np.asarray(np.asarray(out, dtype=bool) & ~missing, dtype=bool)


def conditions_mask(frame: pd.DataFrame, conditions: list[dict[str, Any]]) -> np.ndarray:
    """Rows meeting every condition."""
    mask = np.ones(len(frame), dtype=bool)
    for c in conditions:
        mask &= condition_mask(frame, c)
    return mask


@dataclass(frozen=True)
class QualificationRule:
    """A rule for early qualification, derived from one finding."""

    key: str
    action: RuleAction
    conditions: tuple[dict[str, Any], ...]
    finding_statement: str
    finding_direction: str

    def excluded(self, frame: pd.DataFrame) -> np.ndarray:
        """Deals the rule would have dropped (``prioritise`` drops none)."""
        match = conditions_mask(frame, list(self.conditions))
        if self.action == "deprioritise":
            return match
        if self.action == "require":
            return ~match
        return np.zeros(len(frame), dtype=bool)  # prioritise / coach drop no deal

    def matched(self, frame: pd.DataFrame) -> np.ndarray:
        return conditions_mask(frame, list(self.conditions))


@dataclass(frozen=True)
class BacktestQuarter:
    """What a rule would have done in one quarter."""

    quarter: str
    deals: int
    excluded_deals: int
    excluded_wins: int
    excluded_won_revenue: float
    avoided_losses: int
    days_saved: float
    win_rate_before: float
    win_rate_after: float | None
    won_revenue: float = 0.0
    selling_days: float = 0.0
    wins: int = 0
    matching_deals: int = 0
    matching_wins: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backtest_rule(
    rule: QualificationRule, closed: pd.DataFrame, quarters: list[str]
) -> list[BacktestQuarter]:
    """Replay ``rule`` on the closed deals of each of ``quarters``.

    ``days_saved`` sums the cycle days of the lost deals the rule would have avoided (selling time
    not spent); won revenue excluded is the price of that time.
    """
    out: list[BacktestQuarter] = []
    for q in quarters:
        frame = closed[closed["quarter"] == q]
        if frame.empty:
            continue
        won = (frame["outcome"] == "won").to_numpy()
        excluded = rule.excluded(frame)
        match = rule.matched(frame)
        amount = (
            frame["amount"].fillna(0).to_numpy(dtype=float)
            if "amount" in frame
            else np.zeros(len(frame))
        )
        cycle = (
            frame["cycle_days"].astype(float).fillna(0).to_numpy()
            if "cycle_days" in frame
            else np.zeros(len(frame))
        )
        kept = ~excluded
        out.append(
            BacktestQuarter(
                quarter=q,
                deals=len(frame),
                excluded_deals=int(excluded.sum()),
                excluded_wins=int((excluded & won).sum()),
                excluded_won_revenue=float(amount[excluded & won].sum()),
                avoided_losses=int((excluded & ~won).sum()),
                days_saved=float(cycle[excluded & ~won].sum()),
                win_rate_before=float(won.mean()),
                win_rate_after=float(won[kept].mean()) if kept.any() else None,
                won_revenue=float(amount[won].sum()),
                selling_days=float(cycle.sum()),
                wins=int(won.sum()),
                matching_deals=int(match.sum()),
                matching_wins=int((match & won).sum()),
            )
        )
    return out


def backtest_totals(rows: list[BacktestQuarter]) -> dict[str, Any]:
    """Totals over the backtest quarters (``None`` values when there were none)."""
    if not rows:
        return {"quarters": 0}
    deals = sum(r.deals for r in rows)
    excluded = sum(r.excluded_deals for r in rows)
    wins_before = sum(round(r.win_rate_before * r.deals) for r in rows)
    ex_wins = sum(r.excluded_wins for r in rows)
    kept = deals - excluded
    return {
        "quarters": len(rows),
        "deals": deals,
        "excluded_deals": excluded,
        "excluded_wins": ex_wins,
        "excluded_won_revenue": sum(r.excluded_won_revenue for r in rows),
        "avoided_losses": sum(r.avoided_losses for r in rows),
        "days_saved": sum(r.days_saved for r in rows),
        "win_rate_before": wins_before / deals if deals else None,
        "win_rate_after": (wins_before - ex_wins) / kept if kept else None,
        "losses_avoided_per_win_lost": (
            sum(r.avoided_losses for r in rows) / ex_wins if ex_wins else None
        ),
        "matching_deals": sum(r.matching_deals for r in rows),
        "win_rate_matching": (
            sum(r.matching_wins for r in rows) / max(1, sum(r.matching_deals for r in rows))
        ),
        "win_rate_rest": (
            (wins_before - sum(r.matching_wins for r in rows))
            / max(1, deals - sum(r.matching_deals for r in rows))
        ),
        **rule_value(rows),
    }


def rule_value(rows: list[BacktestQuarter]) -> dict[str, Any]:
    """What a rule saves and costs on the value measure (:data:`VALUE_MEASURE`).

    ``value_unit`` is ``revenue`` when the deals have amounts, else ``wins``; ``cost`` is what the
    dropped won deals were worth; ``saving`` the selling effort of the avoided losses, valued at
    the unit earned per selling day (or per deal without cycle days); ``net`` = saving − cost.
    """
    revenue = sum(r.won_revenue for r in rows)
    unit = "revenue" if revenue > 0 else "wins"
    earned = revenue if unit == "revenue" else float(sum(r.wins for r in rows))
    cost = (
        sum(r.excluded_won_revenue for r in rows)
        if unit == "revenue"
        else float(sum(r.excluded_wins for r in rows))
    )
    days = sum(r.selling_days for r in rows)
    if days > 0:
        effort = "selling days"
        per = earned / days
        saved_effort = sum(r.days_saved for r in rows)
    else:
        effort = "deals"
        per = earned / max(1, sum(r.deals for r in rows))
        saved_effort = float(sum(r.avoided_losses for r in rows))
    saving = saved_effort * per
    return {
        "value_unit": unit,
        "effort_unit": effort,
        "value_per_effort": per,
        "saving": saving,
        "cost": cost,
        "net_value": saving - cost,
        "pays_off": bool(saving > cost),
    }


def rule_from_finding(
    finding: Finding, closed: pd.DataFrame, *, require_max_rate_ratio: float = 0.6
) -> QualificationRule:
    """Turn one finding into a qualification rule (see :func:`rule_from_conditions`)."""
    return rule_from_conditions(
        tuple(c.to_dict() for c in finding.conditions),
        finding.direction,
        closed,
        statement=finding.statement,
        require_max_rate_ratio=require_max_rate_ratio,
    )


def rule_from_conditions(
    conditions: tuple[dict[str, Any], ...],
    direction: str,
    closed: pd.DataFrame,
    *,
    statement: str = "",
    require_max_rate_ratio: float = 0.6,
) -> QualificationRule:
    """A qualification rule from a finding's conditions (documented ``{field, op, value}`` form)
    and direction.

    A win finding becomes ``require`` when deals outside it win at most
    ``require_max_rate_ratio`` × the overall rate on ``closed`` (dropping them costs few wins),
    otherwise ``prioritise``.
    """
    action: RuleAction
    if {c["field"] for c in conditions} <= CONTROLLABLE_FIELDS:
        action = "coach"
    elif direction == "loss":
        action = "deprioritise"
    else:
        match = conditions_mask(closed, list(conditions))
        won = (closed["outcome"] == "won").to_numpy()
        outside = ~match
        rate_out = won[outside].mean() if outside.any() else 1.0
        action = "require" if rate_out <= require_max_rate_ratio * won.mean() else "prioritise"
    key = rule_key(action, conditions)
    return QualificationRule(key, action, conditions, statement, direction)


def rule_key(action: str, conditions: tuple[dict[str, Any], ...]) -> str:
    """A stable key for the register: a numeric threshold that drifts (120 → 116 days) is the same
    rule re-measured, a different category is a different rule."""
    parts = []
    for c in sorted(conditions, key=lambda c: (c["field"], c["op"])):
        value = c.get("value")
        numeric = c["op"] in ("<", "<=", ">", ">=", "between")
        side = {"<": "<", "<=": "<", ">": ">", ">=": ">"}.get(c["op"], c["op"])
        parts.append(f"{c['field']}{side}" if numeric else f"{c['field']}{c['op']}{value}")
    return f"{action}:" + "&".join(parts)
