"""One report build fits each win model once, and a model shared between analyses equals the
model each would have fitted alone (issue 8: the report's build time)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DemoReport
from winloss.analyze.scoring.analysis import ModelSettings, WinModel, fit_win_model
from winloss.store.cached_source import CachedDealSource
from winloss.store.duckdb_store import DuckDBStore


def test_the_demo_report_fits_each_model_once(demo_report: DemoReport) -> None:
    """The fits are counted inside the session's demo report build (tests/conftest.py)."""
    fits = demo_report.fits
    # the same deals with the same settings (up to the bootstrap refits, which extend a fit
    # rather than repeat it) are never fitted twice
    cores = Counter((replace(s, n_bootstrap=0), ids) for s, _imp, ids in fits)
    assert [k for k, v in cores.items() if v > 1] == []
    # the win models' refits and importances are added to a bare fit, never refitted
    assert all(s.n_bootstrap == 0 and not imp for s, imp, _ in fits if s.purpose == "win")
    by_purpose = Counter(s.purpose for s, _, _ in fits)
    # win: 4 time splits of the evaluation, shared with the backtest, 3 more backtest quarters,
    # 1 on every closed deal for the live forecast and the open-deal scores; lead: 1; account: 1
    assert by_purpose == {"win": 8, "lead": 1, "account": 1}


@pytest.fixture
def sample(demo_store: Path) -> tuple[CachedDealSource, pd.DataFrame, pd.DataFrame]:
    source = CachedDealSource(DuckDBStore(demo_store, read_only=True))
    deals = source.deals()
    closed = deals[deals["outcome"].isin(["won", "lost"])].reset_index(drop=True).iloc[:150]
    return source, closed, deals[deals["outcome"] == "open"]


def test_refits_and_importances_extend_one_shared_fit(
    sample: tuple[CachedDealSource, pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forecast's model (no refits, no importances) and the scores' model (both) come from one
    fit, and the scores' model equals a fit from scratch: probabilities, intervals, importances."""
    source, closed, open_deals = sample
    catalog = source.field_catalog()
    fits: list[ModelSettings] = []
    fit = WinModel.fit

    def counted(self: WinModel, *args: object, **kwargs: object) -> WinModel:
        fits.append(self.settings)
        return fit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(WinModel, "fit", counted)
    with_refits = ModelSettings(n_bootstrap=4)
    bare = fit_win_model(
        ModelSettings(n_bootstrap=0),
        closed,
        catalog,
        open_deals=open_deals,
        importance=False,
        memo=source.memo,
    )
    shared = fit_win_model(
        with_refits, closed, catalog, open_deals=open_deals, importance=True, memo=source.memo
    )
    assert len(fits) == 1 and fits[0].n_bootstrap == 0
    assert bare.replicas == [] and bare.importances.empty
    assert (
        fit_win_model(
            with_refits, closed, catalog, open_deals=open_deals, importance=True, memo=source.memo
        )
        is shared
    )
    monkeypatch.setattr(WinModel, "fit", fit)
    fresh = WinModel(with_refits).fit(closed, catalog, open_deals=open_deals)
    assert len(shared.replicas) == len(fresh.replicas) == 4
    pd.testing.assert_frame_equal(
        shared.predict(open_deals), fresh.predict(open_deals), check_exact=True
    )
    pd.testing.assert_frame_equal(shared.importances, fresh.importances, check_exact=True)
    assert shared.describe() == fresh.describe()
    # the bare model is untouched by the extension
    assert bare.replicas == [] and bare.settings.n_bootstrap == 0
    np.testing.assert_array_equal(bare.predict_frame(open_deals), fresh.predict_frame(open_deals))
