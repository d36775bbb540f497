"""Next actions in headless Chromium (tests/browser.py): a rep opens the page from the navigation
and sees only their deals; a manager narrows it by segment with the form. Screenshots in
test-artifacts/web-next-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium_driver
from tests.web.conftest import browser_login, serve
from tests.web.paths_store import build_paths_store

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    db = tmp_path / "next.duckdb"
    build_paths_store(db)
    with serve(db) as base:
        yield base


def _shown(driver: object) -> list[str]:
    rows = driver.find_elements("css selector", "table.next-actions tbody tr")  # type: ignore[attr-defined]
    return [r.get_attribute("data-deal") for r in rows]


@pytest.mark.browser
def test_rep_and_manager_use_the_next_actions_page(
    browser: tuple[str, str], served: str, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base = served
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_driver(tmp_path, height=1200) as driver:
        browser_login(driver, base, "ann")
        driver.find_element("link text", "Next actions").click()
        WebDriverWait(driver, 30).until(lambda drv: drv.current_url.endswith("/next-actions"))
        assert _shown(driver) == ["O-A1", "O-A2"]
        first = driver.find_element("css selector", 'tr[data-deal="O-A1"]')
        # the CRM's markup is shown as text, never run; the best action comes first
        assert "<script>" in first.text
        assert first.find_element("css selector", "ol.actions li b").text == "demo"
        driver.save_screenshot(str(ARTIFACTS / "web-next-1-rep.png"))
        driver.find_element("css selector", "header.top button").click()  # sign out
        WebDriverWait(driver, 20).until(lambda drv: drv.current_url.endswith("/login"))
        browser_login(driver, base, "boss")
        driver.get(f"{base}/next-actions")
        assert _shown(driver) == ["O-A1", "O-A2", "O-B1", "O-B2"]
        Select(driver.find_element("name", "segment")).select_by_visible_text("Enterprise")
        driver.find_element("id", "filter").click()
        WebDriverWait(driver, 30).until(lambda drv: "segment=Enterprise" in drv.current_url)
        assert _shown(driver) == ["O-A2", "O-B2"]
        driver.save_screenshot(str(ARTIFACTS / "web-next-2-manager-enterprise.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
