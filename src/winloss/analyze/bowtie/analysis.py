"""The Bowtie analysis: both sides of the sale from the store, or the right side from a churn table.

Before the sale (awareness → education → selection → commit) each stage gets its volume (VM),
conversion (CR, censored) and time in stage (Δt), overall and per entry cohort; the sales cycle is
measured on the deals. After it (onboarding → impact → growth): the same per stage from
subscriptions and usage milestones, logo retention (Kaplan–Meier), monthly churn, GRR/NRR with
expansion and contraction over trailing 12-month windows, lifetime value per segment, CAC payback
when the acquisition cost is given, and the nurture and growth loops. Every metric is defined in
``metrics.yaml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.bowtie import loops, retention
from winloss.analyze.bowtie.definitions import metric_definitions
from winloss.analyze.bowtie.funnel import (
    STAGE_COLUMNS,
    cohort_label,
    post_sale_spells,
    stage_tables,
)
from winloss.analyze.bowtie.stages import POST_SALE, PRE_SALE, StageMapping
from winloss.analyze.bowtie.survival import competing_risks
from winloss.errors import InsufficientDataError, UsageError
from winloss.serialize import plain, records
from winloss.store import bowtie_queries as q

if TYPE_CHECKING:
    from winloss.model.deals import DealSource
    from winloss.store.duckdb_store import DuckDBStore

COHORTS = ("month", "quarter")


@dataclass(frozen=True)
class RetentionSummary:
    """Logo retention, churn and revenue retention."""

    curve: pd.DataFrame  # month, retention, at_risk
    monthly_churn: float
    customers: int
    churned: int
    windows: pd.DataFrame  # trailing 12-month GRR/NRR per window
    by_group: pd.DataFrame  # group, month, retention (the curve per segment / contract)

    @property
    def latest(self) -> dict[str, Any]:
        if self.windows.empty:
            return {}
        return dict(self.windows.iloc[-1].to_dict())

    def to_dict(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "curve": records(self.curve),
            "monthly_churn": self.monthly_churn,
            "customers": self.customers,
            "churned": self.churned,
            "grr": latest.get("grr"),
            "nrr": latest.get("nrr"),
            "expansion": latest.get("expansion"),
            "contraction": latest.get("contraction"),
            "revenue_churn": latest.get("revenue_churn"),
            "windows": records(self.windows),
            "by_group": records(self.by_group),
        }


@dataclass(frozen=True)
class BowtieResult(AnalysisResult):
    """The Bowtie: stage table, cohorts, cycle, retention, lifetime value, loops (see docs)."""

    inputs: AnalysisInputs
    as_of: dt.date
    cohort: str
    stages: pd.DataFrame  # overall row per stage (STAGE_COLUMNS)
    cohorts: pd.DataFrame  # one row per stage and entry cohort
    cycle: pd.DataFrame  # sales cycle per creation cohort
    retention: RetentionSummary
    ltv: pd.DataFrame  # one row per group, first 'all'
    cac: dict[str, float] | None
    loops: dict[str, Any]
    unmapped_stages: pd.DataFrame  # source, name, rows
    current_mrr: float = 0.0
    mrr_per_customer: float = float("nan")
    mrr_per_customer_se: float = float("nan")
    nrr_se: float = float("nan")
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        return self.stages[
            [
                "stage",
                "side",
                "volume",
                "conversion",
                "conversion_ci_low",
                "conversion_ci_high",
                "naive_conversion",
                "median_days",
                "censored",
            ]
        ]

    def to_dict(self) -> dict[str, Any]:
        stage_keys = [
            "stage",
            "side",
            "volume",
            "conversion",
            "conversion_ci_low",
            "conversion_ci_high",
            "median_days",
            "censored",
            "naive_conversion",
            "closed_conversion",
            "q1_days",
            "q3_days",
            "median_days_to_advance",
            "advanced",
            "lost",
            "followed_to_horizon",
        ]
        data: dict[str, Any] = plain(
            {
                "inputs": self.inputs.to_dict(),
                "as_of": self.as_of.isoformat(),
                "cohort": self.cohort,
                "stages": records(self.stages[stage_keys]),
                "cohorts": records(self.cohorts),
                "cycle": records(self.cycle),
                "retention": self.retention.to_dict(),
                "ltv": records(self.ltv),
                "cac": self.cac,
                "loops": self.loops,
                "unmapped_stages": records(self.unmapped_stages),
                "metrics": {
                    m.name: {"label": m.label, "unit": m.unit}
                    for m in metric_definitions().values()
                },
                "warnings": list(self.warnings),
            }
        )
        return data


def _store(source: DealSource) -> DuckDBStore:
    from winloss.store.duckdb_store import DuckDBStore

    if not isinstance(source, DuckDBStore):
        raise UsageError(
            "the Bowtie reads the store's stage history and subscriptions: run it on "
            "a store (Workspace.bowtie), or use a churn table for retention only"
        )
    return source


class BowtieOptions(TypedDict, total=False):
    """Keyword settings of :class:`Bowtie` (the facade's ``Workspace.bowtie(**options)``)."""

    cohort: str
    since: dt.date | None
    until: dt.date | None
    as_of: dt.date | None
    horizon_days: float | None
    mapping: str | Path | StageMapping | None
    gross_margin: float
    annual_discount_rate: float
    acquisition_cost: float | None
    retention_months: int


@dataclass(frozen=True)
class Bowtie:
    """Settings of the Bowtie (one field per ``winloss bowtie`` option).

    Parameters
    ----------
    cohort
        Entry cohorts by ``month`` or (fiscal) ``quarter``.
    since, until
        Only stage entries (and deals created) in this period, inclusive.
    as_of
        The date open deals and active customers are censored at; default: the latest date in
        the store.
    horizon_days
        Conversion is the chance to advance within this many days; default: the longest
        follow-up of the stage (all cohorts pooled).
    mapping
        A stage-mapping file (YAML/JSON, see :mod:`winloss.analyze.bowtie.stages`).
    gross_margin, annual_discount_rate
        For the lifetime value (discount 0 = undiscounted).
    acquisition_cost
        Sales and marketing cost of the period, for CAC and its payback.
    retention_months
        Months shown on the retention curve.
    """

    cohort: str = "quarter"
    since: dt.date | None = None
    until: dt.date | None = None
    as_of: dt.date | None = None
    horizon_days: float | None = None
    mapping: str | Path | StageMapping | None = None
    gross_margin: float = 1.0
    annual_discount_rate: float = 0.0
    acquisition_cost: float | None = None
    retention_months: int = 24

    def __post_init__(self) -> None:
        if self.cohort not in COHORTS:
            raise UsageError(f"cohort must be one of {', '.join(COHORTS)}")
        if not 0 < self.gross_margin <= 1:
            raise UsageError("gross margin must be in (0, 1], e.g. 0.8 for 80 %")

    def stage_mapping(self) -> StageMapping:
        if isinstance(self.mapping, StageMapping):
            return self.mapping
        if self.mapping is None:
            return StageMapping.default()
        return StageMapping.from_file(self.mapping)

    def run(self, source: DealSource) -> BowtieResult:
        store = _store(source)
        mapping = self.stage_mapping()
        as_of = self.as_of or q.data_as_of(store)
        if as_of is None:
            raise InsufficientDataError(
                "the Bowtie needs dated deals and the store has none (no created or close date): "
                "import the deals again with their created_at and closed_at columns (`winloss "
                "import deals FILE --column created_at=COLUMN`), or import deals first"
            )
        warnings: list[str] = []
        fy = store.fiscal_year_start_month

        # -- before the sale
        names = q.stage_name_counts(store)
        counts = q.presale_spell_counts(
            store,
            mapping.orders(names["name"]),
            as_of=as_of,
            cohort=self.cohort,
            entry_stage_order=PRE_SALE.index(mapping.deal_entry_stage),
            since=self.since,
            until=self.until,
        )
        pre, pre_cohorts = stage_tables(counts, PRE_SALE, "pre", self.horizon_days)
        cycle_counts = q.deal_cycle_counts(
            store, as_of=as_of, cohort=self.cohort, since=self.since, until=self.until
        )
        cycle = _cycle_table(cycle_counts, self.horizon_days)
        commit = PRE_SALE.index("commit")
        # the knot: its volume is the won deals; its time is the sales cycle measured on the deals
        pre.loc[
            commit,
            [
                "conversion",
                "conversion_ci_low",
                "conversion_ci_high",
                "naive_conversion",
                "closed_conversion",
                "q1_days",
                "q3_days",
                "median_days_to_advance",
            ],
        ] = float("nan")
        pre.loc[commit, "median_days"] = (
            cycle.iloc[0]["median_days_won"] if not cycle.empty else float("nan")
        )
        # the knot has no spell of its own: nothing is censored in it
        pre.loc[commit, ["advanced", "lost", "censored"]] = 0
        pre_cohorts = pre_cohorts[pre_cohorts["stage"] != "commit"].reset_index(drop=True)
        entry = mapping.deal_entry_stage
        volume = dict(zip(pre["stage"], pre["volume"], strict=True))
        before_entry = [
            st
            for st in PRE_SALE[: PRE_SALE.index(entry)]
            if volume.get(st, 0) < volume.get(entry, 0)
        ]
        if before_entry and any(volume.get(st, 0) for st in before_entry):
            # a funnel whose first stages hold fewer deals than a later one reads as a mistake
            shown = ", ".join(f"{st} {int(volume.get(st, 0)):,}" for st in before_entry)
            warnings.append(
                f"volumes grow towards {entry} ({shown}; {entry} "
                f"{int(volume.get(entry, 0)):,}): every deal enters the funnel at {entry}, the "
                "stage a deal is created in, while earlier stages count only the deals whose "
                "stage history records them; import the lead stages' history, or set "
                "deal_entry_stage in --mapping"
            )
        unmapped = names[[mapping.target(n) is None for n in names["name"]]].reset_index(drop=True)
        if len(unmapped):
            shown = ", ".join(f"{n!r}" for n in unmapped["name"].head(8))
            warnings.append(
                f"{len(unmapped)} stage name(s) map to no Bowtie stage and were left "
                f"out of the funnel: {shown}; map them with --mapping FILE"
            )
        undated = q.undated_deals(store)
        if len(undated):
            warnings.append(
                f"{int(undated['deals'].sum())} deal(s) have no creation date (or "
                "no close date although closed) and could not be placed in time"
            )

        # -- after the sale
        lives = q.customer_lives(
            store,
            as_of=as_of,
            onboarding_events=mapping.onboarding_events,
            impact_events=mapping.impact_events,
        )
        post_counts = (
            post_sale_spells(
                lives,
                as_of=as_of,
                cohort=self.cohort,
                fiscal_year_start_month=fy,
                since=self.since,
                until=self.until,
            )
            if len(lives)
            else counts[:0]
        )
        post, post_cohorts = stage_tables(post_counts, POST_SALE, "post", self.horizon_days)
        if len(lives) and lives["impact_at"].isna().all():
            # without a single impact milestone, onboarding "advanced" only where a customer
            # expanded: a trial read 13 % (4 expansions of 30) as onboarding's conversion
            blank = [c for c in STAGE_COLUMNS if "conversion" in c or "advance" in c]
            for table in (post, post_cohorts):
                table.loc[table["stage"] == "onboarding", blank] = np.nan
            warnings.append(
                "no customer has an impact milestone (usage events named "
                f"{', '.join(mapping.impact_events)}): onboarding's conversion to impact is "
                "not measured; import usage events, or name your milestone with impact_events "
                "in --mapping"
            )
        if lives.empty:
            warnings.append(
                "no subscriptions: the post-sale side is empty (import them with "
                "`winloss import subscriptions FILE`)"
            )
        # records, not concat: an all-NaN side (no subscriptions) must not change the dtypes
        stages = pd.DataFrame(
            pre.to_dict("records") + post.to_dict("records"), columns=STAGE_COLUMNS
        )
        cohorts = pd.DataFrame(
            pre_cohorts.to_dict("records") + post_cohorts.to_dict("records"),
            columns=STAGE_COLUMNS,
        )

        ret, ltv, per_customer, per_customer_se, current = self._post_sale(
            store, lives, as_of, warnings
        )
        cac = None
        if self.acquisition_cost is not None:
            new = (
                int(
                    (
                        (pd.to_datetime(lives["start"]) >= pd.Timestamp(self.since or dt.date.min))
                        & (pd.to_datetime(lives["start"]) <= pd.Timestamp(self.until or as_of))
                    ).sum()
                )
                if len(lives)
                else 0
            )
            arpu = float(ltv.iloc[0]["arpu"]) if len(ltv) else float("nan")
            cac = retention.cac_payback(self.acquisition_cost, new, arpu, self.gross_margin)
        loop_data = {
            "nurture": loops.nurture_loop(q.nurture_returns(store), q.first_time_win_rate(store)),
            "growth": loops.growth_loop(lives, as_of),
        }
        n = (
            int(
                counts.loc[counts["ord"] == counts["ord"].min(), ["advanced", "lost", "censored"]]
                .sum()
                .sum()
            )
            if len(counts)
            else 0
        )
        period = f"{self.since or 'start'}..{self.until or as_of}"
        return BowtieResult(
            inputs=AnalysisInputs.of(
                int(cycle_counts[["won", "lost", "censored"]].sum().sum())
                if len(cycle_counts)
                else n,
                period=period,
            ),
            as_of=as_of,
            cohort=self.cohort,
            stages=stages,
            cohorts=cohorts,
            cycle=cycle,
            retention=ret,
            ltv=ltv,
            cac=cac,
            loops=loop_data,
            unmapped_stages=unmapped,
            current_mrr=current,
            mrr_per_customer=per_customer,
            mrr_per_customer_se=per_customer_se,
            nrr_se=retention.nrr_standard_error(self._windows_frame(store, lives, as_of)),
            warnings=tuple(warnings),
        )

    # -- helpers --------------------------------------------------------------------------------
    def _windows_frame(
        self, store: DuckDBStore, lives: pd.DataFrame, as_of: dt.date
    ) -> pd.DataFrame:
        if lives.empty:
            return pd.DataFrame(columns=["window", "account_id", "mrr_start", "mrr_end"])
        first = pd.to_datetime(lives["start"]).min().date()
        windows: list[tuple[str, dt.date, dt.date]] = []
        end = pd.Timestamp(as_of)
        while True:
            start = end - pd.DateOffset(months=12)
            if start.date() < first:
                break
            windows.append((end.date().isoformat(), start.date(), end.date()))
            end = end - pd.DateOffset(months=3)
        return q.mrr_windows(store, windows[::-1])

    def _post_sale(
        self, store: DuckDBStore, lives: pd.DataFrame, as_of: dt.date, warnings: list[str]
    ) -> tuple[RetentionSummary, pd.DataFrame, float, float, float]:
        if lives.empty:
            empty = RetentionSummary(
                curve=pd.DataFrame(columns=["month", "retention", "at_risk"]),
                monthly_churn=float("nan"),
                customers=0,
                churned=0,
                windows=retention.revenue_retention(
                    pd.DataFrame(columns=["window", "mrr_start", "mrr_end"])
                ),
                by_group=pd.DataFrame(columns=["group", "month", "retention"]),
            )
            return empty, pd.DataFrame(), float("nan"), float("nan"), 0.0
        end = pd.Timestamp(as_of)
        start = pd.to_datetime(lives["start"])
        churn = pd.to_datetime(lives["churn_at"])
        stop = churn.where(churn.notna() & (churn <= end), end)
        months = ((stop - start).dt.days / retention.DAYS_PER_MONTH).to_numpy(float)
        churned = (churn.notna() & (churn <= end)).to_numpy(float)
        # LTV's revenue per month: MRR now for active customers, MRR at the start otherwise
        mrr = (
            lives["current_mrr"]
            .where(lives["current_mrr"] > 0, lives["start_mrr"])
            .fillna(0.0)
            .to_numpy(float)
        )
        groups = lives["segment"].fillna("(no segment)").astype(str).to_numpy()
        windows = retention.revenue_retention(self._windows_frame(store, lives, as_of))
        if windows.empty:
            warnings.append("GRR/NRR need 12 months of subscriptions; the store has less")
        ret, ltv = retention_and_ltv(
            months,
            churned,
            mrr,
            groups,
            self.retention_months,
            self.gross_margin,
            self.annual_discount_rate,
        )
        few = retention.few_churned_warning(ltv)
        if few:
            warnings.append(few)
        start_mrr = lives["start_mrr"].dropna().to_numpy(float)
        se = float(start_mrr.std(ddof=1) / np.sqrt(len(start_mrr))) if len(start_mrr) > 1 else 0.0
        current = float(lives["current_mrr"].fillna(0.0).sum())
        ret = RetentionSummary(
            curve=ret.curve,
            monthly_churn=ret.monthly_churn,
            customers=ret.customers,
            churned=ret.churned,
            windows=windows,
            by_group=ret.by_group,
        )
        return ret, ltv, float(start_mrr.mean()) if len(start_mrr) else float("nan"), se, current


def monthly_discount(annual_rate: float) -> float:
    """The monthly rate equivalent to an annual discount rate."""
    return float((1.0 + annual_rate) ** (1.0 / 12.0) - 1.0)


def retention_and_ltv(
    months: np.ndarray,
    churned: np.ndarray,
    revenue: np.ndarray,
    groups: np.ndarray,
    curve_months: int,
    gross_margin: float,
    annual_discount_rate: float,
) -> tuple[RetentionSummary, pd.DataFrame]:
    """Retention curve (all and per group), monthly churn and LTV per group (first row: all)."""
    r = monthly_discount(annual_discount_rate)
    curve = retention.retention_curve(months, churned, curve_months)
    parts = [curve.assign(group="all")[["group", "month", "retention"]]]
    values = [
        retention.lifetime_value(
            "all", months, churned, revenue, gross_margin=gross_margin, monthly_discount=r
        )
    ]
    for g in sorted(set(groups.tolist())):
        mask = groups == g
        parts.append(
            retention.retention_curve(months[mask], churned[mask], curve_months).assign(group=g)[
                ["group", "month", "retention"]
            ]
        )
        values.append(
            retention.lifetime_value(
                g,
                months[mask],
                churned[mask],
                revenue[mask],
                gross_margin=gross_margin,
                monthly_discount=r,
            )
        )
    ltv = pd.DataFrame([v.__dict__ for v in values])
    summary = RetentionSummary(
        curve=curve,
        monthly_churn=retention.monthly_churn(months, churned),
        customers=int(len(months)),
        churned=int(churned.sum()),
        windows=retention.revenue_retention(
            pd.DataFrame(columns=["window", "mrr_start", "mrr_end"])
        ),
        by_group=pd.concat(parts, ignore_index=True),
    )
    return summary, ltv


def _cycle_table(counts: pd.DataFrame, horizon: float | None) -> pd.DataFrame:
    """Sales cycle per creation cohort (first row: all): KM days to close, censored win rate."""
    cols = [
        "cohort",
        "deals",
        "won",
        "lost",
        "open",
        "win_rate",
        "naive_win_rate",
        "closed_win_rate",
        "median_days_to_close",
        "median_days_won",
    ]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    groups = [("all", counts)] + [(str(c), p) for c, p in counts.groupby("cohort", sort=True)]
    pooled = competing_risks(counts["days"], counts["won"], counts["lost"], counts["censored"])
    from winloss.analyze.bowtie.funnel import weighted_median
    from winloss.analyze.bowtie.survival import conversion_by

    h = horizon if horizon is not None else pooled.max_follow_up
    for label, part in groups:
        risks = competing_risks(part["days"], part["won"], part["lost"], part["censored"])
        rate, _ = conversion_by(risks, h, pooled if label != "all" else None)
        n = risks.n
        rows.append(
            {
                "cohort": label,
                "deals": n,
                "won": risks.n_advanced,
                "lost": risks.n_lost,
                "open": risks.n_censored,
                "win_rate": rate,
                "naive_win_rate": risks.naive_rate,
                "closed_win_rate": risks.closed_rate,
                "median_days_to_close": risks.quantile(0.5),
                "median_days_won": weighted_median(part["days"], part["won"]),
            }
        )
    return pd.DataFrame(rows, columns=cols)


# -- a churn table (one row per customer) ---------------------------------------------------------
TENURE_NAMES = ("tenure", "tenure_months", "months", "lifetime_months")
CHURN_NAMES = ("churn", "churned", "is_churned", "churn_flag", "exited")
CHARGE_NAMES = ("monthlycharges", "monthly_charges", "monthly_charge", "mrr", "arpu")
GROUP_NAMES = ("contract", "plan", "segment")
YES = {"yes", "y", "true", "1", "churned", "t"}
NO = {"no", "n", "false", "0", "active", "f", "retained"}


class ChurnTableOptions(TypedDict, total=False):
    """Keyword settings of :class:`ChurnTableBowtie`."""

    tenure_column: str | None
    churn_column: str | None
    charge_column: str | None
    group_column: str | None
    gross_margin: float
    annual_discount_rate: float
    acquisition_cost: float | None
    retention_months: int


@dataclass(frozen=True)
class ChurnTableBowtie:
    """The right side of the Bowtie from a churn table: one row per customer with its tenure in
    months, monthly charge, churned yes/no and a group (e.g. contract). Columns are found by name
    (case-insensitive) unless given."""

    tenure_column: str | None = None
    churn_column: str | None = None
    charge_column: str | None = None
    group_column: str | None = None
    gross_margin: float = 1.0
    annual_discount_rate: float = 0.0
    acquisition_cost: float | None = None
    retention_months: int = 24

    def run_frame(self, frame: pd.DataFrame, *, file: str = "the churn table") -> BowtieResult:
        tenure_col = _column(frame, self.tenure_column, TENURE_NAMES, "tenure", file)
        churn_col = _column(frame, self.churn_column, CHURN_NAMES, "churn", file)
        charge_col = _column(frame, self.charge_column, CHARGE_NAMES, "monthly charge", file)
        group_col = (
            _column(frame, self.group_column, GROUP_NAMES, "group", file)
            if self.group_column or any(c.lower() in GROUP_NAMES for c in frame.columns)
            else None
        )
        tenure = pd.to_numeric(frame[tenure_col], errors="coerce")
        bad = tenure.isna() | (tenure < 0)
        if bad.any():
            row = int(np.argmax(bad.to_numpy())) + 2
            raise UsageError(
                f"{file}: row {row}, column {tenure_col!r}: tenure must be a "
                f"number of months ≥ 0 (value {frame[tenure_col].iloc[row - 2]!r})"
            )
        churned = _yes_no(frame[churn_col], churn_col, file)
        charge = pd.to_numeric(frame[charge_col], errors="coerce")
        if charge.isna().any():
            row = int(np.argmax(charge.isna().to_numpy())) + 2
            raise UsageError(
                f"{file}: row {row}, column {charge_col!r}: not a number; fix the "
                "value or choose another --charge-column"
            )
        groups = (
            frame[group_col].fillna("(none)").astype(str).to_numpy()
            if group_col
            else np.full(len(frame), "all")
        )
        ret, ltv = retention_and_ltv(
            tenure.to_numpy(float),
            churned,
            charge.to_numpy(float),
            groups,
            self.retention_months,
            self.gross_margin,
            self.annual_discount_rate,
        )
        cac = None
        if self.acquisition_cost is not None:
            cac = retention.cac_payback(
                self.acquisition_cost, len(frame), float(ltv.iloc[0]["arpu"]), self.gross_margin
            )
        empty = pd.DataFrame(columns=STAGE_COLUMNS)
        return BowtieResult(
            inputs=AnalysisInputs.of(len(frame), period="churn table"),
            as_of=dt.date.today(),
            cohort="none",
            stages=empty,
            cohorts=empty,
            cycle=pd.DataFrame(),
            retention=ret,
            ltv=ltv,
            cac=cac,
            loops={},
            unmapped_stages=pd.DataFrame(columns=["source", "name", "rows"]),
            mrr_per_customer=float(charge.mean()),
            warnings=(
                "a churn table has no stage history, subscriptions over time or deals: "
                "only retention, churn and lifetime value are computed",
            ),
        )


def _column(
    frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, file: str
) -> str:
    if given is not None:
        if given not in frame.columns:
            raise UsageError(
                f"{file}: no column {given!r} (the {what} column); columns are "
                f"{', '.join(map(str, frame.columns))}"
            )
        return given
    for col in frame.columns:
        if str(col).strip().lower() in names:
            return str(col)
    raise UsageError(
        f"{file}: no {what} column found (looked for {', '.join(names)}); name it "
        f"with --{what.replace(' ', '-')}-column"
    )


def _yes_no(values: pd.Series, column: str, file: str) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    ok = text.isin(YES | NO)
    if not ok.all():
        row = int(np.argmax(~ok.to_numpy())) + 2
        raise UsageError(
            f"{file}: row {row}, column {column!r}: churned must be yes/no "
            f"(value {values.iloc[row - 2]!r})"
        )
    flags: np.ndarray = text.isin(YES).to_numpy(float)
    return flags


__all__ = ["Bowtie", "BowtieResult", "ChurnTableBowtie", "RetentionSummary", "cohort_label"]
