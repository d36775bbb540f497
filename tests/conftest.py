"""Shared fixtures: the real datasets folder, temporary workspaces, a small demo store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WINLOSS_SHARED_DATA", REPO.parent / "shared" / "data"))
IBM_CSV = SHARED_DATA / "ibm_sales_win_loss" / "WA_Fn-UseC_-Sales-Win-Loss.csv"
MAVEN_CSV = SHARED_DATA / "maven_crm_sales_opportunities" / "sales_pipeline.csv"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite the golden files in tests/golden/ from the current output.")


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
