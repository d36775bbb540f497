"""Golden files: the demo report's JSON and HTML (600 deals, seed 3, clock at ``REPORT_NOW``).

Refresh only on purpose: ``python -m pytest tests/golden --update-golden`` and review the diff.
The HTML is compared byte for byte. The JSON is compared value by value with floats within a
relative 1e-9 (``tests/golden/compare.py``: library versions may move the last digits); the report
holds model fits, so a scikit-learn release that changes them shows up here as a reviewed refresh.
Nothing is normalised: the clock is injected and the store is opened by a relative path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPORT_NOW, DemoReport
from tests.golden.compare import assert_json_close, assert_same_text

GOLDEN_JSON = Path(__file__).with_name("report_demo_600_seed3.json")
GOLDEN_HTML = Path(__file__).with_name("report_demo_600_seed3.html")


def _update(request: pytest.FixtureRequest, path: Path, text: str) -> None:
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")


def test_report_json_matches_golden(
    demo_report: DemoReport, request: pytest.FixtureRequest
) -> None:
    _update(request, GOLDEN_JSON, demo_report.json_text)
    assert_json_close(demo_report.data, json.loads(GOLDEN_JSON.read_text(encoding="utf-8")))


def test_report_html_matches_golden(
    demo_report: DemoReport, request: pytest.FixtureRequest
) -> None:
    _update(request, GOLDEN_HTML, demo_report.html)
    assert_same_text(demo_report.html, GOLDEN_HTML.read_text(encoding="utf-8"), GOLDEN_HTML.name)


def test_report_takes_the_injected_clock(demo_report: DemoReport) -> None:
    stamp = REPORT_NOW.isoformat()
    assert demo_report.data["generated_at"] == stamp
    assert f"generated {stamp} by winloss" in demo_report.html
    assert demo_report.data["store"] == "demo.duckdb"
