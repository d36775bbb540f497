"""The deal types every layer shares: attribute descriptions, filters and the deal source.

Analyses take a :class:`DealSource` (the store satisfies it), never the facade, so imports point
one way: cli/web → report/plan → analyze → store/ingest → model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from winloss.model.period import Quarter


@dataclass(frozen=True)
class DealField:
    """A deal attribute as the analyses see it: canonical, derived or custom."""

    name: str
    dtype: str  # category, int, float, bool, date, string
    known: str  # before / after the outcome
    origin: str  # canonical / derived / custom
    label: str
    analyse: bool  # a candidate attribute for concentrations and models

    @property
    def post_outcome(self) -> bool:
        return self.known == "after"


@dataclass(frozen=True)
class DealFilter:
    """Which deals an operation looks at. Dates are inclusive; quarter uses closed_at."""

    quarter: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    segment: str | None = None
    outcome: str | None = None
    owner: str | None = None

    def __post_init__(self) -> None:
        since, until = self.since, self.until
        # a datetime for one bound and a date for the other do not compare: compare the days
        since = since.date() if isinstance(since, dt.datetime) else since
        until = until.date() if isinstance(until, dt.datetime) else until
        if since is not None and until is not None and since > until:
            from winloss.errors import UsageError

            raise UsageError(
                f"--since {self.since} is after --until {self.until}: no deal can fall in "
                "between; swap them"
            )

    def advice(self) -> str:
        """What to change when too few deals pass this filter."""
        parts = []
        named = [
            f"{k} {v!r}"
            for k, v in (
                ("segment", self.segment),
                ("owner", self.owner),
                ("outcome", self.outcome),
            )
            if v is not None
        ]
        if named:
            parts.append(f"drop or change the filter ({', '.join(named)})")
        if self.quarter or self.since or self.until:
            parts.append("widen the period (an earlier start or a later end)")
        parts.append("import more deals")
        return ", or ".join(parts)

    def describe(self) -> dict[str, str | None]:
        return {k: (str(v) if v is not None else None) for k, v in self.__dict__.items()}


class DealSource(Protocol):
    """Where analyses read deals from: the store, or an in-memory frame of deals.

    Every method returns fresh objects; callers may cache them (see
    :class:`winloss.store.cached_source.CachedDealSource`).
    """

    @property
    def fiscal_year_start_month(self) -> int: ...

    def quarter(self, text: str) -> Quarter:
        """A fiscal quarter named like ``2024Q3`` in this source's fiscal calendar."""
        ...

    def deals(self, flt: DealFilter | None = None, *, closed_only: bool = False) -> pd.DataFrame:
        """Deals with derived fields, filtered; one row per deal, ordered by created_at, deal_id."""
        ...

    def closed_deals(self, flt: DealFilter | None = None) -> pd.DataFrame:
        """Won and lost deals of ``flt``."""
        ...

    def field_catalog(self) -> list[DealField]:
        """Every deal attribute: canonical, derived and custom, with type and when it is known."""
        ...

    def table(self, name: str) -> pd.DataFrame:
        """All rows of a related table (stakeholders, activities, stage_history, …)."""
        ...

    def closed_deal_columns(
        self,
        names: list[str],
        flt: DealFilter | None = None,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> pa.Table:
        """Closed deals of ``flt`` as Arrow: ``_won`` (bool) and the named columns, unordered.

        ``since``/``until`` further restrict ``closed_at``.
        """
        ...
