"""The data-integrity audit: what in the data keeps the analysis from being right, ranked by fix.

>>> from winloss import DuckDBStore
>>> result = DuckDBStore("winloss.duckdb").audit(quarter="2026Q3")   # doctest: +SKIP
>>> result.summary.head()                                         # doctest: +SKIP

Checks (each a few SQL queries on the store; details in docs/audit.md):

- completeness of every SPICED field and the key fields on closed deals, overall, per owner and per
  quarter, and owners who leave SPICED fields blank;
- capture freshness: days from the close to the first capture, per owner;
- deals created already closed, or closed before they were created;
- stage skips and regressions against the stage order inferred from the data; close dates pushed
  again and again;
- back-dated records: stage entries and activities before the deal was created, captures before
  it closed;
- duplicates; vocabulary drift and typos; values missing from the joined reference files;
- suspicious values: lost deals with amount 0, amounts at or below 0, deals without an account.

**The ranked fix list.** Every issue gets ``score = deals × weight``, with ``weight`` the
importance of what it damages (:data:`IMPORTANCE_WEIGHTS`: SPICED and outcome-critical 3, key
fields and the capture process 2, stage path and custom fields 1), doubled
(:data:`BLOCKING_FACTOR`) when the issue blocks an analysis outright — a SPICED or key field below
60 % completeness, a field never filled, amounts zeroed on most lost deals. Issues are ranked by
score (ties by key). Severity: ``high`` when blocking, or share ≥ 25 %, or weight ≥ 3 with
share ≥ 10 %; ``medium`` when share ≥ 5 %, or weight ≥ 3 with share ≥ 1 %; ``low`` otherwise.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd

from winloss.analyze.audit import DETAIL_TABLES
from winloss.analyze.audit.checks import (
    KEY_FIELDS,
    OUTCOME_CRITICAL_FIELDS,
    SPICED_FIELDS,
    AuditIssue,
    CheckOutput,
    DealColumn,
    Scope,
    capture_freshness,
    completeness,
    field_importance,
)
from winloss.analyze.audit.deal_record_checks import (
    back_dated,
    deal_dates,
    duplicates,
    orphan_records,
    suspicious_values,
)
from winloss.analyze.audit.stage_history_checks import stage_checks
from winloss.analyze.audit.vocabulary_drift import CategoricalColumn, vocabulary_check
from winloss.analyze.base import AnalysisInputs, AnalysisResult, period_of
from winloss.model.schema import DEALS
from winloss.serialize import plain
from winloss.store import audit_queries as aq

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter
    from winloss.store.duckdb_store import DuckDBStore

__all__ = [
    "AuditIssue",
    "AuditResult",
    "DataAudit",
    "IMPORTANCE_WEIGHTS",
    "BLOCKING_FACTOR",
    "RANK_RULE",
    "rank_issues",
]

#: Weight of an issue by the importance of what it damages (see the module docstring).
IMPORTANCE_WEIGHTS: dict[str, float] = {
    "spiced": 3.0,  # a SPICED field: what the win/loss findings are made of
    "outcome": 3.0,  # outcome-critical: dates, amount, duplicated deals
    "key": 2.0,  # owner, account, stage, segment, region, industry, product, reasons
    "process": 2.0,  # the capture process: freshness, created already closed, pushes, back-dating
    "path": 1.0,  # the stage path: skips and regressions
    "custom": 1.0,  # custom columns of the export
}
#: Factor on the weight of an issue that blocks an analysis outright.
BLOCKING_FACTOR = 2.0
#: The order of the fix list in words, beside it wherever it is shown: the rank follows the score,
#: not the severity, so a lower severity can rank above a higher one (a trial read it as a bug).
RANK_RULE = (
    "Ranked by score = deals × weight (the importance of what the issue damages, doubled when "
    "it blocks an analysis); severity says how widespread an issue is (its share), so a "
    "lower severity can rank higher."
)


_NAME_COLUMN = re.compile(r"^(deal|opportunity|opp)_?(name|title)$")


def severity(issue: AuditIssue, weight: float) -> str:
    """``high``, ``medium`` or ``low`` by the explicit rules of the module docstring."""
    share = issue.share
    if issue.blocking or share >= 0.25 or (weight >= 3 and share >= 0.10):
        return "high"
    if share >= 0.05 or (weight >= 3 and share >= 0.01):
        return "medium"
    return "low"


def rank_issues(issues: list[AuditIssue]) -> tuple[AuditIssue, ...]:
    """Weights, scores, severities and ranks: ``score = deals × weight (× 2 when blocking)``."""
    scored = []
    for issue in issues:
        weight = IMPORTANCE_WEIGHTS[issue.importance] * (BLOCKING_FACTOR if issue.blocking else 1)
        scored.append(
            dataclasses.replace(
                issue, weight=weight, score=issue.deals * weight, severity=severity(issue, weight)
            )
        )
    scored.sort(key=lambda i: (-i.score, i.key))
    return tuple(dataclasses.replace(i, rank=r) for r, i in enumerate(scored, start=1))


@dataclass(frozen=True, eq=False)
class AuditResult(AnalysisResult):
    """What the audit found: the ranked fix list, the detail tables and the inputs.

    Attributes
    ----------
    issues
        The fix list, ranked (``rank`` 1 first).
    inputs
        Deals audited (``n``), the period and filter, the version; in ``details`` the closed
        deals, their dates, the settings and the weights.
    notes
        Checks that could not run, and why.
    completeness, completeness_by_owner, …
        The detail tables (see :data:`DETAIL_TABLES` and docs/audit.md); empty when a check had
        nothing to look at.
    """

    issues: tuple[AuditIssue, ...]
    inputs: AnalysisInputs
    notes: tuple[str, ...]
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in DETAIL_TABLES:
            return self.tables.get(name, pd.DataFrame())
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    @property
    def summary(self) -> pd.DataFrame:
        """The ranked fix list, one row per issue."""
        columns = [
            "rank",
            "severity",
            "issue",
            "deals",
            "of",
            "share",
            "score",
            "action",
            "unblocks",
            "check",
            "field",
            "weight",
            "blocking",
            "key",
        ]
        rows = [
            {
                "rank": i.rank,
                "severity": i.severity,
                "issue": i.title,
                "deals": i.deals,
                "of": i.of,
                "share": i.share,
                "score": i.score,
                "action": i.action,
                "unblocks": "; ".join(i.unblocks),
                "check": i.check,
                "field": i.field,
                "weight": i.weight,
                "blocking": i.blocking,
                "key": i.key,
            }
            for i in self.issues
        ]
        return pd.DataFrame(rows, columns=columns)

    def issue(self, key: str) -> AuditIssue:
        """The issue with this key (e.g. ``"vocabulary:industry"``)."""
        for i in self.issues:
            if i.key == key:
                return i
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """Inputs, notes, the ranked issues and every detail table as records."""
        data: dict[str, Any] = plain(
            {
                "kind": "audit",
                "inputs": self.inputs.to_dict(),
                "notes": list(self.notes),
                "issues": [i.to_dict() for i in self.issues],
                "tables": {name: self.tables.get(name, pd.DataFrame()) for name in DETAIL_TABLES},
            }
        )
        return data


class AuditOptions(TypedDict, total=False):
    """Keyword settings of :class:`DataAudit` besides the filter."""

    fresh_days: int
    min_close_date_pushes: int
    blocking_completeness: float
    usual_stage_share: float
    min_owner_deals: int
    max_detail_rows: int


@dataclass(frozen=True)
class DataAudit:
    """Settings of the data-integrity audit; :meth:`run` audits a workspace.

    Parameters
    ----------
    deal_filter
        Which deals to audit (quarter, since, until); all deals by default.
    fresh_days
        A capture within this many days of the close is fresh.
    min_close_date_pushes
        A deal whose close date moved later this many times or more is reported.
    blocking_completeness
        A SPICED or key field below this completeness blocks its analysis.
    usual_stage_share
        A stage is part of the usual path when this share of the deals that get further pass it.
    min_owner_deals
        Owners with fewer closed (or captured) deals are not compared with the team.
    max_detail_rows
        At most this many rows in the per-deal detail tables (counts are always complete).
    """

    deal_filter: DealFilter | None = None
    fresh_days: int = 7
    min_close_date_pushes: int = 2
    blocking_completeness: float = 0.6
    usual_stage_share: float = 0.5
    min_owner_deals: int = 10
    max_detail_rows: int = 10_000

    def run(self, store: DuckDBStore) -> AuditResult:
        """Audit the deals of ``store`` in scope; returns the ranked fix list and detail tables."""
        from winloss import __version__

        with aq.progress_bar_off(store):
            return self._run(store, __version__)

    def _run(self, store: DuckDBStore, version: str) -> AuditResult:
        scope = self.scope(store)
        deal_cols, categorical, name_cols = self._columns(store)
        outputs: list[CheckOutput] = [
            completeness(
                store,
                scope,
                deal_cols,
                blocking_below=self.blocking_completeness,
                min_owner_deals=self.min_owner_deals,
            ),
            capture_freshness(
                store, scope, fresh_days=self.fresh_days, min_owner_deals=self.min_owner_deals
            ),
            deal_dates(store, scope, max_rows=self.max_detail_rows),
            stage_checks(
                store,
                scope,
                usual_share=self.usual_stage_share,
                min_pushes=self.min_close_date_pushes,
                max_rows=self.max_detail_rows,
            ),
            back_dated(store, scope),
            orphan_records(store, scope),
            duplicates(store, scope, name_cols, max_rows=self.max_detail_rows),
            vocabulary_check(store, scope, categorical),
            suspicious_values(store, scope),
        ]
        tables: dict[str, pd.DataFrame] = {}
        issues: list[AuditIssue] = []
        notes: list[str] = []
        for o in outputs:
            tables.update(o.tables)
            issues += o.issues
            notes += o.notes
        facts = aq.scope_facts(store, scope)
        settings = {k: v for k, v in dataclasses.asdict(self).items() if k != "deal_filter"}
        flt = self.deal_filter
        inputs = AnalysisInputs.of(
            int(facts["deals"]),
            period=period_of(flt),
            flt=flt,
            deals=int(facts["deals"]),
            closed_deals=int(facts["closed"]),
            created=[_date(facts["created_from"]), _date(facts["created_to"])],
            closed=[_date(facts["closed_from"]), _date(facts["closed_to"])],
            filter=flt.describe() if flt is not None else {},
            settings=settings,
            weights=dict(IMPORTANCE_WEIGHTS),
            blocking_factor=BLOCKING_FACTOR,
        )
        return AuditResult(
            issues=rank_issues(issues), inputs=inputs, notes=tuple(notes), tables=tables
        )

    def scope(self, store: DuckDBStore) -> Scope:
        """The SQL condition selecting the deals in scope (as ``DuckDBStore.deals`` filters)."""
        flt = self.deal_filter
        if flt is None:
            return Scope()
        where, params = store.filter_sql(flt)
        return Scope(where, tuple(params))

    @staticmethod
    def _columns(store: DuckDBStore) -> tuple[list[DealColumn], list[CategoricalColumn], list[str]]:
        present = aq.deal_table_columns(store)
        wanted = [*SPICED_FIELDS, *OUTCOME_CRITICAL_FIELDS, *KEY_FIELDS]
        deal_cols = [
            DealColumn(n, DEALS.field(n).dtype, field_importance(n)) for n in wanted if n in present
        ]
        categorical = [
            CategoricalColumn(
                f.name, field_importance(f.name), f.vocabulary, known_terms=f.name != "owner"
            )
            for f in DEALS.fields
            if f.dtype == "category" and f.name != "outcome" and f.name in present
        ]
        name_cols: list[str] = []
        for cf in store.custom_fields("deals"):
            if cf.name not in present:
                continue
            deal_cols.append(DealColumn(cf.name, cf.dtype, "custom"))
            if cf.dtype == "category":
                categorical.append(CategoricalColumn(cf.name, "custom"))
            if cf.dtype in ("string", "category") and _NAME_COLUMN.match(cf.name):
                name_cols.append(cf.name)
        categorical.append(CategoricalColumn("stage_history.stage", "key"))
        categorical.append(CategoricalColumn("activities.type", "custom"))
        return deal_cols, categorical, name_cols


def _date(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return str(pd.Timestamp(value).date().isoformat())
