"""The chains of a fixed order are fitted on the distinct token paths grouped in DuckDB (each
weighted by its deals) instead of every deal's tokens: the same counts, the same exact chains, the
same bootstrap (Poisson(m) for m deals on a path is the sum of their Poisson(1) weights)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from winloss import Workspace
from winloss.analyze.paths.analysis import ChainSettings, NextAction, _rank
from winloss.analyze.paths.data import PathVariants
from winloss.store import paths_queries


@pytest.fixture(scope="module")
def ws(demo_store_1500: Path) -> Iterator[Workspace]:
    w = Workspace(demo_store_1500, read_only=True)
    yield w
    w.close()


def test_variants_are_the_pandas_grouping_of_the_token_stream(ws: Workspace) -> None:
    stream = paths_queries.token_stream(ws.store, by="segment").to_pandas()
    per_deal = stream.groupby("deal_id", sort=False).agg(
        grp=("grp", "first"), outcome=("outcome", "first"), tokens=("token", tuple)
    )
    expected = per_deal.groupby(["grp", "outcome", "tokens"]).size()
    got = paths_queries.chain_path_variants(ws.store, by="segment").to_pandas()
    got_counts = {
        (r.grp, r.outcome, tuple(r.tokens)): int(r.n) for r in got.itertuples(index=False)
    }
    assert got_counts == {k: int(v) for k, v in expected.items()}
    assert sum(got_counts.values()) == stream["deal_id"].nunique()
    assert len(got) < stream["deal_id"].nunique()  # deals share paths


@pytest.mark.parametrize("order", [1, 2, 3])
def test_fit_on_variants_equals_fit_on_deals(ws: Workspace, order: int) -> None:
    settings = ChainSettings(by="segment", order=order, bootstrap=0)
    deals = settings.fit(settings.load(ws.store))
    compact_table = settings.load_for_chains(ws.store)
    assert isinstance(compact_table, PathVariants)
    compact = settings.fit(compact_table)
    assert compact.prior_strength == pytest.approx(deals.prior_strength, rel=1e-9)
    for name in ["all", *deals.segments]:
        a = deals.pooled if name == "all" else deals.segments[name]
        b = compact.pooled if name == "all" else compact.segments[name]
        assert (a.n_deals, a.n_won, a.n_lost) == (b.n_deals, b.n_won, b.n_lost)
        np.testing.assert_array_equal(a.chain.states, b.chain.states)
        np.testing.assert_allclose(b.chain.p_win, a.chain.p_win, rtol=0, atol=1e-9)
        np.testing.assert_allclose(b.removal, a.removal, rtol=0, atol=1e-9)


def test_bootstrap_on_variants_matches_the_deal_bootstrap(ws: Workspace) -> None:
    """Different draws, the same distribution: the 95 % intervals of P(win) from the start and of
    every removal effect agree within 2 points (200 replicates each)."""
    settings = ChainSettings(order=1, bootstrap=200)
    deals = settings.fit(settings.load(ws.store)).pooled
    compact = settings.fit(settings.load_for_chains(ws.store)).pooled
    start = deals.chain.index(0)
    lo_a, hi_a = deals.win_interval
    lo_b, hi_b = compact.win_interval
    assert abs(lo_a[start] - lo_b[start]) < 0.02 and abs(hi_a[start] - hi_b[start]) < 0.02
    rl_a, rh_a = deals.interval(deals.boot_removal)
    rl_b, rh_b = compact.interval(compact.boot_removal)
    np.testing.assert_allclose(rl_b, rl_a, atol=0.02)
    np.testing.assert_allclose(rh_b, rh_a, atol=0.02)


def test_next_action_on_variants_ranks_as_on_deals(ws: Workspace) -> None:
    result = NextAction(by="segment", order=1, bootstrap=0, top=None).run(ws.store)
    settings = ChainSettings(by="segment", order=1, bootstrap=0)
    table = settings.load(ws.store)
    fitted = settings.fit(table)
    where = {str(d): i for i, d in enumerate(table.deal_ids)}
    for deal_id in result.candidates["deal_id"].unique()[:25]:
        i = where[deal_id]
        group = str(table.group[i])
        expected = _rank(
            deal_id,
            group,
            table.seqs.path(i),
            fitted.segments[group],
            fitted.action_tokens,
            5,
            None,
        )
        got = result.candidates[result.candidates["deal_id"] == deal_id]
        assert got["action"].tolist() == [r["action"] for r in expected]
        np.testing.assert_allclose(
            got["p_win_after"], [r["p_win_after"] for r in expected], atol=1e-9
        )
        assert got["support"].tolist() == [r["support"] for r in expected]
