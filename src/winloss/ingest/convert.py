"""Convert one mapped column to its field's type, and collect every bad cell with what to do.

:func:`convert_field` returns the converted values and one ``(mask, problem)`` pair per kind of
problem (not a number, too large, not a date, out of range …), so a value is either converted
exactly or reported; it is never stored as empty, infinite or rounded without a word.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from winloss.errors import CellProblem
from winloss.ingest.normalize import (
    by_distinct,
    parse_bools,
    parse_dates,
    parse_numbers,
    parse_vocabulary,
)
from winloss.model.mapping import Mapping
from winloss.model.prepared_import import UnknownValuePolicy
from winloss.model.schema import Field
from winloss.model.vocabulary import MULTI_VALUE_ORDER, normalise_token, vocabulary_lookup

MAX_PROBLEMS = 1000
INT64_MAX = 2**63 - 1
EXACT_FLOAT_INT = 2**53
#: Dates a store column can hold (nanosecond timestamps): 1678 to 2261 inclusive.
FIRST_DATE = pd.Timestamp("1678-01-01")
LAST_DATE = pd.Timestamp("2261-12-31")
_DIGITS = re.compile(r"^[+-]?\d+$")

Problem = tuple[np.ndarray, str]


class Problems:
    """Bad cells found while preparing a file (the first :data:`MAX_PROBLEMS` kept in full)."""

    def __init__(self, rows: pd.Series) -> None:
        self.rows = rows
        self.items: list[CellProblem] = []
        self.total = 0

    def add(self, mask: np.ndarray, raw: pd.Series, label: str, problem: str) -> None:
        """Record every cell of ``raw`` where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        self.total += len(idx)
        for i in idx[: max(0, MAX_PROBLEMS - len(self.items))]:
            value = raw.iloc[i]
            shown = "" if value is None or value is pd.NA else str(value)
            self.items.append(CellProblem(int(self.rows.iloc[i]), label, shown, problem))


def _exact_integers(raw: pd.Series, values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Integers read exactly (a float loses digits beyond 2**53); mask of values beyond 64 bits."""
    floats = values.astype(float)
    big = (floats.abs() >= EXACT_FLOAT_INT).fillna(False).to_numpy(dtype=bool)
    out: list[int | None] = [None if pd.isna(v) else int(v) for v in floats]
    too_big = np.zeros(len(values), dtype=bool)
    text = raw.astype(object).astype(str).str.strip().str.replace("[,\\s'_\u00a0]", "", regex=True)
    for i in np.flatnonzero(big):
        token = text.iloc[i]
        number = int(token) if _DIGITS.match(token) else int(floats.iloc[i])
        if abs(number) > INT64_MAX:
            too_big[i] = True
            out[i] = None
        else:
            out[i] = number
    return pd.Series(pd.array(out, dtype="Int64"), index=values.index), too_big


def convert_numbers(f: Field, raw: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Numbers (int or float fields): unreadable, infinite, fractional ints, beyond 64 bits."""
    values, bad = by_distinct(raw, parse_numbers)
    values = values.astype(float)
    infinite = (~np.isfinite(values.to_numpy(dtype=float, na_value=0.0))) & ~bad
    values = values.where(~infinite)
    example = "3" if f.dtype == "int" else "1200 or 1,200.50"
    problems: list[Problem] = [
        (bad, f"not a number; write digits such as {example}"),
        (infinite, "number too large to store (beyond ±1.8e308); check the value"),
    ]
    if f.dtype == "int":
        frac = (values.notna() & (values % 1 != 0)).to_numpy(dtype=bool)
        problems.append((frac, "not a whole number; write an integer such as 3"))
        ints, too_big = _exact_integers(raw, values.where(~frac))
        problems.append((too_big, "integer too large (beyond 64 bits); check the value"))
        return ints, problems
    return values, problems


def convert_dates(
    f: Field, raw: pd.Series, *, day_first: bool, month_first: bool = False
) -> tuple[pd.Series, list[Problem]]:
    """Dates and timestamps: unreadable values and years a store column cannot hold."""
    values, bad = by_distinct(
        raw, lambda u: parse_dates(u, day_first=day_first, month_first=month_first)
    )
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values, errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    out_of_range = (values.notna() & ((values < FIRST_DATE) | (values > LAST_DATE))).to_numpy(
        dtype=bool
    )
    # pandas 2 cannot even parse a date beyond its nanosecond range (it reads as unreadable):
    # a readable year outside 1678-2261 is out of range, whichever pandas parsed it
    year = pd.to_numeric(
        raw.astype("string").str.extract(r"^\s*(\d{4})[-/.]\d{1,2}[-/.]\d{1,2}", expand=False),
        errors="coerce",
    )
    beyond = (year.notna() & ((year < FIRST_DATE.year) | (year > LAST_DATE.year))).to_numpy(
        dtype=bool
    )
    out_of_range = out_of_range | (beyond & bad)
    bad = bad & ~beyond
    # a year-first date that is still unreadable names a day that does not exist (2024-02-30):
    # no --day-first / --month-first reads it, the CRM's value is wrong
    # (only when the date part itself is no day: "2024-03-05 25:00" has a bad time, not a bad day)
    date_part = raw.astype("string").str.extract(
        r"^\s*(\d{4}-\d{1,2}-\d{1,2})(?:$|[ T\s])", expand=False
    )
    day_ok = pd.to_datetime(date_part, format="%Y-%m-%d", errors="coerce").notna()
    iso_like = (date_part.notna() & ~day_ok).to_numpy(dtype=bool)
    no_day = bad & iso_like
    # … and one whose day is a day but is unreadable has a bad time ("2024-03-05 25:00")
    no_time = bad & day_ok.to_numpy(dtype=bool)
    bad = bad & ~no_day & ~no_time
    no_such_time = (
        "the day is right but the time is not (hours 00–23, minutes 00–59): check the value in "
        "the CRM"
    )
    no_such_day = _no_such_day(date_part, no_day)
    values = values.where(~out_of_range).astype("datetime64[ns]")
    if f.dtype == "date":
        values = values.dt.normalize()
    unreadable = (
        "not a month-first date (this file's dates are read month-first, MM/DD/YYYY, as "
        "--month-first or its other dates say): check the value, or say --day-first"
        if month_first
        else "not a day-first date (this file's dates are read day-first, DD/MM/YYYY, as "
        "--day-first or its other dates say): check the value, or say --month-first"
        if day_first
        else "not a date; use YYYY-MM-DD (or say --day-first / --month-first)"
    )
    if (month_first or day_first) and bad.any():
        # suggest the other order only for values it reads ("13/02/2026"); "2/30/2026" is no
        # date either way, and --day-first would break every other date of the file
        # read by the same parser in the other stated order ("March 2026" is read by neither)
        unread = raw[bad].astype("string").drop_duplicates()
        _, unread_bad = parse_dates(unread, day_first=month_first, month_first=day_first)
        swappable = bad & raw.astype("string").isin(unread[~unread_bad]).to_numpy(dtype=bool)
        order = "month-first, MM/DD/YYYY" if month_first else "day-first, DD/MM/YYYY"
        invalid = (
            f"not a date (this file's dates are read {order}, and the other order does not "
            "read it either): check the value in the CRM"
        )
        return values, [
            (swappable, unreadable),
            (bad & ~swappable, invalid),
            *no_such_day,
            (no_time, no_such_time),
            (out_of_range, "date out of range (years 1678 to 2261); check the year"),
        ]
    return values, [
        (bad, unreadable),
        *no_such_day,
        (no_time, no_such_time),
        (out_of_range, "date out of range (years 1678 to 2261); check the year"),
    ]


def _no_such_day(date_part: pd.Series, no_day: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What is wrong with each year-month-day that names no day, one message per case: a month
    that does not exist ("2024-13-01") or a day the month does not have ("2023-02-29")."""
    import calendar

    if not no_day.any():
        return []
    parts = date_part.str.extract(r"^(\d{4})-(\d{1,2})-(\d{1,2})$").astype("float")
    cases: dict[str, np.ndarray] = {}
    for i in np.flatnonzero(no_day):
        y, m, d = (int(v) for v in parts.iloc[i])
        if not 1 <= m <= 12:
            what = f"there is no month {m} (read as year-month-day)"
        else:
            days = calendar.monthrange(y, m)[1]
            what = (
                f"{calendar.month_name[m]} {y} has {days} days, not {d} (read as year-month-day)"
                if d > days
                else f"there is no day {d} (read as year-month-day)"
            )
        cases.setdefault(what, np.zeros(len(no_day), dtype=bool))[i] = True
    return [
        (mask, f"no such day: {what}: check the value in the CRM") for what, mask in cases.items()
    ]


def _parse_multi(
    order: tuple[str, ...], uniq: pd.Series, lookup: dict[str, str]
) -> tuple[pd.Series, np.ndarray]:
    """:func:`parse_vocabulary`, and a cell of several ``;``-separated values read as one when
    every part is known: the first of ``order`` among them (the field's
    :data:`~winloss.model.vocabulary.MULTI_VALUE_ORDER`), else the first written. (The import's
    note says which cells were read as what.)"""
    values, bad = parse_vocabulary(uniq, lookup)
    multi = bad & uniq.astype(str).str.contains(";", regex=False).to_numpy(dtype=bool)
    for i in np.flatnonzero(multi):
        parts = [p for p in str(uniq.iloc[i]).split(";") if p.strip()]
        read, unread = parse_vocabulary(pd.Series(parts), lookup)
        if not parts or unread.any():
            continue
        found = [str(v) for v in read]
        rank = order or tuple(found)
        values.iloc[i] = min(found, key=lambda v: rank.index(v) if v in rank else len(rank))
        bad[i] = False
    return values, bad


def convert_field(
    f: Field, raw: pd.Series, *, mapping: Mapping, unknown: UnknownValuePolicy
) -> tuple[pd.Series, list[Problem]]:
    """Convert one mapped column to the field's type: (values, problems)."""
    if f.dtype in ("int", "float"):
        return convert_numbers(f, raw)
    if f.dtype in ("date", "timestamp"):
        return convert_dates(f, raw, day_first=mapping.day_first, month_first=mapping.month_first)
    if f.dtype == "bool":
        values, bad = by_distinct(raw, parse_bools)
        return values.astype("boolean"), [
            (bad, "not a yes/no value; use yes/no, true/false or 1/0")
        ]
    if f.vocabulary:
        lookup = vocabulary_lookup(f.name, f.vocabulary)
        lookup.update(
            {normalise_token(k): v for k, v in mapping.value_maps.get(f.name, {}).items()}
        )
        order = MULTI_VALUE_ORDER.get(f.name, ())
        values, bad = by_distinct(raw, lambda u: _parse_multi(order, u, lookup))
        if unknown == "other" and "other" in f.vocabulary:
            values = values.where(~bad, "other")
            bad = np.zeros(len(bad), dtype=bool)
        elif unknown == "keep":
            values = values.where(~bad, raw)
            bad = np.zeros(len(bad), dtype=bool)
        allowed = ", ".join(f.vocabulary)
        return values.astype("string"), [
            (
                bad,
                f"not one of {allowed}; map it under value_maps: {f.name}: in a mapping file or "
                "pass --unknown-values other",
            )
        ]
    value_map = mapping.value_maps.get(f.name)
    values = raw.astype("string")
    if value_map:
        values = values.replace(value_map)
    return values, []


def minimum_problem(f: Field, values: pd.Series) -> Problem | None:
    """Values below the field's minimum (e.g. a negative amount), with what to do."""
    if f.minimum is None or f.dtype not in ("int", "float"):
        return None
    below = (values.astype(float) < f.minimum).fillna(False).to_numpy(dtype=bool)
    # money columns get the usual cause of a negative amount; counts and days do not
    money = f.name in ("amount", "mrr", "impact_value") or "amount" in f.name
    why = " (refunds and credits do not belong in this column)" if money else ""
    return (
        below,
        f"must be at least {f.minimum:g}; correct the value{why}, or leave the cell empty if it "
        "is unknown",
    )
