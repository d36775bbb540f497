"""A :class:`~winloss.model.deals.DealSource` that reads each thing once: for one report build.

The quarterly report runs a dozen analyses on the same deals; each used to read the deals frame,
the field catalog and the related tables again. :class:`CachedDealSource` wraps the store and
memoises ``deals()``, ``closed_deals()``, ``field_catalog()``, ``table()`` and
``closed_deal_columns()`` per argument, handing out copies of the frames (an analysis may add
columns to what it gets). It also keeps fitted models (:meth:`memo`) so two analyses that fit the
same model on the same deals share one fit. Use one per build: it never sees later writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd
    import pyarrow as pa

    from winloss.model.deals import DealField, DealFilter
    from winloss.model.period import Quarter
    from winloss.store.duckdb_store import DuckDBStore

T = TypeVar("T")


class CachedDealSource:
    """The deal reads of ``store``, each computed once (see the module docstring)."""

    def __init__(self, store: DuckDBStore) -> None:
        self.store = store
        self._frames: dict[Hashable, pd.DataFrame] = {}
        self._catalog: list[DealField] | None = None
        self._arrow: dict[Hashable, pa.Table] = {}
        self._memo: dict[Hashable, Any] = {}
        #: How many reads reached the store (for tests and benchmarks).
        self.store_reads = 0

    @property
    def path(self) -> str:
        return self.store.path

    @property
    def fiscal_year_start_month(self) -> int:
        return self.store.fiscal_year_start_month

    def quarter(self, text: str) -> Quarter:
        return self.store.quarter(text)

    def _frame(self, key: Hashable, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        if key not in self._frames:
            self.store_reads += 1
            self._frames[key] = read()
        return self._frames[key].copy()

    def deals(self, flt: DealFilter | None = None, *, closed_only: bool = False) -> pd.DataFrame:
        return self._frame(
            ("deals", flt, closed_only), lambda: self.store.deals(flt, closed_only=closed_only)
        )

    def closed_deals(self, flt: DealFilter | None = None) -> pd.DataFrame:
        return self.deals(flt, closed_only=True)

    def table(self, name: str) -> pd.DataFrame:
        return self._frame(("table", name), lambda: self.store.table(name))

    def field_catalog(self) -> list[DealField]:
        if self._catalog is None:
            self.store_reads += 1
            self._catalog = self.store.field_catalog()
        return list(self._catalog)

    def closed_deal_columns(
        self,
        names: list[str],
        flt: DealFilter | None = None,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> pa.Table:
        key = (tuple(names), flt, since, until)
        if key not in self._arrow:  # Arrow tables are immutable: shared as they are
            self.store_reads += 1
            self._arrow[key] = self.store.closed_deal_columns(names, flt, since=since, until=until)
        return self._arrow[key]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` (e.g. a model fitted on given deals with given
        settings); the caller must not mutate what it gets."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value
