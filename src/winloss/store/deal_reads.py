"""The store's named read queries for deals: the :class:`~winloss.model.deals.DealSource` side.

SQL lives in store/: analyses call these methods and never write SQL of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winloss.model.deals import DealField, DealFilter
from winloss.model.period import Quarter, parse_quarter
from winloss.model.schema import DEALS, DERIVED_DEAL_FIELDS, ONE_OUTCOME_FIELDS, table_for

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from winloss.ingest.prepare import CustomField


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


class DealReads:
    """Deal reads shared by every store engine; the engine provides ``con`` and ``query``."""

    con: duckdb.DuckDBPyConnection

    # provided by the engine class
    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:  # pragma: no cover
        raise NotImplementedError

    def query(self, sql: str, params: Any = None) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError

    def scalar(self, sql: str, params: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def custom_fields(self, table: str = "deals") -> list[CustomField]:  # pragma: no cover
        raise NotImplementedError

    @property
    def fiscal_year_start_month(self) -> int:  # pragma: no cover
        raise NotImplementedError

    # -- the DealSource protocol ----------------------------------------------------------------
    def quarter(self, text: str) -> Quarter:
        return parse_quarter(text, self.fiscal_year_start_month)

    def filter_sql(
        self, flt: DealFilter | None, *, closed_only: bool = False
    ) -> tuple[str, list[Any]]:
        """The SQL condition (on ``deals_enriched``) and parameters of a deal filter.

        ``quarter`` selects by close date; ``since``/``until`` by close date, or creation date
        for deals without one; every bound is inclusive. ``"TRUE"`` when nothing is filtered.
        """
        where: list[str] = []
        params: list[Any] = []
        if closed_only:
            where.append("outcome IN ('won', 'lost')")
        if flt is not None:
            if flt.quarter:
                q = self.quarter(flt.quarter)
                where.append("closed_at BETWEEN ? AND ?")
                params += [q.start, q.end]
            if flt.since:
                where.append("coalesce(closed_at, created_at) >= ?")
                params.append(flt.since)
            if flt.until:
                where.append("coalesce(closed_at, created_at) <= ?")
                params.append(flt.until)
            for col in ("segment", "outcome", "owner"):
                value = getattr(flt, col)
                if value is not None:
                    where.append(f"{col} = ?")
                    params.append(value)
        return " AND ".join(where) or "TRUE", params

    def deals(self, flt: DealFilter | None = None, *, closed_only: bool = False) -> pd.DataFrame:
        """Deals with derived fields, filtered; one row per deal, ordered by created_at, deal_id."""
        where_sql, params = self.filter_sql(flt, closed_only=closed_only)
        sql = "SELECT * FROM deals_enriched"
        if where_sql != "TRUE":
            sql += " WHERE " + where_sql
        sql += " ORDER BY created_at NULLS FIRST, deal_id"
        return self.query(sql, params)

    def closed_deals(self, flt: DealFilter | None = None) -> pd.DataFrame:
        return self.deals(flt, closed_only=True)

    def deal_columns_present(self) -> set[str]:
        """The columns of ``deals_enriched`` (canonical, derived and custom)."""
        return set(
            self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'deals_enriched'"
            )["column_name"]
        )

    def field_catalog(self) -> list[DealField]:
        """Every deal attribute: canonical, derived and custom, with type and when it is known."""
        out: list[DealField] = []
        present = self.deal_columns_present()
        for f in DEALS.fields + DERIVED_DEAL_FIELDS:
            if f.name not in present:
                continue
            origin = "derived" if f in DERIVED_DEAL_FIELDS else "canonical"
            analyse = f.analyse and f.name not in ONE_OUTCOME_FIELDS
            out.append(
                DealField(
                    f.name,
                    f.dtype,
                    "after" if f.known == "after" else "before",
                    origin,
                    f.description,
                    analyse,
                )
            )
        for cf in self.custom_fields("deals"):
            out.append(DealField(cf.name, cf.dtype, cf.known, "custom", cf.label, cf.analyse))
        return out

    def table(self, name: str) -> pd.DataFrame:
        tbl = table_for(name)
        return self.query(f"SELECT * FROM {quote_identifier(tbl.name)}")

    def deal_created_dates(self) -> pd.DataFrame:
        """``deal_id`` and ``created_at`` of every stored deal (no derived columns)."""
        return self.query("SELECT deal_id, created_at FROM deals")

    def has_dates(self) -> bool:
        return bool(self.scalar("SELECT count(*) FROM deals WHERE created_at IS NOT NULL"))

    def closed_deal_columns(
        self,
        names: list[str],
        flt: DealFilter | None = None,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> pa.Table:
        """Closed deals of ``flt`` as Arrow: ``_won`` and the named columns, unordered."""
        where, params = self.filter_sql(flt, closed_only=True)
        if since is not None:
            where += " AND closed_at >= ?"
            params.append(since)
        if until is not None:
            where += " AND closed_at <= ?"
            params.append(until)
        select = ", ".join(["outcome = 'won' AS _won"] + [quote_identifier(n) for n in names])
        # no ORDER BY: every statistic is order-free, and DuckDB keeps the stored order by default
        return self.arrow(f"SELECT {select} FROM deals_enriched WHERE {where}", params)
