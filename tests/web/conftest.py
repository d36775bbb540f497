"""A small store for the web tests: two reps' deals (one with markup in its CRM strings), captures,
and one user per role."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient

from winloss.web import create_app
from winloss.web.auth import hash_password
from winloss.workspace import Workspace

TODAY = dt.date(2024, 3, 20)
PASSWORDS = {
    "root": "admin-pass-1",
    "boss": "manager-pass-1",
    "ann": "ann-pass-12",
    "bob": "bob-pass-123",
}
XSS = "<script>alert('x')</script>"


def deals_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["A1", "A2", "A3", "B1", "B2", "B3"],
            "account_name": [XSS, "Acme", "Initech", "Globex", "Umbrella", "Hooli"],
            "created_at": ["2024-01-02"] * 6,
            "closed_at": [
                "2024-03-01",
                "2024-03-10",
                "2024-06-30",
                "2024-03-02",
                "2024-03-15",
                "2024-03-16",
            ],
            "outcome": ["lost", "won", "open", "lost", "won", "lost"],
            "owner": ["Ann Lee", "Ann Lee", "Ann Lee", "Bob Roe", "Bob Roe", "Bob Roe"],
            "segment": ["SMB", "SMB", "SMB", "Enterprise", "Enterprise", "Enterprise"],
            "amount": [1000, 2000, 3000, 4000, 5000, 6000],
            "pain_category": ["cost", None, None, None, None, None],
            "loss_reason": ["Price", None, None, "Timing", None, None],
            "win_reason": [None, "Product fit", None, None, "Price", None],
        }
    )


def captures_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["B1", "B1"],
            "captured_at": ["2024-03-04 10:00", "2024-03-12 10:00"],
            "respondent": ["rep", "buyer"],
            "pain_category": ["cost", "technology"],
            "primary_reason": ["Price", "Timing"],
        }
    )


@dataclass
class WebEnv:
    db: Path
    app: Flask


def build_store(path: Path) -> None:
    with Workspace(path) as ws:
        ws.import_deals(deals_frame())
        ws.import_file("captures", captures_frame())
        ws.add_user("root", hash_password(PASSWORDS["root"]), "admin")
        ws.add_user("boss", hash_password(PASSWORDS["boss"]), "manager")
        ws.add_user("ann", hash_password(PASSWORDS["ann"]), "rep", "Ann Lee")
        ws.add_user("bob", hash_password(PASSWORDS["bob"]), "rep", "Bob Roe")


@pytest.fixture(autouse=True)
def _close_dashboard_snapshots() -> Iterator[None]:
    """Each test starts without dashboard snapshots and leaves none open (copies of stores)."""
    from winloss.web.routes_dashboards import reset

    reset()
    yield
    reset()


@pytest.fixture()
def web(tmp_path: Path) -> WebEnv:
    db = tmp_path / "web.duckdb"
    build_store(db)
    app = create_app(db, today=lambda: TODAY, testing=True)
    return WebEnv(db, app)


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORDS[username],
            "csrf_token": token(page.text),
        },
    )
    assert resp.status_code == 302, resp.text
    return client


@contextlib.contextmanager
def serve(db: Path) -> Iterator[str]:
    """The web app on ``db`` served on a free loopback port for a browser test: its base URL."""
    from werkzeug.serving import make_server

    app = create_app(db, today=lambda: TODAY)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def browser_login(driver: object, base: str, user: str) -> None:
    """Sign ``user`` in through the login form and wait until the app has left the login page."""
    from selenium.webdriver.support.ui import WebDriverWait

    d = driver  # selenium WebDriver
    d.get(f"{base}/login")  # type: ignore[attr-defined]
    d.find_element("name", "username").send_keys(user)  # type: ignore[attr-defined]
    d.find_element("name", "password").send_keys(PASSWORDS[user])  # type: ignore[attr-defined]
    d.find_element("css selector", "form.login button").click()  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda drv: "/login" not in drv.current_url)
