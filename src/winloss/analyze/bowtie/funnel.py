"""Per stage and entry cohort: volume (VM), conversion (CR) and time in stage (Δt), censored.

Input: counts of stage spells per stage, cohort and duration (advanced / lost / censored), as the
store query :func:`winloss.store.bowtie_queries.presale_spell_counts` returns them, or as
:func:`post_sale_spells` builds them from customers. Conversion is the Aalen–Johansen probability of
reaching a later stage by the horizon (losing competes; open spells are censored, not lost); time
in stage is the Kaplan–Meier distribution of the time to leave it. The naive "open = lost"
conversion (advanced / entered) is reported beside it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from winloss.analyze.bowtie.survival import CompetingRisks, competing_risks, conversion_by
from winloss.analyze.stats.exact_tests import wilson_interval

STAGE_COLUMNS = [
    "stage",
    "side",
    "cohort",
    "volume",
    "advanced",
    "lost",
    "censored",
    "conversion",
    "conversion_ci_low",
    "conversion_ci_high",
    "naive_conversion",
    "closed_conversion",
    "q1_days",
    "median_days",
    "q3_days",
    "median_days_to_advance",
    "effective_n",
    "followed_to_horizon",
]


def _risks(rows: pd.DataFrame) -> CompetingRisks:
    return competing_risks(rows["days"], rows["advanced"], rows["lost"], rows["censored"])


def stage_row(
    stage: str,
    side: str,
    cohort: str,
    risks: CompetingRisks,
    horizon: float | None,
    pooled: CompetingRisks | None,
    advance_days: float = float("nan"),
) -> dict[str, object]:
    """One row of the stage table from the spell estimate of one stage (and cohort)."""
    h = horizon if horizon is not None else (pooled.max_follow_up if pooled else None)
    conversion, reached = conversion_by(risks, h, pooled)
    known = risks.known_by(min(h, risks.max_follow_up) if h is not None else risks.max_follow_up)
    low, high = wilson_interval(np.array([conversion * known]), np.array([known]))
    reference = pooled if pooled is not None else risks
    if risks.n_advanced + risks.n_lost == 0 and reference.n_advanced + reference.n_lost == 0:
        # every spell still open: nothing has left the stage yet, so its conversion is unknown,
        # not 0 % (and the naive rates would call every open deal a failure)
        conversion = float("nan")
        low = high = np.array([float("nan")])
    n = risks.n
    return {
        "stage": stage,
        "side": side,
        "cohort": cohort,
        "volume": n,
        "advanced": risks.n_advanced,
        "lost": risks.n_lost,
        "censored": risks.n_censored,
        "conversion": conversion,
        "conversion_ci_low": float(low[0]),
        "conversion_ci_high": float(high[0]),
        "naive_conversion": risks.naive_rate,
        "closed_conversion": risks.closed_rate,
        "q1_days": risks.quantile(0.25),
        "median_days": risks.quantile(0.5),
        "q3_days": risks.quantile(0.75),
        "median_days_to_advance": advance_days,
        "effective_n": known,
        "followed_to_horizon": reached,
    }


def stage_tables(
    counts: pd.DataFrame, stages: tuple[str, ...], side: str, horizon: float | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(overall rows, per-cohort rows) for the ``stages`` (``counts.ord`` indexes ``stages``).

    The last stage of a side (commit, growth's repeat) is reported with its volume; its conversion
    is what the caller fills (commit converts on the other side of the knot).
    """
    overall: list[dict[str, object]] = []
    by_cohort: list[dict[str, object]] = []
    for k, stage in enumerate(stages):
        rows = counts[counts["ord"] == k]
        if rows.empty:
            overall.append(_empty_row(stage, side, "all"))
            continue
        pooled = _risks(rows)
        overall.append(
            stage_row(
                stage,
                side,
                "all",
                pooled,
                horizon,
                None,
                weighted_median(rows["days"], rows["advanced"]),
            )
        )
        for cohort, part in rows.groupby("cohort", sort=True):
            by_cohort.append(
                stage_row(
                    stage,
                    side,
                    str(cohort),
                    _risks(part),
                    horizon,
                    pooled,
                    weighted_median(part["days"], part["advanced"]),
                )
            )
    return (
        pd.DataFrame(overall, columns=STAGE_COLUMNS),
        pd.DataFrame(by_cohort, columns=STAGE_COLUMNS),
    )


def weighted_median(values: pd.Series, weights: pd.Series) -> float:
    """The median of ``values`` repeated ``weights`` times (NaN when the weights sum to 0)."""
    order = np.argsort(values.to_numpy(float), kind="stable")
    v = values.to_numpy(float)[order]
    w = weights.to_numpy(float)[order]
    total = w.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(w)
    lo = v[np.searchsorted(cum, total / 2, side="left")]
    hi = v[np.searchsorted(cum, total / 2, side="right")] if total % 2 == 0 else lo
    return float((lo + min(hi, v[-1])) / 2)


def _empty_row(stage: str, side: str, cohort: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(STAGE_COLUMNS, float("nan"))
    row.update(
        stage=stage,
        side=side,
        cohort=cohort,
        volume=0,
        advanced=0,
        lost=0,
        censored=0,
        followed_to_horizon=False,
    )
    return row


def cohort_label(values: pd.Series, cohort: str, fiscal_year_start_month: int = 1) -> pd.Series:
    """Month (``2026-07``) or fiscal-quarter (``2026Q3``) labels of timestamps (as the store)."""
    ts = pd.to_datetime(values)
    if cohort == "month":
        return ts.dt.strftime("%Y-%m")
    shift = (12 - (fiscal_year_start_month - 1)) % 12
    moved = ts + pd.DateOffset(months=shift)
    return (
        moved.dt.year.astype("Int64").astype(str)
        + "Q"
        + moved.dt.quarter.astype("Int64").astype(str)
    )


def post_sale_spells(
    lives: pd.DataFrame,
    *,
    as_of: dt.date,
    cohort: str,
    fiscal_year_start_month: int = 1,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pd.DataFrame:
    """Spell counts of the post-sale stages from one row per customer.

    Stages (``ord``): 0 onboarding (entered at the subscription start), 1 impact (first impact
    milestone), 2 growth (first expansion), 3 repeat growth (second expansion: growth's
    conversion). A spell advances at the first later stage entered, is lost at churn, and is
    censored at ``as_of``. ``since``/``until`` bound the entry date (inclusive).
    """
    end = pd.Timestamp(as_of)
    cols = ["start", "impact_at", "expansion_1_at", "expansion_2_at"]
    entries = np.stack([pd.to_datetime(lives[c]).to_numpy("datetime64[ns]") for c in cols], axis=1)
    churn = pd.to_datetime(lives["churn_at"]).to_numpy("datetime64[ns]")
    frames: list[pd.DataFrame] = []
    for k in range(len(cols)):
        entered = entries[:, k]
        later = entries[:, k + 1 :]
        if later.shape[1]:
            # NaT sorts last in numpy's min? no: NaT propagates; mask it with a far future date
            far = np.datetime64("2262-01-01")
            masked = np.where(np.isnat(later), far, later)
            nxt = masked.min(axis=1)
            nxt = np.where(nxt == far, np.datetime64("NaT"), nxt)
        else:
            nxt = np.full(len(entered), np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = ~np.isnat(entered) & (entered <= np.datetime64(end))
        if since is not None:
            ok &= entered >= np.datetime64(pd.Timestamp(since))
        if until is not None:
            ok &= entered < np.datetime64(pd.Timestamp(until) + pd.Timedelta(days=1))
        nxt = np.where(nxt <= np.datetime64(end), nxt, np.datetime64("NaT"))
        lost_at = np.where(
            np.isnat(nxt) & ~np.isnat(churn) & (churn <= np.datetime64(end)),
            churn,
            np.datetime64("NaT"),
        )
        stop = np.where(
            ~np.isnat(nxt), nxt, np.where(~np.isnat(lost_at), lost_at, np.datetime64(end))
        )
        days = ((stop - entered) / np.timedelta64(1, "D")).astype("float64")
        frame = pd.DataFrame(
            {
                "ord": k,
                "cohort": cohort_label(pd.Series(entered[ok]), cohort, fiscal_year_start_month),
                "days": np.maximum(0.0, np.floor(days[ok])),
                "advanced": (~np.isnat(nxt))[ok].astype(int),
                "lost": (np.isnat(nxt) & ~np.isnat(lost_at))[ok].astype(int),
            }
        )
        frame["censored"] = 1 - frame["advanced"] - frame["lost"]
        frames.append(frame)
    spells = pd.concat(frames, ignore_index=True)
    return spells.groupby(["ord", "cohort", "days"], as_index=False)[
        ["advanced", "lost", "censored"]
    ].sum()
