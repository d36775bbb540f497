"""End to end in headless Chromium (Debian's; see tests/browser.py): a rep signs in, fills a
capture, a manager sees it in the coverage. Screenshots are kept in test-artifacts/web-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium_driver
from tests.web.conftest import browser_login, build_store, serve
from winloss.workspace import Workspace

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "e2e.duckdb"
    build_store(db)
    with serve(db) as base:
        yield base, db


@pytest.mark.browser
def test_rep_captures_and_manager_sees_coverage(
    browser: tuple[str, str], served: tuple[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, db = served
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_driver(tmp_path, height=1400) as driver:
        browser_login(driver, base, "ann")
        assert driver.current_url.endswith("/captures")
        rows = driver.find_elements("css selector", "main table tbody tr")
        assert [r.find_element("css selector", "td a").text for r in rows] == ["A1", "A2"]
        # the CRM's markup is shown as text, never run
        assert "<script>" in rows[0].text
        driver.save_screenshot(str(ARTIFACTS / "web-1-rep-pending.png"))
        rows[0].find_element("link text", "Capture").click()
        Select(driver.find_element("name", "pain_category")).select_by_visible_text("process")
        Select(driver.find_element("name", "decision_maker_engaged")).select_by_visible_text("no")
        reason = driver.find_element("name", "primary_reason")
        reason.clear()
        reason.send_keys("Lost to competitor")
        driver.find_element("name", "stakeholders").send_keys("3")
        driver.save_screenshot(str(ARTIFACTS / "web-2-capture-form.png"))
        driver.find_element("id", "save").click()
        WebDriverWait(driver, 20).until(lambda drv: drv.current_url.endswith("/captures"))
        assert "Capture of A1 saved." in driver.find_element("css selector", ".flash").text
        remaining = [
            r.find_element("css selector", "td a").text
            for r in driver.find_elements("css selector", "main table tbody tr")
        ]
        assert remaining == ["A2"]
        driver.find_element("css selector", "header.top button").click()  # sign out
        WebDriverWait(driver, 20).until(lambda drv: drv.current_url.endswith("/login"))
        browser_login(driver, base, "boss")
        assert driver.current_url.endswith("/coverage")
        cells = {
            r.find_element("css selector", "td").text: r.find_elements("css selector", "td")
            for r in driver.find_elements("css selector", "main table:first-of-type tbody tr")
        }
        ann = [c.text for c in cells["Ann Lee"]]
        assert ann[1:4] == ["2", "1", "50 %"]  # closed, captured, coverage
        driver.save_screenshot(str(ARTIFACTS / "web-3-manager-coverage.png"))
        driver.get(f"{base}/deals/A1")
        driver.save_screenshot(str(ARTIFACTS / "web-4-deal-sources.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    with Workspace(db) as ws:
        deal = ws.deal("A1")
        caps = ws.deal_captures("A1")
    assert deal is not None and deal["pain_category"] == "process"
    assert deal["loss_reason"] == "Lost to competitor" and deal["decision_maker_engaged"] is False
    assert caps.iloc[0]["captured_by"] == "ann"


@pytest.mark.browser
def test_a_long_note_wraps_inside_the_deal_page(browser: tuple[str, str], tmp_path: Path) -> None:
    """A trial: a 20,000-character note without a break ran off the deal page."""
    import pandas as pd

    db = tmp_path / "notes.duckdb"
    build_store(db)
    with Workspace(db) as ws:
        ws.import_file(
            "captures",
            pd.DataFrame(
                {
                    "deal_id": ["A1"],
                    "captured_at": ["2024-03-05 10:00"],
                    "respondent": ["rep"],
                    "primary_reason": ["Price"],
                    "notes": ["x" * 20_000],
                }
            ),
        )
    with serve(db) as base, chromium_driver(tmp_path, height=1000) as driver:
        browser_login(driver, base, "boss")
        driver.get(f"{base}/deals/A1")
        page, view = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert page <= view, (page, view)
