"""The :class:`Workspace` facade: one object that owns the store and runs every operation.

The CLI, the web app and the tests all build a ``Workspace``; each CLI command is one call on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping as ReadOnlyMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import pandas as pd

from winloss.errors import InputError, UsageError
from winloss.ingest.orphans import (
    EVENT_TIME,
    RELATED_TABLES,
    apply_orphan_policy,
    before_creation_note,
    orphan_mask,
)
from winloss.ingest.prepare import prepare
from winloss.ingest.readers import RawFrame, frame_as_raw, read_file
from winloss.model.deals import DealField, DealFilter
from winloss.model.mapping import Mapping, preset_mismatch, resolve_mapping
from winloss.model.period import Quarter
from winloss.model.prepared_import import (
    DuplicatePolicy,
    OrphanPolicy,
    PreparedImport,
    UnknownValuePolicy,
)
from winloss.model.schema import DEALS, Table, table_for
from winloss.store.duckdb_store import (
    ImportResult,
    default_db_path,
    file_sha256,
    frame_sha256,
)
from winloss.store.open import open_store

if TYPE_CHECKING:
    from winloss.analyze.audit.analysis import AuditOptions, AuditResult
    from winloss.analyze.bowtie.analysis import BowtieOptions, BowtieResult, ChurnTableOptions
    from winloss.analyze.bowtie.simulation import SimulateOptions, SimulationResult
    from winloss.analyze.captures.agreement import AgreementOptions, AgreementResult
    from winloss.analyze.captures.planner import InterviewPlanOptions, InterviewPlanResult
    from winloss.analyze.committee.analysis import CommitteeOptions
    from winloss.analyze.committee.result import CommitteeResult
    from winloss.analyze.concentrations.analysis import ConcentrationOptions
    from winloss.analyze.concentrations.result import ConcentrationResult
    from winloss.analyze.forecast.analysis import (
        BacktestOptions,
        BacktestResult,
        ForecastOptions,
        ForecastResult,
    )
    from winloss.analyze.paths.analysis import (
        ChainOptions,
        ChainResult,
        NextActionOptions,
        NextActionResult,
    )
    from winloss.analyze.paths.evaluation import PathEvaluationOptions, PathEvaluationResult
    from winloss.analyze.paths.eventlog import EventLogImport
    from winloss.analyze.paths.graph import GraphResult, PathGraphOptions
    from winloss.analyze.plg.analysis import PLGOptions
    from winloss.analyze.plg.result import PLGResult
    from winloss.analyze.qbr.analysis import QbrOptions, QbrResult
    from winloss.analyze.scoring.analysis import ScoreResult, ScoringOptions
    from winloss.analyze.scoring.evaluation import EvaluationOptions, EvaluationResult
    from winloss.analyze.scoring.leads import LeadScoringOptions
    from winloss.analyze.targeting.analysis import TargetingOptions, TargetingResult
    from winloss.ingest.prepare import PreparedImport
    from winloss.plan.action_plan import ActionPlan
    from winloss.report.document import QuarterlyReport
    from winloss.store.capture_queries import UserRecord
    from winloss.store.deal_reads import DealReads
    from winloss.store.spark_engine import SparkEngine


#: What ``--check`` says of a row naming a deal the store does not hold.
ORPHAN_PROBLEM = "no such deal in the store; import the deal first, or choose --on-orphan keep|skip"


class ImportOptions(TypedDict, total=False):
    """Keyword options of :meth:`Workspace.import_file` and :meth:`Workspace.check_file`.

    preset
        A CRM preset name (``salesforce``, ``hubspot``, ``ibm-win-loss``, ``maven-crm``, ``auto``);
        by default one is detected from the header.
    mapping
        A mapping file (YAML/JSON) or a :class:`~winloss.model.mapping.Mapping`.
    columns
        Role → source column overrides (``--column ROLE=SOURCE``).
    won_values, lost_values
        Outcome values meaning won / lost.
    no_dates
        The file has no dates at all.
    day_first, month_first
        Read dates day-first or month-first. Without either, the order comes from the file's
        unambiguous dates (3/15/2026); a file whose dates all read both ways is refused.
    on_duplicate
        ``error`` (default), ``keep-last`` or ``keep-first``.
    unknown_values
        Values outside a vocabulary: ``error`` (default), ``other`` or ``keep``.
    on_orphan
        Stakeholders, activities, stages or captures naming a deal not in the store: ``error``
        (default: refused, rows listed), ``keep`` or ``skip`` (count and rows reported).
    sheet
        Excel sheet name or index.
    generate_ids
        Number rows without an id and do not require dates (direct analysis of a file).
    """

    preset: str | None
    mapping: str | Path | Mapping | None
    columns: dict[str, str] | None
    won_values: tuple[str, ...]
    lost_values: tuple[str, ...]
    no_dates: bool | None
    day_first: bool | None
    month_first: bool | None
    on_duplicate: DuplicatePolicy
    unknown_values: UnknownValuePolicy
    on_orphan: OrphanPolicy
    sheet: str | int | None
    generate_ids: bool


@dataclass(frozen=True)
class ImportCheck:
    """What ``--check`` found: every problem, and what an import would store if there were none.

    ``rows`` and ``outcomes`` (won / lost / open counts for deals) are filled only when the file
    prepared cleanly.
    """

    problems: pd.DataFrame
    rows: int | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    #: what the import would say beside its counts (lookup files not found, dates missing, …)
    notes: tuple[str, ...] = ()
    #: invalid values found in all, when more than the listed ones (the first 1,000 are kept)
    invalid_total: int | None = None

    def summary(self, name: str) -> str:
        """One line for people: the verdict and what to do next."""
        if not self.problems.empty:
            kinds = self.problems["kind"].value_counts().to_dict()
            listed = int(kinds.get("invalid value", 0))
            if self.invalid_total and self.invalid_total > listed:
                kinds["invalid value"] = self.invalid_total
            total = sum(kinds.values())
            what = ", ".join(f"{n:,} {k}" for k, n in kinds.items())
            if self.invalid_total and self.invalid_total > listed:
                what += f"; the first {listed:,} invalid values are listed"
            return (
                f"{name}: {total:,} problem(s) ({what}); nothing was imported. "
                "Fix the rows listed (or choose a policy: --on-duplicate, --unknown-values, "
                "--on-orphan) and run --check again"
            )
        counts = (
            ": " + " / ".join(f"{n:,} {k}" for k, n in self.outcomes.items())
            if self.outcomes
            else ""
        )
        return f"{name}: no problems; it would import {self.rows or 0:,} row(s){counts}"


class StoreInfo(TypedDict):
    """What :meth:`Workspace.info` reports about a store."""

    store: str
    schema_version: int
    tables: dict[str, int]
    outcomes: dict[str, int]
    created: list[str | None]
    closed: list[str | None]
    quarters: list[str]
    fiscal_year_start_month: int
    custom_fields: list[dict[str, str]]
    recent_imports: list[dict[str, str]]


class Workspace:
    """A winloss workspace: the store plus every operation on it.

    Parameters
    ----------
    path
        The DuckDB file; ``None`` uses ``$WINLOSS_DB`` or ``./winloss.duckdb``; ``":memory:"`` keeps
        everything in memory (used by ``winloss analyze FILE``).
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = str(path) if path is not None else default_db_path()
        # a postgresql:// URL opens the shared PostgreSQL store (winloss.store.open)
        self.store = open_store(self.path, read_only=read_only)

    # -- construction -----------------------------------------------------------------------
    @staticmethod
    def default_path() -> str:
        """The store used without --db: ``$WINLOSS_DB`` or ``./winloss.duckdb``."""
        return default_db_path()

    @classmethod
    def from_file(
        cls,
        file: str | Path | pd.DataFrame,
        *,
        preset: str | None = None,
        mapping: str | Path | None = None,
        columns: dict[str, str] | None = None,
        won_values: tuple[str, ...] = (),
        lost_values: tuple[str, ...] = (),
        on_duplicate: DuplicatePolicy = "keep-last",
        unknown_values: UnknownValuePolicy = "keep",
        day_first: bool | None = None,
        month_first: bool | None = None,
    ) -> Workspace:
        """An in-memory workspace holding one file of deals, for direct analysis.

        A file without ids or dates is accepted: rows are numbered and the time-based parts of the
        analyses are skipped.
        """
        ws = cls(":memory:")
        ws.import_deals(
            file,
            preset=preset,
            mapping=mapping,
            columns=columns,
            won_values=won_values,
            lost_values=lost_values,
            on_duplicate=on_duplicate,
            unknown_values=unknown_values,
            day_first=day_first,
            month_first=month_first,
            generate_ids=True,
        )
        return ws

    def copy_to(self, dest: str | Path) -> None:
        """Write a consistent copy of the store file to ``dest`` (a DuckDB store only)."""
        self.store.copy_to(dest)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings ---------------------------------------------------------------------------
    @property
    def fiscal_year_start_month(self) -> int:
        return self.store.fiscal_year_start_month

    def set_fiscal_year_start(self, month: int) -> None:
        if not 1 <= month <= 12:
            raise UsageError("the fiscal year starts in a month 1..12")
        self.store.set_setting("fiscal_year_start_month", str(month))

    def quarter(self, text: str) -> Quarter:
        return self.store.quarter(text)

    # -- import -----------------------------------------------------------------------------
    def import_file(
        self, table: str | Table, file: str | Path | pd.DataFrame, **options: Unpack[ImportOptions]
    ) -> ImportResult:
        """Validate ``file`` and upsert it into ``table`` in one transaction.

        ``options`` are those of :class:`ImportOptions`. Re-importing the same file changes
        nothing (rows are upserted by their key). A file with any invalid value, or a duplicated
        key under the default policy, imports nothing.
        """
        prepared, m = self._prepare_file(table, file, **options)
        digest = (
            frame_sha256(prepared.frame) if isinstance(file, pd.DataFrame) else file_sha256(file)
        )
        return self.store.write(prepared, content_sha256=digest, preset=m.preset)

    def check(
        self, table: str | Table, file: str | Path | pd.DataFrame, **options: Unpack[ImportOptions]
    ) -> ImportCheck:
        """Validate ``file`` as :meth:`import_file` would and write nothing.

        Returns every problem (``kind``: invalid value, duplicate id, orphan, file) with row,
        column, value and what is wrong, and the rows and outcomes an import would store.
        """
        from winloss.errors import DuplicateKeyError, InputError, ValidationError

        columns = ["kind", "row", "column", "value", "problem"]
        try:
            checking: ImportOptions = {**options, "on_orphan": "keep"}
            prepared, _ = self._prepare_file(table, file, **checking)
        except (ValidationError, DuplicateKeyError) as exc:
            tbl = table if isinstance(table, Table) else table_for(table)
            key_name = "/".join(tbl.key)
            rows: list[dict[str, object]] = [
                {
                    "kind": "invalid value",
                    "row": p.row,
                    "column": p.column,
                    "value": p.value,
                    "problem": p.problem,
                }
                for p in (exc.problems if isinstance(exc, ValidationError) else [])
            ]
            if exc.column:
                key_name = exc.column  # the file's own header ("Record ID"), as other problems
            for key, found in exc.duplicates.items():
                for r in found:
                    others = ", ".join(str(x) for x in found if x != r)
                    rows.append(
                        {
                            "kind": "duplicate id",
                            "row": r,
                            "column": key_name,
                            "value": key,
                            "problem": f"also on row(s) {others}",
                        }
                    )
            named = exc.deal_ids if isinstance(exc, ValidationError) else {}
            if (
                named
                and tbl.name in RELATED_TABLES
                and options.get("on_orphan", "error") == "error"
            ):
                known = set(self.store.deal_ids().astype("string").dropna())
                rows += [
                    {
                        "kind": "orphan",
                        "row": row,
                        "column": "deal_id",
                        "value": deal_id,
                        "problem": ORPHAN_PROBLEM,
                    }
                    for row, deal_id in named.items()
                    if deal_id not in known
                ]
                rows.sort(key=lambda r: (int(str(r["row"])), str(r["column"])))
            return ImportCheck(
                pd.DataFrame(rows, columns=columns),
                invalid_total=exc.total if isinstance(exc, ValidationError) else None,
                notes=tuple(exc.notes) if isinstance(exc, ValidationError) else (),
            )
        except InputError as exc:
            return ImportCheck(
                pd.DataFrame(
                    [
                        {
                            "kind": "file",
                            "row": None,
                            "column": None,
                            "value": None,
                            "problem": str(exc),
                        }
                    ],
                    columns=columns,
                )
            )
        problems = pd.DataFrame(columns=columns)
        if options.get("on_orphan", "error") == "error":
            mask = orphan_mask(prepared, self.store.deal_ids())
            positions = [int(i) for i in mask.nonzero()[0]]
            problems = pd.DataFrame(
                [
                    {
                        "kind": "orphan",
                        "row": prepared.row_numbers[i],
                        "column": "deal_id",
                        "value": str(prepared.frame["deal_id"].iloc[i]),
                        "problem": ORPHAN_PROBLEM,
                    }
                    for i in positions
                ],
                columns=columns,
            )
        return ImportCheck(
            problems,
            rows=len(prepared.frame),
            outcomes=prepared.outcome_counts(),
            notes=tuple(prepared.notes),
        )

    def check_file(
        self, table: str | Table, file: str | Path | pd.DataFrame, **options: Unpack[ImportOptions]
    ) -> pd.DataFrame:
        """The problems of :meth:`check` alone; an empty frame means the file would import."""
        return self.check(table, file, **options).problems

    def _prepare_file(
        self, table: str | Table, file: str | Path | pd.DataFrame, **options: Unpack[ImportOptions]
    ) -> tuple[PreparedImport, Mapping]:
        """Read, map and validate a file: (prepared import, the mapping used)."""
        tbl = table if isinstance(table, Table) else table_for(table)
        raw: RawFrame = (
            frame_as_raw(file)
            if isinstance(file, pd.DataFrame)
            else read_file(file, sheet=options.get("sheet"))
        )
        mapping = options.get("mapping")
        preset = options.get("preset")
        columns = options.get("columns")
        if isinstance(mapping, Mapping):
            m = mapping.with_columns(columns) if columns else mapping
        elif tbl is not DEALS and mapping is None and not preset:
            from winloss.model.mapping import TABLE_ALIASES

            m = TABLE_ALIASES.get(tbl.name, Mapping())
            if columns:
                m = m.with_columns(columns)
        else:
            m = resolve_mapping(
                preset=preset,
                mapping_file=mapping,
                columns=columns,
                won_values=options.get("won_values", ()),
                lost_values=options.get("lost_values", ()),
                no_dates=options.get("no_dates"),
                labels=list(raw.frame.columns) if tbl is DEALS else None,
            )
        if options.get("day_first"):
            m = replace(m, day_first=True)
        if options.get("month_first"):
            m = replace(m, month_first=True)
        if m.day_first and m.month_first:
            raise UsageError("dates cannot be both day-first and month-first; choose one")
        hint = preset_mismatch(preset, list(raw.frame.columns)) if tbl is DEALS else ""
        try:
            prepared = prepare(
                raw,
                tbl,
                m,
                on_duplicate=options.get("on_duplicate", "error"),
                unknown_values=options.get("unknown_values", "error"),
                generate_ids=options.get("generate_ids", False),
            )
        except InputError as exc:
            if hint and type(exc) is InputError:  # a column the preset expects is not there
                raise InputError(f"{exc} {hint[:1].upper()}{hint[1:]}.") from exc
            raise
        if hint:
            prepared.notes.append(hint)
        if tbl is DEALS:
            # a custom field of an earlier import whose column this file maps onto a field
            field_of = {label: name for name, label in prepared.mapped.items()}
            kept = {c.name for c in prepared.custom_fields}
            for cf in self.store.custom_fields("deals"):
                if cf.label in field_of and cf.name not in kept:
                    prepared.superseded_custom[cf.name] = field_of[cf.label]
                    prepared.notes.append(
                        f"column {cf.label!r}, kept as the custom field {cf.name} by an earlier "
                        f"import, is now imported as {field_of[cf.label]}: the custom field is "
                        "cleared on this file's deals (and dropped once no deal keeps a value), "
                        "so the fact is counted once"
                    )
        if tbl.name == "subscriptions":
            from winloss.ingest.subscriptions import check_subscriptions

            check_subscriptions(prepared, self.store.subscription_accounts())
        if tbl.name == "captures":
            from winloss.ingest.capture_checks import capture_notes
            from winloss.store import capture_queries

            ids = prepared.frame["deal_id"].astype("string").dropna().unique().tolist()
            prepared.notes.extend(
                capture_notes(
                    prepared,
                    capture_queries.deal_outcomes(self.store, [str(i) for i in ids]),
                    capture_queries.reason_use(self.store),
                )
            )
        if tbl.name == "activities":
            from winloss.ingest.activity_types import fold_activity_types, stored_counts
            from winloss.store import paths_queries

            counts = paths_queries.activity_type_counts(self.store)
            fold_activity_types(prepared, stored_counts(counts))
        if tbl.name in RELATED_TABLES:
            prepared = apply_orphan_policy(
                prepared, self.store.deal_ids(), options.get("on_orphan", "error")
            )
            if tbl.name in EVENT_TIME:
                note = before_creation_note(prepared, self.store.deal_created_dates())
                if note:
                    prepared.notes.append(note)
        return prepared, m

    def import_deals(
        self, file: str | Path | pd.DataFrame, **options: Unpack[ImportOptions]
    ) -> ImportResult:
        """:meth:`import_file` into ``deals``."""
        return self.import_file(DEALS, file, **options)

    # -- reading ----------------------------------------------------------------------------
    def field_catalog(self) -> list[DealField]:
        """Every deal attribute: canonical, derived and custom, with type and when it is known."""
        return self.store.field_catalog()

    def deals(self, flt: DealFilter | None = None, *, closed_only: bool = False) -> pd.DataFrame:
        """Deals with derived fields, filtered; one row per deal, ordered by created_at, deal_id."""
        return self.store.deals(flt, closed_only=closed_only)

    def closed_deals(self, flt: DealFilter | None = None) -> pd.DataFrame:
        return self.store.closed_deals(flt)

    def table(self, name: str) -> pd.DataFrame:
        return self.store.table(name)

    def has_dates(self) -> bool:
        return self.store.has_dates()

    def imported_files(self) -> list[str]:
        """The files imported into this store with ``import`` (most recent first); empty for a
        store the demo or the Python API filled."""
        from winloss.store import summary_queries as sq

        return sq.imported_files(self.store)

    def info(self) -> StoreInfo:
        """A summary of the store: counts per table, outcomes, date range, custom fields."""
        from winloss.store import summary_queries as sq

        s = self.store
        counts = {
            t: s.count(t)
            for t in (
                "deals",
                "stakeholders",
                "activities",
                "stage_history",
                "subscriptions",
                "usage_events",
                "captures",
            )
        }
        outcomes = sq.outcome_counts(s)
        rng = sq.date_ranges(s)
        quarters = sq.closed_quarters(s)
        imports = sq.recent_imports(s, 10)
        return {
            "store": self.path,
            "schema_version": s.schema_version,
            "tables": counts,
            "outcomes": outcomes,
            "created": [str(rng[0]) if rng[0] else None, str(rng[1]) if rng[1] else None],
            "closed": [str(rng[2]) if rng[2] else None, str(rng[3]) if rng[3] else None],
            "quarters": quarters,
            "fiscal_year_start_month": self.fiscal_year_start_month,
            "custom_fields": [
                {"name": c.name, "label": c.label, "dtype": c.dtype, "known": c.known}
                for c in s.custom_fields("deals")
            ],
            "recent_imports": imports.astype(str).to_dict(orient="records"),
        }

    # -- the quarterly review -----------------------------------------------------------------
    def plan(
        self,
        *,
        quarter: str | None = None,
        window: int | None = None,
        record: bool = True,
        adjustments: bool = True,
        now: dt.datetime | None = None,
    ) -> ActionPlan:
        """The action plan for a quarter; ``adjustments=False`` leaves out the model-based
        forecast/scoring/targeting actions; ``now`` is when it is recorded (default: the current
        time)."""
        from winloss.plan.action_plan import PlanSettings, build_plan

        return build_plan(
            self.store,
            PlanSettings(quarter=quarter, window=window, record=record, adjustments=adjustments),
            now=now,
        )

    def report(
        self, *, quarter: str | None = None, now: dt.datetime | None = None
    ) -> QuarterlyReport:
        """The quarterly review; ``now`` is its clock (``generated_at``; default: the current
        time)."""
        from winloss.report.document import build_report

        return build_report(self.store, quarter, now=now)

    def qbr(self, flt: DealFilter | None = None, **settings: Unpack[QbrOptions]) -> QbrResult:
        """The QBR basics (:class:`winloss.analyze.qbr.analysis.QbrResult`): loss and win reasons
        by quarter, segment and owner, win rates against competitors and by group, stage
        conversion and coverage; ``settings`` are fields of
        :class:`winloss.analyze.qbr.analysis.QbrAnalysis`."""
        from winloss.analyze.qbr.analysis import QbrAnalysis

        self._refuse_quarter_outside_data(flt)
        return QbrAnalysis(deal_filter=flt, **settings).run(self.store)

    def _refuse_quarter_outside_data(self, flt: DealFilter | None) -> None:
        """A filter's quarter wholly before or after the closed deals is a typo (2031Q4 for
        2025Q4), refused with the quarters that exist rather than answered with empty tables."""
        if flt is None or not flt.quarter:
            return
        from winloss.plan.action_plan import check_review_quarter, closed_quarters

        check_review_quarter(self.store, self.quarter(flt.quarter), closed_quarters(self.store))

    # -- win/loss concentrations --------------------------------------------------------------
    def analyze(
        self, flt: DealFilter | None = None, **options: Unpack[ConcentrationOptions]
    ) -> ConcentrationResult:
        """Where wins and losses concentrate, with evidence (``options`` are the fields of
        :class:`~winloss.analyze.concentrations.analysis.ConcentrationAnalysis`). Analysing one
        quarter records the findings register."""
        from winloss.analyze.concentrations.analysis import ConcentrationAnalysis

        return ConcentrationAnalysis(deal_filter=flt, **options).run(self.store)

    @staticmethod
    def analyze_source(
        source: DealReads, flt: DealFilter | None = None, **options: Unpack[ConcentrationOptions]
    ) -> ConcentrationResult:
        """:meth:`analyze` on another engine's deals (``SparkEngine``, issue 16): read-only, so
        pass ``record=False``; one quarter is compared with a fresh analysis of the previous."""
        from typing import cast

        from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
        from winloss.store.duckdb_store import DuckDBStore

        # the analysis reads deals through DealReads only (field_catalog, closed_deal_columns,
        # quarter); with record=False nothing is written to the source
        store = source if isinstance(source, DuckDBStore) else cast(DuckDBStore, source)
        return ConcentrationAnalysis(deal_filter=flt, **options).run(store)

    @staticmethod
    def path_edges_on(
        engine: SparkEngine,
        flt: DealFilter | None = None,
        *,
        by: str | None = None,
        min_edge: int = 1,
    ) -> pd.DataFrame:
        """The directly-follows edges of :meth:`path_graph` (``.edges``), counted on another
        engine (``SparkEngine``, issue 16) by the same SQL as the store's."""
        from winloss.analyze.paths.graph import _pivot_edges
        from winloss.store.paths_queries import directly_follows

        return _pivot_edges(directly_follows(engine, flt, by=by), min_edge)

    # -- data-integrity audit -----------------------------------------------------------------
    def audit(
        self,
        flt: DealFilter | None = None,
        *,
        quarter: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        **options: Unpack[AuditOptions],
    ) -> AuditResult:
        """The data-integrity audit and its ranked fix list (``options`` are the fields of
        :class:`~winloss.analyze.audit.analysis.DataAudit`)."""
        from winloss.analyze.audit.analysis import DataAudit

        if flt is None and (quarter or since or until):
            flt = DealFilter(quarter=quarter, since=since, until=until)
        self._refuse_quarter_outside_data(flt)
        return DataAudit(deal_filter=flt, **options).run(self.store)

    # -- win probability, forecast, leads and accounts -----------------------------------------
    def evaluate_model(
        self, flt: DealFilter | None = None, **options: Unpack[EvaluationOptions]
    ) -> EvaluationResult:
        """Out-of-sample metrics of the win model beside its baselines (``options`` are the
        fields of :class:`~winloss.analyze.scoring.evaluation.ModelEvaluation`)."""
        from winloss.analyze.scoring.evaluation import ModelEvaluation

        return ModelEvaluation(deal_filter=flt, **options).run(self.store)

    def score_deals(
        self, flt: DealFilter | None = None, **options: Unpack[ScoringOptions]
    ) -> ScoreResult:
        """Calibrated P(win) with interval and top factors for open deals (``options`` are the
        fields of :class:`~winloss.analyze.scoring.analysis.Scoring`)."""
        from winloss.analyze.scoring.analysis import Scoring

        return Scoring(deal_filter=flt, **options).run(self.store)

    def score_leads(
        self, flt: DealFilter | None = None, **options: Unpack[LeadScoringOptions]
    ) -> ScoreResult:
        """Lead scores from creation-time fields, graded A–D
        (:class:`~winloss.analyze.scoring.leads.LeadScoring`)."""
        from winloss.analyze.scoring.leads import LeadScoring

        return LeadScoring(deal_filter=flt, **options).run(self.store)

    def forecast(
        self,
        quarter: str,
        *,
        backtest: BacktestResult | None = None,
        **options: Unpack[ForecastOptions],
    ) -> ForecastResult:
        """Expected bookings of a quarter with P10/P50/P90
        (:class:`~winloss.analyze.forecast.analysis.Forecast`); ``backtest``: a backtest already
        run on this store, reused to correct the interval (``widen=False``: the simulated
        interval alone)."""
        from winloss.analyze.forecast.analysis import Forecast

        return Forecast(quarter=quarter, **options).run(self.store, backtest=backtest)

    def forecast_backtest(self, **options: Unpack[BacktestOptions]) -> BacktestResult:
        """Forecasts replayed at past quarter starts vs actual bookings
        (:class:`~winloss.analyze.forecast.analysis.ForecastBacktest`)."""
        from winloss.analyze.forecast.analysis import ForecastBacktest

        return ForecastBacktest(**options).run(self.store)

    def target_accounts(self, **options: Unpack[TargetingOptions]) -> TargetingResult:
        """Accounts ranked by ideal-customer fit and expansion potential
        (:class:`~winloss.analyze.targeting.analysis.AccountTargeting`)."""
        from winloss.analyze.targeting.analysis import AccountTargeting

        return AccountTargeting(**options).run(self.store)

    # -- buying committees and product-led growth ----------------------------------------------
    def committee(self, **settings: Unpack[CommitteeOptions]) -> CommitteeResult:
        """Multithreading findings, open-deal risks and (with ``deal_id``) a committee map
        (:class:`winloss.analyze.committee.analysis.CommitteeAnalysis`; ``settings`` are its
        fields)."""
        from winloss.analyze.committee.analysis import CommitteeAnalysis

        return CommitteeAnalysis(**settings).run(self.store)

    def plg(self, **settings: Unpack[PLGOptions]) -> PLGResult:
        """Activation milestones, PQL scores and the PLG motion against the sales-led one
        (:class:`winloss.analyze.plg.analysis.PLGAnalysis`; ``settings`` are its fields)."""
        from winloss.analyze.plg.analysis import PLGAnalysis

        return PLGAnalysis(**settings).run(self.store)

    def save_scores(self, result: ScoreResult) -> str:
        """Store a score or lead-score result (``scores`` and ``analysis_runs``); returns the run id."""
        from winloss.analyze.scoring.model_runs import save_scores

        return save_scores(self.store, result)

    # -- the Bowtie and the compounding simulator ---------------------------------------------
    def bowtie(self, **settings: Unpack[BowtieOptions]) -> BowtieResult:
        """Both sides of the sale: VM/CR/Δt per stage and cohort (censored), retention, GRR/NRR,
        LTV and the loops (``settings`` are fields of
        :class:`winloss.analyze.bowtie.analysis.Bowtie`)."""
        from winloss.analyze.bowtie.analysis import Bowtie

        return Bowtie(**settings).run(self.store)

    def bowtie_churn_table(
        self, file: str | Path | pd.DataFrame, **settings: Unpack[ChurnTableOptions]
    ) -> BowtieResult:
        """Retention, monthly churn and LTV per group from a churn table (one row per customer:
        tenure in months, monthly charge, churned yes/no, contract); ``settings`` are fields of
        :class:`winloss.analyze.bowtie.analysis.ChurnTableBowtie`."""
        from winloss.analyze.bowtie.analysis import ChurnTableBowtie

        if isinstance(file, pd.DataFrame):
            return ChurnTableBowtie(**settings).run_frame(file)
        raw = read_file(file)
        return ChurnTableBowtie(**settings).run_frame(raw.frame, file=str(file))

    def simulate(self, **settings: Unpack[SimulateOptions]) -> SimulationResult:
        """Project new and recurring revenue per quarter from the measured Bowtie, rank levers,
        and the Monte Carlo odds of a growth target (``settings`` are fields of
        :class:`winloss.analyze.bowtie.simulation.Simulate`)."""
        from winloss.analyze.bowtie.simulation import Simulate

        return Simulate(**settings).run(self.store)

    # -- action paths (#14) ---------------------------------------------------------------------
    def path_graph(
        self, flt: DealFilter | None = None, **settings: Unpack[PathGraphOptions]
    ) -> GraphResult:
        """Directly-follows edges by outcome and path variants with win rates
        (:class:`winloss.analyze.paths.graph.PathGraph`)."""
        from winloss.analyze.paths.graph import PathGraph

        return PathGraph(deal_filter=flt, **settings).run(self.store)

    def path_chains(
        self, flt: DealFilter | None = None, **settings: Unpack[ChainOptions]
    ) -> ChainResult:
        """Markov chains over paths: P(win | state), removal effects, segment micro-actions
        (:class:`winloss.analyze.paths.analysis.PathChains`)."""
        from winloss.analyze.paths.analysis import PathChains

        return PathChains(deal_filter=flt, **settings).run(self.store)

    def next_action(
        self,
        deal_ids: tuple[str, ...] | None = None,
        flt: DealFilter | None = None,
        **settings: Unpack[NextActionOptions],
    ) -> NextActionResult:
        """Candidate next actions of open deals ranked by P(win) after them
        (:class:`winloss.analyze.paths.analysis.NextAction`)."""
        from winloss.analyze.paths.analysis import NextAction

        return NextAction(deal_ids=deal_ids, deal_filter=flt, **settings).run(self.store)

    def evaluate_paths(
        self, flt: DealFilter | None = None, **settings: Unpack[PathEvaluationOptions]
    ) -> PathEvaluationResult:
        """P(win | first k actions) out of sample beside baselines
        (:class:`winloss.analyze.paths.evaluation.PathEvaluation`)."""
        from winloss.analyze.paths.evaluation import PathEvaluation

        return PathEvaluation(deal_filter=flt, **settings).run(self.store)

    def refresh_path_counts(
        self,
        *,
        silent_days: float = 30.0,
        aged_days: float = 180.0,
        as_of: dt.datetime | None = None,
    ) -> dict[str, int]:
        """Update the stored per-deal transition counts for new activities (incremental)."""
        from winloss.store.paths_queries import refresh_transition_counts

        return refresh_transition_counts(
            self.store, silent_days=silent_days, aged_days=aged_days, as_of=as_of
        )

    def export_event_log(self, path: str | Path, flt: DealFilter | None = None) -> int:
        """Write the activities (and outcome events) as a CSV or XES event log; returns events."""
        from winloss.analyze.paths.eventlog import export_frame, write_event_log

        deals = self.store.deals(flt)
        acts = self.store.table("activities")
        acts = acts[acts["deal_id"].isin(deals["deal_id"])]
        frame = export_frame(acts, deals)
        write_event_log(frame, path)
        return len(frame)

    def import_event_log(
        self,
        path: str | Path,
        *,
        won: tuple[str, ...],
        lost: tuple[str, ...],
        outcome_event: str = "final",
        lifecycle: str = "complete",
        day_first: bool = False,
        month_first: bool = False,
        **csv_options: str | None,
    ) -> EventLogImport:
        """Import a CSV/XES event log as deals and activities (outcome from final activities).

        ``outcome_event="any"`` reads a case's outcome from its last won/lost activity wherever it
        is (later events are after the close and not imported); with lifecycle transitions only
        completions are steps unless ``lifecycle="all"``.
        """
        from winloss.analyze.paths.eventlog import events_to_deals, read_event_log

        result = events_to_deals(
            read_event_log(path, **csv_options),
            won=won,
            lost=lost,
            source=str(path),
            outcome_event=outcome_event,
            lifecycle=lifecycle,
            day_first=day_first,
            month_first=month_first,
        )
        self.import_file("deals", result.deals, on_duplicate="error")
        from winloss.analyze.paths.analysis import OUTCOME_ACTIVITIES_SETTING

        self.store.set_setting(OUTCOME_ACTIVITIES_SETTING, json.dumps(sorted({*won, *lost})))
        # the log holds each case's whole path: steps of an earlier reading of the same cases
        # (another --outcome-event or --lifecycle) that this one does not have are deleted
        prepared, m = self._prepare_file("activities", result.activities, on_duplicate="error")
        written = self.store.write(
            dataclasses.replace(prepared, whole_deals=True),
            content_sha256=frame_sha256(prepared.frame),
            preset=m.preset,
        )
        if written.replaced_rows:
            result = dataclasses.replace(
                result,
                steps_replaced=written.replaced_rows,
                notes=(
                    *result.notes,
                    f"{written.replaced_rows:,} "
                    + ("step" if written.replaced_rows == 1 else "steps")
                    + " stored by an earlier import of these cases "
                    "are not in this reading of the log and were removed",
                ),
            )
        return result

    # -- captures (the web app and `winloss captures`) ----------------------------------------
    @property
    def capture_precedence(self) -> tuple[str, ...]:
        """Which source fills a deal's SPICED fields first: ``buyer``, ``rep``, ``crm``."""
        from winloss.store import capture_queries

        return capture_queries.precedence(self.store)

    def set_capture_precedence(self, order: str | tuple[str, ...]) -> None:
        """Set the precedence (``"buyer,rep,crm"`` by default); the views are rebuilt."""
        self.store.set_setting(
            "capture_precedence", order if isinstance(order, str) else ",".join(order)
        )

    def field_sources(self, deal_id: str | None = None) -> pd.DataFrame:
        """Per deal and SPICED field: the source of its value (buyer, rep, crm or blank)."""
        from winloss.store import capture_queries

        return capture_queries.field_sources(self.store, deal_id)

    def field_source_counts(self) -> pd.DataFrame:
        """Closed deals per SPICED field and source of its value."""
        from winloss.store import capture_queries

        return capture_queries.source_counts(self.store)

    def deal(self, deal_id: str) -> dict[str, object] | None:
        """One deal with captures applied (``None`` when unknown)."""
        from winloss.store import capture_queries

        return capture_queries.deal(self.store, deal_id)

    def crm_deal(self, deal_id: str) -> dict[str, object] | None:
        """One deal as imported from the CRM, before captures (``None`` when unknown)."""
        from winloss.store import capture_queries

        return capture_queries.crm_deal(self.store, deal_id)

    def deal_captures(self, deal_id: str) -> pd.DataFrame:
        from winloss.store import capture_queries

        return capture_queries.deal_captures(self.store, deal_id)

    def owners(self) -> list[str]:
        from winloss.store import capture_queries

        return capture_queries.owners(self.store)

    def pending_captures(
        self,
        owner: str | None = None,
        *,
        freshness_days: int = 7,
        today: dt.date | None = None,
        respondent: str = "rep",
    ) -> pd.DataFrame:
        """Closed deals of ``owner`` (all when ``None``) without a ``respondent`` capture, oldest
        first, with ``deadline`` (close + ``freshness_days``) and ``days_left``."""
        from winloss.store import capture_queries

        return capture_queries.pending_captures(
            self.store,
            owner,
            freshness_days=freshness_days,
            today=today or dt.date.today(),
            respondent=respondent,
        )

    def capture_coverage(
        self, *, freshness_days: int = 7, since: dt.date | None = None
    ) -> pd.DataFrame:
        """Capture coverage and freshness per owner (closed deals)."""
        from winloss.store import capture_queries

        return capture_queries.coverage(self.store, freshness_days=freshness_days, since=since)

    def record_capture(
        self,
        deal_id: str,
        respondent: str,
        answers: ReadOnlyMapping[str, object],
        *,
        captured_by: str,
        captured_at: dt.datetime | None = None,
    ) -> dt.datetime:
        """Validate one capture like an imported row (vocabularies, types, minimums) and store it;
        returns its ``captured_at``. Raises :class:`~winloss.errors.ValidationError`."""
        from winloss.model.schema import CAPTURES
        from winloss.store import capture_queries

        if self.crm_deal(deal_id) is None:
            raise UsageError(f"unknown deal {deal_id!r}")
        at = captured_at or dt.datetime.now()
        row = {k: v for k, v in answers.items() if k in CAPTURES.names and v not in ("", None)}
        row.update(
            deal_id=deal_id,
            respondent=respondent,
            captured_at=at.isoformat(),
            captured_by=captured_by,
        )
        frame = pd.DataFrame([row], dtype="string")
        prepared, _m = self._prepare_file(
            CAPTURES, frame, unknown_values="error", on_duplicate="error"
        )
        rec = {k: (None if pd.isna(v) else v) for k, v in prepared.frame.iloc[0].to_dict().items()}
        rec["captured_at"] = at
        rec["captured_by"] = captured_by
        capture_queries.insert_capture(self.store, rec)
        return at

    def add_user(
        self, username: str, password_hash: str, role: str, owner_name: str | None = None
    ) -> None:
        """Create or replace a web-app account (the password already hashed)."""
        from winloss.store import capture_queries

        if role not in ("admin", "manager", "rep"):
            raise UsageError(f"role {role!r}: choose admin, manager or rep")
        if role == "rep" and not owner_name:
            raise UsageError("a rep needs --owner: the CRM owner name of their deals")
        if not username.strip():
            raise UsageError("the user name is empty")
        capture_queries.upsert_user(
            self.store, username.strip(), password_hash, role, owner_name, dt.datetime.now()
        )

    def user(self, username: str) -> UserRecord | None:
        from winloss.store import capture_queries

        return capture_queries.get_user(self.store, username)

    def users(self) -> pd.DataFrame:
        from winloss.store import capture_queries

        return capture_queries.list_users(self.store)

    def reason_use(self) -> pd.DataFrame:
        """Closed deals per reason and outcome (``reason``, ``outcome``, ``deals``): which
        reasons a won deal and a lost deal have been given."""
        from winloss.store import capture_queries

        return capture_queries.reason_use(self.store)

    def competitor_names(self) -> list[str]:
        """The competitors the deals name, most named first (the capture form suggests them)."""
        from winloss.store import capture_queries

        return capture_queries.competitor_names(self.store)

    def capture_agreement(self, **settings: Unpack[AgreementOptions]) -> AgreementResult:
        """Rep vs buyer agreement per field, rep and reason
        (:class:`winloss.analyze.captures.agreement.AgreementResult`)."""
        from winloss.analyze.captures.agreement import CaptureAgreement

        return CaptureAgreement(**settings).run(self.store)

    def interview_plan(self, **settings: Unpack[InterviewPlanOptions]) -> InterviewPlanResult:
        """Recently closed deals to debrief with the buyer, ranked, with reasons
        (:class:`winloss.analyze.captures.planner.InterviewPlanResult`)."""
        from winloss.analyze.captures.planner import InterviewPlanner

        return InterviewPlanner(**settings).run(self.store)
