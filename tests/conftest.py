"""Shared fixtures: the real datasets folder, temporary workspaces, a small demo store and its
report, the browser."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WINLOSS_SHARED_DATA", REPO.parent / "shared" / "data"))
IBM_CSV = SHARED_DATA / "ibm_sales_win_loss" / "WA_Fn-UseC_-Sales-Win-Loss.csv"
MAVEN_CSV = SHARED_DATA / "maven_crm_sales_opportunities" / "sales_pipeline.csv"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files in tests/golden/ from the current output.",
    )


def require(path: Path) -> Path:
    """Skip the test, with the reason, when a real dataset is not present."""
    if not path.exists():
        pytest.skip(f"real dataset not found at {path} (set WINLOSS_SHARED_DATA)")
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[object]:
    from winloss import Workspace

    w = Workspace(tmp_path / "test.duckdb")
    yield w
    w.close()


def _demo_store(factory: pytest.TempPathFactory, deals: int) -> Path:
    from winloss import Workspace
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    path = factory.mktemp(f"demo{deals}") / "demo.duckdb"
    w = Workspace(path)
    import_demo(w, generate_demo(deals, seed=3))
    w.close()
    return path


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo store (600 deals) built once per session; open it read-only or copy it."""
    return _demo_store(tmp_path_factory, 600)


@pytest.fixture(scope="session")
def demo_store_1500(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-deal demo store: enough deals for significant findings in a 4-quarter window."""
    return _demo_store(tmp_path_factory, 1500)


TELCO_CSV = SHARED_DATA / "ibm_telco_customer_churn" / "Telco-Customer-Churn.csv"


#: The clock of the demo report the golden and report tests read.
REPORT_NOW = dt.datetime(2026, 10, 1, 9, 30)


@dataclass(frozen=True)
class DemoReport:
    """The demo store's quarterly report, saved as HTML and JSON, and the texts read back."""

    html_path: Path
    json_path: Path
    html: str
    json_text: str
    data: dict[str, Any]
    #: Every win-model fit of the build: (settings, importance, training deal ids) — see
    #: tests/report/test_report_fits.py.
    fits: tuple[tuple[Any, bool, tuple[str, ...]], ...] = ()


@pytest.fixture(scope="session")
def demo_report(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    """The 600-deal demo store's report, built once per session on a copy, with the clock fixed
    at :data:`REPORT_NOW` and the store opened by a relative path (the report names the store
    ``demo.duckdb``, not a temporary directory)."""
    from winloss import Workspace
    from winloss.analyze.scoring.analysis import WinModel

    out = tmp_path_factory.mktemp("report")
    shutil.copy(demo_store, out / "demo.duckdb")
    fits: list[tuple[Any, bool, tuple[str, ...]]] = []
    fit = WinModel.fit

    def counted_fit(self: WinModel, closed: Any, *args: Any, **kwargs: Any) -> WinModel:
        ids = tuple(str(i) for i in closed["deal_id"]) if "deal_id" in closed else ()
        fits.append((self.settings, bool(kwargs.get("importance", True)), ids))
        return fit(self, closed, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(out)
        mp.setattr(WinModel, "fit", counted_fit)
        ws = Workspace("demo.duckdb")
        try:
            report = ws.report(now=REPORT_NOW)
            html_path = report.save(out / "report.html")
            json_path = report.save(out / "report.json")
        finally:
            ws.close()
    json_text = json_path.read_text(encoding="utf-8")
    return DemoReport(
        html_path,
        json_path,
        html_path.read_text(encoding="utf-8"),
        json_text,
        json.loads(json_text),
        tuple(fits),
    )


@pytest.fixture(scope="session")
def browser() -> tuple[str, str]:
    """Chromium and chromedriver paths. Request it before expensive session fixtures: a missing
    browser then skips (fails under CI) before the report is built."""
    from tests.browser import require_browser

    return require_browser()


@pytest.fixture(scope="session")
def demo_store_3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default-size demo company (3,000 deals, seed 7): enough deals for the committee and PLG
    effects planted in winloss.demo.committees_and_usage to be recovered."""
    from winloss import Workspace
    from winloss.demo.generator import generate_demo
    from winloss.demo.run import import_demo

    path = tmp_path_factory.mktemp("demo3000") / "demo.duckdb"
    w = Workspace(path)
    import_demo(w, generate_demo(3000, seed=7))
    w.close()
    return path
