"""Next actions in headless Chromium (tests/browser.py): a rep opens the page from the navigation
and sees only their deals; a manager narrows it by segment with the form. Screenshots in
test-artifacts/web-next-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser import chromium_driver
from tests.web.conftest import PASSWORDS, TODAY
from tests.web.paths_store import build_paths_store
from winloss.web import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    db = tmp_path / "next.duckdb"
    build_paths_store(db)
    app = create_app(db, today=lambda: TODAY)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _login(driver: object, base: str, user: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    d = driver  # selenium WebDriver
    d.get(f"{base}/login")  # type: ignore[attr-defined]
    d.find_element("name", "username").send_keys(user)  # type: ignore[attr-defined]
    d.find_element("name", "password").send_keys(PASSWORDS[user])  # type: ignore[attr-defined]
    d.find_element("css selector", "form.login button").click()  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda drv: "/login" not in drv.current_url)


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
        _login(driver, base, "ann")
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
        _login(driver, base, "boss")
        driver.get(f"{base}/next-actions")
        assert _shown(driver) == ["O-A1", "O-A2", "O-B1", "O-B2"]
        Select(driver.find_element("name", "segment")).select_by_visible_text("Enterprise")
        driver.find_element("id", "filter").click()
        WebDriverWait(driver, 30).until(lambda drv: "segment=Enterprise" in drv.current_url)
        assert _shown(driver) == ["O-A2", "O-B2"]
        driver.save_screenshot(str(ARTIFACTS / "web-next-2-manager-enterprise.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
