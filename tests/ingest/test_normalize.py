"""Value normalisation: numbers, dates, booleans, vocabularies and type inference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from winloss.ingest.normalize import (
    by_distinct,
    infer_type,
    parse_bools,
    parse_dates,
    parse_numbers,
    parse_vocabulary,
)
from winloss.model.schema import SOURCES
from winloss.model.vocabulary import OUTCOME_SYNONYMS, normalise_token, vocabulary_lookup


def s(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1200", 1200.0),
        ("1,200.50", 1200.5),
        ("$1,234,567.89", 1234567.89),
        ("USD 3,000", 3000.0),
        ("1.234,50 €", 1234.5),
        ("12,5", 12.5),
        ("(200)", -200.0),
        ("  42 ", 42.0),
        ("£7", 7.0),
        ("3.5e3", 3500.0),
        ("1 000", 1000.0),
    ],
)
def test_numbers_in_common_formats(raw: str, expected: float) -> None:
    values, bad = parse_numbers(s(raw))
    assert not bad[0]
    assert math.isclose(values[0], expected)


@pytest.mark.parametrize("raw", ["abc", "12abc", "1,2,3.4.5", "--5"])
def test_numbers_rejects_text(raw: str) -> None:
    _, bad = parse_numbers(s(raw))
    assert bad[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-05", "2026-03-05"),
        ("2026-03-05 14:30:00", "2026-03-05"),
        ("2026-03-05T14:30:00Z", "2026-03-05"),
        ("03/05/2026", "2026-03-05"),  # US month-first by default
        ("5.3.2026", "2026-03-05"),
        ("05-Mar-2026", "2026-03-05"),
        ("Mar 5, 2026", "2026-03-05"),
        ("20260305", "2026-03-05"),
    ],
)
def test_dates_in_common_formats(raw: str, expected: str) -> None:
    values, bad = parse_dates(s(raw))
    assert not bad[0]
    assert values[0].date().isoformat() == expected


def test_day_first_decides_ambiguous_dates_and_unambiguous_values_decide_the_column() -> None:
    values, _ = parse_dates(s("03/05/2026"), day_first=True)
    assert values[0].date().isoformat() == "2026-05-03"
    # 25/12/2026 can only be day-first: the whole column reads day-first
    values, bad = parse_dates(s("25/12/2026", "03/05/2026"))
    assert not bad.any()
    assert [v.date().isoformat() for v in values] == ["2026-12-25", "2026-05-03"]


def test_bad_dates_are_flagged() -> None:
    _, bad = parse_dates(s("2026-02-30", "next week", "2026-01-01"))
    assert bad.tolist() == [True, True, False]


def test_booleans() -> None:
    values, bad = parse_bools(s("yes", "No", "TRUE", "f", "1", "0", "Y", "maybe"))
    assert values.tolist()[:7] == [True, False, True, False, True, False, True]
    assert bad.tolist() == [False] * 7 + [True]


def test_outcome_synonyms_cover_crm_spellings() -> None:
    for raw, want in [
        ("Closed Won", "won"),
        ("closed_lost", "lost"),
        ("WIN", "won"),
        ("Loss", "lost"),
        ("true", "won"),
        ("0", "lost"),
        ("Open", "open"),
    ]:
        assert OUTCOME_SYNONYMS[normalise_token(raw)] == want


def test_vocabulary_synonyms_and_unknowns() -> None:
    lookup = vocabulary_lookup("source", SOURCES)
    values, bad = parse_vocabulary(
        s("Web", "Partner Referral", "Product-Led", "Trade Show", "Carrier pigeon"), lookup
    )
    assert values.tolist()[:4] == ["inbound", "partner", "product-led", "event"]
    assert bad.tolist() == [False, False, False, False, True]


def test_by_distinct_maps_back_and_keeps_missing() -> None:
    series = pd.Series(["1", None, "2", "1", "x"], dtype="string")
    values, bad = by_distinct(series, parse_numbers)
    assert values.iloc[0] == 1 and values.iloc[2] == 2 and values.iloc[3] == 1
    assert np.isnan(values.iloc[1]) and np.isnan(values.iloc[4])
    assert bad.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (["1", "2", "3"], "int"),
        (["1.5", "2", "3"], "float"),
        (["yes", "no", "yes"], "bool"),
        (["2024-01-01", "2024-02-03"], "date"),
        (["Unknown", "None", "Known", "None"], "category"),
        ([f"free text {i}" for i in range(200)], "string"),
    ],
)
def test_infer_type(values: list[str], dtype: str) -> None:
    assert infer_type(pd.Series(values, dtype="string")) == dtype


def test_a_negative_amount_reads_the_same_however_the_export_signs_it() -> None:
    """ "-$2,500.00" was "not a number" and "$(2,500.00)" too, while "$-2,500.00", "-2,500.00"
    and "($2,500.00)" read as -2,500 (and were refused by the amount's minimum as such)."""
    import pandas as pd

    from winloss.ingest.normalize import parse_numbers

    written = ["-$2,500.00", "$-2,500.00", "-2,500.00", "($2,500.00)", "$(2,500.00)", "-EUR 2500"]
    values, bad = parse_numbers(pd.Series(written))
    assert values.tolist() == [-2500.0] * len(written) and not bad.any()
    values, bad = parse_numbers(pd.Series(["$1,200.00", "-", "$", "(abc)", "-$-2,500", "-$(25)"]))
    assert values.iloc[0] == 1200.0 and bad.tolist() == [False] + [True] * 5
