"""The browser helper skips outside CI and fails under CI when the browser is missing."""

from __future__ import annotations

import shutil

import pytest

from tests import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        browser.shutil, "which", lambda name: None if name == "chromium" else real_which(name)
    )


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_missing_browser_fails_under_ci(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="Debian's chromium.*CI is set"):
        browser.require_browser()


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_missing_browser_skips_outside_ci(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        browser.require_browser()


def test_missing_selenium_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(
        browser.importlib.util, "find_spec", lambda name: None if name == "selenium" else object()
    )
    with pytest.raises(pytest.fail.Exception, match="the selenium package"):
        browser.require_browser()
