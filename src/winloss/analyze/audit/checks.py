"""The checks of the data-integrity audit, each a few SQL queries on the store: the shared base
(scope, issue, check output), completeness and capture freshness.

Every check takes the :class:`Scope` (the deals the audit looks at) and returns a
:class:`CheckOutput`: detail tables and issue drafts. Ranking (weights, scores, severity) is done
once for all issues in :mod:`winloss.analyze.audit.analysis`. Heavy counting stays in DuckDB, so a check
runs in seconds on a million deals; pandas only sees per-field, per-owner or per-stage summaries
and capped lists of example deals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from winloss.model.schema import DEALS, SPICED_GROUPS
from winloss.store import audit_queries as aq

# shared with the other checks
from winloss.store.audit_queries import CLOSED as CLOSED
from winloss.store.audit_queries import NO_OWNER as NO_OWNER
from winloss.store.audit_queries import NO_QUARTER as NO_QUARTER
from winloss.store.audit_queries import Scope as Scope
from winloss.store.audit_queries import q as q

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore


GROUP_LABELS = {
    "situation": "Situation",
    "pain": "Pain",
    "impact": "Impact",
    "critical_event": "Critical event",
    "decision": "Decision",
}
SPICED_FIELDS: dict[str, str] = {f: g for g, fields in SPICED_GROUPS.items() for f in fields}

#: Fields every outcome analysis depends on.
OUTCOME_CRITICAL_FIELDS = ("created_at", "closed_at", "amount")
#: Other key deal fields; outcome-specific ones are measured on that outcome's deals only.
KEY_FIELDS = (
    "owner",
    "account_id",
    "account_name",
    "stage",
    "segment",
    "region",
    "industry",
    "product",
    "currency",
    "competitor",
    "loss_reason",
    "win_reason",
)
APPLIES_TO = {"loss_reason": "lost", "win_reason": "won"}
#: Completeness of these is reported, but their fix-list issue comes from another check.
NO_COMPLETENESS_ISSUE = frozenset({"account_id", "account_name"})

_UNBLOCKS_BY_FIELD = {
    "created_at": "cycle time, days to critical event, champion tenure and time-based backtests",
    "closed_at": "quarters, cycle time, quarter-over-quarter trends and backtests",
    "amount": "revenue-weighted findings, the forecast and deal-size comparisons",
    "owner": "per-rep coaching and capture freshness per rep",
    "stage": "stage conversion rates and Bowtie metrics",
    "loss_reason": "comparing stated loss reasons with the discovered ones",
    "win_reason": "comparing stated win reasons with the discovered ones",
}


@dataclass(frozen=True)
class AuditIssue:
    """One entry of the fix list: what is wrong, how many deals it touches and what to do.

    ``weight``, ``score``, ``severity`` and ``rank`` are set by the ranking in
    :mod:`winloss.analyze.audit.analysis`; a check leaves them empty.
    """

    key: str
    check: str
    title: str
    deals: int
    of: int
    universe: str
    importance: str  # spiced, outcome, key, process, path or custom
    action: str
    unblocks: tuple[str, ...] = ()
    blocking: bool = False
    field: str | None = None
    examples: tuple[str, ...] = ()
    weight: float = 0.0
    score: float = 0.0
    severity: str = ""
    rank: int = 0

    @property
    def share(self) -> float:
        return self.deals / self.of if self.of else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["share"] = self.share
        out["unblocks"] = list(self.unblocks)
        out["examples"] = list(self.examples)
        return out


@dataclass
class CheckOutput:
    """What one check found: detail tables by name, issue drafts and notes."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[AuditIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DealColumn:
    """A deal column as the audit sees it."""

    name: str
    dtype: str
    importance: str  # spiced, outcome, key or custom

    @property
    def textual(self) -> bool:
        return self.dtype in ("string", "category")


def field_importance(name: str) -> str:
    if name in SPICED_FIELDS:
        return "spiced"
    if name in OUTCOME_CRITICAL_FIELDS:
        return "outcome"
    if name in KEY_FIELDS:
        return "key"
    return "custom"


def field_unblocks(name: str) -> str:
    """The analyses a field feeds, in a few words."""
    if name in SPICED_FIELDS:
        group = GROUP_LABELS[SPICED_FIELDS[name]]
        return f"concentrations, score factors and qualification rules on {name} ({group})"
    return _UNBLOCKS_BY_FIELD.get(name, f"concentrations and per-segment models on {name}")


def example_ids(frame: pd.DataFrame, column: str = "deal_id", k: int = 5) -> tuple[str, ...]:
    return tuple(str(v) for v in frame[column].head(k))


def fmt_count(n: int) -> str:
    return f"{n:,}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` agreeing with it: "1 deal", "2 deals", "1,204 closed deals"."""
    return f"{fmt_count(n)} {noun if n == 1 else (plural or noun + 's')}"


def agree(n: int, singular: str, plural: str) -> str:
    """The word agreeing with a count ``n``: ``agree(1, "has", "have")`` is "has"."""
    return singular if n == 1 else plural


def share_text(x: float) -> str:
    """A share as the console and the report print it: 0.4 % below 1 %, whole percents above."""
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"


def days_text(x: float) -> str:
    """A median of whole days as the audit, the console and the web app print it: a half keeps
    its decimal (4.5), a whole number has none (6). Never rounded to a whole day: ``'%.0f'``
    rounds halves to even, so the coverage page showed 4 for the audit's 4.5."""
    return f"{float(x):.1f}".removesuffix(".0")


# -- completeness ---------------------------------------------------------------------------------
def _filled_expr(col: DealColumn) -> str:
    return aq.filled_count(col.name, textual=col.textual, applies_to=APPLIES_TO.get(col.name))


def completeness(
    store: DuckDBStore,
    scope: Scope,
    columns: list[DealColumn],
    *,
    blocking_below: float,
    min_owner_deals: int,
) -> CheckOutput:
    """Completeness of every SPICED and key field on closed deals, overall, per owner, per quarter.

    Outcome-specific fields (loss_reason, win_reason) are measured on that outcome's deals.
    """
    out = CheckOutput()
    if not columns:
        return out
    # one scan: the whole team, per owner and per quarter as grouping sets
    grouped = aq.completeness_counts(store, scope, [_filled_expr(c) for c in columns])
    everyone = (grouped["by_all_owners"] == 1) & (grouped["by_all_quarters"] == 1)
    frames = {
        "overall": grouped[everyone],
        "owner": grouped[(grouped["by_all_owners"] == 0)],
        "quarter": grouped[(grouped["by_all_quarters"] == 0)],
    }

    def long(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
        rows = []
        for rec in frame.to_dict(orient="records"):
            for i, c in enumerate(columns):
                applies = APPLIES_TO.get(c.name, "closed")
                n = int(rec[applies])
                filled_n = int(rec[f"c{i}"])
                row: dict[str, Any] = {} if by is None else {by: rec[by]}
                row.update(
                    {
                        "field": c.name,
                        "group": GROUP_LABELS.get(SPICED_FIELDS.get(c.name, ""), c.importance),
                        "importance": c.importance,
                        "applies_to": f"{applies} deals",
                        "deals": n,
                        "filled": filled_n,
                        "blank": n - filled_n,
                        "completeness": filled_n / n if n else float("nan"),
                    }
                )
                rows.append(row)
        return pd.DataFrame(rows)

    overall = long(frames["overall"], None)
    by_owner = long(frames["owner"], "owner")
    by_quarter = long(frames["quarter"], "quarter")
    overall["blocking"] = (overall["completeness"] < blocking_below) & overall["importance"].isin(
        ["spiced", "outcome", "key"]
    )
    out.tables.update(
        completeness=overall, completeness_by_owner=by_owner, completeness_by_quarter=by_quarter
    )
    closed_n = int(frames["overall"]["closed"].iloc[0]) if len(frames["overall"]) else 0
    if closed_n == 0:
        out.notes.append("completeness: no closed deals in scope")
        return out
    out.issues += _completeness_issues(store, scope, overall, blocking_below)
    out.issues += _owner_issues(overall, by_owner, min_owner_deals)
    return out


def _completeness_issues(
    store: DuckDBStore, scope: Scope, overall: pd.DataFrame, blocking_below: float
) -> list[AuditIssue]:
    issues: list[AuditIssue] = []
    rated = overall[
        (overall["deals"] > 0)
        & ~overall["field"].isin(NO_COMPLETENESS_ISSUE)
        & (overall["importance"] != "custom")
    ]
    empty = rated[rated["filled"] == 0]
    for importance, label in (
        ("spiced", "SPICED"),
        ("outcome", "outcome-critical"),
        ("key", "key"),
    ):
        group = empty[empty["importance"] == importance]
        if group.empty:
            continue
        names = group["field"].tolist()
        n = int(group["deals"].max())
        title = (
            f"{label} field{'s' if len(names) > 1 else ''} never filled on "
            f"{counted(n, 'closed deal')}: {', '.join(names)}"
        )
        if importance == "spiced":
            action = (
                "Start a SPICED capture for every closed deal, won and lost (the capture "
                "form or `winloss import captures`), with these fields required."
            )
            listed = (
                aq.closed_with_stakeholders(store, scope)
                if {"stakeholders", "decision_maker_engaged"} & set(names)
                else 0
            )
            if listed:
                # the committee reads the stakeholder list; these deal fields stay blank: say
                # which figure is which (a report showed 0 % engaged beside n = 61 engaged)
                action += (
                    f" {fmt_count(listed)} of these deals {agree(listed, 'has', 'have')} a "
                    "stakeholder list: `winloss "
                    "committee` reads their decision makers from it, but the deal fields "
                    "stakeholders and decision_maker_engaged stay blank until captured."
                )
        else:
            action = (
                f"Map {', '.join(names)} from the CRM export (--column or a mapping file), "
                "or make them required in the CRM."
            )
        issues.append(
            AuditIssue(
                key=f"completeness:never:{importance}",
                check="completeness",
                title=title,
                deals=n,
                of=n,
                universe="closed deals",
                importance=importance,
                action=action,
                unblocks=tuple(field_unblocks(f) for f in names),
                blocking=True,
                field=",".join(names),
            )
        )
    partial = rated[(rated["filled"] > 0) & (rated["blank"] > 0)]
    spiced = partial[partial["importance"] == "spiced"]
    for group, fields in spiced.groupby("group", sort=False):
        issues.append(_group_issue(store, scope, str(group), fields, blocking_below))
    for rec in partial[partial["importance"] != "spiced"].to_dict(orient="records"):
        name = str(rec["field"])
        blocking = bool(rec["completeness"] < blocking_below)
        state = (
            f"below {blocking_below:.0%} complete: what is found on it describes only the "
            "deals where it is filled"
            if blocking
            else "weakens its analysis"
        )
        issues.append(
            AuditIssue(
                key=f"completeness:{name}",
                check="completeness",
                title=(
                    f"{name} blank on {fmt_count(int(rec['blank']))} of "
                    f"{counted(int(rec['deals']), str(rec['applies_to']).removesuffix('s'))} "
                    f"({share_text(float(rec['completeness']))} complete; {state})"
                ),
                deals=int(rec["blank"]),
                of=int(rec["deals"]),
                universe=str(rec["applies_to"]),
                importance=str(rec["importance"]),
                action=(
                    f"Make {name} required at close, with an explicit 'unknown'/'none' choice so a "
                    "blank is never silent."
                ),
                unblocks=(field_unblocks(name),),
                blocking=blocking,
                field=name,
            )
        )
    return issues


def _group_issue(
    store: DuckDBStore, scope: Scope, group: str, fields: pd.DataFrame, blocking_below: float
) -> AuditIssue:
    """One issue for the partly blank fields of a SPICED group: deals with any of them blank."""
    names = fields["field"].tolist()
    per_owner = aq.blank_by_owner(
        store, scope, [(n, DEALS.field(n).dtype in ("string", "category")) for n in names]
    )
    counts = per_owner[["closed", "blank"]].sum()
    culprits = _concentrated_in(per_owner)
    blocked = fields[fields["completeness"] < blocking_below]["field"].tolist()
    state = (
        f"{', '.join(blocked)} below {blocking_below:.0%} complete: what is found on "
        f"{'them' if len(blocked) > 1 else 'it'} describes only the deals where "
        f"{'they are' if len(blocked) > 1 else 'it is'} filled"
        if blocked
        else "weakens their analysis"
    )
    shown = ", ".join(
        f"{r['field']} {share_text(float(r['completeness']))}"
        for r in fields.sort_values(["completeness", "field"]).to_dict("records")
    )
    return AuditIssue(
        key=f"completeness:{group.lower().replace(' ', '_')}",
        check="completeness",
        title=(
            f"{group} fields blank on {fmt_count(int(counts['blank']))} of "
            f"{counted(int(counts['closed']), 'closed deal')} (complete: {shown}; {state})"
            + (
                f"; {share_text(culprits[1])} of them from {' and '.join(culprits[0])}"
                if culprits
                else ""
            )
        ),
        deals=int(counts["blank"]),
        of=int(counts["closed"]),
        universe="closed deals",
        importance="spiced",
        action=(
            f"Make {' and '.join(names) if len(names) < 3 else ', '.join(names)} required "
            "in the close capture, with an explicit 'unknown'/'none' choice so a blank is "
            "never silent" + (f"; start with {' and '.join(culprits[0])}." if culprits else ".")
        ),
        unblocks=tuple(field_unblocks(n) for n in names),
        blocking=bool(blocked),
        field=",".join(names),
    )


def _concentrated_in(per_owner: pd.DataFrame) -> tuple[list[str], float] | None:
    """The (at most three) owners who leave at least half of the blanks while closing at most
    half as large a share of the deals, with their share of the blanks."""
    total_blank, total_closed = per_owner["blank"].sum(), per_owner["closed"].sum()
    if total_blank == 0 or len(per_owner) < 3:
        return None
    top = per_owner.head(3)
    over = top[top["blank"] / total_blank >= 2 * top["closed"] / total_closed]
    share = over["blank"].sum() / total_blank
    if over.empty or share < 0.5:
        return None
    return over["owner"].tolist(), float(share)


def _owner_issues(
    overall: pd.DataFrame, by_owner: pd.DataFrame, min_owner_deals: int
) -> list[AuditIssue]:
    """Owners whose SPICED completeness is far below the rest of the team's.

    Only SPICED fields that somebody fills are counted. An owner is flagged with at least
    ``min_owner_deals`` closed deals, a completeness at most 80 % of the rest of the team's and at
    least 10 points below it.
    """
    used = overall[(overall["importance"] == "spiced") & (overall["filled"] > 0)]["field"]
    cells = by_owner[by_owner["field"].isin(set(used))]
    if cells.empty:
        return []
    per_owner = cells.groupby("owner", sort=True).agg(
        deals=("deals", "max"), filled=("filled", "sum"), cells=("deals", "sum")
    )
    total_filled, total_cells = per_owner["filled"].sum(), per_owner["cells"].sum()
    issues = []
    for owner, rec in per_owner.iterrows():
        if owner == NO_OWNER or rec["deals"] < min_owner_deals or rec["cells"] == 0:
            continue
        rest_cells = total_cells - rec["cells"]
        if rest_cells == 0:
            continue
        own = rec["filled"] / rec["cells"]
        rest = (total_filled - rec["filled"]) / rest_cells
        if own <= 0.8 * rest and rest - own >= 0.10:
            blanks = cells[(cells["owner"] == owner)]
            worst = blanks.sort_values(["completeness", "field"]).head(3)["field"].tolist()
            issues.append(
                AuditIssue(
                    key=f"owner-completeness:{owner}",
                    check="completeness by owner",
                    title=(
                        f"{owner} leaves SPICED fields blank: {share_text(own)} complete vs {share_text(rest)} "
                        f"for the rest of the team (most often {', '.join(worst)})"
                    ),
                    deals=int(rec["deals"]),
                    of=int(per_owner["deals"].sum()),
                    universe="closed deals",
                    importance="spiced",
                    action=(
                        f"Coach {owner} on the close capture and review their open captures "
                        "weekly until their completeness matches the team's."
                    ),
                    unblocks=(
                        "SPICED findings that are not biased towards the reps who fill the form",
                    ),
                    field="owner",
                    examples=(str(owner),),
                )
            )
    return issues


# -- capture freshness ----------------------------------------------------------------------------
FRESHNESS_BINS = (
    (0, 1, "0–1 days"),
    (2, 7, "2–7 days"),
    (8, 14, "8–14 days"),
    (15, 30, "15–30 days"),
    (31, 60, "31–60 days"),
    (61, 90, "61–90 days"),
    (91, None, "over 90 days"),
)


def capture_freshness(
    store: DuckDBStore, scope: Scope, *, fresh_days: int, min_owner_deals: int
) -> CheckOutput:
    """Days from close to the first capture (deals.captured_at or the captures table)."""
    out = CheckOutput()
    per_owner = aq.freshness_by_owner(store, scope, fresh_days)
    per_owner["owner"] = per_owner["owner"].fillna("(all)")
    per_owner[f"share_within_{fresh_days}_days"] = per_owner["within_window"] / (
        per_owner["captured"] - per_owner["before_close"]
    )
    team = per_owner[per_owner["owner"] == "(all)"]
    if team.empty or int(team["closed"].iloc[0]) == 0:
        out.notes.append("capture freshness: no closed deals with a close date in scope")
        return out
    t = team.iloc[0]
    dist = aq.freshness_distribution(store, scope, [(lo, hi) for lo, hi, _ in FRESHNESS_BINS])
    labels = ["before close"] + [b[2] for b in FRESHNESS_BINS] + ["not captured"]
    values = (
        [dist["before"]] + [dist[f"b{i}"] for i in range(len(FRESHNESS_BINS))] + [dist["never"]]
    )
    out.tables["freshness_distribution"] = pd.DataFrame(
        {"days_to_capture": labels, "deals": [int(v) for v in values]}
    )
    out.tables["capture_freshness"] = per_owner.drop(columns=["within_window"])
    closed, captured = int(t["closed"]), int(t["captured"])
    if captured == 0:
        out.issues.append(
            AuditIssue(
                key="freshness:none",
                check="capture freshness",
                title=(
                    f"No capture date on any of the {counted(closed, 'closed deal')} with a "
                    "close date: freshness unknown"
                ),
                deals=closed,
                of=closed,
                universe="closed deals with a close date",
                importance="process",
                action=(
                    f"Record when each win/loss capture is made (captured_at) and make it within "
                    f"{fresh_days} days of the close, while details are fresh."
                ),
                unblocks=("the capture-freshness check and trust in SPICED answers",),
            )
        )
        return out
    never = closed - captured
    if never:
        out.issues.append(
            AuditIssue(
                key="freshness:never",
                check="capture freshness",
                title=(
                    f"{fmt_count(never)} of the {counted(closed, 'closed deal')} with a close "
                    f"date {agree(never, 'has', 'have')} no win/loss capture"
                ),
                deals=never,
                of=closed,
                universe="closed deals",
                importance="process",
                action=(
                    "Capture every closed deal, won and lost alike, within "
                    f"{fresh_days} days of the close (a two-minute form right after the answer)."
                ),
                unblocks=("SPICED findings on all deals, not only on the captured ones",),
            )
        )
    late = int(t["late"])
    if late:
        out.issues.append(
            AuditIssue(
                key="freshness:late",
                check="capture freshness",
                title=(
                    f"{fmt_count(late)} of {counted(captured, 'captured deal')} "
                    f"{agree(late, 'was', 'were')} first captured more than {fresh_days} days "
                    f"after the close (median {days_text(t['median_days'])} days)"
                ),
                deals=late,
                of=captured,
                universe="captured deals",
                importance="process",
                action=(
                    f"Schedule the capture within {fresh_days} days of every close (a CRM task "
                    "created when the stage turns Closed)."
                ),
                unblocks=("reliable SPICED answers (details blur within weeks)",),
            )
        )
    owners = per_owner[(per_owner["owner"] != "(all)") & (per_owner["captured"] >= min_owner_deals)]
    for rec in owners.to_dict(orient="records"):
        own_median = float(rec["median_days"])
        if pd.isna(own_median) or own_median <= fresh_days:
            continue  # fresh enough: no need to compare with the rest of the team
        rest_median = _rest_median(store, scope, str(rec["owner"]))
        if rest_median is None:
            continue
        if own_median > fresh_days and own_median > 2 * rest_median:
            share = rec[f"share_within_{fresh_days}_days"]
            out.issues.append(
                AuditIssue(
                    key=f"freshness:owner:{rec['owner']}",
                    check="capture freshness",
                    title=(
                        f"{rec['owner']} captures late: median {days_text(own_median)} days "
                        f"after the close vs {days_text(rest_median)} for the rest of the team; "
                        f"{share_text(share)} within {fresh_days} days"
                    ),
                    # the share of the team's captured deals, as the team's late captures and
                    # every other row of the fix list count (the owner's own share is in the title)
                    deals=int(rec["late"]),
                    of=captured,
                    universe="captured deals",
                    importance="process",
                    action=(
                        f"Ask {rec['owner']} to capture within {fresh_days} days of each close; "
                        "review their overdue captures weekly."
                    ),
                    unblocks=(f"trustworthy SPICED answers on {rec['owner']}'s deals",),
                    field="owner",
                    examples=(str(rec["owner"]),),
                )
            )
    return out


def _rest_median(store: DuckDBStore, scope: Scope, owner: str) -> float | None:
    value = aq.rest_median_days(store, scope, owner)
    return None if pd.isna(value) else float(value)
