"""The report read back: the HTML parsed, its sections, charts and numbers checked against the
JSON and the store, and CRM strings escaped.

Two reports: the 600-deal demo report shared with the golden tests, and a 120-deal demo store whose
segment, owner and account names are hostile markup (``EVIL``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DemoReport
from tests.html_tree import Element, parse_html
from winloss import Workspace

#: A CRM value that must reach the page as text: markup, an ampersand and quotes.
EVIL = "<script>alert(1)</script> & \"Co\" 'x'"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; &#x27;x&#x27;"

#: Sections the demo company always produces, in report order.
DEMO_SECTIONS = ["headline", "changes", "findings", "qbr", "plan", "forecast", "quality"]


def _sections(root: Element) -> list[Element]:
    return root.find("main").children_named("section")


def _section(root: Element, key: str) -> Element:
    return root.find("section", id=key)


def _json_section(data: dict[str, Any], key: str) -> dict[str, Any]:
    found = [s for s in data["sections"] if s["key"] == key]
    assert len(found) == 1, key
    return found[0]  # type: ignore[no-any-return]


def _kpis(section: Element) -> dict[str, tuple[str, str]]:
    """KPI label -> (value, delta) as the page shows them."""
    out = {}
    for kpi in section.find_all("div", **{"class": "kpi"}):
        parts = {d.attrs.get("class", "").split()[0]: d.text for d in kpi.children_named("div")}
        out[parts["label"]] = (parts["value"], parts.get("delta", ""))
    return out


def _table(table: Element) -> tuple[list[str], list[list[str]]]:
    head = [th.text for th in table.find("thead").iter("th")]
    rows = [[td.text for td in tr.iter("td")] for tr in table.find("tbody").iter("tr")]
    return head, rows


# -- the demo report --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(demo_report: DemoReport) -> Element:
    root, doctype = parse_html(demo_report.html)  # asserts every element is closed
    assert doctype is not None and doctype.lower() == "doctype html"
    return root


def test_page_is_self_contained(page: Element, demo_report: DemoReport) -> None:
    assert page.find("html").attrs["lang"] == "en"
    assert page.find("meta", charset="utf-8")
    assert "@media print" in page.find("style").text
    assert not page.find_all("script") and not page.find_all("link") and not page.find_all("img")
    urls = [v for e in page.iter() for v in e.attrs.values() if v and "//" in v]
    assert urls == []
    assert page.find("title").text == f"winloss quarterly review {demo_report.data['period']}"


def test_sections_and_table_of_contents_follow_the_json(
    page: Element, demo_report: DemoReport
) -> None:
    sections = demo_report.data["sections"]
    keys = [s["key"] for s in sections]
    assert [k for k in keys if k in DEMO_SECTIONS] == DEMO_SECTIONS  # the review's core, in order
    assert len(set(keys)) == len(keys)
    shown = [(s.attrs["id"], s.find("h2").text) for s in _sections(page)]
    assert shown == [(s["key"], s["title"]) for s in sections]  # no notes: no notes section
    toc = [(a.attrs["href"], a.text) for a in page.find("nav").iter("a")]
    assert toc == [(f"#{s['key']}", s["title"]) for s in sections]


def test_each_chart_is_an_inline_svg_in_its_section(page: Element, demo_report: DemoReport) -> None:
    svgs = page.find_all("svg")
    assert len(svgs) == sum(len(s["charts"]) for s in demo_report.data["sections"]) >= 9
    for s in demo_report.data["sections"]:
        charts = _section(page, s["key"]).find_all("svg")
        assert [c.attrs["data-chart"] for c in charts] == s["charts"]
        for chart in charts:
            assert chart.attrs["class"] == "chart" and chart.attrs["viewbox"]
            assert chart.children_named("title")[0].text == chart.attrs["aria-label"] != ""
            shapes = [
                e
                for e in chart.iter()
                if e.tag in ("rect", "polyline", "polygon", "path", "circle", "line")
            ]
            assert shapes, chart.attrs["data-chart"]


def test_headline_numbers_agree_with_json_and_store(
    page: Element, demo_report: DemoReport, demo_store: Path
) -> None:
    data = _json_section(demo_report.data, "headline")["data"]
    kpis = _kpis(_section(page, "headline"))
    lo, hi = data["win_rate_ci"]
    assert kpis["closed deals"][0] == f"{data['closed_deals']:,}"
    assert kpis["win rate"][0] == f"{data['win_rate']:.0%}"
    assert kpis["95 % interval"][0] == f"{lo:.0%}–{hi:.0%}"
    assert kpis["won revenue"][0] == f"{data['won_revenue']:,.0f}"
    assert kpis["median cycle (days)"][0] == f"{data['median_cycle_days']:.0f}"
    assert kpis["closed deals"][1].endswith("vs last quarter")
    # the numbers are the store's: counted here with pandas on the closed deals of the quarter
    with Workspace(demo_store, read_only=True) as ws:
        closed = ws.closed_deals()
    quarter = closed[closed["quarter"] == data["quarter"]]
    won = quarter["outcome"] == "won"
    assert data["closed_deals"] == len(quarter) > 0
    assert data["wins"] == int(won.sum())
    assert data["win_rate"] == pytest.approx(won.mean(), abs=1e-12)
    assert data["won_revenue"] == pytest.approx(quarter.loc[won, "amount"].sum(), rel=1e-9)
    assert lo < data["win_rate"] < hi
    # the quarter-by-quarter table shows the JSON's trend, row for row
    head, rows = _table(_section(page, "headline").find("table"))
    assert head[:3] == ["quarter", "closed", "won"]
    assert [r[:3] for r in rows] == [
        [t["quarter"], f"{t['deals']:.0f}", f"{t['wins']:.0f}"] for t in data["trend"]
    ]
    assert rows[-1][0] == data["quarter"]


def test_forecast_numbers_agree_with_json(page: Element, demo_report: DemoReport) -> None:
    f = _json_section(demo_report.data, "forecast")["data"]["forecast"]
    kpis = _kpis(_section(page, "forecast"))
    # the expected figure beside the corrected range is the corrected one, the model's after it
    sub = f"{f['n_deals']:,} open deals"
    if f.get("model_expected") is not None:
        sub += f"; {f['model_expected']:,.0f} before the correction by past forecasts"
    assert kpis["expected bookings"] == (f"{f['expected']:,.0f}", sub)
    assert kpis["P10 – P90"] == (f"{f['p10']:,.0f} – {f['p90']:,.0f}", f"P50 {f['p50']:,.0f}")
    assert f["p10"] <= f["p50"] <= f["p90"]


def test_findings_section_shows_every_finding(page: Element, demo_report: DemoReport) -> None:
    analysis = _json_section(demo_report.data, "findings")["data"]["analysis"]
    section = _section(page, "findings")
    intro = section.children_named("p")[0].text
    assert intro.startswith(f"Scope: {analysis['deals']:,} closed deals of ")
    assert f"{analysis['hypotheses_tested']:,} hypotheses were tested" in intro
    shown = [d for d in section.find_all("div") if d.attrs.get("class", "").startswith("finding")]
    assert len(shown) == len(analysis["findings"])
    # 600 demo deals give no finding at q <= 0.05 in the four-quarter window: the note says so
    assert analysis["findings"] == []
    assert "No driver on a field known before the outcome passed the significance bar" in (
        section.text
    )


def test_plan_section_shows_every_action(page: Element, demo_report: DemoReport) -> None:
    actions = _json_section(demo_report.data, "plan")["data"]["actions"]
    rows = [
        row
        for table in _section(page, "plan").find_all("table")
        if _table(table)[0] == ["#", "status", "action", "evidence"]
        for row in _table(table)[1]
    ]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(a["priority"]), a["status"], a["title"]) for a in actions
    ]
    kinds = [a["kind"] for a in actions]
    assert kinds[0] == "capture" and "targeting" in kinds
    headings = [h.text for h in _section(page, "plan").find_all("h3")]
    assert "1. Data capture and integrity" in headings


# -- hostile CRM strings, and the default clock -----------------------------------------------


@dataclass(frozen=True)
class HostileReport:
    html: str
    data: dict[str, Any]
    before: dt.datetime
    after: dt.datetime


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> HostileReport:
    """120 demo deals whose SMB segment, first owner and every account name are :data:`EVIL`;
    the report on the real clock."""
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    data = generate_demo(120, seed=5)
    deals = data.deals
    deals.loc[deals["segment"] == "SMB", "segment"] = EVIL
    deals.loc[deals["owner"] == deals["owner"].iloc[0], "owner"] = EVIL
    deals["account_name"] = EVIL
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    with Workspace(path) as ws:
        import_demo(ws, data)
        before = dt.datetime.now().replace(microsecond=0)
        report = ws.report()
        after = dt.datetime.now()
    return HostileReport(report.to_html(), json.loads(report.to_json()), before, after)


def test_crm_strings_are_escaped(hostile_report: HostileReport) -> None:
    html = hostile_report.html
    assert "<script" not in html and "alert(1)</" not in html
    root, _ = parse_html(html)
    headline = _section(root, "headline")
    chart = headline.find("svg", data_chart="win-rate-by-segment")
    labels = [t.own_text for t in chart.iter("text")]
    assert EVIL in labels  # the segment as the chart's label, decoded back to the CRM value
    tables = [_table(t) for t in _section(root, "forecast").find_all("table")]
    rows = next(rows for head, rows in tables if head[:3] == ["deal", "account", "owner"])
    assert rows
    assert {r[1] for r in rows} == {EVIL}
    assert html.count(EVIL_ESCAPED) >= 1 + len(rows)
    segments = {
        r["segment"] for r in _json_section(hostile_report.data, "headline")["data"]["by_segment"]
    }
    assert EVIL in segments  # JSON keeps the value as it is


def test_report_notes_are_a_section(hostile_report: HostileReport) -> None:
    """120 deals are too few for the quarter's concentrations: a note, not a missing report."""
    notes = hostile_report.data["notes"]
    assert any(n.startswith("quarter_findings:") for n in notes)
    root, _ = parse_html(hostile_report.html)
    assert [li.text for li in root.find("section", id="notes").iter("li")] == notes
    assert "changes" not in [s["key"] for s in hostile_report.data["sections"]]


def test_report_defaults_to_the_real_clock(hostile_report: HostileReport) -> None:
    generated = dt.datetime.fromisoformat(hostile_report.data["generated_at"])
    assert hostile_report.before <= generated <= hostile_report.after
