"""The :class:`Workspace` facade: one object that owns the store and runs every operation.

The CLI, the web app and the tests all build a ``Workspace``; each CLI command is one call on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pandas as pd

from winloss.errors import UsageError
from winloss.ingest.prepare import DuplicatePolicy, UnknownValuePolicy, prepare
from winloss.ingest.readers import RawFrame, frame_as_raw, read_file
from winloss.model.deals import DealField, DealFilter
from winloss.model.mapping import Mapping, resolve_mapping
from winloss.model.period import Quarter
from winloss.model.schema import DEALS, Table, table_for
from winloss.store.duckdb_store import (
    DuckDBStore,
    ImportResult,
    default_db_path,
    file_sha256,
    frame_sha256,
)


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
    day_first
        Read ambiguous dates day-first (default month-first).
    on_duplicate
        ``error`` (default), ``keep-last`` or ``keep-first``.
    unknown_values
        Values outside a vocabulary: ``error`` (default), ``other`` or ``keep``.
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
    on_duplicate: DuplicatePolicy
    unknown_values: UnknownValuePolicy
    sheet: str | int | None
    generate_ids: bool


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
        self.store = DuckDBStore(self.path, read_only=read_only)

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
    ) -> Workspace:
        """An in-memory workspace holding one file of deals, for direct analysis.

        A file without ids or dates is accepted: rows are numbered and the time-based parts of the
        analyses are skipped.
        """
        ws = cls(":memory:")
        ws.import_deals(file, preset=preset, mapping=mapping, columns=columns,
                        won_values=won_values, lost_values=lost_values, on_duplicate=on_duplicate,
                        unknown_values=unknown_values, generate_ids=True)
        return ws

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
    def import_file(self, table: str | Table, file: str | Path | pd.DataFrame,
                    **options: Unpack[ImportOptions]) -> ImportResult:
        """Validate ``file`` and upsert it into ``table`` in one transaction.

        ``options`` are those of :class:`ImportOptions`. Re-importing the same file changes
        nothing (rows are upserted by their key). A file with any invalid value, or a duplicated
        key under the default policy, imports nothing.
        """
        prepared, m = self._prepare_file(table, file, **options)
        digest = (frame_sha256(prepared.frame) if isinstance(file, pd.DataFrame)
                  else file_sha256(file))
        return self.store.write(prepared, content_sha256=digest, preset=m.preset)

    def check_file(self, table: str | Table, file: str | Path | pd.DataFrame,
                   **options: Unpack[ImportOptions]) -> pd.DataFrame:
        """Validate ``file`` as :meth:`import_file` would, write nothing, and list every problem.

        One row per problem (``kind``: invalid value, duplicate id, file), with row, column, value
        and what is wrong; an empty frame means the file would import as it is.
        """
        from winloss.errors import DuplicateKeyError, InputError, ValidationError

        columns = ["kind", "row", "column", "value", "problem"]
        try:
            self._prepare_file(table, file, **options)
        except ValidationError as exc:
            return pd.DataFrame([{"kind": "invalid value", "row": p.row, "column": p.column,
                                  "value": p.value, "problem": p.problem}
                                 for p in exc.problems], columns=columns)
        except DuplicateKeyError as exc:
            tbl = table if isinstance(table, Table) else table_for(table)
            key_name = "/".join(tbl.key)
            rows = []
            for key, found in exc.duplicates.items():
                for r in found:
                    others = ", ".join(str(x) for x in found if x != r)
                    rows.append({"kind": "duplicate id", "row": r, "column": key_name,
                                 "value": key, "problem": f"also on row(s) {others}"})
            return pd.DataFrame(rows, columns=columns)
        except InputError as exc:
            return pd.DataFrame([{"kind": "file", "row": None, "column": None, "value": None,
                                  "problem": str(exc)}], columns=columns)
        return pd.DataFrame(columns=columns)

    def _prepare_file(self, table: str | Table, file: str | Path | pd.DataFrame,
                      **options: Unpack[ImportOptions]) -> tuple[Any, Mapping]:
        """Read, map and validate a file: (prepared import, the mapping used)."""
        tbl = table if isinstance(table, Table) else table_for(table)
        raw: RawFrame = (frame_as_raw(file) if isinstance(file, pd.DataFrame)
                         else read_file(file, sheet=options.get("sheet")))
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
                preset=preset, mapping_file=mapping, columns=columns,
                won_values=options.get("won_values", ()),
                lost_values=options.get("lost_values", ()), no_dates=options.get("no_dates"),
                labels=list(raw.frame.columns) if tbl is DEALS else None,
            )
        if options.get("day_first"):
            m = replace(m, day_first=True)
        prepared = prepare(raw, tbl, m, on_duplicate=options.get("on_duplicate", "error"),
                           unknown_values=options.get("unknown_values", "error"),
                           generate_ids=options.get("generate_ids", False))
        return prepared, m

    def import_deals(self, file: str | Path | pd.DataFrame,
                     **options: Unpack[ImportOptions]) -> ImportResult:
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

    def info(self) -> dict[str, Any]:
        """A summary of the store: counts per table, outcomes, date range, custom fields."""
        s = self.store
        counts = {t: s.count(t) for t in ("deals", "stakeholders", "activities", "stage_history",
                                          "subscriptions", "usage_events", "captures")}
        outcomes = dict(s.con.execute(
            "SELECT outcome, count(*) FROM deals GROUP BY 1 ORDER BY 1").fetchall())
        rng = s.row(
            "SELECT min(created_at), max(created_at), "
            "min(closed_at) FILTER (WHERE outcome IN ('won', 'lost')), "
            "max(closed_at) FILTER (WHERE outcome IN ('won', 'lost')) FROM deals")
        quarters = [r[0] for r in s.con.execute(
            "SELECT DISTINCT quarter FROM deals_enriched WHERE quarter IS NOT NULL "
            "AND outcome IN ('won', 'lost') ORDER BY 1"
        ).fetchall()]
        imports = s.query("SELECT table_name, file, rows_read, inserted, updated, imported_at "
                          "FROM imports ORDER BY import_id DESC LIMIT 10")
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
    def plan(self, *, quarter: str | None = None, window: int | None = None,
             record: bool = True, adjustments: bool = True) -> Any:
        """The action plan (:class:`winloss.plan.action_plan.ActionPlan`) for a quarter;
        ``adjustments=False`` leaves out the model-based forecast/scoring/targeting actions."""
        from winloss.plan.action_plan import PlanSettings, build_plan

        return build_plan(self, PlanSettings(quarter=quarter, window=window, record=record,
                                             adjustments=adjustments))

    def report(self, *, quarter: str | None = None) -> Any:
        """The quarterly review (:class:`winloss.report.document.QuarterlyReport`)."""
        from winloss.report.document import build_report

        return build_report(self, quarter)

    # -- win/loss concentrations --------------------------------------------------------------
    def analyze(self, flt: DealFilter | None = None, **settings: Any) -> Any:
        """Where wins and losses concentrate, with evidence
        (:class:`winloss.analyze.concentrations.analysis.ConcentrationAnalysis`; ``settings`` are its
        fields). Analysing one quarter records the findings register."""
        from winloss.analyze.concentrations.analysis import ConcentrationAnalysis

        return ConcentrationAnalysis(deal_filter=flt, **settings).run(self.store)

    # -- data-integrity audit -----------------------------------------------------------------
    def audit(self, flt: DealFilter | None = None, *, quarter: str | None = None,
              since: dt.date | None = None, until: dt.date | None = None,
              **settings: Any) -> Any:
        """The data-integrity audit and its ranked fix list
        (:class:`winloss.analyze.audit.analysis.AuditResult`; ``settings`` are fields of
        :class:`winloss.analyze.audit.analysis.DataAudit`)."""
        from winloss.analyze.audit.analysis import DataAudit

        if flt is None and (quarter or since or until):
            flt = DealFilter(quarter=quarter, since=since, until=until)
        return DataAudit(deal_filter=flt, **settings).run(self.store)

    # -- win probability, forecast, leads and accounts -----------------------------------------
    def evaluate_model(self, flt: DealFilter | None = None, **settings: Any) -> Any:
        """Out-of-sample metrics of the win model beside its baselines
        (:class:`winloss.analyze.scoring.evaluation.EvaluationResult`; ``settings`` are fields of
        :class:`winloss.analyze.scoring.evaluation.ModelEvaluation`)."""
        from winloss.analyze.scoring.evaluation import ModelEvaluation

        return ModelEvaluation(**settings).run(self.store, flt)

    def score_deals(self, flt: DealFilter | None = None, **settings: Any) -> Any:
        """Calibrated P(win) with interval and top factors for open deals
        (:class:`winloss.analyze.scoring.analysis.ScoreResult`; ``settings`` are fields of
        :class:`winloss.analyze.scoring.analysis.Scoring`)."""
        from winloss.analyze.scoring.analysis import Scoring

        return Scoring(**settings).run(self.store, flt)

    def score_leads(self, flt: DealFilter | None = None, **settings: Any) -> Any:
        """Lead scores from creation-time fields, graded A–D
        (:class:`winloss.analyze.scoring.leads.LeadScoring`)."""
        from winloss.analyze.scoring.leads import LeadScoring

        return LeadScoring(**settings).run(self.store, flt)

    def forecast(self, quarter: str, *, backtest: Any = None, **settings: Any) -> Any:
        """Expected bookings of a quarter with P10/P50/P90
        (:class:`winloss.analyze.forecast.analysis.Forecast`); ``backtest``: a backtest already
        run on this store, reused to correct the interval."""
        from winloss.analyze.forecast.analysis import Forecast

        return Forecast(quarter, **settings).run(self.store, backtest=backtest)

    def forecast_backtest(self, **settings: Any) -> Any:
        """Forecasts replayed at past quarter starts vs actual bookings
        (:class:`winloss.analyze.forecast.analysis.ForecastBacktest`)."""
        from winloss.analyze.forecast.analysis import ForecastBacktest

        return ForecastBacktest(**settings).run(self.store)

    def target_accounts(self, **settings: Any) -> Any:
        """Accounts ranked by ideal-customer fit and expansion potential
        (:class:`winloss.analyze.targeting.analysis.AccountTargeting`)."""
        from winloss.analyze.targeting.analysis import AccountTargeting

        return AccountTargeting(**settings).run(self.store)

    def save_scores(self, result: Any) -> str:
        """Store a score or lead-score result (``scores`` and ``analysis_runs``); returns the run id."""
        from winloss.analyze.scoring.model_runs import save_scores

        return save_scores(self.store, result)
