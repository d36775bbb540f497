"""QBR basics: the tables a sales leader brings to a quarterly business review.

- **reasons** — loss reasons among lost deals and win reasons among won deals, overall and by
  quarter, segment and owner: each reason's share with its Wilson 95 % interval. A field carried by
  one outcome only (a loss reason exists only on lost deals) cannot be compared across outcomes; it
  is described among the deals that carry it.
- **competitors** — the win rate against each main competitor (Wilson interval).
- **win rates** — by segment, owner and source, per quarter and over the period.
- **stages** — stage-to-stage conversion where stage history exists: of the deals that reached a
  stage and have since moved on or closed, the share that reached the next one (deals still open
  at the stage are not counted as failures); stages are ordered by when deals usually enter them.
- **coverage** — open pipeline expected to close in the next quarter against the average won
  revenue of the last four quarters.

>>> from winloss.analyze.qbr.analysis import QbrAnalysis
>>> result = QbrAnalysis().run(store)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult, period_of
from winloss.analyze.stats.exact_tests import wilson_interval
from winloss.errors import InsufficientDataError
from winloss.model.period import PARTIAL_DAYS
from winloss.store import capture_queries
from winloss.store import qbr_queries as q
from winloss.store.summary_queries import closed_quarters_and_data_end, last_close_in

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter
    from winloss.store.duckdb_store import DuckDBStore

#: Stage names that end a deal (they are the outcome, not a step).
TERMINAL_STAGE = re.compile(r"closed|won|lost", re.IGNORECASE)


#: Win rates by these groups, over quarters and in all; the last three only when the deals record
#: them (IBM's file has region and product but no segment, owner or source).
MORE_DIMENSIONS = ("region", "product", "industry")
RATE_DIMENSIONS = ("segment", "owner", "source", *MORE_DIMENSIONS)


@dataclass(frozen=True)
class Share:
    """One reason's share among the deals of one outcome in one group."""

    field: str
    by: str  # all / quarter / segment / owner
    group: str
    value: str  # the reason ("(none recorded)" when blank)
    deals: int
    group_deals: int
    share: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Rate:
    """A win rate of one group (and quarter, when over quarters)."""

    dimension: str  # competitor / segment / owner / source
    group: str
    quarter: str | None
    deals: int
    wins: int
    win_rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StageStep:
    """Conversion from one stage to the next."""

    stage: str
    next_stage: str
    reached: int
    moved_on: int
    still_open: int
    rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class QbrResult(AnalysisResult):
    """The QBR tables of one period and scope."""

    inputs: AnalysisInputs
    scope: str
    reasons: tuple[Share, ...]
    win_rates: tuple[Rate, ...]
    stages: tuple[StageStep, ...]
    coverage: dict[str, Any] | None
    skipped: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def coverage_deals(self) -> str:
        """The coverage's open deals in words, with those that have no amount (counted as 0
        here, while the forecast values them by past won amounts)."""
        c = self.coverage or {}
        n, blank = int(c.get("open_deals", 0)), int(c.get("open_deals_without_amount", 0))
        return f"{n:,} deals" + (
            f", {blank:,} of them without an amount and counted as 0" if blank else ""
        )

    @property
    def competitors(self) -> tuple[Rate, ...]:
        return tuple(r for r in self.win_rates if r.dimension == "competitor")

    @property
    def summary(self) -> pd.DataFrame:
        """Every share and rate as one long table."""
        rows = [
            {
                "table": f"{s.field} by {s.by}",
                "group": s.group,
                "value": s.value,
                "deals": s.deals,
                "of": s.group_deals,
                "rate": s.share,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
            }
            for s in self.reasons
        ]
        rows += [
            {
                "table": f"win rate by {r.dimension}" + (" and quarter" if r.quarter else ""),
                "group": r.group if r.quarter is None else f"{r.group} {r.quarter}",
                "value": "won",
                "deals": r.wins,
                "of": r.deals,
                "rate": r.win_rate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
            for r in self.win_rates
        ]
        rows += [
            {
                "table": "stage conversion",
                "group": s.stage,
                "value": s.next_stage,
                "deals": s.moved_on,
                "of": s.reached,
                "rate": s.rate,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
            }
            for s in self.stages
        ]
        return pd.DataFrame(
            rows, columns=["table", "group", "value", "deals", "of", "rate", "ci_low", "ci_high"]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "scope": self.scope,
            "reasons": [s.to_dict() for s in self.reasons],
            "win_rates": [r.to_dict() for r in self.win_rates],
            "stages": [s.to_dict() for s in self.stages],
            "coverage": self.coverage,
            "skipped": list(self.skipped),
            "warnings": list(self.warnings),
        }


class QbrOptions(TypedDict, total=False):
    """Keyword settings of :class:`QbrAnalysis` besides the filter."""

    top_reasons: int
    min_group_deals: int


@dataclass(frozen=True)
class QbrAnalysis:
    """Settings of the QBR tables.

    Parameters
    ----------
    deal_filter
        Which closed deals (quarter, since/until, segment, owner); all by default.
    top_reasons
        At most this many reasons per group (the rest pooled as "other").
    min_group_deals
        Groups with fewer deals are left out of the by-group tables (counted in a warning).
    """

    deal_filter: DealFilter | None = None
    top_reasons: int = 8
    min_group_deals: int = 5

    def run(self, store: DuckDBStore) -> QbrResult:
        where, params = store.filter_sql(self.deal_filter, closed_only=True)
        overall = (
            q.outcome_counts(store, ["quarter"], where, params)
            if "quarter" in q.available(store, q.GROUP_COLUMNS)
            else pd.DataFrame()
        )
        total = q.deal_count(store, where, params)
        if total == 0:
            raise InsufficientDataError(
                "no closed deals in this scope: widen the period or import won and lost deals"
            )
        columns = q.available(store, q.GROUP_COLUMNS | q.REASON_COLUMNS)
        present = set(q.recorded(store, [c for c in columns if c != "quarter"], where, params))
        if "quarter" in columns:
            present.add("quarter")
        dated = bool(len(overall) and overall["quarter"].notna().any())
        skipped: list[str] = []
        warnings: list[str] = []
        dims = [
            d for d in ("quarter", "segment", "owner") if d in present and (d != "quarter" or dated)
        ]
        if not dated:
            skipped.append("by quarter: the deals have no close dates")
        else:
            undated = overall[overall["quarter"].isna()]
            n_undated = int(undated["deals"].sum())
            if n_undated:
                warnings.append(
                    f"{n_undated:,} of the {total:,} closed deals have no close date: they count "
                    "in the totals and by segment, owner and source, but in no quarter (fill "
                    "their close dates in the CRM and import again)"
                )
        reasons: list[Share] = []
        for field, outcome in (("loss_reason", "lost"), ("win_reason", "won")):
            if field not in present:
                skipped.append(f"{field}: {_absent(field, columns)}")
                continue
            for by in (None, *dims):
                reasons += self._shares(store, field, outcome, by, where, params, warnings)
            said = _captured_reasons(
                q.reason_sources(store, field, outcome, where, params),
                field,
                capture_queries.precedence(store),
            )
            if said:
                warnings.append(said)
        rates: list[Rate] = []
        if "competitor" in present:
            rates += self._rates(store, "competitor", False, where, params)
        else:
            skipped.append(f"win rate against each competitor: {_absent('competitor', columns)}")
        for dim in RATE_DIMENSIONS:
            if dim not in present:
                if dim not in MORE_DIMENSIONS:  # the others are shown when recorded, else quiet
                    skipped.append(f"win rate by {dim}: {_absent(dim, columns)}")
            else:
                rates += self._rates(store, dim, False, where, params)
                if dated:
                    rates += self._rates(store, dim, True, where, params)
        stages: list[StageStep] = []
        if q.has_stage_history(store):
            stages = stage_conversion(q.stage_entries(store, *self._any_outcome(store)))
        else:
            skipped.append("stage conversion: no stage history imported")
        coverage = None
        open_deals, open_dated = q.open_deal_dates(store)
        if not dated:
            skipped.append("pipeline coverage: the deals have no close dates")
        elif open_deals and not open_dated:
            skipped.append(
                f"pipeline coverage: none of the {open_deals:,} open deals has an expected "
                "close date (an open deal's closed_at is read as its expected close: fill the "
                "close date of open opportunities in the CRM export)"
            )
        else:
            _, end = closed_quarters_and_data_end(store)
            coverage = self._coverage(store, overall, end)
            if coverage is not None:
                nxt = store.quarter(coverage["quarter"])
                if end is not None and nxt.end <= end:
                    skipped.append(
                        f"pipeline coverage: {nxt} is over (the data runs to {end}); coverage "
                        "compares today's open pipeline with the next quarter to come, so review "
                        "the latest quarter to see it"
                    )
                    coverage = None
            if coverage is not None and coverage["past_due_deals"]:
                warnings.append(
                    f"pipeline coverage: {coverage['past_due_deals']:,} open deal(s) "
                    f"({coverage['past_due_pipeline']:,.0f}) have an expected close date that "
                    f"has passed (before {end}) and are not in {coverage['quarter']}'s coverage: "
                    "give them a new date, or close them, in the CRM"
                )
            if coverage is not None and coverage["due_before_deals"]:
                warnings.append(
                    f"pipeline coverage: {coverage['due_before_deals']:,} open deal(s) "
                    f"({coverage['due_before_pipeline']:,.0f}) are expected to close after {end} "
                    f"but before {coverage['quarter']}: they count for the current quarter, not "
                    "in this coverage"
                )
        flt = self.deal_filter
        period = period_of(flt)
        scope = f"closed deals of {period}" if period != "all" else "all closed deals"
        if flt is not None and (flt.segment or flt.owner):
            scope += "".join(
                f", {k} {getattr(flt, k)}" for k in ("segment", "owner") if getattr(flt, k)
            )
        return QbrResult(
            AnalysisInputs.of(total, period=period, flt=flt),
            scope,
            tuple(reasons),
            tuple(r for r in rates if r.deals > 0),
            tuple(stages),
            coverage,
            tuple(skipped),
            tuple(dict.fromkeys(warnings)),
        )

    def _any_outcome(self, store: DuckDBStore) -> tuple[str, list[Any]]:
        """The scope for stage conversion: every deal (open ones are censored, not failures)."""
        flt = self.deal_filter
        return store.filter_sql(flt) if flt is not None else ("TRUE", [])

    def _shares(
        self,
        store: DuckDBStore,
        field: str,
        outcome: str,
        by: str | None,
        where: str,
        params: list[Any],
        warnings: list[str],
    ) -> list[Share]:
        counts = q.reason_counts(store, field, outcome, by, where, params)
        if counts.empty:
            return []
        counts["reason"] = counts["reason"].fillna("(none recorded)").astype(str)
        counts["grp"] = counts["grp"].fillna("(none)").astype(str)
        out: list[Share] = []
        small = 0
        for group, g in counts.groupby("grp", sort=True):
            n = int(g["deals"].sum())
            if by is not None and n < self.min_group_deals:
                small += 1
                continue
            # most deals first; ties by name, so every run and engine lists them alike
            g = g.sort_values(["deals", "reason"], ascending=[False, True], kind="mergesort")
            top = g.head(self.top_reasons)
            rest = int(g["deals"].iloc[self.top_reasons :].sum())
            values = list(zip(top["reason"], top["deals"].astype(int), strict=True))
            if rest:
                values.append(("other", rest))
            k = np.array([v[1] for v in values], dtype=float)
            lo, hi = wilson_interval(k, np.full(k.size, n, dtype=float))
            for (reason, deals), low, high in zip(values, lo, hi, strict=True):
                out.append(
                    Share(
                        field,
                        by or "all",
                        str(group),
                        str(reason),
                        int(deals),
                        n,
                        deals / n,
                        float(low),
                        float(high),
                    )
                )
        if small:
            warnings.append(
                f"{small} group(s) with fewer than {self.min_group_deals} deals are "
                f"left out of the {field} tables"
            )
        return out

    def _rates(
        self, store: DuckDBStore, dim: str, by_quarter: bool, where: str, params: list[Any]
    ) -> list[Rate]:
        counts = q.outcome_counts(store, [dim, "quarter"] if by_quarter else [dim], where, params)
        if counts.empty:
            return []
        lo, hi = wilson_interval(counts["wins"].to_numpy(float), counts["deals"].to_numpy(float))
        out = []
        for i, r in enumerate(counts.itertuples(index=False)):
            group = getattr(r, dim)
            quarter = getattr(r, "quarter", None) if by_quarter else None
            if by_quarter and quarter is None:
                continue
            out.append(
                Rate(
                    dim,
                    "(none recorded)" if pd.isna(group) else str(group),
                    str(quarter) if quarter is not None else None,
                    int(r.deals),
                    int(r.wins),
                    r.wins / r.deals if r.deals else float("nan"),
                    float(lo[i]),
                    float(hi[i]),
                )
            )
        return out

    def _coverage(
        self, store: DuckDBStore, by_quarter: pd.DataFrame, data_end: dt.date | None
    ) -> dict[str, Any] | None:
        dated = by_quarter.dropna(subset=["quarter"])
        if dated.empty:
            return None
        last = store.quarter(str(dated["quarter"].iloc[-1]))
        nxt = last.next()
        # bookings of the four quarters up to the last one in scope, whatever period the scope
        # covers (the same average for the console and the report's window), a quarter without
        # closes counting as 0 — not skipped, which would inflate the average
        flt = self.deal_filter
        wide = (
            dataclasses.replace(flt, quarter=None, since=None, until=None)
            if flt is not None
            else None
        )
        where, params = store.filter_sql(wide, closed_only=True)
        every = q.outcome_counts(store, ["quarter"], where, params).dropna(subset=["quarter"])
        revenue = dict(zip(every["quarter"].astype(str), every["won_revenue"], strict=True))
        first = min(revenue) if revenue else str(last)
        # complete quarters only: a last quarter whose closes stop more than PARTIAL_DAYS before
        # its end (the report's "partial quarter") would pull the average down with bookings
        # that are not in yet
        last_close = last_close_in(store, str(last))
        running = last_close is not None and (last.end - last_close).days > PARTIAL_DAYS
        at = last.previous() if running else last
        recent: list[str] = []
        while len(recent) < 4 and str(at) >= first:
            recent.insert(0, str(at))
            at = at.previous()
        if not recent:  # only the running quarter has closes: it is all there is
            recent = [str(last)]
        average = float(sum(float(revenue.get(r, 0.0)) for r in recent) / len(recent))
        pipe = q.open_pipeline(store, nxt.start, nxt.end).iloc[0]
        amount = float(pipe["amount"])
        # open deals expected to close before that quarter are not in its coverage: those whose
        # expected close has passed (by the data's last date), and those due before it starts
        today = data_end or nxt.start
        past = q.open_pipeline(store, dt.date(1, 1, 1), today - dt.timedelta(days=1)).iloc[0]
        due = q.open_pipeline(store, today, nxt.start - dt.timedelta(days=1)).iloc[0]
        return {
            "quarter": str(nxt),
            "open_deals": int(pipe["deals"]),
            "open_deals_without_amount": int(pipe["unvalued"]),
            "open_pipeline": amount,
            "past_due_deals": int(past["deals"]),
            "past_due_pipeline": float(past["amount"]),
            "due_before_deals": int(due["deals"]),
            "due_before_pipeline": float(due["amount"]),
            "average_bookings": average,
            "quarters_averaged": recent,
            "coverage": amount / average if average > 0 else None,
        }


def stage_conversion(entries: pd.DataFrame) -> list[StageStep]:
    """Stage-to-stage conversion from stage entries (deal_id, stage, entered_at, outcome).

    Stages are ordered by the median position at which deals enter them; terminal stages
    (closed/won/lost) are the outcome. A deal *reached* a stage when it entered it or any later
    one; of those, it *moved on* when it reached the next stage or was won; a deal still open at
    its furthest stage is censored there.
    """
    if entries.empty:
        return []
    entries = entries[~entries["stage"].astype(str).str.contains(TERMINAL_STAGE)].copy()
    if entries.empty:
        return []
    entries["position"] = entries.groupby("deal_id").cumcount()
    order = (
        entries.groupby("stage")["position"].median().sort_values(kind="mergesort").index.tolist()
    )
    rank = {s: i for i, s in enumerate(order)}
    entries["rank"] = entries["stage"].map(rank)
    furthest = entries.groupby("deal_id").agg(top=("rank", "max"), outcome=("outcome", "first"))
    top = furthest["top"].to_numpy()
    won = (furthest["outcome"] == "won").to_numpy()
    is_open = (furthest["outcome"] == "open").to_numpy()
    steps = []
    for i in range(len(order) - 1):
        reached = top >= i
        moved = reached & ((top >= i + 1) | won)
        censored = reached & ~moved & is_open
        n = int((reached & ~censored).sum())
        k = int(moved.sum())
        lo, hi = wilson_interval([k], [max(n, 1)])
        steps.append(
            StageStep(
                str(order[i]),
                str(order[i + 1]),
                int(reached.sum()),  # every deal that reached it (the docs' and Bowtie's count)
                k,
                int(censored.sum()),
                k / n if n else float("nan"),
                float(lo[0]),
                float(hi[0]),
            )
        )
    last = len(order) - 1
    reached = top >= last
    censored = reached & is_open
    n = int((reached & ~censored).sum())
    k = int((reached & won).sum())
    lo, hi = wilson_interval([k], [max(n, 1)])
    steps.append(
        StageStep(
            str(order[last]),
            "won",
            int(reached.sum()),
            k,
            int(censored.sum()),
            k / n if n else float("nan"),
            float(lo[0]),
            float(hi[0]),
        )
    )
    return steps


def _absent(field: str, columns: list[str]) -> str:
    """Why ``field`` has no table: not a column of the store, or no deal in scope records it."""
    if field not in columns:
        return "not in the data"
    article = "an" if field[:1] in "aeiou" else "a"
    return f"no value recorded in these deals (import {article} {field} column to see it)"


def _captured_reasons(sources: pd.DataFrame, field: str, precedence: tuple[str, ...]) -> str | None:
    """Say how many reasons come from captures rather than the CRM's field (None when no capture
    changes one): the counts are the resolved values, so they differ from a count of the CRM
    export."""
    by = {str(r.source): (int(r.deals), int(r.changed)) for r in sources.itertuples() if r.source}
    buyer, rep = by.get("buyer", (0, 0)), by.get("rep", (0, 0))
    if not buyer[1] and not rep[1]:  # captures that repeat the CRM's reason change no count
        return None
    total = int(sources["deals"].sum())
    parts = [
        f"{n:,} from {words}"
        for n, words in ((buyer[0], "buyer interviews"), (rep[0], "rep captures"))
        if n
    ]
    return (
        f"{field}: the counts use each deal's resolved reason — of {total:,} deals, "
        f"{' and '.join(parts)} (precedence {', '.join(precedence)}); {buyer[1] + rep[1]:,} of them "
        "differ from the CRM's field, so a count of the CRM export differs"
    )
