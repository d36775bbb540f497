"""The action plan: findings and audit turned into actions, backtested, kept in a quarterly register.

Three kinds of action, as in the method:

1. ``capture`` — data-capture and integrity changes, from the audit's ranked fix list;
2. ``qualification`` — rules from significant findings discovered on a recent window of quarters and
   backtested on the quarters before it (out of sample);
3. ``forecast`` / ``scoring`` / ``targeting`` — per-segment confidence corrections from calibration,
   lead-scoring changes, target-account and expansion lists.

Each action lands in the ``action_register`` with a status, and every later plan re-measures the
actions of earlier quarters on the newest quarter, so "did the change work?" has an answer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd

from winloss.analyze.audit.analysis import DataAudit
from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
from winloss.analyze.concentrations.finding_statements import percent_pair
from winloss.analyze.scoring.features import CREATION_TIME_FIELDS
from winloss.errors import InsufficientDataError, UsageError, WinlossError
from winloss.model.deals import DealFilter
from winloss.plan.rules import (
    VALUE_MEASURE,
    QualificationRule,
    backtest_rule,
    backtest_totals,
    conditions_mask,
    rule_from_finding,
)
from winloss.serialize import dumps
from winloss.store import register_queries, summary_queries

if TYPE_CHECKING:
    from winloss.analyze.audit.analysis import AuditResult
    from winloss.analyze.concentrations.result import ConcentrationResult, Finding
    from winloss.model.deals import DealSource
    from winloss.model.period import Quarter
    from winloss.store.duckdb_store import DuckDBStore

T = TypeVar("T")


class Cache(Protocol):
    """``cache(key, compute)``: ``compute()`` once per key; ``None`` when it failed (noted)."""

    def __call__(self, key: str, compute: Callable[[], T], /) -> T | None: ...


#: Fields that describe the seller, not the deal: findings on them are coaching, not qualification.
SELLER_FIELDS = frozenset({"owner"})


@dataclass(frozen=True)
class PlanSettings:
    """Settings of an action plan.

    Parameters
    ----------
    quarter
        The quarter under review (default: the latest with closed deals).
    window
        Quarters (ending at ``quarter``) on which findings are discovered; the quarters before
        the window are the backtest. ``None`` takes half the quarters, at most four.
    alpha
        Findings with q ≤ alpha become rules.
    max_rules
        At most this many qualification rules, strongest evidence first.
    record
        Write the actions to the quarterly register.
    adjustments
        Add forecast, scoring and targeting adjustments (fits the win model; slower).
    """

    quarter: str | None = None
    window: int | None = None
    alpha: float = 0.05
    max_rules: int = 8
    record: bool = True
    adjustments: bool = True


@dataclass(frozen=True)
class Action:
    """One action of the plan, in the form a CRM admin can load (CSV/JSON/YAML)."""

    key: str
    kind: str  # capture / qualification / forecast / scoring / targeting
    title: str
    detail: str
    priority: int
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = "proposed"
    measured: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "priority": self.priority,
            "status": self.status,
            "evidence": self.evidence,
            "measured": self.measured,
        }


@dataclass(frozen=True)
class ActionPlan:
    """The plan for one quarter; ``actions`` in priority order within each kind."""

    period: str
    discovery_quarters: tuple[str, ...]
    backtest_quarters: tuple[str, ...]
    actions: tuple[Action, ...]
    lists: dict[str, list[dict[str, Any]]]
    notes: tuple[str, ...]

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"kind": a.kind, "priority": a.priority, "status": a.status, "title": a.title}
                for a in self.actions
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "value_measure": VALUE_MEASURE,
            "discovery_quarters": list(self.discovery_quarters),
            "backtest_quarters": list(self.backtest_quarters),
            "actions": [a.to_dict() for a in self.actions],
            "lists": self.lists,
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(json.loads(self.to_json()), sort_keys=False, allow_unicode=True))

    def to_csv(self) -> str:
        """One row per action: key, kind, priority, status, title, detail, evidence (JSON)."""
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["key", "kind", "priority", "status", "title", "detail", "evidence"])
        for a in self.actions:
            writer.writerow(
                [
                    a.key,
                    a.kind,
                    a.priority,
                    a.status,
                    a.title,
                    a.detail,
                    dumps(a.evidence, indent=None),
                ]
            )
        return buf.getvalue()


def check_review_quarter(
    store: DuckDBStore, review: Quarter, quarters: list[str], *, ask: str = "--quarter"
) -> None:
    """Refuse a review quarter that lies wholly before the first or after the last closed deal:
    it has no closed deals to review (a typo such as 2031Q4 for 2025Q4, most often).

    ``quarters`` are the quarters with closed deals, in order. A quiet quarter inside the data
    (no closes, but deals before and after it) is reviewed, with its re-measurements marked
    not measurable.
    """
    if not quarters or str(review) in quarters:
        return
    first, last = store.quarter(quarters[0]), store.quarter(quarters[-1])
    if review.start > last.end:
        where = f"after the last quarter with closed deals ({last}, up to {last.end})"
    elif review.end < first.start:
        where = f"before the first quarter with closed deals ({first}, from {first.start})"
    else:
        return
    example = f"{ask}{last}" if ask.endswith("=") else f"{ask} {last}"
    raise UsageError(
        f"{review} has no closed deals: it lies {where}. Give a quarter from {first} to "
        f"{last} (e.g. {example}), or import the deals of {review} first"
    )


def closed_quarters(store: DuckDBStore) -> list[str]:
    """Quarters with closed deals, in order."""
    return summary_queries.closed_quarters(store)


def split_quarters(
    quarters: list[str], review: str, window: int | None
) -> tuple[list[str], list[str]]:
    """Discovery window (ending at ``review``) and the earlier backtest quarters."""
    upto = [q for q in quarters if q <= review]
    if not upto:
        return [], []
    w = window if window is not None else max(1, min(4, len(upto) // 2))
    w = max(1, min(w, len(upto)))
    return upto[-w:], upto[:-w]


def _rule_title(rule: QualificationRule) -> str:
    words = _deal_words(rule.conditions)
    if rule.action == "deprioritise":
        return f"Deprioritise deals {words}"
    if rule.action == "require":
        return f"Require deals {words} to qualify"
    if rule.action == "coach":
        target = (
            _deal_words(tuple(_negated(c) for c in rule.conditions))
            if rule.finding_direction == "loss"
            else words
        )
        return f"Before the proposal, require deals {target}; coach reps to get there"
    return f"Prioritise deals {words}"


def _deal_words(conditions: tuple[dict[str, Any], ...]) -> str:
    """Plain words completing "deals …" (the finding's own phrasing)."""
    from winloss.analyze.concentrations.conditions import Condition

    return " and ".join(
        Condition(
            c["field"],
            c["op"],
            tuple(c["value"]) if isinstance(c.get("value"), list) else c.get("value"),
        ).phrase(integer=isinstance(c.get("value"), int))
        for c in conditions
    )


def _negated(c: dict[str, Any]) -> dict[str, Any]:
    value = c.get("value")
    if isinstance(value, bool) and c["op"] in ("==", "!="):
        return {**c, "value": not value}
    if c["op"] in _NEGATED:
        return {**c, "op": _NEGATED[c["op"]]}
    return c


_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _unblocks_words(items: tuple[str, ...]) -> str:
    """ "a on x (X), a on y (X)" → "a on x and y": one analysis list, said once."""
    from winloss.analyze.concentrations.conditions import plain_label

    grouped: dict[str, list[str]] = {}
    for item in dict.fromkeys(items):
        head, sep, tail = item.partition(" on ")
        if not sep:
            grouped.setdefault(item, [])
            continue
        name = tail.split(" (")[0]
        grouped.setdefault(head, []).append(plain_label(name))
    parts = []
    for head, names in grouped.items():
        names = list(dict.fromkeys(names))
        if not names:
            parts.append(head)
        else:
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            parts.append(f"{head} on {listed}")
    return "; ".join(parts)


def capture_actions(audit: AuditResult | None, *, max_actions: int = 8) -> list[Action]:
    """Data-capture and integrity changes from the audit's ranked fix list: every high-severity
    issue, then medium ones up to ``max_actions`` in all (low ones only when nothing ranks
    higher). A high issue ranked below eight medium ones was left out, silently."""
    if audit is None:  # the audit could not run (the report notes why)
        return []
    high = [i for i in audit.issues if i.severity == "high"]
    medium = [i for i in audit.issues if i.severity == "medium"]
    issues = (high + medium[: max(0, max_actions - len(high))]) or list(audit.issues)[:max_actions]
    issues.sort(key=lambda i: i.rank)
    out = []
    # numbered 1, 2, 3 … like every other kind (a skipped low issue made "#7" jump to "#10");
    # the detail names the issue's rank in `winloss audit`'s fix list
    for number, i in enumerate(issues, start=1):
        unblocks = f" Unblocks: {_unblocks_words(i.unblocks)}." if i.unblocks else ""
        out.append(
            Action(
                key=f"capture:{i.key}",
                kind="capture",
                title=i.action,
                detail=f"Fix list #{i.rank}: {i.title}.{unblocks}",
                priority=number,
                evidence={"issue": i.to_dict(), "share": i.share, "action": "capture"},
            )
        )
    return out


def window_analysis(
    store: DuckDBStore, review: Quarter, discovery: list[str]
) -> ConcentrationResult:
    """Concentrations on the closed deals of the discovery window."""
    start = store.quarter(discovery[0]).start
    return ConcentrationAnalysis(
        deal_filter=DealFilter(since=start, until=review.end), record=False
    ).run(store)


def _finding_evidence(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "conditions": [c.to_dict() for c in f.conditions],
        "direction": f.direction,
        "n": f.n,
        "wins": f.wins,
        "win_rate": f.win_rate,
        "ci_low": f.ci_low,
        "ci_high": f.ci_high,
        "q_value": f.q_value,
        "quarters_held": f.quarters_held,
        "quarters_seen": f.quarters_seen,
        "statement": f.statement,
    }


def qualification_actions(
    store: DuckDBStore,
    settings: PlanSettings,
    review: Quarter | None,
    discovery: list[str],
    backtest: list[str],
    notes: list[str],
    analysis: ConcentrationResult | None = None,
    *,
    source: DealSource | None = None,
) -> tuple[list[Action], ConcentrationResult, list[dict[str, Any]]]:
    """Rules from significant, pre-outcome findings of the discovery window, backtested."""
    reads: DealSource = source if source is not None else store
    closed = reads.closed_deals()
    if discovery:
        assert review is not None
        result = analysis if analysis is not None else window_analysis(store, review, discovery)
        window_deals = closed[closed["quarter"].isin(discovery)]
    else:  # no close dates: every closed deal, and the rules are judged in sample
        result = (
            analysis if analysis is not None else ConcentrationAnalysis(record=False).run(store)
        )
        window_deals = closed
    custom_fields = {f.name for f in reads.field_catalog() if f.origin == "custom"}
    actions: list[Action] = []
    rejected: list[dict[str, Any]] = []
    for finding in result.findings:
        if finding.post_outcome or finding.q_value > settings.alpha:
            continue
        fields = {c.field for c in finding.conditions}
        if fields & SELLER_FIELDS:
            notes.append(f"coaching, not qualification: {finding.statement}")
            continue
        rule = rule_from_finding(finding, window_deals)
        if backtest:
            rows = backtest_rule(rule, closed, backtest)
        else:  # nothing earlier to test on: the value test runs on the discovery deals
            rows = backtest_rule(rule, window_deals.assign(quarter="in sample"), ["in sample"])
        totals = {**backtest_totals(rows), "in_sample": not backtest}
        later = sorted(fields - set(CREATION_TIME_FIELDS) - custom_fields)
        when = (
            "at creation"
            if not later
            else f"during the deal ({', '.join(later)} recorded as at the close; earlier in the "
            "cycle the value may still change, so apply the rule at the stage where it is "
            "known)"
        )
        evidence = {
            "finding": _finding_evidence(finding),
            "action": rule.action,
            "applies": when,
            "conditions": list(rule.conditions),
            "backtest": {"quarters": [r.to_dict() for r in rows], "totals": totals},
        }
        if totals.get("quarters"):
            t = totals
            where = (
                "In sample (no earlier quarter to backtest on)"
                if t["in_sample"]
                else f"Backtest on {t['quarters']} earlier quarter(s)"
            )
            if rule.action in ("prioritise", "coach"):
                detail = (
                    f"{finding.statement} {where}: deals where it held won "
                    f"{_pct(t['win_rate_matching'])} "
                    f"against {_pct(t['win_rate_rest'])} for the rest "
                    f"({t['matching_deals']:,} deals). Drops no deal."
                )
            else:
                detail = (
                    f"{finding.statement} {where}:"
                    f" it would have dropped {t['excluded_deals']:,} deals — "
                    f"{t['avoided_losses']:,} losses avoided ({_effort(t)}, worth "
                    f"{_value(t['saving'], t)}) against "
                    f"{t['excluded_wins']:,} wins lost ({t['excluded_won_revenue']:,.0f} won "
                    f"revenue); win rate {_pct_change(t['win_rate_before'], t['win_rate_after'])}."
                )
        else:
            detail = f"{finding.statement} No earlier quarter to backtest on."
        if later:
            detail += f" Known {when}."
        action = Action(
            key=f"qualification:{rule.key}",
            kind="qualification",
            title=_rule_title(rule),
            detail=detail,
            priority=0,
            evidence=evidence,
        )
        drops = rule.action in ("deprioritise", "require")
        if drops and totals.get("quarters") and not totals["pays_off"]:
            rejected.append(
                {
                    "rule": action.title,
                    "finding": finding.id,
                    "losses_avoided": totals["avoided_losses"],
                    "days_saved": totals["days_saved"],
                    "saving": totals["saving"],
                    "wins_lost": totals["excluded_wins"],
                    "won_revenue_lost": totals["excluded_won_revenue"],
                    "cost": totals["cost"],
                    "value_unit": totals["value_unit"],
                    "reason": (
                        "gives up more than it saves on the discovery quarters (in sample: "
                        "no earlier quarter to backtest on)"
                        if totals.get("in_sample")
                        else "gives up more than it saves in the backtest"
                    ),
                }
            )
            continue
        actions.append(action)
    actions = _rank_rules(actions)[: settings.max_rules]
    if rejected:
        notes.append(
            f"{len(rejected)} rule(s) not proposed: they would give up more than they "
            "save (lists.rules_not_proposed)"
        )
    return actions, result, rejected


def findings_outside_window(
    store: DuckDBStore,
    review: Quarter,
    discovery: list[str],
    window: ConcentrationResult,
    alpha: float,
    *,
    source: DealSource | None = None,
) -> list[dict[str, Any]]:
    """Significant findings over every closed deal up to ``review`` that the discovery window
    does not confirm: the plan proposes no rule from them, and says so with both sets of numbers
    (a fact `winloss findings` shows is never silently missing from the plan)."""
    reads: DealSource = source if source is not None else store
    everything = ConcentrationAnalysis(deal_filter=DealFilter(until=review.end), record=False).run(
        store
    )
    confirmed = {f.key for f in window.findings if not f.post_outcome and f.q_value <= alpha}
    related = {f.key: f for f in window.related}
    span = f"{discovery[0]}–{discovery[-1]}" if len(discovery) > 1 else discovery[0]
    closed = reads.closed_deals()
    deals = closed[closed["quarter"].isin(discovery)]
    won = (deals["outcome"] == "won").to_numpy()
    out: list[dict[str, Any]] = []
    for f in everything.findings:
        if f.post_outcome or f.q_value > alpha or f.key in confirmed:
            continue
        inside = conditions_mask(deals, [c.to_dict() for c in f.conditions])
        n_in, n_out = int(inside.sum()), int((~inside).sum())
        near = related.get(f.key)
        if near is not None:  # the window shows it, as a related finding, not a driver
            single = "" if near.q_value_single is None else f", {near.q_value_single:.2g} over "
            reason = (
                f"in {span} a related finding, not a driver: q {near.q_value:.2g} over all "
                f"{window.hypotheses_tested:,} hypotheses (threshold and pairs included)"
                f"{single and single + 'single conditions'}; rules come from drivers"
            )
        else:
            reason = (
                f"not significant in {span} (q > {alpha:g} after correcting for its "
                f"{window.hypotheses_tested:,} hypotheses)"
            )
        out.append(
            {
                "finding": f.statement,
                "deals_all": f.n,
                "win_rate_all": f.win_rate,
                "rest_win_rate_all": f.rest_win_rate,
                "q_value_all": f.q_value,
                "deals_window": n_in,
                "win_rate_window": float(won[inside].mean()) if n_in else None,
                "rest_win_rate_window": float(won[~inside].mean()) if n_out else None,
                "q_value_window": near.q_value if near is not None else None,
                "reason": reason,
            }
        )
    return out


def _effort(t: dict[str, Any]) -> str:
    if t["effort_unit"] == "selling days":
        return f"{t['days_saved']:,.0f} selling days"
    return "the selling effort of as many deals; no cycle days to count"


def _value(v: float, totals: dict[str, Any]) -> str:
    return f"{v:,.0f} won revenue" if totals["value_unit"] == "revenue" else f"{v:,.1f} wins"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0%}"


def _pct_change(before: float | None, after: float | None) -> str:
    """``"22% → 31%"``; one decimal where whole percentages would print a change as none
    (IBM's rules read "win rate 23% → 23%" for 22.5 % → 23.1 %)."""
    if before is None or after is None:
        return f"{_pct(before)} → {_pct(after)}"
    a, b = percent_pair(before, after)
    return f"{a}% → {b}%"


def _rank_rules(actions: list[Action]) -> list[Action]:
    """Order rules that drop deals by their net value in the backtest (selling time saved minus
    won revenue given up, see :data:`winloss.plan.rules.VALUE_MEASURE`), then by evidence
    (q-value); coaching and prioritisation, which drop nothing, after them."""

    def score(a: Action) -> tuple[int, float, float]:
        t = a.evidence["backtest"]["totals"]
        if a.evidence["action"] in ("prioritise", "coach") or not t.get("quarters"):
            return (1, 0.0, float(a.evidence["finding"]["q_value"]))
        return (0, -float(t["net_value"]), float(a.evidence["finding"]["q_value"]))

    ranked = sorted(actions, key=score)
    return [
        Action(a.key, a.kind, a.title, a.detail, i + 1, a.evidence) for i, a in enumerate(ranked)
    ]


def remeasure(
    source: DealSource,
    review: Quarter,
    previous: pd.DataFrame,
    quarter_audit: AuditResult | None = None,
) -> list[dict[str, Any]]:
    """Re-measure earlier actions on the review quarter: qualification rules on its closed deals
    (does the effect hold, did the team adopt the rule?), capture fixes on its audit (is the
    share of affected deals falling?)."""
    closed = source.closed_deals()
    now = closed[closed["quarter"] == str(review)]
    out: list[dict[str, Any]] = []
    now_issues = {i.key: i for i in quarter_audit.issues} if quarter_audit is not None else {}
    for row in previous.itertuples(index=False):
        if row.kind in ("capture", "qualification") and not len(now):
            # nothing closed in the review quarter: neither a capture share nor a rule's effect
            # can be measured (an empty audit is not a fixed one)
            out.append(
                {
                    "key": row.action_key,
                    "proposed_in": row.period,
                    "title": row.title,
                    "status": f"not measurable: no deals closed in {review}",
                }
            )
            continue
        if row.kind == "capture" and quarter_audit is not None:
            payload = json.loads(row.payload)
            key = row.action_key.split(":", 1)[1]
            then_share = payload.get("share")
            issue = now_issues.get(key)
            share_now = issue.share if issue is not None else 0.0
            improving = then_share is not None and share_now < 0.8 * then_share
            out.append(
                {
                    "key": row.action_key,
                    "proposed_in": row.period,
                    "title": row.title,
                    "share_then": then_share,
                    "share_now": share_now,
                    "status": "fixed"
                    if issue is None
                    else "improving"
                    if improving
                    else "not improving",
                }
            )
            continue
        if row.kind != "qualification":
            continue
        payload = json.loads(row.payload)
        conditions = payload.get("conditions", [])
        then = closed[closed["quarter"] == row.period]
        m_now = conditions_mask(now, conditions) if len(now) else None
        m_then = conditions_mask(then, conditions) if len(then) else None
        if m_now is None or m_then is None:
            continue
        won_now = (now["outcome"] == "won").to_numpy()
        share_now, share_then = float(m_now.mean()), float(m_then.mean())
        inside = float(won_now[m_now].mean()) if m_now.any() else None
        outside = float(won_now[~m_now].mean()) if (~m_now).any() else None
        held = None
        if inside is not None and outside is not None:
            held = inside < outside if payload.get("action") == "deprioritise" else inside > outside
        adopted = (
            share_now <= 0.75 * share_then
            if payload.get("action") == "deprioritise"
            else share_now >= 1.25 * share_then
            if share_then > 0
            else None
        )
        status = ("effect held" if held else "effect faded") if held is not None else "no data"
        if adopted:
            status += ", adopted"
        out.append(
            {
                "key": row.action_key,
                "proposed_in": row.period,
                "title": row.title,
                "share_matching_then": share_then,
                "share_matching_now": share_now,
                "win_rate_matching_now": inside,
                "win_rate_rest_now": outside,
                "status": status,
            }
        )
    return out


def build_plan(
    store: DuckDBStore,
    settings: PlanSettings | None = None,
    *,
    extra_actions: list[Action] | None = None,
    lists: dict[str, list[dict[str, Any]]] | None = None,
    analysis: ConcentrationResult | None = None,
    cache: Cache | None = None,
    source: DealSource | None = None,
    now: dt.datetime | None = None,
) -> ActionPlan:
    """Build the action plan for a quarter (qualification rules and the register).

    ``source`` serves the deal reads (default the store; the report passes its
    ``CachedDealSource``); ``cache`` shares analyses with the report's other sections; ``now`` is
    when the plan is recorded in the register (default: the current local time).
    """
    settings = settings or PlanSettings()
    reads: DealSource = source if source is not None else store
    quarters = closed_quarters(store)
    notes: list[str] = []
    if not quarters:
        return _undated_plan(
            store,
            settings,
            extra_actions=extra_actions,
            lists=lists,
            analysis=analysis,
            cache=cache,
            source=reads,
        )
    review = store.quarter(settings.quarter) if settings.quarter else store.quarter(quarters[-1])
    check_review_quarter(store, review, quarters)
    discovery, backtest = split_quarters(quarters, str(review), settings.window)
    if not backtest:
        notes.append(
            "no quarter before the discovery window: rules are judged in sample, on "
            "the discovery quarters"
        )
    # the report shares one audit between its plan and data-quality sections; the plan of the
    # latest quarter audits every deal, as `winloss audit` does (open deals and deals without
    # dates included), an earlier quarter's plan the deals dated up to its end
    audit = (
        cache("audit", lambda: plan_audit(store, review))
        if cache is not None
        else plan_audit(store, review)
    )
    notes.append(audit_scope_note(store, review))
    quarter_audit = DataAudit(deal_filter=DealFilter(quarter=str(review))).run(store)
    rejected: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    try:
        actions, window, rejected = qualification_actions(
            store, settings, review, discovery, backtest, notes, analysis, source=reads
        )
        if backtest:  # the window is not every quarter: what it leaves out is listed
            outside = findings_outside_window(
                store, review, discovery, window, settings.alpha, source=reads
            )
    except WinlossError as exc:  # e.g. no lost deals: the capture fixes still stand
        actions = []
        text = str(exc).replace(
            "widen the period (an earlier start or a later end)",
            "take more quarters into the discovery window (plan --window N)",
        )
        notes.append(f"no qualification rules: {text}")
    if outside:
        notes.append(
            f"{len(outside)} finding(s) significant over all closed deals up to {review} are "
            f"not significant in the discovery window ({', '.join(discovery)}): no rule is "
            "proposed from them (lists.findings_outside_window gives both sets of numbers)"
        )
    actions = capture_actions(audit) + actions + list(extra_actions or [])
    left_note = capture_left_note(audit, actions)
    if left_note:
        notes.append(left_note)
    lists = dict(lists or {})
    lists["rules_not_proposed"] = rejected
    lists["findings_outside_window"] = outside
    if settings.adjustments:
        from winloss.plan.adjustments import adjustment_actions

        more, more_lists, more_notes = adjustment_actions(reads, cache)
        actions += more
        lists.update(more_lists)
        notes += more_notes
    previous = register_queries.actions_before(store, str(review))
    remeasured = remeasure(reads, review, previous, quarter_audit)
    prior_keys = set(previous["action_key"]) if len(previous) else set()
    final: list[Action] = []
    for a in actions:
        status = "kept" if a.key in prior_keys else "proposed"
        measured = next((m for m in remeasured if m["key"] == a.key), {})
        final.append(
            Action(a.key, a.kind, a.title, a.detail, a.priority, a.evidence, status, measured)
        )
    plan = ActionPlan(
        str(review),
        tuple(discovery),
        tuple(backtest),
        tuple(final),
        {**lists, "remeasured": remeasured},
        tuple(notes),
    )
    if settings.record:
        record_plan(store, plan, now=now)
    return plan


def _is_latest(store: DuckDBStore, review: Quarter) -> bool:
    quarters = closed_quarters(store)
    return not quarters or str(review) >= quarters[-1]


def plan_audit(store: DuckDBStore, review: Quarter | None) -> AuditResult:
    """The audit the plan's capture actions come from (see :func:`audit_scope_note`)."""
    if review is None or _is_latest(store, review):
        return DataAudit().run(store)
    return DataAudit(deal_filter=DealFilter(until=review.end)).run(store)


def capture_left_note(audit: AuditResult | None, actions: list[Action]) -> str | None:
    """The audit issues the plan does not turn into actions, counted by severity."""
    if audit is None:
        return None
    taken = {a.key for a in actions if a.kind == "capture"}
    left = [i for i in audit.issues if f"capture:{i.key}" not in taken]
    if not left:
        return None
    counts = {s: sum(1 for i in left if i.severity == s) for s in ("high", "medium", "low")}
    said = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return (
        f"{len(left)} more data-quality issue(s) ({said} severity) are not plan actions: "
        "`winloss audit` lists every one"
    )


def audit_scope_note(store: DuckDBStore, review: Quarter | None) -> str:
    """Which deals the capture actions count."""
    if review is None or _is_latest(store, review):
        return (
            "capture actions count every deal in the store, open ones and ones without "
            "dates included (as `winloss audit`)"
        )
    return (
        f"capture actions count the deals closed (or, when open, created) up to "
        f"{review.end}; deals without any date are not counted"
    )


def _undated_plan(
    store: DuckDBStore,
    settings: PlanSettings,
    *,
    extra_actions: list[Action] | None,
    lists: dict[str, list[dict[str, Any]]] | None,
    analysis: ConcentrationResult | None,
    cache: Cache | None,
    source: DealSource,
) -> ActionPlan:
    """The plan of a store without close dates: capture fixes, rules judged in sample, the
    adjustments; no backtest, no quarterly register (both need quarters)."""
    closed = source.closed_deals()
    if closed.empty:
        raise InsufficientDataError("no closed deals: the plan needs won and lost deals")
    notes = [
        "the deals have no close dates: rules are judged in sample on every closed deal "
        "(a backtest needs earlier quarters), and the plan is not recorded in the quarterly "
        "register (it is kept per quarter)"
    ]
    audit = (
        cache("audit", lambda: plan_audit(store, None))
        if cache is not None
        else plan_audit(store, None)
    )
    notes.append(audit_scope_note(store, None))
    rejected: list[dict[str, Any]] = []
    try:
        actions, _, rejected = qualification_actions(
            store, settings, None, [], [], notes, analysis, source=source
        )
    except WinlossError as exc:
        actions = []
        notes.append(f"no qualification rules: {exc}")
    actions = capture_actions(audit) + actions + list(extra_actions or [])
    left_note = capture_left_note(audit, actions)
    if left_note:
        notes.append(left_note)
    all_lists = dict(lists or {})
    all_lists["rules_not_proposed"] = rejected
    if settings.adjustments:
        from winloss.plan.adjustments import adjustment_actions

        more, more_lists, more_notes = adjustment_actions(source, cache)
        actions += more
        all_lists.update(more_lists)
        notes += more_notes
    return ActionPlan("all", (), (), tuple(actions), {**all_lists, "remeasured": []}, tuple(notes))


def record_plan(store: DuckDBStore, plan: ActionPlan, *, now: dt.datetime | None = None) -> None:
    """Write the plan's actions to the register (idempotent per period and key), recorded at
    ``now`` (default: the current local time)."""
    now = (now if now is not None else dt.datetime.now()).replace(microsecond=0)
    rows = [
        [
            plan.period,
            a.key,
            a.kind,
            a.title,
            a.status,
            dumps(
                {
                    "conditions": a.evidence.get("conditions", []),
                    "action": a.evidence.get("action"),
                    "share": a.evidence.get("share"),
                },
                indent=None,
            ),
            dumps(a.measured, indent=None),
            now,
        ]
        for a in plan.actions
    ]
    register_queries.replace_actions(store, plan.period, rows)
