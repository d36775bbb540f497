"""Fiscal quarters: parse ``2026Q3``, name the quarter of a date, and give a quarter's dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from winloss.errors import UsageError

_Q = re.compile(r"^\s*(?:FY)?(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A fiscal quarter; the fiscal year is named by the calendar year in which it ends."""

    year: int
    q: int
    fiscal_year_start_month: int = 1

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def start(self) -> dt.date:
        m0 = self.fiscal_year_start_month
        # first month of fiscal year `year`
        first_year = self.year if m0 == 1 else self.year - 1
        month_index = (m0 - 1) + (self.q - 1) * 3
        return dt.date(first_year + month_index // 12, month_index % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the quarter (inclusive)."""
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Quarter:
        if self.q == 4:
            return Quarter(self.year + 1, 1, self.fiscal_year_start_month)
        return Quarter(self.year, self.q + 1, self.fiscal_year_start_month)

    def previous(self) -> Quarter:
        if self.q == 1:
            return Quarter(self.year - 1, 4, self.fiscal_year_start_month)
        return Quarter(self.year, self.q - 1, self.fiscal_year_start_month)


def parse_quarter(text: str, fiscal_year_start_month: int = 1) -> Quarter:
    """Parse ``2026Q3``, ``2026-Q3`` or ``FY2026Q3``."""
    m = _Q.match(text)
    if not m:
        raise UsageError(f"quarter {text!r} not understood; write it like 2026Q3")
    return Quarter(int(m.group(1)), int(m.group(2)), fiscal_year_start_month)


def quarter_of(day: dt.date, fiscal_year_start_month: int = 1) -> Quarter:
    """The fiscal quarter containing ``day``."""
    shift = (12 - (fiscal_year_start_month - 1)) % 12
    month_index = day.month - 1 + shift
    year = day.year + month_index // 12
    return Quarter(year, (month_index % 12) // 3 + 1, fiscal_year_start_month)


#: A first or last quarter whose closes start (end) more than this many days inside it is partial
#: (the report's headline marks it; the QBR's coverage leaves a partial last quarter out of its
#: average).
PARTIAL_DAYS = 14
