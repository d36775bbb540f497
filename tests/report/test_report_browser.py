"""The quarterly report renders in headless Chromium (Debian's), offline, without errors.

Skipped, with the reason, when chromium, chromedriver or selenium is missing; under CI (``CI`` set)
that is a failure, since ``.ci/run`` installs them (see ``tests/browser.py``). The screenshot is kept
in ``test-artifacts/`` as the visual record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser import chromium_driver
from tests.conftest import DemoReport

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
def test_report_renders_offline_with_every_chart(
    browser: tuple[str, str], demo_report: DemoReport, tmp_path: Path
) -> None:
    html_path, data = demo_report.html_path, demo_report.data
    html = demo_report.html
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    assert "<script" not in html
    with chromium_driver(tmp_path) as driver:
        driver.get(html_path.as_uri())
        sections = data["sections"]
        assert isinstance(sections, list)
        expected = [c for s in sections for c in s["charts"]]
        assert expected, "the report has no charts"
        for name in expected:
            el = driver.find_element("css selector", f'svg[data-chart="{name}"]')
            size = el.size
            assert size["width"] > 100 and size["height"] > 50, name
        titles = [e.text for e in driver.find_elements("css selector", "section > h2")]
        assert titles[: len(sections)] == [s["title"] for s in sections]
        # requests the page made (Chromium's own background traffic has no document URL here)
        page_requests: dict[str, str] = {}
        failed = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            if msg.get("method") == "Network.requestWillBeSent" and params.get(
                "documentURL", ""
            ).startswith("file://"):
                page_requests[params["requestId"]] = params["request"]["url"]
            if msg.get("method") == "Network.loadingFailed":
                failed.append((params["requestId"], params.get("errorText")))
        assert len(page_requests) == 1, page_requests  # the file itself, nothing else
        failed = [(page_requests[rid], err) for rid, err in failed if rid in page_requests]
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert failed == [], failed
        assert errors == [], errors
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report.png"))
        assert (ARTIFACTS / "report.png").stat().st_size > 10_000
        # printing to PDF works (Chrome DevTools Page.printToPDF)
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        assert len(pdf["data"]) > 10_000
