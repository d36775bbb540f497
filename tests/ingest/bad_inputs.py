"""A corpus of malformed and hostile input files, each with its expected result.

Every case either imports with the values listed in ``expect`` (checked one by one), or is refused
with a one-line message containing every part in ``refused``; after a refusal the store must be
exactly as it was. The cases are the file damage a revenue team's exports really show (see issue
#11): encodings, quoting, delimiters, headers, ids, outcomes, numbers, dates, Excel and Parquet
damage, hostile strings, mapping typos and related-table orphans. Regression cases found by
``tools/fuzz_import.py`` are at the end.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

HEAD = "deal_id,outcome,created_at,amount"
Content = bytes | Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One input file and what must happen to it."""

    id: str
    name: str
    content: Content
    options: dict[str, Any] = field(default_factory=dict)
    table: str = "deals"
    refused: tuple[str, ...] = ()  # message parts of the refusal; empty: it imports
    expect: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> column -> value
    rows: int | None = None  # rows of the file stored (imports)


def csv(*lines: str, head: str = HEAD, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (newline.join([head, *lines]) + newline).encode(encoding)


def _xlsx(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def _zip(**members: bytes) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("_", "."), data)
    return buf.getvalue()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


GOOD = pd.DataFrame(
    {"deal_id": ["x1", "x2"], "outcome": ["won", "lost"], "created_at": ["2026-01-05"] * 2,
     "amount": [10.0, 20.0]}
)  # fmt: skip
XLSX = _xlsx(GOOD)
PARQUET = _parquet(
    pd.DataFrame(
        {"deal_id": ["p1", "p2"], "outcome": ["won", "open"],
         "created_at": pd.to_datetime(["2026-01-05", "2026-02-01"]),
         "amount": [5, 7], "seats": pd.array([3, None], dtype="Int64")}
    )
)  # fmt: skip
WIDE_HEAD = HEAD + "," + ",".join(f"c{i}" for i in range(1001))
MEDIUM_HEAD = HEAD + "," + ",".join(f"m{i}" for i in range(500))
LATE_LATIN = csv(*[f"l{i},won,2026-01-05,{i}" for i in range(12000)]) + b"lz,won,2026-01-05,1\n"
LATE_LATIN = LATE_LATIN.replace(b"lz,won", "lZoë,won".encode("cp1252"))
T = pd.Timestamp

CASES: list[Case] = [
    # -- encodings -------------------------------------------------------------------------
    Case("utf8", "a.csv", csv("e1,won,2026-01-05,1"), expect={"e1": {"amount": 1.0}}),
    Case(
        "utf8-bom",
        "a.csv",
        b"\xef\xbb\xbf" + csv("e2,won,2026-01-05,2"),
        expect={"e2": {"amount": 2.0}},
    ),
    Case(
        "utf16-bom",
        "a.csv",
        csv("e3,won,2026-01-05,3", encoding="utf-16"),
        expect={"e3": {"amount": 3.0}},
    ),
    Case(
        "utf16-no-bom",
        "a.csv",
        csv("e4,won,2026-01-05,4", encoding="utf-16-le"),
        expect={"e4": {"amount": 4.0}},
    ),
    Case(
        "cp1252",
        "a.csv",
        csv("e5,won,2026-01-05,5,Zoë", head=HEAD + ",name", encoding="cp1252"),
        expect={"e5": {"name": "Zoë"}},
    ),
    Case(
        "mixed-utf8-cp1252",
        "a.csv",
        csv("e6,won,2026-01-05,6,Zoë", head=HEAD + ",name")
        + "e7,lost,2026-01-05,7,Zoë\n".encode("cp1252"),
        expect={"e6": {"name": "Zoë"}, "e7": {"name": "Zoë"}},
    ),
    Case(
        "latin1-late-in-file", "a.csv", LATE_LATIN, expect={"lZoë": {"outcome": "won"}}, rows=12001
    ),
    Case(
        "latin1-undefined-cp1252-byte",
        "a.csv",
        csv("e8,won,2026-01-05,8,a\x81b", head=HEAD + ",name", encoding="latin-1"),
        expect={"e8": {"name": "a\x81b"}},
    ),
    # -- quoting and delimiters ------------------------------------------------------------
    Case(
        "truncated-last-line",
        "a.csv",
        csv("q1,won,2026-01-05,1", "q2,lo")[:-1],
        refused=("line 3", "2 field(s), not 4", "Nothing was imported"),
    ),
    Case(
        "unbalanced-quote-middle",
        "a.csv",
        csv("q1,won,2026-01-05,1", 'q2,"lost,2026-01-05,2', "q3,won,2026-01-05,3"),
        refused=("line 3", "never closed", "close or remove the quote"),
    ),
    Case(
        "unbalanced-quote-last-field",
        "a.csv",
        csv('q1,won,2026-01-05,"1', "q2,lost,2026-01-05,2", "q3,won,2026-01-05,3"),
        refused=("line 2", "never closed"),
    ),
    Case(
        "extra-field",
        "a.csv",
        csv("q1,won,2026-01-05,1", "q2,lost,2026-01-05,2,9"),
        refused=("line 3", "5 field(s), not 4", "fix the quoting or delimiter"),
    ),
    Case(
        "missing-field-middle",
        "a.csv",
        csv("q1,won,2026-01-05,1", "q2,lost,2026-01-05", "q3,won,2026-01-05,3"),
        refused=("line 3", "3 field(s), not 4"),
    ),
    Case(
        "mixed-delimiters",
        "a.csv",
        csv("q1,won,2026-01-05,1", "q2;lost;2026-01-05;2", "q3,won,2026-01-05,3"),
        refused=("line 3", "1 field(s), not 4"),
    ),
    Case(
        "semicolon",
        "a.csv",
        csv("s1;won;2026-01-05;1.234,5", head=HEAD.replace(",", ";")),
        expect={"s1": {"amount": 1234.5}},
    ),
    Case(
        "tab",
        "a.tsv",
        csv("s2\twon\t2026-01-05\t7", head=HEAD.replace(",", "\t")),
        expect={"s2": {"amount": 7.0}},
    ),
    Case(
        "pipe",
        "a.txt",
        csv("s3|won|2026-01-05|8", head=HEAD.replace(",", "|")),
        expect={"s3": {"amount": 8.0}},
    ),
    Case(
        "newline-in-quoted-value",
        "a.csv",
        csv(
            's4,won,2026-01-05,1,"line one\nline two"',
            "s5,lost,2026-01-05,2,x",
            head=HEAD + ",notes",
        ),
        expect={"s4": {"notes": "line one\nline two"}, "s5": {"notes": "x"}},
    ),
    Case(
        "quoted-delimiter-and-escaped-quote",
        "a.csv",
        csv('s6,won,2026-01-05,1,"Acme, ""the best"" Inc"', head=HEAD + ",account_name"),
        expect={"s6": {"account_name": 'Acme, "the best" Inc'}},
    ),
    Case(
        "crlf", "a.csv", csv("s7,won,2026-01-05,1", newline="\r\n"), expect={"s7": {"amount": 1.0}}
    ),
    Case(
        "blank-lines-inside",
        "a.csv",
        csv("s8,won,2026-01-05,1", "", "", "s9,lost,2026-01-05,2"),
        expect={"s8": {"amount": 1.0}, "s9": {"amount": 2.0}},
        rows=2,
    ),
    Case(
        "bad-value-after-blank-line-names-its-line",
        "a.csv",
        csv("s8,won,2026-01-05,1", "", "s9,lost,2026-01-05,lots"),
        refused=("row 4", "'amount'", "not a number"),
    ),
    Case(
        "report-footer",
        "a.csv",
        csv(
            "f1,won,2026-01-05,1", "f2,lost,2026-01-05,2", "Grand Totals,,,3", '"Generated By: Ann"'
        ),
        expect={"f1": {"amount": 1.0}},
        rows=2,
    ),
    Case(
        "report-footer-with-the-company-name",
        "a.csv",
        csv(
            "f1,won,2026-01-05,1",
            "f2,lost,2026-01-05,2",
            "",
            '"Grand Totals (2 records)"',
            "",
            '"Generated By:  Ann 11/30/2026, 9:14 AM"',
            '"Acme Inc."',
            '"Confidential Information - Do Not Distribute"',
            '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
        ),
        expect={"f2": {"amount": 2.0}},
        rows=2,
    ),
    Case(
        "truncated-last-record-before-a-footer",
        "a.csv",
        csv("f1,won,2026-01-05,1", "f2", "", '"Generated By: Ann"'),
        refused=("line 3", "1 field(s), not 4"),
    ),
    Case(
        "blank-stage-is-not-an-open-deal",
        "a.csv",
        csv(
            "s1,Closed Won,2026-01-05,1",
            "s2,,2026-01-05,2",
            "s3,Negotiation,2026-01-05,3",
            head="deal_id,stage,created_at,amount",
        ),
        refused=("row 3", "'stage'", "stage is empty", "Nothing was imported"),
    ),
    Case(
        "footer-like-line-in-the-middle",
        "a.csv",
        csv("f1,won,2026-01-05,1", '"Generated By: Ann"', "f2,lost,2026-01-05,2"),
        refused=("line 3", "1 field(s), not 4"),
    ),
    # -- headers ---------------------------------------------------------------------------
    Case(
        "repeated-header",
        "a.csv",
        csv("h1,won,2026-01-05,1,2", head=HEAD + ",amount"),
        expect={"h1": {"amount": 1.0, "amount_2": 2}},
    ),
    Case(
        "headers-normalising-alike",
        "a.csv",
        csv("h2,won,2026-01-05,1,a,b,c", head=HEAD + ",x column,x-column,X Column"),
        expect={"h2": {"x_column": "a", "x_column_2": "b", "x_column_3": "c"}},
    ),
    Case(
        "header-label-2-taken",
        "a.csv",
        csv("h3,won,2026-01-05,1,p,q,r", head=HEAD + ",v,v,v_2"),
        expect={"h3": {"v": "p", "v_3": "q", "v_2": "r"}},
    ),
    Case(
        "blank-header-cells",
        "a.csv",
        csv("h4,won,2026-01-05,1,a", head=HEAD + ","),
        expect={"h4": {"column_5": "a"}},
    ),
    Case("header-only", "a.csv", csv(), rows=0),
    Case("empty-file", "a.csv", b"", refused=("the file is empty", "header row")),
    Case("whitespace-only-file", "a.csv", b" \n\n \r\n", refused=("the file is empty",)),
    Case(
        "formula-header",
        "a.csv",
        csv("h5,won,2026-01-05,1,hello", head=HEAD + ",=cmd|calc"),
        expect={"h5": {"cmd_calc": "hello"}},
    ),
    # -- ids -------------------------------------------------------------------------------
    Case(
        "duplicate-id",
        "a.csv",
        csv("d1,won,2026-01-05,1", "d1,lost,2026-01-05,2"),
        refused=("'d1' on rows 2, 3", "--on-duplicate"),
    ),
    Case(
        "empty-id",
        "a.csv",
        csv(",won,2026-01-05,1"),
        refused=("row 2", "deal_id is required", "fill it in"),
    ),
    Case("whitespace-id", "a.csv", csv("   ,won,2026-01-05,1"), refused=("deal_id is required",)),
    Case(
        "leading-zero-id", "a.csv", csv("00123,won,2026-01-05,1"), expect={"00123": {"amount": 1.0}}
    ),
    Case(
        "huge-id-and-cell",
        "a.csv",
        csv("i" * 10_000 + ",won,2026-01-05,1," + "n" * 1_000_000, head=HEAD + ",notes"),
        expect={"i" * 10_000: {"notes": "n" * 1_000_000}},
    ),
    # -- outcomes --------------------------------------------------------------------------
    Case(
        "unknown-outcome",
        "a.csv",
        csv("o1,maybe,2026-01-05,1"),
        refused=("row 2", "'outcome'", "not a recognised outcome", "--won-value"),
    ),
    Case(
        "won-value-with-open-synonyms",
        "a.csv",
        csv(
            "o2,Won,2026-01-05,1",
            "o3,Pending,2026-01-05,1",
            "o4,Lost,2026-01-05,1",
            "o5,In Progress,2026-01-05,1",
        ),
        options={"won_values": ("Won",)},
        expect={
            "o2": {"outcome": "won"},
            "o3": {"outcome": "open"},
            "o4": {"outcome": "lost"},
            "o5": {"outcome": "open"},
        },
    ),
    Case(
        "won-value-and-an-unknown-value",
        "a.csv",
        csv("o6,Won,2026-01-05,1", "o7,maybe,2026-01-05,1", "o8,Lost,2026-01-05,1"),
        options={"won_values": ("Won",)},
        refused=("row 3", "'maybe'", "--lost-value"),
    ),
    # found while writing the fuzzer's outcome check: a word for one side must never flip
    Case(
        "lost-value-alone-never-flips-a-lost-word",
        "a.csv",
        csv("o18,lost,2026-01-05,1", "o19,Closed Lost,2026-01-05,1", "o20,Won,2026-01-05,1"),
        options={"lost_values": ("lost",)},
        refused=("row 3", "'Closed Lost'", "--lost-value if it means lost"),
    ),
    Case(
        "lost-value-alone-with-won-and-open-words",
        "a.csv",
        csv(
            "o25,lost,2026-01-05,1",
            "o26,Won,2026-01-05,1",
            "o27,open,2026-01-05,1",
            "o28,Closed Won,2026-01-05,1",
        ),
        options={"lost_values": ("lost",)},
        expect={
            "o25": {"outcome": "lost"},
            "o26": {"outcome": "won"},
            "o27": {"outcome": "open"},
            "o28": {"outcome": "won"},
        },
    ),  # fmt: skip
    Case(
        "won-value-alone-and-a-same-side-word",
        "a.csv",
        csv("o22,Won,2026-01-05,1", "o23,Closed Won,2026-01-05,1", "o24,Lost,2026-01-05,1"),
        options={"won_values": ("Won",)},
        refused=("row 3", "'Closed Won'", "--won-value if it means won"),
    ),
    Case(
        "won-value-no-inverts-yes",
        "a.csv",
        csv("o9,No,2026-01-05,1", "o10,Yes,2026-01-05,1"),
        options={"won_values": ("No",)},
        expect={"o9": {"outcome": "won"}, "o10": {"outcome": "lost"}},
    ),
    Case(
        "lost-value-alone",
        "a.csv",
        csv("o11,Churned,2026-01-05,1", "o12,Stayed,2026-01-05,1"),
        options={"lost_values": ("Churned",)},
        expect={"o11": {"outcome": "lost"}, "o12": {"outcome": "won"}},
    ),
    Case(
        "won-and-lost-values-and-a-third",
        "a.csv",
        csv("o13,Signed,2026-01-05,1", "o14,Dropped,2026-01-05,1", "o15,Parked,2026-01-05,1"),
        options={"won_values": ("Signed",), "lost_values": ("Dropped",)},
        refused=("row 4", "'Parked'", "neither a won value"),
    ),
    # found in a stranger's trial: a named value that is not in the file, or that clashes with
    # the stage's own words, must stop the import rather than be ignored or overridden
    Case(
        "won-value-not-in-the-file",
        "a.csv",
        csv("o30,Won,2026-01-05,1", "o31,Lost,2026-01-05,1"),
        options={"won_values": ("Wonn",)},
        refused=("'Wonn'", "not a value of column 'outcome'", "Lost, Won", "spelling"),
    ),
    Case(
        "won-value-on-a-stage-that-says-lost",
        "a.csv",
        csv(
            "s1,Closed Won,2026-01-05,1",
            "s2,Closed Lost,2026-01-05,1",
            "s3,Needs Analysis,2026-01-05,1",
            head="deal_id,stage,created_at,amount",
        ),
        options={"won_values": ("Closed Lost",)},
        refused=("row 2", "'Closed Won'", "not one of the won values (Closed Lost)"),
    ),
    Case(
        "won-value-on-salesforce-stages",
        "a.csv",
        csv(
            "s4,Closed Won,2026-01-05,1",
            "s5,Closed Lost,2026-01-05,1",
            "s6,Needs Analysis,2026-01-05,1",
            "s7,Proposal/Price Quote,2026-01-05,1",
            "s8,Negotiation/Review,2026-01-05,1",
            "s9,Id. Decision Makers,2026-01-05,1",
            head="deal_id,outcome,created_at,amount",
        ),
        options={"won_values": ("Closed Won",)},
        expect={
            "s4": {"outcome": "won"},
            "s5": {"outcome": "lost"},
            "s6": {"outcome": "open"},
            "s7": {"outcome": "open"},
            "s8": {"outcome": "open"},
            "s9": {"outcome": "open"},
        },
    ),
    Case(
        "won-value-beside-a-won-flag-column",
        "a.csv",
        csv(
            "006A,true,Closed Won,2026-01-05,1",
            head="Opportunity ID,Won,Stage,Created Date,Amount",
        ),
        options={"won_values": ("Closed Won",), "preset": "salesforce"},
        refused=("yes/no column 'Won'", "--column outcome="),
    ),
    # a HubSpot close date with a zone is the date the CRM showed, not the UTC date
    Case(
        "dates-with-time-zones-keep-their-wall-clock-date",
        "a.csv",
        csv(
            "z1,won,2026-01-05,1,2026-03-31 20:00-05:00",
            "z2,lost,2026-01-05,1,2026-03-31T22:30:00-04:00",
            "z3,won,2026-01-05,1,2026-03-31 21:00 EST",
            "z4,won,2026-01-05,1,2026-04-01T01:30:00Z",
            "z5,lost,2026-01-05,1,2026-03-31 23:59 UTC+2",
            head=HEAD + ",closed_at",
        ),
        expect={
            "z1": {"closed_at": pd.Timestamp("2026-03-31")},
            "z2": {"closed_at": pd.Timestamp("2026-03-31")},
            "z3": {"closed_at": pd.Timestamp("2026-03-31")},
            "z4": {"closed_at": pd.Timestamp("2026-04-01")},
            "z5": {"closed_at": pd.Timestamp("2026-03-31")},
        },
    ),
    # amounts that say their currency: one currency is kept, several are refused
    Case(
        "amounts-in-one-written-currency-set-the-currency",
        "a.csv",
        csv(
            'c1,won,2026-01-05,"$12,500.00"',
            'c2,lost,2026-01-05,"$1,200.50"',
            "c3,open,2026-01-05,",
        ),
        expect={"c1": {"amount": 12500.0, "currency": "USD"}, "c2": {"currency": "USD"}},
    ),
    Case(
        "amounts-in-mixed-currencies-are-refused",
        "a.csv",
        csv(
            'c4,won,2026-01-05,"USD 12,500.00"',
            'c5,lost,2026-01-05,"$1,200.00"',
            'c6,won,2026-01-05,"€ 3.400,50"',
        ),
        refused=("row 4", "'amount'", "an amount in EUR while 2 other amount(s) are in USD"),
    ),
    # "NA" is North America in a region column, a missing marker elsewhere
    Case(
        "region-na-is-north-america",
        "a.csv",
        csv("r1,won,2026-01-05,1,NA", "r2,lost,2026-01-05,2,EMEA", head=HEAD + ",region"),
        expect={"r1": {"region": "NA"}, "r2": {"region": "EMEA"}},
    ),
    Case(
        "empty-outcome",
        "a.csv",
        csv("o16,,2026-01-05,1"),
        refused=("outcome is empty", "fill it in"),
    ),
    Case(
        "open-synonym-without-flags",
        "a.csv",
        csv("o17,In Progress,2026-01-05,1"),
        expect={"o17": {"outcome": "open"}},
    ),
    # -- numbers ---------------------------------------------------------------------------
    Case(
        "amount-1e309",
        "a.csv",
        csv("n1,won,2026-01-05,1e309"),
        refused=("row 2", "'amount'", "too large"),
    ),
    Case("amount-inf", "a.csv", csv("n2,won,2026-01-05,inf"), refused=("not a number",)),
    Case(
        "negative-amount",
        "a.csv",
        csv("n3,won,2026-01-05,-5"),
        refused=("must be at least 0", "correct the value"),
    ),
    Case(
        "bracket-negative-amount",
        "a.csv",
        csv('n4,won,2026-01-05,"(500)"'),
        refused=("must be at least 0",),
    ),
    Case(
        "currency-and-thousands",
        "a.csv",
        csv('n5,won,2026-01-05,"$1,200.50"'),
        expect={"n5": {"amount": 1200.5}},
    ),
    Case(
        "fractional-int",
        "a.csv",
        csv("n6,won,2026-01-05,1,3.5", head=HEAD + ",stakeholders"),
        refused=("'stakeholders'", "not a whole number"),
    ),
    Case(
        "int-beyond-64-bits",
        "a.csv",
        csv("n7,won,2026-01-05,1,99999999999999999999", head=HEAD + ",stakeholders"),
        refused=("'stakeholders'", "64 bits"),
    ),
    Case(
        "int-exact-beyond-2-53",
        "a.csv",
        csv("n8,won,2026-01-05,1,9007199254740993", head=HEAD + ",stakeholders"),
        expect={"n8": {"stakeholders": 9007199254740993}},
    ),
    Case(
        "custom-20-digit-numbers-kept-exactly",
        "a.csv",
        csv(
            "n9,won,2026-01-05,1,12345678901234567890", "n10,won,2026-01-05,1,2", head=HEAD + ",ref"
        ),
        expect={"n9": {"ref": "12345678901234567890"}, "n10": {"ref": "2"}},
    ),
    Case(
        "custom-1e309-kept-as-text",
        "a.csv",
        csv("n11,won,2026-01-05,1,1e309", head=HEAD + ",score"),
        expect={"n11": {"score": "1e309"}},
    ),
    # -- dates -----------------------------------------------------------------------------
    Case(
        "all-dates-ambiguous",
        "a.csv",
        csv("t1,won,02/01/2025,1", "t2,won,03/01/2025,1"),
        refused=("'created_at'", "--month-first or --day-first", "Nothing was imported"),
    ),
    Case(
        "ambiguous-settled-by-other-column",
        "a.csv",
        csv("t3,won,02/01/2025,1,03/15/2025", head=HEAD + ",closed_at"),
        expect={"t3": {"created_at": T("2025-02-01"), "closed_at": T("2025-03-15")}},
    ),
    Case(
        "day-first-evidence",
        "a.csv",
        csv("t4,won,02/01/2025,1,31/01/2025", head=HEAD + ",closed_at"),
        expect={"t4": {"created_at": T("2025-01-02"), "closed_at": T("2025-01-31")}},
    ),
    Case(
        "ambiguous-with-month-first-flag",
        "a.csv",
        csv("t5,won,02/01/2025,1"),
        options={"month_first": True},
        expect={"t5": {"created_at": T("2025-02-01")}},
    ),
    Case(
        "year-1500",
        "a.csv",
        csv("t6,won,1500-01-01,1"),
        refused=("'created_at'", "out of range", "check the year"),
    ),
    Case("year-9999", "a.csv", csv("t7,won,9999-12-31,1"), refused=("out of range",)),
    # a year-first value no day/month order can read: the CRM's value is wrong, no flag helps
    Case(
        "february-30",
        "a.csv",
        csv("t8,won,2026-02-30,1"),
        refused=(
            "'created_at'",
            "no such day: February 2026 has 28 days, not 30",
            "check the value in the CRM",
        ),
    ),
    Case(
        "month-13-with-time",
        "a.csv",
        csv("t8,won,2024-13-01 00:00,1"),
        refused=("no such day: there is no month 13",),
    ),
    Case(
        "hour-25",
        "a.csv",
        csv("t8,won,2024-03-05 25:00,1"),
        refused=("the day is right but the time is not",),
    ),
    Case(
        "feb-30-utc",
        "a.csv",
        csv("t8,won,2024-02-30T10:00:00Z,1"),
        refused=("no such day: February 2024 has 29 days, not 30",),
    ),
    Case(
        "timezone-offset",
        "a.csv",
        csv("t9,won,2026-01-01T23:00:00-05:00,1"),
        expect={"t9": {"created_at": T("2026-01-01")}},  # the date written, not the UTC one
    ),
    Case(
        "custom-date-year-1500-kept-as-text",
        "a.csv",
        csv("t10,won,2026-01-05,1,1500-06-01", head=HEAD + ",founded"),
        expect={"t10": {"founded": "1500-06-01"}},
    ),
    # -- Excel and Parquet damage ----------------------------------------------------------
    Case("xlsx", "a.xlsx", XLSX, expect={"x1": {"amount": 10.0}}),
    Case("xlsx-truncated", "a.xlsx", XLSX[: len(XLSX) // 2], refused=("cannot read as Excel",)),
    Case("xlsx-zero-bytes", "a.xlsx", b"", refused=("cannot read as Excel",)),
    Case(
        "xlsx-that-is-text", "a.xlsx", csv("z,won,2026-01-05,1"), refused=("cannot read as Excel",)
    ),
    Case(
        "parquet",
        "a.parquet",
        PARQUET,
        expect={"p1": {"amount": 5.0, "seats": 3}, "p2": {"outcome": "open"}},
    ),
    Case("parquet-zero-bytes", "a.parquet", b"", refused=("cannot read as Parquet",)),
    Case(
        "parquet-truncated",
        "a.parquet",
        PARQUET[: len(PARQUET) // 2],
        refused=("cannot read as Parquet",),
    ),
    # -- compressed exports: read as what they hold, errors naming the file given ----------
    Case("csv-gzip", "a.csv.gz", _gzip(csv("g1,won,2026-01-05,7")), expect={"g1": {"amount": 7.0}}),
    Case(
        "csv-gzip-without-gz-name",
        "a.csv",
        _gzip(csv("g2,lost,2026-01-05,8")),
        expect={"g2": {"outcome": "lost"}},
    ),
    Case(
        "csv-gzip-bad-value",
        "a.csv.gz",
        _gzip(csv("g3,won,2026-01-05,1", "g4,maybe,2026-01-05,2")),
        refused=("a.csv.gz", "row 3", "outcome"),
    ),
    Case(
        "csv-gzip-truncated",
        "a.csv.gz",
        _gzip(csv(*[f"g{i},won,2026-01-05,{i}" for i in range(300)]))[:80],
        refused=("a.csv.gz", "cannot decompress"),
    ),
    Case(
        "zip-one-csv",
        "a.zip",
        _zip(deals_csv=csv("z1,won,2026-01-05,3")),
        expect={"z1": {"amount": 3.0}},
    ),
    Case(
        "zip-salesforce-export",
        "export.zip",
        _zip(Opportunity_csv=csv("z2,won,2026-01-05,3"), Account_csv=b"Id,Name\n1,A\n"),
        refused=("export.zip", "2 files", "Opportunity.csv", "unzip"),
    ),
    # -- hostile strings -------------------------------------------------------------------
    Case(
        "formula-cells-stored-verbatim",
        "a.csv",
        csv(
            'y1,won,2026-01-05,1,"=HYPERLINK(""http://x"",""y"")"',
            "y2,won,2026-01-05,1,+cmd|' /C calc'!A0",
            head=HEAD + ",account_name",
        ),
        expect={
            "y1": {"account_name": '=HYPERLINK("http://x","y")'},
            "y2": {"account_name": "+cmd|' /C calc'!A0"},
        },
    ),
    Case(
        "nul-byte-in-cell",
        "a.csv",
        csv("y3,won,2026-01-05,1,a\x00b", head=HEAD + ",notes"),
        expect={"y3": {"notes": "a\x00b"}},
    ),
    Case(
        "html-and-emoji",
        "a.csv",
        csv("y4,won,2026-01-05,1,<script>alert(1)</script> 🚀 \u202eevil", head=HEAD + ",notes"),
        expect={"y4": {"notes": "<script>alert(1)</script> 🚀 \u202eevil"}},
    ),
    # -- mapping flags ---------------------------------------------------------------------
    Case(
        "column-source-typo",
        "a.csv",
        csv("m1,won,2026-01-05,1,5", head=HEAD + ",Deal Value"),
        options={"columns": {"amount": "Deal Valu"}},
        refused=("'Deal Valu'", "did you mean 'Deal Value'"),
    ),
    Case(
        "column-unknown-role",
        "a.csv",
        csv("m2,won,2026-01-05,1"),
        options={"columns": {"foo": "amount"}},
        refused=("unknown column role 'foo'",),
    ),
    Case(
        "missing-required-column",
        "a.csv",
        csv("m3,won,1", head="deal_id,outcome,amount"),
        refused=("'created_at'", "--column created_at=COLUMN", "--no-dates"),
    ),
    # -- wide files ------------------------------------------------------------------------
    Case(
        "1001-extra-columns",
        "a.csv",
        csv("w1,won,2026-01-05,1," + ",".join("1" * 1001), head=WIDE_HEAD),
        refused=("1,001 columns beyond the schema", "ignore:"),
    ),
    Case(
        "500-extra-columns",
        "a.csv",
        csv("w2,won,2026-01-05,1," + ",".join(str(i) for i in range(500)), head=MEDIUM_HEAD),
        expect={"w2": {"m0": 0, "m499": 499}},
    ),
    # HubSpot's default buying roles read as the committee's roles
    Case(
        "hubspot-buying-roles",
        "a.csv",
        csv(
            "B1,c1,Budget Holder",
            "B1,c2,Legal & Compliance",
            "B1,c3,End User",
            "B1,c4,Blocker",
            # HubSpot's buying role is a multi-select: the most decisive role named is kept
            'B1,c5,"Budget Holder;Decision Maker"',
            'B1,c6,"End User; Champion"',
            head="deal_id,contact_id,role",
        ),
        table="stakeholders",
        expect={
            "c1": {"role": "economic_buyer"},
            "c2": {"role": "influencer"},
            "c3": {"role": "user"},
            "c4": {"role": "blocker"},
            "c5": {"role": "decision_maker"},
            "c6": {"role": "champion"},
        },
        rows=6,
    ),
    Case(
        "multi-select-with-an-unknown-part-refused",
        "a.csv",
        csv('B1,c7,"Decision Maker;Astrologer"', head="deal_id,contact_id,role"),
        table="stakeholders",
        refused=("not one of",),
    ),
    # -- related tables: orphans -----------------------------------------------------------
    Case(
        "stakeholder-orphan-refused",
        "a.csv",
        csv("B1,c1", "NOPE,c2", head="deal_id,contact_id"),
        table="stakeholders",
        refused=("1 stakeholders row(s)", "row 3 ('NOPE')", "--on-orphan keep"),
    ),
    Case(
        "activity-orphan-kept",
        "a.csv",
        csv(
            "a1,B1,call,2026-01-06",
            "a2,NOPE,call,2026-01-06",
            head="activity_id,deal_id,type,occurred_at",
        ),
        table="activities",
        options={"on_orphan": "keep"},
        expect={"a1": {"deal_id": "B1"}, "a2": {"deal_id": "NOPE"}},
        rows=2,
    ),
    Case(
        "activity-orphan-skipped",
        "a.csv",
        csv(
            "a3,B1,call,2026-01-06",
            "a4,NOPE,call,2026-01-06",
            head="activity_id,deal_id,type,occurred_at",
        ),
        table="activities",
        options={"on_orphan": "skip"},
        expect={"a3": {"deal_id": "B1"}},
        rows=1,
    ),
    Case(
        "capture-orphan-refused",
        "a.csv",
        csv("NOPE,2026-02-01,rep", head="deal_id,captured_at,respondent"),
        table="captures",
        refused=("captures row(s)", "row 2 ('NOPE')"),
    ),
    Case(
        "stage-history-orphan-refused",
        "a.csv",
        csv("NOPE,Won,2026-02-01", head="deal_id,stage,entered_at"),
        table="stages",
        refused=("stage_history row(s)",),
    ),
]
