"""Quarterly bookings forecast from the open pipeline, and its backtest.

For each deal open at the snapshot date (``as_of``):

* P(win) comes from the calibrated win-probability model trained on deals closed before ``as_of``;
* P(close in the quarter) is 1 when its expected close date (the CRM close date of an open deal, or
  the close date its stage history showed at ``as_of``) falls in the quarter and 0 when it falls
  outside; without a close date it comes from the Kaplan–Meier time-to-close of past deals at the
  deal's age (see :mod:`winloss.analyze.forecast.forecast_math`);
* its value is its amount — or, when the amount is missing or leaks the outcome (e.g. zero for every
  lost deal), a draw from the won amounts of past deals of the same product or segment.

Bookings are a sum of independent Bernoulli wins times amounts; the P10/P50/P90 come from 10,000
simulated quarters, in total and by segment and owner. Beside the model, the same deals are valued
with the historical win rate and, where present, the CRM's own probability field or the win rate of
each pipeline stage (from the stage history).

The backtest replays past quarters: a snapshot at each quarter start from the deals then open, a
model trained only on deals closed before it, and the actual bookings of those deals in the quarter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.forecast.forecast_math import (
    AmountSampler,
    close_in_window,
    forecast_log_errors,
    kaplan_meier,
    quantiles,
    quarter_spread,
    simulate_bookings,
    widen_by_errors,
)
from winloss.analyze.scoring.analysis import (
    Memo,
    ModelSettings,
    check_enough,
    fit_win_model,
    memo_of,
    outcome_vector,
)
from winloss.errors import InsufficientDataError, UsageError
from winloss.model.period import PARTIAL_DAYS
from winloss.serialize import records

if TYPE_CHECKING:
    from winloss.model.deals import DealSource
    from winloss.model.period import Quarter

#: Simulated quarters per replayed quarter, in the backtest and when the live forecast measures
#: its past errors (one number, so a forecast given a report's backtest equals one that replays).
BACKTEST_DRAWS = 5_000
#: Custom fields holding the CRM's own win probability (Salesforce "Probability (%)", HubSpot …).
PROBABILITY_FIELDS = (
    "probability",
    "deal_probability",
    "hs_deal_stage_probability",
    "stage_probability",
    "win_probability",
)


@dataclass(frozen=True)
class Snapshot:
    """One forecast: the deals open at ``as_of`` valued for the window, and the simulation."""

    deals: pd.DataFrame
    totals: dict[str, Any]
    by: dict[str, pd.DataFrame]
    comparison: pd.DataFrame
    model: dict[str, Any]
    caveats: tuple[str, ...]


def _days(a: Any, b: Any) -> np.ndarray:
    """(a − b) in days, elementwise (NaN where missing)."""
    delta = pd.to_datetime(pd.Series(a)).reset_index(drop=True) - pd.to_datetime(
        pd.Series(b)
    ).reset_index(drop=True)
    return np.asarray(delta.dt.days.to_numpy(dtype=float))


def _history_as_of(history: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Per deal, the last stage-history row entered before ``as_of`` (stage, close date, amount)."""
    if history is None or history.empty:
        return pd.DataFrame(columns=["deal_id", "stage", "close_date", "amount"])
    h = history[pd.to_datetime(history["entered_at"]) < pd.Timestamp(as_of)]
    h = h.sort_values(["deal_id", "entered_at"]).groupby("deal_id", as_index=False).tail(1)
    return h[["deal_id", "stage", "close_date", "amount"]]


def stage_win_rates(
    deals: pd.DataFrame, history: pd.DataFrame | None, as_of: dt.date
) -> dict[str, float]:
    """Win rate of the deals closed before ``as_of`` that passed through each stage."""
    if history is None or history.empty:
        return {}
    closed = deals[
        deals["outcome"].isin(["won", "lost"])
        & (pd.to_datetime(deals["closed_at"]) < pd.Timestamp(as_of))
    ]
    h = history[history["deal_id"].isin(closed["deal_id"])][["deal_id", "stage"]]
    h = h.drop_duplicates().merge(closed[["deal_id", "outcome"]], on="deal_id")
    rates = h.groupby("stage")["outcome"].agg(lambda s: float((s == "won").mean()))
    counts = h.groupby("stage").size()
    return {str(k): float(v) for k, v in rates.items() if counts[k] >= 10}


def crm_probability(frame: pd.DataFrame) -> pd.Series | None:
    """The CRM's own probability field as 0–1, if the deals carry one."""
    for name in PROBABILITY_FIELDS:
        if name in frame.columns and pd.api.types.is_numeric_dtype(frame[name].dtype):
            v = pd.to_numeric(frame[name], errors="coerce").astype(float)
            if v.notna().any():
                return v / 100.0 if v.max() > 1 else v
    return None


def forecast_snapshot(
    deals: pd.DataFrame,
    catalog: list[Any],
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    history: pd.DataFrame | None = None,
    live: bool = True,
    settings: ModelSettings | None = None,
    by: tuple[str, ...] = (),
    draws: int = 10_000,
    interval: float = 0.8,
    seed: int = 0,
    memo: Memo | None = None,
) -> Snapshot:
    """Forecast bookings in [``start``, ``end``] from the deals open at ``as_of``.

    ``live=True`` uses the open deals and their CRM close dates; ``live=False`` (backtest) rebuilds
    the pipeline of ``as_of`` from deals created before it and closed on or after it.
    """
    settings = settings or ModelSettings(n_bootstrap=0)
    caveats: list[str] = []
    ts = pd.Timestamp(as_of)
    closed_at = pd.to_datetime(deals["closed_at"])
    created = pd.to_datetime(deals["created_at"])
    is_closed = deals["outcome"].isin(["won", "lost"])
    train = deals[is_closed & (closed_at < ts)].reset_index(drop=True)
    if train["closed_at"].isna().all() if len(train) else True:
        raise InsufficientDataError(
            "the forecast needs closed deals with close dates before the snapshot; import deals "
            "with created and closed dates"
        )
    check_enough(outcome_vector(train), "the forecast's win model")
    if live:
        pipeline = deals[(deals["outcome"] == "open") & ~(created > ts)]
    else:
        pipeline = deals[(created < ts) & ((closed_at >= ts) | (deals["outcome"] == "open"))]
    pipeline = pipeline.reset_index(drop=True)
    open_now = deals[deals["outcome"] == "open"]
    model = fit_win_model(
        settings, train, catalog, open_deals=open_now, importance=False, memo=memo
    )
    caveats += model.caveats
    p_win = model.predict_frame(pipeline) if len(pipeline) else np.zeros(0)

    # -- timing: expected close date, else Kaplan-Meier at the deal's age --------------------
    snap = _history_as_of(history, as_of)
    hist = pipeline[["deal_id"]].merge(snap, on="deal_id", how="left")
    expected = pd.to_datetime(hist["close_date"])
    if live:
        expected = pd.to_datetime(pipeline["closed_at"]).fillna(expected)
    expected = expected.where(expected >= ts)  # an overdue close date says nothing: use timing
    seen = deals[created < ts]
    durations = np.where(
        seen["outcome"].isin(["won", "lost"]) & (seen["closed_at"] < ts),
        _days(seen["closed_at"], seen["created_at"]),
        _days(pd.Series([ts] * len(seen)), seen["created_at"]),
    )
    observed = (seen["outcome"].isin(["won", "lost"]) & (seen["closed_at"] < ts)).to_numpy()
    times, surv = kaplan_meier(durations, observed)
    age = _days(pd.Series([ts] * len(pipeline)), pipeline["created_at"])
    w0, w1 = max((start - as_of).days, 0), (end - as_of).days
    p_timing = close_in_window(times, surv, age, w0, w1)
    due = expected.notna().to_numpy()
    in_window = ((expected >= pd.Timestamp(start)) & (expected <= pd.Timestamp(end))).to_numpy()
    p_close = np.where(due, in_window.astype(float), p_timing)
    if (~due).any():
        caveats.append(
            f"{int((~due).sum())} deal(s) without a usable close date: their timing "
            "comes from past deals' time-to-close at the same age"
        )
    undated = np.isnan(age)

    # -- value: amount, else won amounts of similar deals ------------------------------------
    leaky_amount = any(e["field"] == "amount" and "check" in e for e in model.excluded)
    amount = (
        pd.to_numeric(pipeline.get("amount"), errors="coerce").to_numpy(dtype=float)
        if "amount" in pipeline.columns
        else np.full(len(pipeline), np.nan)
    )
    if not live and "amount" in hist.columns and hist["amount"].notna().any():
        amount = np.where(hist["amount"].notna(), hist["amount"].to_numpy(dtype=float), amount)
    sampler = AmountSampler.fit(train[train["outcome"] == "won"])
    impute = np.ones(len(pipeline), dtype=bool) if leaky_amount else ~(amount > 0)
    if leaky_amount:
        caveats.append(
            "amount leaks the outcome, so every deal is valued by the won amounts of "
            f"past deals{' of the same ' + sampler.key if sampler.key else ''}"
        )
    elif impute.any():
        caveats.append(
            f"{int(impute.sum())} deal(s) without an amount are valued by the won "
            "amounts of past deals"
        )
    value = np.where(impute, sampler.means(pipeline) if len(pipeline) else 0.0, amount)
    value = np.nan_to_num(value)
    # the most these deals can book: each won at its amount (an estimated amount at the largest
    # won amount it is drawn from)
    largest = np.array([float(p.max()) if len(p) else 0.0 for p in sampler.pools(pipeline)])
    ceiling = float(np.where(impute, largest, value).sum()) if len(pipeline) else 0.0

    p_book = p_win * p_close
    groups = {
        dim: pipeline[dim].fillna("(none)").astype(str).to_numpy()
        for dim in by
        if dim in pipeline.columns and pipeline[dim].notna().any()
    }
    spread, estimated = quarter_spread(train)
    if not estimated:
        per_quarter = (
            train.groupby(train["quarter"].astype(str)).size()
            if "quarter" in train.columns
            else pd.Series(dtype=int)
        )
        big = int((per_quarter >= 20).sum())
        caveats.append(
            f"{big} of {len(per_quarter)} quarter(s) before {as_of} have 20 or more closed "
            "deals with both wins and losses (3 are needed to measure how much the win rate "
            f"moves between quarters): that spread is assumed ({spread} on the logit scale)"
        )
    sim = simulate_bookings(
        p_win,
        p_close,
        value,
        pools=sampler.pools(pipeline),
        impute=impute,
        groups=groups,
        quarter_sd=spread,
        draws=draws,
        seed=seed,
    )
    lo, mid, hi = quantiles(sim.bookings, interval)
    wlo, wmid, whi = quantiles(sim.wins, interval)
    table = pipeline[
        [
            c
            for c in ("deal_id", "account_name", "owner", "segment", "stage")
            if c in pipeline.columns
        ]
    ].copy()
    table["amount"] = value
    table["amount_estimated"] = impute
    table["expected_close"] = expected.dt.date.to_numpy() if len(pipeline) else []
    table["p_win"], table["p_close"], table["p_booked"] = p_win, p_close, p_book
    table["expected"] = p_book * value
    if undated.any():
        # how much of the figure they make: Maven's 500 undated deals were 74 % of it, and the
        # backtest, which replays dated deals only, never measured them
        part = float((p_book * value)[undated].sum())
        whole = float((p_book * value).sum())
        share = f", {part / whole:.0%} of the expected bookings" if whole > 0 else ""
        caveats.append(
            f"{int(undated.sum())} open deal(s) without a created date are treated as new "
            f"({part:,.0f}{share}); a backtest replays only deals with a created date, so its "
            "correction is not measured on them"
        )
    totals = {
        "n_deals": len(pipeline),
        "pipeline": float(value.sum()),
        "ceiling": ceiling,
        # what of it is due in the quarter (by close date, else by past time-to-close): the
        # base the expected bookings come from (deals due later add nothing to them)
        "n_in_window": float(p_close.sum()),
        "pipeline_in_window": float((value * p_close).sum()),
        "expected": float((p_book * value).sum()),
        "p10": lo,
        "p50": mid,
        "p90": hi,
        "expected_wins": float(p_book.sum()),
        "wins_p10": wlo,
        "wins_p50": wmid,
        "wins_p90": whi,
        "quarter_spread": spread,
    }
    by_tables = {}
    for dim, per in sim.group_bookings.items():
        rows = []
        for g, draws_g in per.items():
            mask = groups[dim] == g
            glo, gmid, ghi = quantiles(draws_g, interval)
            rows.append(
                {
                    dim: g,
                    "n_deals": int(mask.sum()),
                    "pipeline": float(value[mask].sum()),
                    "n_in_window": float(p_close[mask].sum()),
                    "pipeline_in_window": float((value * p_close)[mask].sum()),
                    "expected": float((p_book * value)[mask].sum()),
                    "p10": glo,
                    "p50": gmid,
                    "p90": ghi,
                }
            )
        by_tables[dim] = pd.DataFrame(rows).sort_values(
            "expected", ascending=False, ignore_index=True
        )
    comparison = _comparison(train, pipeline, history, as_of, p_book, p_close, value, live)
    return Snapshot(table, totals, by_tables, comparison, model.describe(), tuple(caveats))


def _comparison(
    train: pd.DataFrame,
    pipeline: pd.DataFrame,
    history: pd.DataFrame | None,
    as_of: dt.date,
    p_book: np.ndarray,
    p_close: np.ndarray,
    value: np.ndarray,
    live: bool,
) -> pd.DataFrame:
    """Expected bookings of the same deals by the model and by the simpler methods."""
    rate = float((train["outcome"] == "won").mean())
    rows = [
        {"method": "winloss model", "expected": float((p_book * value).sum())},
        {"method": "historical win rate", "expected": float((rate * p_close * value).sum())},
    ]
    crm = crm_probability(pipeline) if live else None
    if crm is not None:
        p = crm.fillna(rate).to_numpy(dtype=float)
        rows.append(
            {"method": "CRM probability field", "expected": float((p * p_close * value).sum())}
        )
    rates = stage_win_rates(train, history, as_of)
    if rates:
        stage = (
            pipeline["stage"]
            if live
            else pipeline[["deal_id"]].merge(
                _history_as_of(history, as_of), on="deal_id", how="left"
            )["stage"]
        )
        p = stage.map(rates).fillna(rate).to_numpy(dtype=float)
        rows.append({"method": "stage win rates", "expected": float((p * p_close * value).sum())})
    return pd.DataFrame(rows)


#: The figures of each row of :attr:`ForecastResult.summary` (total and groups), after its labels.
SUMMARY_FIGURES = (
    "n_deals",
    "pipeline",
    "n_in_window",
    "pipeline_in_window",
    "expected",
    "p10",
    "p50",
    "p90",
)


@dataclass(frozen=True)
class ForecastResult(AnalysisResult):
    """Expected bookings of a quarter with P10/P50/P90, by group, beside simpler methods."""

    quarter: str
    as_of: dt.date
    totals: dict[str, Any]
    by: dict[str, pd.DataFrame]
    comparison: pd.DataFrame
    deals: pd.DataFrame
    model: dict[str, Any]
    inputs: AnalysisInputs
    caveats: tuple[str, ...] = ()

    @property
    def n_deals(self) -> int:
        """Open deals forecast."""
        return int(self.totals["n_deals"])

    @property
    def expected(self) -> float:
        """Expected bookings: corrected by the backtest whenever P10–P90 are (the figure that
        belongs with them); :attr:`model_expected` is the simulation's."""
        return float(self.totals["expected"])

    @property
    def p10(self) -> float:
        return float(self.totals["p10"])

    @property
    def p50(self) -> float:
        return float(self.totals["p50"])

    @property
    def p90(self) -> float:
        return float(self.totals["p90"])

    @property
    def expected_wins(self) -> float:
        return float(self.totals["expected_wins"])

    @property
    def wins_p10(self) -> float:
        return float(self.totals["wins_p10"])

    @property
    def wins_p90(self) -> float:
        return float(self.totals["wins_p90"])

    @property
    def won_to_date(self) -> float:
        """Bookings already won in the quarter before ``as_of``."""
        return float(self.inputs.details["won_to_date"])

    @property
    def model_expected(self) -> float:
        """The simulation's expected bookings of the open deals (the groups add up to it); equal
        to :attr:`expected` unless the backtest corrected the forecast."""
        return float(self.totals.get("model_expected", self.totals["expected"]))

    @property
    def corrected(self) -> bool:
        """Whether the expected figure and P10–P90 were corrected by past forecast errors."""
        return "model_expected" in self.totals

    def headline(self) -> str:
        """The forecast in one line, the same in the console, the report and the web app."""
        text = (
            f"expected {self.expected:,.0f} (P10 {self.p10:,.0f}, P50 {self.p50:,.0f}, "
            f"P90 {self.p90:,.0f})"
        )
        bias = self.totals.get("backtest_bias")
        if self.corrected and bias is not None:
            text += (
                f", corrected for past forecasts ({abs(float(bias)):.0%} too "
                f"{'high' if float(bias) > 0 else 'low'} in "
                f"{int(self.totals.get('backtest_quarters') or 0)} replayed quarter(s)); "
                f"{self.model_expected:,.0f} from the open deals before the correction"
            )
        won = self.won_to_date
        if won > 0:
            text += (
                f"; not counting {won:,.0f} already won in {self.quarter} before {self.as_of} "
                f"({int(self.inputs.details.get('won_to_date_deals') or 0):,} deal(s))"
            )
        return text

    @property
    def summary(self) -> pd.DataFrame:
        """The total, then one row per group of each dimension."""
        # the simulation of the open deals, total and groups alike (the groups sum to the total);
        # the corrected range belongs to the headline (see headline())
        rows = [
            {
                "dimension": "total",
                "group": "all",
                **{k: self.totals.get(f"model_{k}", self.totals[k]) for k in SUMMARY_FIGURES},
            }
        ]
        for dim, table in self.by.items():
            for rec in table.to_dict(orient="records"):
                rows.append({"dimension": dim, "group": rec.pop(dim), **rec})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "as_of": self.as_of.isoformat(),
            **self.totals,
            "won_to_date": self.inputs.details.get("won_to_date"),
            "by": {k: records(v) for k, v in self.by.items()},
            "comparison": records(self.comparison),
            "deals": records(self.deals),
            "model": self.model,
            "inputs": self.inputs.to_dict(),
            "caveats": list(self.caveats),
        }


class ForecastOptions(TypedDict, total=False):
    """Keyword settings of :class:`Forecast` besides the quarter."""

    as_of: dt.date | None
    by: tuple[str, ...]
    draws: int
    interval: float
    settings: ModelSettings
    widen: bool


class BacktestOptions(TypedDict, total=False):
    """Keyword settings of :class:`ForecastBacktest`."""

    quarters: tuple[str, ...]
    draws: int
    interval: float
    settings: ModelSettings


@dataclass(frozen=True)
class Forecast:
    """Forecast a quarter's bookings from the open pipeline.

    Parameters
    ----------
    quarter
        The fiscal quarter, e.g. ``2026Q3``.
    as_of
        Snapshot date; default: the later of the quarter start and the last date in the store
        (capped at the quarter end), so the result does not depend on today's date.
    by
        Dimensions for the breakdown.
    draws
        Simulated quarters.
    interval
        Central coverage of the interval (0.8 = P10–P90).
    widen
        Replay past quarters (:class:`ForecastBacktest`) and correct the total's P10/P50/P90 by
        their forecast errors (bias first, then the spread; see
        :func:`winloss.analyze.forecast.forecast_math.widen_by_errors`). The simulated interval
        stays in ``model_p10``/``model_p50``/``model_p90``; the groups' intervals are not widened.
    """

    quarter: str
    as_of: dt.date | None = None
    by: tuple[str, ...] = ("segment", "owner")
    draws: int = 10_000
    interval: float = 0.8
    settings: ModelSettings = field(default_factory=lambda: ModelSettings(n_bootstrap=0))
    widen: bool = True

    def run(self, source: DealSource, *, backtest: BacktestResult | None = None) -> ForecastResult:
        """Forecast; ``backtest`` (of the same store) is reused instead of replayed again."""
        q = source.quarter(self.quarter)
        deals = source.deals()
        self._check_by(deals)
        as_of = self.as_of or _default_as_of(deals, q)
        history = source.table("stage_history")
        snap = forecast_snapshot(
            deals,
            source.field_catalog(),
            start=q.start,
            end=q.end,
            as_of=as_of,
            history=history,
            live=True,
            settings=self.settings,
            by=self.by,
            draws=self.draws,
            interval=self.interval,
            seed=self.settings.seed,
            memo=memo_of(source),
        )
        closed_at = pd.to_datetime(deals["closed_at"])
        won_now = deals[
            (deals["outcome"] == "won")
            & (closed_at >= pd.Timestamp(q.start))
            & (closed_at < pd.Timestamp(as_of))
        ]
        inputs = AnalysisInputs.of(
            len(snap.deals),
            period=str(q),
            store=getattr(source, "path", None),
            window=[q.start.isoformat(), q.end.isoformat()],
            won_to_date=float(pd.to_numeric(won_now["amount"]).fillna(0).sum()),
            won_to_date_deals=len(won_now),
            draws=self.draws,
            interval=self.interval,
        )
        totals, caveats = dict(snap.totals), list(snap.caveats)
        if as_of < q.start:
            caveats.append(
                f"forecast made on {as_of}, {(q.start - as_of).days} days before {q} starts: "
                f"an open deal counts for its chance to close within {q} (one due earlier is "
                f"not counted here), so forecasts of consecutive quarters add up; past forecasts "
                "were replayed from each quarter's start, a shorter horizon than this one"
            )
        if self.widen:
            totals, note = self._widened(source, totals, backtest)
            caveats.append(note)
        return ForecastResult(
            str(q),
            as_of,
            totals,
            snap.by,
            snap.comparison,
            snap.deals,
            snap.model,
            inputs,
            tuple(caveats),
        )

    def _check_by(self, deals: pd.DataFrame) -> None:
        """A breakdown named that is not a field of the deals is an error (it was dropped in
        silence: ``--by "Lead Source"`` printed the total only); the default dimensions
        (segment, owner) are simply left out where the deals do not have them."""
        unknown = [d for d in self.by if d not in deals.columns and d not in ("segment", "owner")]
        if unknown:
            usable = sorted(
                c
                for c in deals.columns
                if (deals[c].dtype == object or pd.api.types.is_string_dtype(deals[c]))
                and c not in ("deal_id", "outcome", "quarter")
                and deals[c].notna().any()
                and deals[c].nunique() <= 200
            )
            raise UsageError(
                f"--by {', '.join(unknown)}: not a field of the stored deals; breakdowns "
                f"available: {', '.join(usable) or '(none)'} (stored field names, as `winloss "
                "schema` lists them, not the CRM's column names)"
            )

    def _widened(
        self, source: DealSource, totals: dict[str, Any], backtest: BacktestResult | None = None
    ) -> tuple[dict[str, Any], str]:
        """The totals with P10/P50/P90 corrected by the backtest's errors, and a note saying so."""
        totals.update(
            model_p10=totals["p10"],
            model_p50=totals["p50"],
            model_p90=totals["p90"],
            backtest_quarters=0,
            backtest_bias=None,
            backtest_coverage=None,
            backtest_adjusted_coverage=None,
            interval_method="simulation only",
        )
        try:
            if backtest is None or backtest.interval != self.interval:
                backtest = ForecastBacktest(
                    draws=BACKTEST_DRAWS, interval=self.interval, settings=self.settings
                ).run(source)
        except InsufficientDataError:
            return totals, (
                "no past quarter could be replayed: P10–P90 comes from the simulation "
                "alone and is likely too narrow"
            )
        errors = backtest.quarters["log_error"].to_numpy(dtype=float)
        w = widen_by_errors(
            totals["p10"],
            totals["p50"],
            totals["p90"],
            errors,
            self.interval,
            ceiling=totals.get("ceiling"),
        )
        totals.update(
            p10=w.low,
            p50=w.median,
            p90=w.high,
            backtest_quarters=w.n_errors,
            backtest_bias=backtest.bias,
            backtest_coverage=backtest.coverage,
            backtest_adjusted_coverage=backtest.adjusted_coverage,
            interval_method=w.method,
        )
        if w.n_errors:
            # the expected figure beside the corrected range is corrected too (one figure in the
            # JSON, the console and the report); the simulation's stays as model_expected
            totals["model_expected"] = totals["expected"]
            totals["expected"] = min(
                totals["expected"] * float(np.exp(w.bias)), totals.get("ceiling") or np.inf
            )
        unmeasured = len(errors) - w.n_errors
        cap = (
            f"; held at {totals['ceiling']:,.0f}, what the {totals['n_deals']:,} open deal(s) "
            "would book if every one were won (the widened range reached beyond it)"
            if w.capped
            else ""
        )
        return totals, (
            f"P10–P90 {w.method}: in {w.n_errors} replayed quarter(s)"
            + (
                f" ({unmeasured} more had no forecast or no bookings to compare)"
                if unmeasured
                else ""
            )
            + " the forecast "
            f"was {abs(backtest.bias):.0%} too {'high' if backtest.bias > 0 else 'low'}"
            f" on average; the simulated interval held {backtest.coverage:.0%} of "
            f"them, the corrected one {backtest.adjusted_coverage:.0%} (nominal "
            f"{self.interval:.0%}, each quarter judged by the others' errors)"
            + cap
            + _new_deals_note(backtest)
        )


def _new_deals_note(backtest: BacktestResult) -> str:
    """What the forecast leaves out: deals created during the quarter, measured in the replayed
    quarters (on Maven they booked half of every quarter; the forecast said nothing of them)."""
    bq = backtest.quarters
    if "booked_by_new_deals" not in bq.columns or "actual" not in bq.columns or bq.empty:
        return ""
    new = pd.to_numeric(bq["booked_by_new_deals"], errors="coerce").fillna(0)
    total = float(new.sum() + pd.to_numeric(bq["actual"], errors="coerce").fillna(0).sum())
    if total <= 0 or new.sum() / total < 0.05:
        return ""
    return (
        f"; not in this forecast: deals created during the quarter, which in the {len(bq)} "
        f"replayed quarter(s) booked {float(new.mean()):,.0f} a quarter on average "
        f"({float(new.sum()) / total:.0%} of all bookings)"
    )


def data_end(deals: pd.DataFrame) -> dt.date | None:
    """The last date the store knows about: latest creation or actual close (not expected)."""
    closed = deals["outcome"].isin(["won", "lost"])
    last = pd.concat(
        [pd.to_datetime(deals["created_at"]), pd.to_datetime(deals.loc[closed, "closed_at"])]
    ).max()
    return last.date() if pd.notna(last) else None


def forecast_quarter_after(reviewed: Quarter, deals: pd.DataFrame) -> Quarter:
    """The quarter a review of ``reviewed`` forecasts: the next one — or ``reviewed`` itself while
    it is still running (the data end in it, at least ``PARTIAL_DAYS`` before its end: on 3
    December the December closes are what a sales team needs, not next quarter's)."""
    last = data_end(deals)
    if (
        last is not None
        and reviewed.start <= last <= reviewed.end
        and (reviewed.end - last).days >= PARTIAL_DAYS
    ):
        return reviewed
    return reviewed.next()


def _default_as_of(deals: pd.DataFrame, q: Quarter) -> dt.date:
    last = data_end(deals)
    if last is not None and q.end < last:
        raise UsageError(
            f"{q} ended before the latest data ({last}): forecast a current or "
            "future quarter, or replay past quarters with the backtest"
        )
    if last is not None and q.start > last:
        is_open = ~deals["outcome"].isin(["won", "lost"])
        expected = pd.to_datetime(deals.loc[is_open, "closed_at"])
        # an open deal without an expected close may close in any later quarter (the
        # time-to-close curve times it); with none, only expected closes can reach q
        if not expected.isna().any() and not (expected >= pd.Timestamp(q.start)).any():
            horizon = (
                f"the latest expected close of an open deal is {expected.max().date()}"
                if len(expected)
                else "the store holds no open deal"
            )
            raise UsageError(
                f"{q} starts after the data ends ({last}) and {horizon}: no open deal is "
                f"expected to close in {q} or later, so its forecast would be 0 by "
                "construction. Forecast the current or next quarter, or import the open pipeline "
                f"that closes in {q}"
            )
    if last is None:
        return q.start
    # the snapshot is the latest knowledge: the day after the data ends, also for a later quarter
    # (a snapshot at that quarter's start read every deal due before it as overdue and counted
    # it again: four consecutive quarters summed to 180 % of what the open deals can book)
    return min(last + dt.timedelta(days=1), q.end)


@dataclass(frozen=True)
class BacktestResult(AnalysisResult):
    """Forecast at each past quarter's start vs what those deals actually booked.

    ``coverage`` is the share of quarters inside the simulated P10–P90; ``adjusted_coverage`` the
    share inside the interval the live forecast gives — bias-corrected and widened by the errors
    of the *other* replayed quarters (leave one quarter out, see
    :func:`winloss.analyze.forecast.forecast_math.widen_by_errors`); ``sequential_coverage`` the
    same with only *earlier* quarters' errors (quarters with 2+ earlier ones; ``None`` if none).
    ``bias`` is the geometric mean of P50 / actual minus 1 (+0.3: forecasts 30 % too high).
    """

    quarters: pd.DataFrame
    coverage: float
    wins_coverage: float
    interval: float
    errors: dict[str, float]
    inputs: AnalysisInputs
    caveats: tuple[str, ...] = ()
    adjusted_coverage: float = float("nan")
    sequential_coverage: float | None = None
    bias: float = float("nan")

    @property
    def summary(self) -> pd.DataFrame:
        return self.quarters

    def actual_note(self) -> str:
        """What "actual" counts, in one sentence for the console and the report."""
        valued = (
            int(self.quarters["actual_wins_valued_as_forecast"].sum())
            if "actual_wins_valued_as_forecast" in self.quarters.columns
            else 0
        )
        return (
            "Forecast and actual count the deals open at each quarter's start only: deals created "
            "and won within the quarter are not forecast, so the actual can be below the "
            "quarter's won revenue"
            + (
                f"; {valued:,} win(s) without an amount are valued as the forecast valued them "
                "(by the won amounts of past deals)"
                if valued
                else ""
            )
            + "."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarters": records(self.quarters),
            "actual_note": self.actual_note(),
            "coverage": self.coverage,
            "adjusted_coverage": self.adjusted_coverage,
            "sequential_coverage": self.sequential_coverage,
            "bias": self.bias,
            "wins_coverage": self.wins_coverage,
            "nominal_coverage": self.interval,
            "mean_abs_pct_error": self.errors,
            "inputs": self.inputs.to_dict(),
            "caveats": list(self.caveats),
        }


@dataclass(frozen=True)
class ForecastBacktest:
    """Replay past quarters: forecast at each quarter's start, compare with the actual bookings.

    Parameters
    ----------
    quarters
        Quarters to replay; default: every complete quarter with enough earlier closed deals.
    """

    quarters: tuple[str, ...] = ()
    draws: int = BACKTEST_DRAWS
    interval: float = 0.8
    settings: ModelSettings = field(default_factory=lambda: ModelSettings(n_bootstrap=0))

    def run(self, source: DealSource) -> BacktestResult:
        deals = source.deals()
        history = source.table("stage_history")
        closed_at = pd.to_datetime(deals["closed_at"])
        is_closed = deals["outcome"].isin(["won", "lost"])
        last = data_end(deals)
        if closed_at[is_closed].isna().all() or last is None:
            raise InsufficientDataError("the backtest needs close dates; import deals with dates")
        names = self.quarters or tuple(
            sorted(deals.loc[is_closed, "quarter"].dropna().astype(str).unique())
        )
        rows: list[dict[str, Any]] = []
        caveats: set[str] = set()
        for name in names:
            q = source.quarter(name)
            if q.end > last:
                continue
            try:
                snap = forecast_snapshot(
                    deals,
                    source.field_catalog(),
                    start=q.start,
                    end=q.end,
                    as_of=q.start,
                    history=history,
                    live=False,
                    settings=self.settings,
                    draws=self.draws,
                    interval=self.interval,
                    seed=self.settings.seed,
                    memo=memo_of(source),
                )
            except InsufficientDataError:
                if self.quarters:
                    raise
                continue
            ids = set(snap.deals["deal_id"])
            in_q = (closed_at >= pd.Timestamp(q.start)) & (closed_at <= pd.Timestamp(q.end))
            won_q = deals[(deals["outcome"] == "won") & in_q]
            booked = won_q[won_q["deal_id"].isin(ids)]
            # a win without an amount is valued as the forecast valued it (by the won amounts of
            # past deals): counted as 0 it pushed the measured bias upwards
            valued = dict(zip(snap.deals["deal_id"], snap.deals["amount"], strict=True))
            won_amount = pd.to_numeric(booked["amount"], errors="coerce")
            unvalued = ~(won_amount > 0)
            actual = float(
                won_amount.where(~unvalued, booked["deal_id"].map(valued)).fillna(0).sum()
            )
            t = snap.totals
            comp = dict(zip(snap.comparison["method"], snap.comparison["expected"], strict=True))
            rows.append(
                {
                    "quarter": str(q),
                    "as_of": q.start.isoformat(),
                    "n_open": t["n_deals"],
                    "expected": t["expected"],
                    "p10": t["p10"],
                    "p50": t["p50"],
                    "p90": t["p90"],
                    "actual": actual,
                    "in_interval": t["p10"] <= actual <= t["p90"],
                    "expected_wins": t["expected_wins"],
                    "wins_p10": t["wins_p10"],
                    "wins_p90": t["wins_p90"],
                    "actual_wins": len(booked),
                    "actual_wins_valued_as_forecast": int(unvalued.sum()),
                    "wins_in_interval": t["wins_p10"] <= len(booked) <= t["wins_p90"],
                    "win_rate_method": comp.get("historical win rate"),
                    "stage_method": comp.get("stage win rates"),
                    "booked_by_new_deals": float(
                        pd.to_numeric(won_q.loc[~won_q["deal_id"].isin(ids), "amount"])
                        .fillna(0)
                        .sum()
                    ),
                    "model": snap.model["model"],
                }
            )
            # a replayed quarter's own notes, said to be theirs (not the live forecast's)
            caveats.update(
                "in replayed quarters: " + re.sub(r"^\d+ deal\(s\)", "some deals", c)
                for c in snap.caveats
            )
        if not rows:
            raise InsufficientDataError(
                "no past quarter can be replayed: each needs 30+ deals closed before it (both "
                "outcomes), deals open at its start and a complete quarter of data"
            )
        table = add_error_intervals(pd.DataFrame(rows), self.interval)
        errors = {}
        for col, label in (
            ("expected", "winloss model"),
            ("win_rate_method", "historical win rate"),
            ("stage_method", "stage win rates"),
        ):
            if table[col].notna().all():
                with np.errstate(divide="ignore", invalid="ignore"):
                    ape = np.abs(table[col] - table["actual"]) / table["actual"]
                errors[label] = (
                    float(ape[np.isfinite(ape)].mean()) if np.isfinite(ape).any() else float("nan")
                )
        caveats.add(
            "the backtest uses today's field values of past deals; fields edited after "
            "a snapshot make it look better than a real-time forecast would have been"
        )
        if len(table) < 8:
            caveats.add(f"coverage from {len(table)} quarter(s) only: a rough check")
        caveats.update(bias_caveats(table, self.interval))
        seq = table["seq_in_interval"].dropna()
        log_err = table["log_error"].dropna()
        return BacktestResult(
            table,
            float(table["in_interval"].mean()),
            float(table["wins_in_interval"].mean()),
            self.interval,
            errors,
            AnalysisInputs.of(
                int(table["n_open"].sum()),
                period=f"{table['quarter'].iloc[0]}..{table['quarter'].iloc[-1]}",
                store=getattr(source, "path", None),
                draws=self.draws,
            ),
            tuple(sorted(caveats)),
            adjusted_coverage=float(table["adj_in_interval"].mean()),
            sequential_coverage=float(seq.astype(bool).mean()) if len(seq) else None,
            bias=float(np.exp(-log_err.mean()) - 1) if len(log_err) else float("nan"),
        )


def add_error_intervals(table: pd.DataFrame, interval: float) -> pd.DataFrame:
    """Add each replayed quarter's log error and its error-widened interval.

    ``adj_*``: widened by the errors of every other quarter (what the live forecast does with all
    of them); ``seq_in_interval``: widened by earlier quarters' errors only (NaN with fewer than
    two earlier quarters).
    """
    table = table.copy()
    errs = forecast_log_errors(table["actual"].to_numpy(), table["p50"].to_numpy())
    table["log_error"] = errs
    adj, seq = [], []
    # not held at a ceiling: a replayed quarter's actual bookings use today's amounts, which can
    # exceed the amounts its pipeline showed at the snapshot
    for i, r in enumerate(table.itertuples(index=False)):
        w = widen_by_errors(r.p10, r.p50, r.p90, np.delete(errs, i), interval)
        adj.append((w.low, w.median, w.high))
        s = widen_by_errors(r.p10, r.p50, r.p90, errs[:i], interval)
        seq.append(bool(s.low <= r.actual <= s.high) if s.n_errors >= 2 else None)
    table["adj_p10"], table["adj_p50"], table["adj_p90"] = ([a[k] for a in adj] for k in range(3))
    table["adj_in_interval"] = (table["adj_p10"] <= table["actual"]) & (
        table["actual"] <= table["adj_p90"]
    )
    table["seq_in_interval"] = pd.Series(seq, dtype="object")
    return table


def bias_caveats(table: pd.DataFrame, interval: float) -> list[str]:
    """Warnings when replayed forecasts miss on one side every time, or cover far too little.

    Missing on the same side in every one of 3+ quarters happens by chance with probability
    2 × 0.5^k when the median is unbiased: below 0.25 from k = 3 on.
    """
    out: list[str] = []
    if len(table) < 3:
        return out
    over = table["expected"] > table["actual"]
    if over.all() or (~over).all():
        side = "too high" if over.all() else "too low"
        ratio = (table["expected"] / table["actual"].where(table["actual"] > 0)).median()
        out.append(
            f"the forecast was {side} in every one of {len(table)} replayed quarters "
            f"(median forecast/actual {ratio:.2f}): a systematic bias — read the live "
            "forecast with that in mind"
        )
    coverage = float(table["in_interval"].mean())
    if coverage < interval - 0.3:
        adjusted = (
            f"; widened by the other quarters' errors, {table['adj_in_interval'].mean():.0%}"
            if "adj_in_interval" in table.columns
            else ""
        )
        out.append(
            f"only {coverage:.0%} of replayed quarters fell inside the simulated P10–P90 "
            f"(nominal {interval:.0%}): the simulated interval is too narrow for this "
            f"pipeline{adjusted}; the live forecast's interval is bias-corrected and "
            "widened by these errors"
        )
    return out
