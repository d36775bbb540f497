"""The SQL path counts against pandas recomputations on the demo store, and incremental counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winloss import Workspace
from winloss.analyze.paths.graph import PathGraph
from winloss.store import paths_queries


def _ordered(ws: Workspace) -> pd.DataFrame:
    acts = (
        ws.table("activities")
        .drop(columns="outcome")
        .merge(
            ws.deals()[["deal_id", "outcome", "created_at", "closed_at", "segment"]], on="deal_id"
        )
    )
    return acts.sort_values(["deal_id", "occurred_at", "activity_id"]).reset_index(drop=True)


def test_directly_follows_edges_equal_pandas(demo_store: Path) -> None:
    ws = Workspace(demo_store, read_only=True)
    acts = _ordered(ws)
    acts["source"] = acts.groupby("deal_id")["type"].shift().fillna("(start)")
    last = acts.drop_duplicates("deal_id", keep="last")
    ends = pd.DataFrame(
        {"source": last["type"], "type": "(" + last["outcome"] + ")", "outcome": last["outcome"]}
    )
    ref = pd.concat([acts[["source", "type", "outcome"]], ends]).value_counts().rename("n")
    edges = PathGraph().run(ws.store).edges
    got = edges.melt(
        id_vars=["source", "target"],
        value_vars=["won", "lost", "open"],
        var_name="outcome",
        value_name="count",
    )
    got = got[got["count"] > 0].set_index(["source", "target", "outcome"])["count"]
    ref.index = ref.index.set_names(["source", "target", "outcome"])
    pd.testing.assert_series_equal(
        got.sort_index(), ref.sort_index(), check_names=False, check_dtype=False
    )
    # median days from the previous action (or the creation) to the next, won deals, one edge
    acts["prev_at"] = acts.groupby("deal_id")["occurred_at"].shift()
    acts["prev_at"] = acts["prev_at"].fillna(pd.to_datetime(acts["created_at"]))
    sel = acts[(acts["source"] == "email") & (acts["type"] == "call") & (acts["outcome"] == "won")]
    expected = ((sel["occurred_at"] - sel["prev_at"]).dt.total_seconds() / 86400).median()
    row = edges[(edges["source"] == "email") & (edges["target"] == "call")].iloc[0]
    assert abs(row["median_days_won"] - expected) < 1e-9
    # into the close (a day): whole days from the last action's day, never negative for an
    # action on the close day
    closing = last[last["outcome"] == "won"]
    days = pd.to_datetime(closing["closed_at"]) - closing["occurred_at"].dt.normalize()
    for source, group in days.dt.days.groupby(closing["type"]):
        edge = edges[(edges["source"] == source) & (edges["target"] == "(won)")].iloc[0]
        assert edge["median_days_won"] == group.median()
    assert (edges.loc[edges["target"] == "(won)", "median_days_won"] >= 0).all()
    ws.close()


def test_variants_and_wilson_intervals(demo_store: Path) -> None:
    from statsmodels.stats.proportion import proportion_confint

    ws = Workspace(demo_store, read_only=True)
    acts = _ordered(ws)
    var = acts.groupby("deal_id")["type"].agg(" > ".join).rename("variant")
    deals = ws.deals().set_index("deal_id").join(var)
    ref = deals.groupby("variant")["outcome"].value_counts().unstack(fill_value=0)
    result = PathGraph(top_variants=10_000).run(ws.store)
    got = result.variants.set_index("variant")
    assert got["deals"].sum() == len(deals)
    for variant, r in ref.iterrows():
        assert got.loc[variant, "won"] == r.get("won", 0)
        assert got.loc[variant, "lost"] == r.get("lost", 0)
    top = got.iloc[0]
    n = top["won"] + top["lost"]
    low, high = proportion_confint(top["won"], n, alpha=0.05, method="wilson")
    assert abs(top["ci_low"] - low) < 1e-9 and abs(top["ci_high"] - high) < 1e-9
    ws.close()


def test_token_stream_timing_tokens_equal_pandas(demo_store: Path) -> None:
    ws = Workspace(demo_store, read_only=True)
    acts = _ordered(ws)
    as_of = paths_queries.data_as_of(ws.store)
    stream = paths_queries.token_stream(ws.store, silent_days=30, aged_days=180).to_pandas()
    created = pd.to_datetime(acts["created_at"])
    prev = acts.groupby("deal_id")["occurred_at"].shift().fillna(created)
    gap_days = (acts["occurred_at"] - prev).dt.total_seconds() / 86400
    last = acts.drop_duplicates("deal_id", keep="last")
    end = np.where(
        last["outcome"] == "open",
        pd.Timestamp(as_of),
        np.maximum(pd.to_datetime(last["closed_at"]), last["occurred_at"]),
    )
    trailing = (pd.to_datetime(end) - last["occurred_at"]).dt.total_seconds() / 86400
    expected_silent = int((gap_days > 30).sum() + (trailing > 30).sum())
    assert int((stream["token"] == "silent").sum()) == expected_silent
    # one 'aged' token per deal whose last step (the close or as_of) is more than 180 days in
    end_age = (pd.to_datetime(end) - pd.to_datetime(last["created_at"])).dt.total_seconds() / 86400
    assert int((stream["token"] == "aged").sum()) == int((end_age > 180).sum())
    assert int((~stream["token"].isin(["silent", "aged"])).sum()) == len(acts)
    ws.close()


def test_incremental_counts_update_only_changed_deals(
    demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store, path)
    ws = Workspace(path)
    first = ws.refresh_path_counts()
    n_deals = first["recounted"]
    assert first["unchanged"] == 0 and n_deals > 0
    n_open = int(
        ws.store.scalar(
            "SELECT count(DISTINCT d.deal_id) FROM deals d JOIN activities a USING (deal_id) "
            "WHERE d.outcome = 'open'"
        )
    )
    again = ws.refresh_path_counts()
    assert again["recounted"] == n_open  # open deals' trailing silence depends on the clock
    closed = ws.deals(closed_only=True).iloc[0]
    ws.import_file(
        "activities",
        pd.DataFrame(
            {
                "activity_id": ["NEW-1"],
                "deal_id": [closed["deal_id"]],
                "type": ["trial"],
                "occurred_at": [pd.Timestamp(closed["created_at"]) + pd.Timedelta(days=1)],
            }
        ),
    )
    third = ws.refresh_path_counts()
    assert third["recounted"] == n_open + 1
    incremental = paths_queries.stored_transition_counts(ws.store)
    # a full recount from scratch gives the same totals
    ws.store.con.execute("DELETE FROM path_deal_fingerprints")
    ws.refresh_path_counts()
    full = paths_queries.stored_transition_counts(ws.store)
    pd.testing.assert_frame_equal(incremental, full)
    # and they equal the first-order counts of the token stream, counted in pandas
    stream = paths_queries.token_stream(ws.store, by="segment").to_pandas()
    stream["source"] = stream.groupby("deal_id")["token"].shift().fillna("(start)")
    ref = stream.groupby(["source", "token"]).size().to_dict()
    last = stream.groupby("deal_id").tail(1)
    last = last[last["outcome"].isin(["won", "lost"])]
    for (s, t), n in last.groupby(["token", "outcome"]).size().items():
        ref[(s, f"({t})")] = ref.get((s, f"({t})"), 0) + n
    got = full.set_index(["source", "target"])["n"]
    assert {k: int(v) for k, v in got.items()} == {k: int(v) for k, v in ref.items()}
    # a refresh that fails part-way leaves the stored counts as they were
    before = paths_queries.stored_transition_counts(ws.store)
    n_fingerprints = ws.store.count("path_deal_fingerprints")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(paths_queries, "token_stream", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            ws.refresh_path_counts()
    pd.testing.assert_frame_equal(paths_queries.stored_transition_counts(ws.store), before)
    assert ws.store.count("path_deal_fingerprints") == n_fingerprints
    ws.close()


def test_sql_first_order_counts_give_the_same_chain(demo_store: Path) -> None:
    from winloss.analyze.paths.data import load_paths
    from winloss.analyze.paths.markov import MarkovModel

    ws = Workspace(demo_store, read_only=True)
    counts = paths_queries.first_order_counts(ws.store)
    from_sql = MarkovModel.from_first_order_counts(
        counts["source"].tolist(), counts["target"].tolist(), counts["n"].tolist()
    )
    table = load_paths(ws.store)
    fitted = MarkovModel.fit(table.seqs, 1)
    assert from_sql.vocabulary == fitted.vocabulary
    assert np.array_equal(from_sql.contexts[0], fitted.contexts[0])
    assert np.array_equal(from_sql.tables[0], fitted.tables[0])
    a, b = from_sql.chain(), fitted.chain()
    assert np.allclose(a.p_win, b.p_win, atol=1e-12)
    ws.close()


def test_node_and_edge_win_rates_count_deals_not_activities(demo_store: Path) -> None:
    """A node's win rate is won / (won + lost) over the closed deals that passed through it, each
    deal once; an edge's the same over the deals that took the step at least once. Reference: a
    pandas recomputation from the activities (a deal with three emails counts once for email)."""
    ws = Workspace(demo_store, read_only=True)
    acts = _ordered(ws)
    result = PathGraph().run(ws.store)
    # nodes: distinct (deal, action), plus (start) for every deal with activities
    visits = pd.concat(
        [acts.drop_duplicates("deal_id").assign(type="(start)"), acts]
    ).drop_duplicates(["deal_id", "type"])
    ref = visits.groupby("type")["outcome"].value_counts().unstack(fill_value=0)
    ref["win_rate"] = ref["won"] / (ref["won"] + ref["lost"])
    nodes = result.nodes.set_index("node")
    assert set(nodes.index) == set(ref.index)
    for col in ("won", "lost", "open"):
        assert (nodes[col] == ref.loc[nodes.index, col]).all(), col
    np.testing.assert_allclose(nodes["win_rate"], ref.loc[nodes.index, "win_rate"], rtol=1e-12)
    assert (nodes["deals"] == nodes[["won", "lost", "open"]].sum(axis=1)).all()
    # (start): every closed deal with activities, once; the same as the sum of its edges
    closed = acts.drop_duplicates("deal_id")
    closed = closed[closed["outcome"] != "open"]
    start_rate = (closed["outcome"] == "won").mean()
    assert nodes.loc["(start)", "win_rate"] == pytest.approx(start_rate, rel=1e-12)
    starts = result.edges[result.edges["source"] == "(start)"]
    won, lost = starts["deals_won"].sum(), starts["deals_lost"].sum()
    assert won / (won + lost) == pytest.approx(start_rate, rel=1e-12)
    # a repeated action does not add weight: the most repeated action has fewer deals than visits
    repeated = acts.groupby(["deal_id", "type"]).size()
    assert (repeated > 1).any()
    # edges: distinct (deal, source, target) steps, ends included
    acts["source"] = acts.groupby("deal_id")["type"].shift().fillna("(start)")
    last = acts.drop_duplicates("deal_id", keep="last")
    steps = pd.concat(
        [
            acts[["deal_id", "source", "type", "outcome"]],
            last.assign(source=last["type"], type="(" + last["outcome"] + ")")[
                ["deal_id", "source", "type", "outcome"]
            ],
        ]
    ).drop_duplicates(["deal_id", "source", "type"])
    ref_edges = steps.groupby(["source", "type"])["outcome"].value_counts().unstack(fill_value=0)
    edges = result.edges.set_index(["source", "target"])
    for col in ("won", "lost", "open"):
        expected = ref_edges.loc[edges.index, col].to_numpy()
        assert (edges[f"deals_{col}"].to_numpy() == expected).all(), col
    closed_deals = edges["deals_won"] + edges["deals_lost"]
    has_closed = closed_deals > 0
    np.testing.assert_allclose(
        edges.loc[has_closed, "win_rate"],
        edges.loc[has_closed, "deals_won"] / closed_deals[has_closed],
        rtol=1e-12,
    )
    # transitions stay counted as such: n ≥ deals, strictly where a deal repeats the step
    assert (edges["n"] >= edges["deals"]).all() and (edges["n"] > edges["deals"]).any()
    ws.close()


def test_graph_counts_per_group_with_by(demo_store: Path) -> None:
    """With --by, the node counts are per group and add up to the pooled ones."""
    ws = Workspace(demo_store, read_only=True)
    pooled = PathGraph().run(ws.store).nodes.set_index("node")
    split = PathGraph(by="segment").run(ws.store).nodes
    summed = split.groupby("node")[["deals", "won", "lost", "open"]].sum()
    pd.testing.assert_frame_equal(
        summed.loc[pooled.index], pooled[["deals", "won", "lost", "open"]], check_dtype=False
    )
    ws.close()
