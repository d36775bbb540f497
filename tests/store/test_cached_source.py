"""CachedDealSource: one read per filter for a report build, copies out, and a shared model memo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from winloss.model.deals import DealFilter
from winloss.store.cached_source import CachedDealSource
from winloss.store.duckdb_store import DuckDBStore


@pytest.fixture
def store(demo_store: Path) -> DuckDBStore:
    return DuckDBStore(demo_store, read_only=True)


def test_reads_equal_the_store_and_happen_once(store: DuckDBStore) -> None:
    source = CachedDealSource(store)
    flt = DealFilter(segment="Enterprise")
    pd.testing.assert_frame_equal(source.deals(), store.deals())
    pd.testing.assert_frame_equal(source.closed_deals(flt), store.closed_deals(flt))
    pd.testing.assert_frame_equal(source.table("stage_history"), store.table("stage_history"))
    assert source.field_catalog() == store.field_catalog()
    names = ["segment", "amount"]
    # the rows come unordered (a parallel scan): equal as sets of rows
    order = [("_won", "ascending")] + [(n, "ascending") for n in names]
    assert (
        source.closed_deal_columns(names)
        .sort_by(order)
        .equals(store.closed_deal_columns(names).sort_by(order))
    )
    reads = source.store_reads
    assert reads == 5
    for _ in range(3):  # the same reads again: served from memory
        source.deals()
        source.closed_deals(flt)
        source.table("stage_history")
        source.field_catalog()
        source.closed_deal_columns(names)
    assert source.store_reads == reads
    source.deals(DealFilter(segment="SMB"))  # another filter is another read
    assert source.store_reads == reads + 1


def test_frames_handed_out_are_copies(store: DuckDBStore) -> None:
    source = CachedDealSource(store)
    first = source.deals()
    first["amount"] = -1.0
    first.drop(index=first.index[:10], inplace=True)
    pd.testing.assert_frame_equal(source.deals(), store.deals())


def test_memo_computes_once_per_key(store: DuckDBStore) -> None:
    source = CachedDealSource(store)
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return object()

    a = source.memo(("model", 1), compute)
    assert source.memo(("model", 1), compute) is a and len(calls) == 1
    assert source.memo(("model", 2), compute) is not a and len(calls) == 2


def test_shared_win_model_equals_a_fresh_fit(store: DuckDBStore) -> None:
    """The evaluation's time-split model reused by the backtest is the model a fresh fit gives."""
    from winloss.analyze.scoring.analysis import ModelSettings, WinModel, fit_win_model

    source = CachedDealSource(store)
    deals = source.deals()
    closed = deals[deals["outcome"].isin(["won", "lost"])].reset_index(drop=True)
    open_deals = deals[deals["outcome"] == "open"]
    settings = ModelSettings(n_bootstrap=0)
    catalog = source.field_catalog()
    shared = fit_win_model(
        settings, closed, catalog, open_deals=open_deals, importance=False, memo=source.memo
    )
    again = fit_win_model(
        settings, closed.copy(), catalog, open_deals=open_deals, importance=False, memo=source.memo
    )
    assert again is shared
    fresh = WinModel(settings).fit(closed, catalog, open_deals=open_deals, importance=False)
    pd.testing.assert_series_equal(
        pd.Series(shared.predict_frame(open_deals)),
        pd.Series(fresh.predict_frame(open_deals)),
        check_exact=True,
    )
    other = fit_win_model(
        ModelSettings(n_bootstrap=0, seed=1),
        closed,
        catalog,
        open_deals=open_deals,
        importance=False,
        memo=source.memo,
    )
    assert other is not shared
