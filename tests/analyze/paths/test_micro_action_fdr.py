"""Segment micro-actions are a family of tests with Benjamini–Hochberg q-values (issue #14)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from winloss import Workspace
from winloss.analyze.paths.analysis import (
    MICRO_FDR,
    ChainSettings,
    PathChains,
    micro_action_tests,
)


@pytest.fixture(scope="module")
def ws(demo_store_1500: Path) -> Iterator[Workspace]:
    w = Workspace(demo_store_1500, read_only=True)
    yield w
    w.close()


def test_q_values_are_statsmodels_benjamini_hochberg(ws: Workspace) -> None:
    result = PathChains(by="segment", bootstrap=60).run(ws.store)
    tests = result.micro_action_tests
    # every segment × action pair whose removal effect is defined is in the family
    assert len(tests) == 3 * 7
    expected = multipletests(tests["p_value"].to_numpy(), alpha=MICRO_FDR, method="fdr_bh")
    np.testing.assert_allclose(tests["q_value"], expected[1], rtol=0, atol=1e-12)
    assert (tests["finding"].to_numpy() == expected[0]).all()
    # only the survivors are called micro-actions, everywhere the result goes
    assert result.micro_actions[["group", "action"]].values.tolist() == (
        tests[tests["finding"]][["group", "action"]].values.tolist()
    )
    out = result.to_dict()
    assert out["micro_action_fdr"] == MICRO_FDR
    assert len(out["micro_action_tests"]) == len(tests)
    assert all(r["q_value"] < MICRO_FDR for r in out["micro_actions"])


def test_p_value_is_the_worst_one_sided_wald_test_against_the_other_segments(
    ws: Workspace,
) -> None:
    settings = ChainSettings(by="segment", bootstrap=60)
    fitted = settings.fit(settings.load(ws.store))
    tests = micro_action_tests(fitted)
    row = tests[(tests["group"] == "Enterprise") & (tests["action"] == "executive meeting")]
    a = [fitted.pooled.model.vocabulary[t] for t in fitted.action_tokens].index("executive meeting")
    mine = fitted.segments["Enterprise"]
    ps = []
    for name in ("Mid-Market", "SMB"):
        other = fitted.segments[name]
        diff = mine.boot_removal[:, a] - other.boot_removal[:, a]
        ps.append(norm.sf((mine.removal[a] - other.removal[a]) / np.std(diff, ddof=1)))
    assert row["p_value"].iloc[0] == pytest.approx(max(ps), rel=1e-9, abs=1e-300)
    assert bool(row["finding"].iloc[0])


def test_shuffled_segments_give_no_micro_actions(ws: Workspace) -> None:
    """With the segment labels permuted the segments differ by chance only: nothing survives."""
    settings = ChainSettings(by="segment", bootstrap=60)
    table = settings.load(ws.store)
    rng = np.random.default_rng(11)
    shuffled = dataclasses.replace(table, group=rng.permutation(table.group))
    tests = micro_action_tests(settings.fit(shuffled))
    assert len(tests) == 21
    assert not tests["finding"].any()
    assert tests["q_value"].min() >= MICRO_FDR


def test_lift_interval_is_the_percentile_of_the_replicates_differences(ws: Workspace) -> None:
    from winloss.analyze.paths.analysis import _rank

    settings = ChainSettings(by="segment", bootstrap=60)
    fitted = settings.fit(settings.load(ws.store))
    fit = fitted.segments["Enterprise"]
    history = ("email", "call", "discovery call")
    rows = _rank("D", "Enterprise", history, fit, fitted.action_tokens, 5, None)
    now = fit.chain.index(fit.model.state_code(history))
    assert len(rows) >= 3
    for r in rows:
        after = fit.chain.index(fit.model.state_code((*history, r["action"])))
        diff = fit.boot_win[:, after] - fit.boot_win[:, now]
        low, high = np.percentile(diff, [2.5, 97.5])
        assert r["lift_low"] == pytest.approx(low, abs=1e-12)
        assert r["lift_high"] == pytest.approx(high, abs=1e-12)
        assert r["lift"] == pytest.approx(fit.chain.p_win[after] - fit.chain.p_win[now])
