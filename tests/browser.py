"""Headless Debian Chromium for the browser tests (the report now, the web app next).

Outside CI a missing ``chromium``, ``chromedriver`` or ``selenium`` skips the test with the reason.
With ``CI`` set it fails: ``.ci/run`` installs them, and a skip there would let the browser tests
pass without a browser ever starting.

Selenium is given Debian's chromedriver explicitly, so Selenium Manager never downloads a driver.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

#: Chromium flags: headless, no first-run or background traffic, a fixed window, its own profile.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but empty, 0 or false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_browser() -> tuple[str, str]:
    """The paths of chromium and chromedriver; skip (or fail under CI) when anything is missing."""
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    missing = [
        what
        for what, present in (
            ("Debian's chromium", chromium),
            ("Debian's chromium-driver (chromedriver)", chromedriver),
            ("the selenium package", importlib.util.find_spec("selenium")),
        )
        if not present
    ]
    if missing:
        reason = f"browser test needs {', '.join(missing)}"
        if in_ci():
            pytest.fail(f"{reason}; CI is set, so this fails instead of skipping", pytrace=False)
        pytest.skip(f"{reason} (apt-get install chromium chromium-driver)")
    assert chromium is not None and chromedriver is not None
    return chromium, chromedriver


@contextmanager
def chromium_driver(
    tmp_path: Path, *, width: int = 1280, height: int = 2000
) -> Iterator[WebDriver]:
    """A headless Chromium WebDriver with browser and performance logs; quit on exit."""
    chromium, chromedriver = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        *CHROMIUM_ARGS,
        f"--window-size={width},{height}",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
