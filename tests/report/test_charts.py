"""The SVG charts, parsed: one mark per value, positions that follow the values, labels escaped."""

from __future__ import annotations

import math

import pytest

from tests.html_tree import Element, parse_html
from winloss.report.charts import hbar_chart, line_chart, reliability_chart


def _svg(markup: str) -> Element:
    root, _ = parse_html(markup)
    svgs = root.find_all("svg")
    assert len(svgs) == 1
    return svgs[0]


def _bars(svg: Element) -> list[float]:
    return [float(r.attrs["width"] or "nan") for r in svg.find_all("rect")]


def test_hbar_chart_draws_one_bar_per_value_in_proportion() -> None:
    svg = _svg(hbar_chart("rates", "Win rate <by> segment", ["A", "B", "C"], [0.2, 0.4, 0.1]))
    assert svg.attrs["data-chart"] == "rates"
    assert svg.attrs["aria-label"] == svg.children_named("title")[0].text == "Win rate <by> segment"
    widths = _bars(svg)
    assert len(widths) == 3
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.1)  # linear from the axis
    assert widths[0] == pytest.approx(2 * widths[2], abs=0.1)
    values = [t.own_text for t in svg.iter("text") if "text-anchor" not in t.attrs]
    assert values == ["20%", "40%", "10%"]


def test_hbar_chart_whiskers_reference_and_long_labels() -> None:
    long = "critical_event_date within 120 days & stakeholders >= 2 & segment = SMB"
    svg = _svg(
        hbar_chart(
            "f", "t", [long, "<b>&"], [0.3, 0.5], lows=[0.2, 0.4], highs=[0.4, 0.6], reference=0.35
        )
    )
    labels = [t for t in svg.iter("text") if t.attrs.get("text-anchor") == "end"]
    assert labels[0].children_named("title")[0].text == long  # full label on hover
    assert labels[0].own_text == long[:41] + "…"
    assert labels[1].own_text == "<b>&"  # text, not markup
    whiskers = [ln for ln in svg.iter("line") if ln.attrs.get("stroke-width") == "1.5"]
    assert len(whiskers) == 2
    assert all(float(w.attrs["x1"] or 0) < float(w.attrs["x2"] or 0) for w in whiskers)
    assert "overall 35%" in [t.own_text for t in svg.iter("text")]


def test_hbar_chart_counts_are_not_percentages() -> None:
    svg = _svg(hbar_chart("n", "t", ["x"], [12_500.0], pct=False))
    texts = [t.own_text for t in svg.iter("text")]
    assert "12.5k" in texts
    assert not any(x.endswith("%") for x in texts)


def test_line_chart_breaks_at_missing_values() -> None:
    svg = _svg(
        line_chart(
            "trend", "t", ["Q1", "Q2", "Q3", "Q4", "Q5"], {"win rate": [0.2, 0.3, None, 0.5, 0.4]}
        )
    )
    points = [c for c in svg.iter("circle")]
    assert len(points) == 4
    lines = svg.find_all("polyline")
    assert [len((p.attrs["points"] or "").split()) for p in lines] == [2, 2]
    ys = [float(c.attrs["cy"] or "nan") for c in points]
    assert ys[0] > ys[1] > ys[3] > ys[2]  # SVG y grows downwards: higher rate, smaller y
    assert points[1].children_named("title")[0].text == "win rate Q2: 30%"


def test_line_chart_band_and_nan() -> None:
    svg = _svg(
        line_chart(
            "b",
            "t",
            ["Q1", "Q2"],
            {"a": [0.2, math.nan]},
            bands={"interval": ([0.1, 0.2], [0.3, 0.4])},
        )
    )
    band = svg.find("polygon")
    assert band.children_named("title")[0].text == "interval"
    assert len((band.attrs["points"] or "").split()) == 4
    assert len(svg.find_all("circle")) == 1 and not svg.find_all("polyline")


def test_reliability_chart_skips_empty_bins_and_sizes_by_count() -> None:
    svg = _svg(reliability_chart("rel", "t", [0.1, 0.5, 0.9], [0.2, 0.5, 0.8], [10, 0, 90]))
    circles = svg.find_all("circle")
    assert len(circles) == 2
    r_small, r_big = (float(c.attrs["r"] or "nan") for c in circles)
    assert r_big > r_small
    assert circles[1].children_named("title")[0].text == "predicted 90%, observed 80%, 90 deals"


def _tick_labels(svg: Element) -> list[str]:
    return [t.own_text for t in svg.iter("text") if t.attrs.get("text-anchor") == "middle"]


def test_a_share_on_full_scale_is_drawn_on_0_to_100_percent() -> None:
    """Completeness of 0 % and 3 % is drawn against 100 %, not on a 0–5 % axis that makes 3 %
    look like a full bar; without full_scale the axis follows the values."""
    svg = _svg(hbar_chart("c", "t", ["a", "b"], [0.0, 0.03], full_scale=True))
    assert _tick_labels(svg)[0] == "0%" and _tick_labels(svg)[-1] == "100%"
    widths = _bars(svg)
    plot = 720 - 300 - 60
    assert widths[1] == pytest.approx(0.03 * plot, abs=0.1)
    assert _tick_labels(_svg(hbar_chart("c", "t", ["a", "b"], [0.0, 0.03])))[-1] == "5%"
    line = _svg(line_chart("l", "t", ["2025Q1", "2025Q2"], {"s": [0.0, 0.0]}, full_scale=True))
    labels = [t.own_text for t in line.iter("text")]
    assert "0%" in labels and "100%" in labels


def test_counts_that_are_all_zero_get_a_readable_axis() -> None:
    svg = _svg(hbar_chart("n", "t", ["a", "b"], [0.0, 0.0], pct=False))
    ticks = [float(t) for t in _tick_labels(svg)]
    assert ticks[0] == 0 and ticks[-1] == 1


def test_large_figures_never_read_in_scientific_notation() -> None:
    """A plan chart said 'won revenue lost 1.09e+03M' for 1.09 billion."""
    from winloss.report.charts import _fmt

    assert _fmt(1.09e9, False) == "1.09B" and _fmt(950e6, False) == "950M"
    assert _fmt(123_456_789, False) == "123M" and _fmt(12_345_678, False) == "12.3M"
    assert _fmt(123_456, False) == "123k" and _fmt(999, False) == "999"
    for v in (1e3, 5e5, 2e7, 3e8, 4e9, 5e11, 6e12):
        assert "e+" not in _fmt(v, False)


def test_rule_backtest_labels_keep_the_plans_numbers() -> None:
    """A report labelled the rules not proposed 'Rule 4–6' under a plan whose #4–#6 were other
    actions: a proposed rule keeps its plan number, the others never take one."""
    from types import SimpleNamespace

    from winloss.report.sections.plan import _backtest_rows

    totals = {
        "quarters": 2, "avoided_losses": 5, "days_saved": 30.0, "saving": 1e4,
        "excluded_wins": 1, "excluded_won_revenue": 2e3, "net_value": 8e3, "value_unit": "revenue",
    }  # fmt: skip
    plan = SimpleNamespace(
        actions=[
            SimpleNamespace(
                kind="qualification",
                priority=p,
                title=f"rule {p}",
                evidence={"action": "require", "backtest": {"totals": totals}},
            )  # fmt: skip
            for p in (1, 3)
        ]
    )
    unproposed = {
        "rule": "deal size at least 4", "losses_avoided": 2, "days_saved": 3.0, "saving": 1.0,
        "wins_lost": 9, "won_revenue_lost": 1.09e9, "cost": 5.0, "value_unit": "revenue",
    }  # fmt: skip
    rows = _backtest_rows(plan, {"lists": {"rules_not_proposed": [unproposed, unproposed]}})
    assert [r["label"] for r in rows] == ["Rule #1", "Rule #3", "Not proposed 1", "Not proposed 2"]


def test_a_list_column_empty_on_every_row_is_left_out() -> None:
    """The plan read 'Same on every row: tier B; why .' with nothing after 'why'."""
    from winloss.report.sections.plan import _list_table

    rows = [
        {"account": "A", "tier": "B", "why": None, "score": 0.5},
        {"account": "C", "tier": "B", "why": None, "score": 0.4},
    ]
    html = _list_table("target_accounts_test", rows)
    assert "Same on every row: tier B." in html
    assert "why" not in html


def test_a_long_list_says_how_many_rows_the_table_leaves_out() -> None:
    """Maven's calibration table showed 25 of 30 owners, the other 5 gone without a word."""
    from winloss.report.sections.plan import _list_table

    rows = [{"account": f"A{i}", "score": i / 100} for i in range(30)]
    html = _list_table("target_accounts_test", rows)
    assert html.count("<tr>") == 26  # header and 25 rows
    assert "The first 25 of 30 rows; <code>winloss plan --format json</code> lists them all" in html
    assert "The first" not in _list_table("target_accounts_test", rows[:25])


def test_report_notes_name_the_tables_a_reader_sees_not_json_keys() -> None:
    """The report printed "lists.findings_outside_window gives both sets of numbers" and
    "(as `winloss audit`)" with the backticks: the notes were written for the CLI and JSON."""
    from winloss.report.template import note_html

    shown = str(note_html("no rule (lists.expansion; lists.some_new_list) as `winloss audit` <b>"))
    assert "lists." not in shown and "`" not in shown
    assert "the table “Customers to expand”" in shown and "some new list" in shown
    assert "<code>winloss audit</code>" in shown and "&lt;b&gt;" in shown  # still escaped


def test_plg_motion_metrics_read_as_words_and_percentages() -> None:
    """The PLG table listed `win_rate` 0.307 and `median_cycle_days_won` beside each other."""
    from winloss.report.sections.plg import _motion_row, _prior_row

    row = _motion_row(
        {
            "motion": "PLG-sourced",
            "metric": "win_rate",
            "value": 0.307,
            "ci_low": 0.214,
            "ci_high": 0.418,
            "n": 75,
        }
    )
    assert (row["metric"], row["value"], row["ci_low"], row["ci_high"]) == (
        "win rate",
        "31%",
        "21%",
        "42%",
    )
    days = _motion_row(
        {
            "motion": "x",
            "metric": "median_cycle_days_won",
            "value": 89.5,
            "ci_low": 59.0,
            "ci_high": 114.0,
            "n": 23,
        }
    )
    assert days["metric"] == "median days to a win" and days["value"] == "90"
    prior = _prior_row(
        {
            "win_rate_used": 0.279,
            "win_rate_not_used": 0.308,
            "odds_ratio": 0.876,
            "or_ci_low": 0.538,
            "or_ci_high": 1.43,
        }
    )
    assert prior["win_rate_used"] == "28%" and prior["odds_ratio"] == "0.88"


def test_remeasured_actions_say_what_then_and_now_count() -> None:
    """ "Before the proposal, require ≥2 stakeholders: 34% → 36%, effect faded" read as a win
    rate; it is the share of deals matching the rule, and those deals' win rate now was hidden."""
    from winloss.report.sections.plan import _measured, percent

    assert _measured({"share_then": 0.38, "share_now": 0.37}) == "with the problem"
    rule = {
        "share_matching_then": 0.34,
        "share_matching_now": 0.36,
        "win_rate_matching_now": 0.2286,
        "win_rate_rest_now": 0.4182,
    }
    assert _measured(rule) == (
        f"matching the rule (now winning {percent(0.2286)} against {percent(0.4182)} for the rest)"
    )
    assert percent(0.2286).startswith("23") and percent(0.4182).startswith("42")


def test_committee_routes_and_plg_calibration_read_as_words() -> None:
    """The report showed "customer_introduction" and "calibration none"."""
    from winloss.analyze.stats.calibration import calibration_words
    from winloss.report.sections.committee import _words

    assert _words("customer_introduction") == "customer introduction" and _words(None) == ""
    assert calibration_words("none", "accounts") == (
        "checked on held-out accounts, no correction needed"
    )
    assert calibration_words("sigmoid") == "a Platt (sigmoid) map"
