"""Vectorised value normalisation: numbers, dates, booleans, vocabularies.

Every converter works on the *distinct* values of a column (``pandas.factorize``) and maps the
result back, so a million-row column with a few thousand distinct dates costs a few thousand parses.
Each converter returns the converted series and a boolean mask of cells that could not be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from winloss.model.vocabulary import BOOL_SYNONYMS, normalise_token

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%Y%m%d",
)

_CURRENCY = re.compile(r"^\s*(?:[A-Z]{3}\s*)?[$€£¥₹]?\s*|\s*(?:[$€£¥₹]|[A-Z]{3})?\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def by_distinct(
    series: pd.Series, convert: Callable[[pd.Series], tuple[pd.Series, np.ndarray]]
) -> tuple[pd.Series, np.ndarray]:
    """Apply ``convert`` to the distinct non-missing values of ``series`` and map back.

    Returns the converted series (missing where the input was missing or invalid) and the mask
    of invalid cells.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    converted, bad = convert(uniq)
    bad = np.asarray(bad, dtype=bool)
    conv_values = converted.to_numpy()
    valid = codes >= 0
    if pd.api.types.is_datetime64_any_dtype(converted.dtype):
        out = np.full(len(series), np.datetime64("NaT"), dtype=conv_values.dtype)
    elif pd.api.types.is_float_dtype(converted.dtype):
        out = np.full(len(series), np.nan)
    else:
        out = np.full(len(series), None, dtype=object)
    out[valid] = conv_values[codes[valid]]
    bad_cells = np.zeros(len(series), dtype=bool)
    bad_cells[valid] = bad[codes[valid]]
    return pd.Series(out, index=series.index), bad_cells


def clean_strings(series: pd.Series, missing: frozenset[str]) -> pd.Series:
    """Strip whitespace and turn the mapping's missing markers into missing values."""
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return series
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        # straight on the Arrow array: a wide file has thousands of columns to clean
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(series.array)
        stripped = pc.utf8_trim_whitespace(arr)
        gone = pc.is_in(stripped, value_set=pa.array(sorted(missing), type=pa.string()))
        cleaned = pc.if_else(gone, pa.scalar(None, type=pa.string()), stripped)
        return pd.Series(pd.array(cleaned, dtype=series.dtype), index=series.index)
    s = series.astype("string").str.strip()
    return s.mask(s.isin(missing))


def parse_numbers(uniq: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Numbers with thousands separators, currency symbols/codes, (negatives) and decimal commas."""
    if pd.api.types.is_numeric_dtype(uniq.dtype):
        return uniq.astype(float), np.zeros(len(uniq), dtype=bool)
    s = uniq.astype(str).str.strip()
    # a sign or accounting parentheses outside the currency ("-$2,500.00", "$(2,500.00)",
    # "($2,500.00)"): the same negative number however the export wrote it
    sign = s.str.match(r"^-\s*(?:[A-Z]{3}\s*[$€£¥₹]?|[$€£¥₹])")
    s = s.str.replace(r"^-\s*((?:[A-Z]{3}\s*[$€£¥₹]?|[$€£¥₹]))", r"\1", regex=True)
    s = s.str.replace(_CURRENCY, "", regex=True)
    # a second sign after the currency ("-$-2,500", "-$(2,500)") is not a number
    s = s.where(~(sign & s.str.match(r"^\s*[-+(]")), "not a number")
    negative = s.str.match(r"^\(.*\)$") | sign
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    s = s.str.replace(_CURRENCY, "", regex=True).str.replace("%", "", regex=False)
    # literal no-break spaces: pyarrow's regex engine (RE2) rejects \u escapes
    s = s.str.replace("[\\s\u00a0\u202f']", "", regex=True)
    # 1.234.567,89 or 1234,5 -> decimal comma; 1,234,567.89 -> thousands comma
    decimal_comma = s.str.match(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$|^[+-]?\d+,\d{1,2}$")
    s = s.where(
        ~decimal_comma, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    thousands = s.str.match(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
    s = s.where(~thousands, s.str.replace(",", "", regex=False))
    ok = s.str.match(_NUMBER)
    values = pd.to_numeric(s.where(ok), errors="coerce").astype(float)
    # pandas 2 coerces an overflowing literal (1e309) to NaN where pandas 3 gives inf: read those
    # with Python's float so they arrive as infinity and are refused, never stored as empty
    lost = (ok.fillna(False).astype(bool) & values.isna()).to_numpy(dtype=bool)
    if lost.any():
        values[lost] = [float(x) for x in s[lost]]
    values = values.where(~negative, -values)
    return values, ~ok.to_numpy(dtype=bool)


#: Numeric formats that put the month before the day, and the day before the month.
_MONTH_FIRST = ("%m/%d", "%m-%d")
_DAY_FIRST = ("%d/%m", "%d-%m")


#: A time zone after a time: an offset (+02:00, -0500, Z), UTC/GMT with an offset, or a zone
#: abbreviation (EST, CEST …; not AM/PM)
_ZONE = (
    r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp][Mm])?)\s*"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?"
    r"|(?!(?:AM|PM)$)[A-Z]{2,5})$"
)


def parse_dates(
    uniq: pd.Series, *, day_first: bool = False, month_first: bool = False
) -> tuple[pd.Series, np.ndarray]:
    """Dates and timestamps in common formats; the format reading most values wins per column.

    A tie between month-first and day-first formats is settled by ``day_first``. An order the
    user stated is binding: with ``month_first`` a 31/05/2025 is not a date (no month 31), with
    ``day_first`` a 05/31/2025 is not one, rather than read in the other order.
    """
    if pd.api.types.is_datetime64_any_dtype(uniq.dtype):
        return uniq.dt.tz_localize(None) if uniq.dt.tz else uniq, np.zeros(len(uniq), bool)
    if len(uniq) and all(isinstance(v, (pd.Timestamp, np.datetime64)) for v in uniq):
        # the wall-clock time each value carries, whatever its offset (see _wall_clock)
        naive = [
            v.tz_localize(None) if isinstance(v, pd.Timestamp) and v.tzinfo else v for v in uniq
        ]
        stamps = pd.to_datetime(pd.Series(naive, index=uniq.index))
        return stamps, np.zeros(len(uniq), bool)
    s = uniq.astype(str).str.strip()
    best: pd.Series | None = None
    best_count = -1
    order = list(DATE_FORMATS)
    if month_first:
        order = [f for f in order if not f.startswith(_DAY_FIRST)]
    elif day_first:
        order = [f for f in order if not f.startswith(_MONTH_FIRST)]
    if day_first:
        order.sort(key=lambda f: 0 if f.startswith("%d") else 1)
    for fmt in order:
        parsed = pd.to_datetime(s, format=fmt, errors="coerce")
        count = int(parsed.notna().sum())
        if count > best_count:
            best, best_count = parsed, count
        if count == len(s):
            break
    assert best is not None
    result = best
    remaining = result.isna()
    if remaining.any():
        # mixed formats: fill what is left, format by format, in order
        for fmt in order:
            if not remaining.any():
                break
            parsed = pd.to_datetime(s[remaining], format=fmt, errors="coerce")
            result = result.where(~remaining, parsed.reindex(result.index))
            remaining = result.isna()
        if remaining.any():
            # a time with a zone ("2026-03-31 20:00-05:00", "… 20:00 EST", "…T20:00:00Z") is read
            # as the wall-clock time written: the date a CRM user saw, never moved to the next
            # day (and quarter) by a conversion to UTC
            wall = s[remaining].str.replace(_ZONE, r"\1", regex=True).str.strip()
            for fmt in order:
                parsed = pd.to_datetime(wall, format=fmt, errors="coerce")
                result = result.where(~remaining, parsed.reindex(result.index))
                remaining = result.isna()
                if not remaining.any():
                    break
                wall = wall[remaining[wall.index]]
        if remaining.any():
            wall = s[remaining].str.replace(_ZONE, r"\1", regex=True).str.strip()
            iso = pd.to_datetime(wall, format="ISO8601", errors="coerce")
            result = result.where(~remaining, iso.reindex(result.index))
            remaining = result.isna()
    # microseconds: a year such as 1500 is held, so the caller can report it (ns would overflow)
    return result.astype("datetime64[us]"), remaining.to_numpy(dtype=bool)


_DAY_MONTH_PAIRS = (
    ("%m/%d/%Y", "%d/%m/%Y"),
    ("%m/%d/%y", "%d/%m/%y"),
    ("%m-%d-%Y", "%d-%m-%Y"),
    ("%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"),
)  # dotted dates are read day-first only


def date_order(series: pd.Series) -> str | None:
    """What a text date column says about the day/month order.

    ``"month"`` when its dates read month-first only (e.g. 3/15/2026), ``"day"`` when day-first
    only, ``"ambiguous"`` when every date reads both ways with different results (02/01/2025),
    ``None`` when the order does not matter (ISO dates, 01/01/2025) or the column is not such dates.
    """
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return None
    uniq = pd.Series(series.dropna().unique()).astype(str).str.strip()
    if uniq.empty:
        return None
    for month_first, day_first in _DAY_MONTH_PAIRS:
        a = pd.to_datetime(uniq, format=month_first, errors="coerce")
        b = pd.to_datetime(uniq, format=day_first, errors="coerce")
        readable = a.notna() | b.notna()  # unreadable values are reported elsewhere
        if not readable.any():
            continue
        a, b = a[readable], b[readable]
        a_all, b_all = bool(a.notna().all()), bool(b.notna().all())
        if a_all and not b_all:
            return "month"
        if b_all and not a_all:
            return "day"
        if a_all and b_all and bool((a != b).any()):
            return "ambiguous"
    return None


def ambiguous_day_month(series: pd.Series) -> bool:
    """True when every date of a text column reads both month-first and day-first, and the two
    readings differ (e.g. 02/01/2025): the order cannot be told from the data."""
    return date_order(series) == "ambiguous"


def parse_bools(uniq: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """yes/no/true/false/1/0/y/n and friends."""
    if pd.api.types.is_bool_dtype(uniq.dtype):
        return uniq.astype(object), np.zeros(len(uniq), dtype=bool)
    tokens = uniq.astype(str).map(normalise_token)
    values = tokens.map(BOOL_SYNONYMS)
    bad = values.isna().to_numpy(dtype=bool)
    return values.astype(object), bad


def parse_vocabulary(uniq: pd.Series, lookup: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Map values onto a controlled vocabulary through normalised tokens and synonyms."""
    tokens = uniq.astype(str).map(normalise_token)
    values = tokens.map(lookup)
    return values.astype(object), values.isna().to_numpy(dtype=bool)


def infer_type(series: pd.Series, *, day_first: bool = False) -> str:
    """Infer the logical type of a custom column from its non-missing values.

    ``bool`` for two yes/no-like values, ``int``/``float`` when every value is a number, ``date`` when
    every value is a date, ``category`` for repeated labels, ``string`` for free text and ids
    (mostly distinct values), which are kept but not analysed.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "int"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    values = series.dropna()
    if values.empty:
        return "string"
    uniq = pd.Series(values.unique().astype(str))
    tokens = uniq.map(normalise_token)
    if (
        len(uniq) <= 2
        and tokens.isin(list(BOOL_SYNONYMS)).all()
        and not tokens.isin(["1", "0", "1.0", "0.0"]).all()
    ):
        return "bool"
    nums, bad = parse_numbers(uniq)
    if not bad.any():
        arr = nums.to_numpy(dtype=float)
        if not np.isfinite(arr).all() or bool((np.abs(arr) >= 2**53).any()):
            return "string"  # beyond what a number column holds exactly: kept as text
        return "int" if bool(np.all(np.mod(arr, 1) == 0)) else "float"
    if uniq.str.contains(r"[-/.]\d|\d[-/.]", regex=True).all():
        _, bad_d = parse_dates(uniq, day_first=day_first)
        if not bad_d.any():
            return "date"
    n_unique, n = len(uniq), len(values)
    if n_unique > 50 and n_unique > 0.5 * n:
        return "string"
    return "category"
