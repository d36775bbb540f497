"""``winloss simulate``: the compounding simulator run on the Bowtie measured from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.bowtie.analysis import Bowtie, BowtieResult
from winloss.analyze.bowtie.simulator import (
    GrowthModel,
    MonteCarlo,
    apply_lever,
    check_lever,
    monte_carlo,
    parse_lever,
    project_model,
)
from winloss.errors import InsufficientDataError, UsageError
from winloss.serialize import plain, records

if TYPE_CHECKING:
    from winloss.model.deals import DealSource

RANK_YEAR = 3


@dataclass(frozen=True)
class SimulationResult(AnalysisResult):
    """Projected revenue per quarter, the effect of each lever, and the Monte Carlo target odds."""

    inputs: AnalysisInputs
    model: GrowthModel
    years: int
    quarters: pd.DataFrame  # quarter, bookings, new_mrr, mrr, revenue (baseline)
    levers: pd.DataFrame  # lever, revenue per year, effect on the ranking year, rank
    monte_carlo: MonteCarlo
    warnings: tuple[str, ...] = ()
    #: why the projected revenue is zero (no recurring revenue to project) and what to import
    zero_revenue_reason: str | None = None

    @property
    def summary(self) -> pd.DataFrame:
        return self.levers

    @property
    def levers_title(self) -> str:
        """What the lever table is: a ranking, or the baseline alone when no lever was given."""
        year = min(RANK_YEAR, self.years)
        if len(self.levers) > 1:
            return f"Levers ranked by their effect on year-{year} revenue"
        return "Baseline revenue per year (no lever to rank: add --lever, e.g. cr.*=+10%)"

    def to_dict(self) -> dict[str, Any]:
        mc = self.monte_carlo
        data: dict[str, Any] = plain(
            {
                "inputs": self.inputs.to_dict(),
                "model": {
                    "stages": list(self.model.stages),
                    "conversion": list(self.model.conversion),
                    "days": list(self.model.days),
                    "volume_per_quarter": self.model.volume,
                    "mrr_per_deal": self.model.mrr_per_deal,
                    "nrr": self.model.nrr,
                    "starting_mrr": self.model.starting_mrr,
                },
                "years": self.years,
                "quarters": records(self.quarters),
                "levers": records(self.levers),
                "monte_carlo": {
                    "draws": mc.draws,
                    "level": mc.level,
                    "revenue_low": mc.revenue_low,
                    "revenue_median": mc.revenue_median,
                    "revenue_high": mc.revenue_high,
                    "target_growth": mc.target_growth,
                    "target_revenue": mc.target_revenue,
                    "probability": mc.probability,
                },
                "warnings": list(self.warnings),
                "zero_revenue_reason": self.zero_revenue_reason,
            }
        )
        return data


def growth_model(
    bowtie: BowtieResult, *, recent_quarters: int = 4
) -> tuple[GrowthModel, list[str]]:
    """The simulator's inputs measured by a quarterly Bowtie: pre-sale stages up to commit."""
    warnings: list[str] = []
    pre = bowtie.stages[
        (bowtie.stages["side"] == "pre")
        & (bowtie.stages["stage"] != "commit")
        & (bowtie.stages["volume"] > 0)
    ]
    if pre.empty:
        raise InsufficientDataError(
            "no pre-sale stage has entries in the period: choose a period with deals "
            "(--since/--until or --period), or import deals (and their stage history)"
        )
    first = str(pre.iloc[0]["stage"])
    # deals that enter the funnel at a later stage (no history of the first) are not in the
    # volume the simulation starts from: say so, with how many (a trial lost half the bookings)
    later = pre.iloc[1:]
    if len(later) and int(later["volume"].max()) > int(pre.iloc[0]["volume"]):
        top = later.loc[later["volume"].idxmax()]
        warnings.append(
            f"at least {int(top['volume']) - int(pre.iloc[0]['volume']):,} more deals reached "
            f"{top['stage']} ({int(top['volume']):,}) than entered {first} "
            f"({int(pre.iloc[0]['volume']):,}): deals that skip the first stage are not in the "
            "simulated volume, so new bookings are understated; import their full stage history"
        )
    entries = bowtie.cohorts[(bowtie.cohorts["stage"] == first)].sort_values("cohort")
    # complete quarters only: the as-of quarter is usually partial
    entries = entries.iloc[:-1] if len(entries) > 1 else entries
    recent = entries.tail(recent_quarters)
    volume_entries = float(recent["volume"].sum())
    quarters = float(len(recent))
    days = pre["median_days_to_advance"].fillna(pre["median_days"]).fillna(0.0)
    mrr = bowtie.mrr_per_customer
    mrr_se = bowtie.mrr_per_customer_se
    has_subscriptions = bool(np.isfinite(mrr))
    if not has_subscriptions:
        warnings.append("no subscriptions: each won deal adds no recurring revenue")
        mrr, mrr_se = 0.0, 0.0
    latest = bowtie.retention.latest
    nrr = float(latest.get("nrr", float("nan"))) if latest else float("nan")
    nrr_se = bowtie.nrr_se
    if not np.isfinite(nrr):
        if has_subscriptions:
            warnings.append("NRR unknown (less than 12 months of subscriptions): taken as 100 %")
        nrr, nrr_se = 1.0, 0.0
    model = GrowthModel(
        stages=tuple(str(s) for s in pre["stage"]),
        conversion=tuple(float(c) for c in pre["conversion"].fillna(0.0)),
        days=tuple(float(d) for d in days),
        volume=volume_entries / quarters if quarters else 0.0,
        mrr_per_deal=float(mrr),
        nrr=nrr,
        starting_mrr=float(bowtie.current_mrr),
        conversion_n=tuple(float(n) for n in pre["effective_n"].fillna(0.0)),
        volume_entries=volume_entries,
        volume_quarters=quarters,
        nrr_se=float(nrr_se) if np.isfinite(nrr_se) else 0.0,
        mrr_per_deal_se=float(mrr_se) if np.isfinite(mrr_se) else 0.0,
    )
    return model, warnings


def lever_table(model: GrowthModel, levers: tuple[str, ...], years: int) -> pd.DataFrame:
    """Revenue per year for the baseline, each lever alone and all together; ranked."""
    quarters = 4 * years
    rank_year = min(RANK_YEAR, years)
    base = project_model(model, quarters)
    parsed = [parse_lever(text, model.stages) for text in levers]
    for lever in parsed:
        check_lever(model, lever)  # refuses a named stage pushed outside 0–100 %
    runs: list[tuple[str, GrowthModel]] = [("baseline", model)]
    for lever in parsed:
        runs.append((lever.text, apply_lever(model, lever)))
    if len(parsed) > 1:
        combined = model
        for lever in parsed:
            combined = apply_lever(combined, lever)
        runs.append(("all levers", combined))
    rows = []
    base_rank = float(base.year_revenue(rank_year)[0])
    base_bookings = float(base.bookings.sum())
    for name, m in runs:
        proj = project_model(m, quarters, baseline=model)
        row: dict[str, Any] = {"lever": name}
        for y in range(1, years + 1):
            row[f"revenue_y{y}"] = float(proj.year_revenue(y)[0])
        rank_rev = float(proj.year_revenue(rank_year)[0])
        row["effect"] = rank_rev - base_rank
        row["effect_pct"] = (rank_rev / base_rank - 1.0) if base_rank else float("nan")
        row["bookings_ratio"] = (
            float(proj.bookings.sum()) / base_bookings if base_bookings else float("nan")
        )
        rows.append(row)
    table = pd.DataFrame(rows)
    single = table["lever"].isin([p.text for p in parsed])
    table["rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table.loc[single, "rank"] = (
        table.loc[single, "effect"].rank(ascending=False, method="min").astype("Int64")
    )
    return table


def lever_notes(model: GrowthModel, levers: tuple[str, ...]) -> list[str]:
    """What capping did to the levers (``cr.*`` past 100 %); refuses the impossible ones."""
    notes = [check_lever(model, parse_lever(text, model.stages)) for text in levers]
    return [n for n in notes if n is not None]


def explain_zero_revenue(
    model: GrowthModel,
    *,
    has_subscriptions: bool | None,
    won_deals: int = 0,
    won_amount: float = 0.0,
) -> str | None:
    """Why a projection of ``model`` is zero revenue throughout, and what to import (``None`` when
    it is not): the simulator projects recurring revenue (MRR), which only subscriptions carry.
    ``has_subscriptions`` is ``None`` for a model given by hand."""
    if model.mrr_per_deal > 0 or model.starting_mrr > 0:
        return None
    won = ""
    if won_deals:
        won = f" The store's {won_deals:,} won deals"
        won += f" (worth {won_amount:,.0f} in amount)" if won_amount > 0 else ""
        won += " are bookings, not recurring revenue."
    if has_subscriptions is None:
        why = "the model has neither MRR per won deal nor a starting MRR"
        todo = "give it mrr_per_deal or starting_mrr"
    elif not has_subscriptions:
        why = "the store has no subscriptions"
        todo = "import the subscriptions with `winloss import subscriptions FILE` (docs/bowtie.md)"
    else:
        why = "the subscriptions carry no MRR"
        todo = "check the mrr column of the subscriptions and re-import them"
    return (
        f"revenue is 0: the simulator projects recurring revenue (MRR), and {why}.{won} "
        f"To project revenue, {todo}."
    )


class SimulateOptions(TypedDict, total=False):
    """Keyword settings of :class:`Simulate` (the facade's ``Workspace.simulate(**options)``)."""

    years: int
    levers: tuple[str, ...]
    target_growth: float | None
    draws: int
    seed: int
    level: float
    bowtie: Bowtie


@dataclass(frozen=True)
class Simulate:
    """Settings of ``winloss simulate`` (one field per option).

    Parameters
    ----------
    years
        Years projected (quarterly).
    levers
        Changes to try, e.g. ``cr.selection=+5%``, ``dt.selection=-10%``, ``nrr=+2pt``.
    target_growth
        Compound annual revenue growth to reach (0.3 = 30 % a year): its Monte Carlo probability.
    draws, seed, level
        Monte Carlo draws, their seed and the central interval reported.
    bowtie
        The Bowtie settings the rates are measured with (quarterly cohorts).
    """

    years: int = 3
    levers: tuple[str, ...] = ()
    target_growth: float | None = None
    draws: int = 2000
    seed: int = 0
    level: float = 0.9
    bowtie: Bowtie = field(default_factory=Bowtie)

    def __post_init__(self) -> None:
        if self.target_growth is not None and not self.target_growth > -1.0:
            raise UsageError(
                f"target growth {self.target_growth:g} ({self.target_growth:.0%}/year): revenue "
                "cannot shrink by 100 % or more a year; give a growth above -1 "
                "(0.3 = 30 %/year, -0.1 = 10 % less a year)"
            )

    def run(self, source: DealSource) -> SimulationResult:
        settings = self.bowtie
        if settings.cohort != "quarter":
            settings = Bowtie(**{**settings.__dict__, "cohort": "quarter"})
        measured = settings.run(source)
        model, warnings = growth_model(measured)
        has_subscriptions = bool(np.isfinite(measured.mrr_per_customer))
        reason = None
        if model.mrr_per_deal <= 0 and model.starting_mrr <= 0:
            won = source.closed_deals()
            won = won[won["outcome"] == "won"]
            amount = float(pd.to_numeric(won["amount"], errors="coerce").sum())
            reason = explain_zero_revenue(
                model, has_subscriptions=has_subscriptions, won_deals=len(won), won_amount=amount
            )
            # the reason says it all; the bare note would repeat half of it
            warnings = [w for w in warnings if not w.startswith("no subscriptions: each won")]
        return self.run_model(
            model,
            inputs=measured.inputs,
            warnings=tuple(warnings) + measured.warnings,
            zero_revenue_reason=reason,
        )

    def run_model(
        self,
        model: GrowthModel,
        *,
        inputs: AnalysisInputs | None = None,
        warnings: tuple[str, ...] = (),
        zero_revenue_reason: str | None = None,
    ) -> SimulationResult:
        """Project and rank levers for an explicit model (toy cases, what-if inputs)."""
        notes = lever_notes(model, self.levers)
        if zero_revenue_reason is None:
            zero_revenue_reason = explain_zero_revenue(model, has_subscriptions=None)
        quarters = 4 * self.years
        base = project_model(model, quarters)
        table = pd.DataFrame(
            {
                "quarter": [f"+{q + 1}" for q in range(quarters)],
                "bookings": base.bookings[0],
                "new_mrr": base.new_mrr[0],
                "mrr": base.mrr[0],
                "revenue": base.revenue[0],
            }
        )
        mc = monte_carlo(
            model,
            years=self.years,
            draws=self.draws,
            seed=self.seed,
            level=self.level,
            target_growth=self.target_growth,
        )
        return SimulationResult(
            inputs=inputs or AnalysisInputs.of(0, period="model"),
            model=model,
            years=self.years,
            quarters=table,
            levers=lever_table(model, self.levers, self.years),
            monte_carlo=mc,
            warnings=warnings + tuple(notes),
            zero_revenue_reason=zero_revenue_reason,
        )
