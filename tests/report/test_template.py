"""The page template and the shared table helper: section text escaped, section HTML kept."""

from __future__ import annotations

import math

from tests.html_tree import parse_html
from winloss.report.document import QuarterlyReport, Section, table_html
from winloss.report.template import CSS

EVIL = "<script>alert(1)</script>"


def _report(notes: tuple[str, ...] = ()) -> QuarterlyReport:
    sections = (
        Section(
            "first",
            f"First {EVIL}",
            "<p>trusted <em>section</em> markup</p>",
            {"n": 1},
            notes=(f"note {EVIL}",),
        ),
        Section("second", "Second", "<p>two</p>", {}),
    )
    return QuarterlyReport(
        f"2026Q3{EVIL}", f"/tmp/{EVIL}.duckdb", "2026-10-01T09:30:00", sections, notes
    )


def test_page_escapes_titles_period_store_and_notes() -> None:
    html = _report(notes=(f"report note {EVIL}",)).to_html()
    assert "<script" not in html
    root, _ = parse_html(html)
    assert root.find("title").text == f"winloss quarterly review 2026Q3{EVIL}"
    assert root.find("header").find("p").text == (
        f"Store /tmp/{EVIL}.duckdb · generated 2026-10-01T09:30:00 by winloss"
    )
    first = root.find("section", id="first")
    assert first.find("h2").text == f"First {EVIL}"
    assert first.find("em").text == "section"  # a section's own HTML is inserted as markup
    assert first.find("p", **{"class": "note"}).text == f"note {EVIL}"
    assert [li.text for li in root.find("section", id="notes").iter("li")] == [
        f"report note {EVIL}"
    ]
    assert [a.attrs["href"] for a in root.find("nav").iter("a")] == ["#first", "#second"]


def test_page_without_notes_has_no_notes_section() -> None:
    root, _ = parse_html(_report().to_html())
    assert [s.attrs["id"] for s in root.find("main").children_named("section")] == [
        "first",
        "second",
    ]


def test_json_twin_carries_the_same_sections() -> None:
    import json

    data = json.loads(_report().to_json())
    assert [(s["key"], s["title"], s["data"]) for s in data["sections"]] == [
        ("first", f"First {EVIL}", {"n": 1}),
        ("second", "Second", {}),
    ]
    assert data["generated_at"] == "2026-10-01T09:30:00"


def test_table_html_escapes_and_formats_cells() -> None:
    rows = [
        {
            "name": EVIL,
            "amount": 1234.5,
            "rate": 0.12345,
            "missing": math.nan,
            "tags": ["a", "b"],
            "none": None,
        }
    ]
    html = table_html(
        rows,
        [
            ("name", "name <n>"),
            ("amount", "amount"),
            ("rate", "rate"),
            ("missing", "missing"),
            ("tags", "tags"),
            ("none", "none"),
        ],
        numeric={"amount", "rate"},
        css_class="wide",
    )
    assert "<script" not in html
    root, _ = parse_html(html)
    table = root.find("table", **{"class": "wide"})
    assert [th.text for th in table.iter("th")][0] == "name <n>"
    cells = table.find("tbody").find_all("td")
    assert [c.text for c in cells] == [EVIL, "1,234", "0.123", "", "a, b", ""]
    assert [c.attrs.get("class") for c in cells][:3] == [None, "num", "num"]


def test_table_html_prose_columns_show_commands_as_code_and_stay_escaped() -> None:
    # a plan action's text is written for the console: `winloss audit` between backticks and the
    # JSON key of a list; in the report the command is code and the list is named by its heading
    rows = [
        {
            "title": f"Fix {EVIL}: run `winloss audit`",
            "detail": "the list is under lists.expansion",
            "raw": "keep `this` as typed",
        }
    ]
    html = table_html(
        rows,
        [("title", "action"), ("detail", "evidence"), ("raw", "raw")],
        prose={"title", "detail"},
    )
    assert "<script" not in html and "`winloss audit`" not in html
    root, _ = parse_html(html)
    cells = root.find("tbody").find_all("td")
    assert [c.find("code").text for c in cells[:1]] == ["winloss audit"]
    assert cells[0].text == f"Fix {EVIL}: run winloss audit"
    assert cells[1].text == "the list is under the table “Customers to expand”"
    assert cells[2].text == "keep `this` as typed" and cells[2].find_all("code") == []


def test_table_html_keeps_ids_on_one_line() -> None:
    """A deal id wrapped at its hyphen ("D-" / "000094") in the report's narrow columns."""
    html = table_html(
        [{"deal_id": "D-000094", "n": 3}], [("deal_id", "deal"), ("n", "n")], numeric={"n"}
    )
    root, _ = parse_html(html)
    assert [c.attrs.get("class") for c in root.iter("td")] == ["id", "num"]
    assert "td.id, th.id { white-space: nowrap; }" in CSS


def test_whole_numbers_in_numeric_columns_have_their_thousands_separated() -> None:
    """'Quarter by quarter' read closed 2032 beside won 1,254; an id column keeps its digits."""
    rows = [{"closed": 2032, "won": 1254, "deal_id": 16720411000, "flag": True}]
    html = table_html(
        rows,
        [("closed", "closed"), ("won", "won"), ("deal_id", "deal"), ("flag", "flag")],
        numeric={"closed", "won", "flag"},
    )
    root, _ = parse_html(html)
    assert [c.text for c in root.iter("td")] == ["2,032", "1,254", "16720411000", "True"]
