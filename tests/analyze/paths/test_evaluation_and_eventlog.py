"""``paths evaluate`` (the documented split, the JSON shape) and event-log export/import."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.analyze.paths.eventlog import events_to_deals, read_event_log
from winloss.analyze.paths.graph import PathGraph
from winloss.errors import InputError, UsageError


def test_evaluate_json_shape_split_and_baselines(demo_store_1500: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store_1500, path)
    code, out, _ = run(
        "--db", str(path), "paths", "evaluate", "--prefix", "3,4,6", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert [r["k"] for r in data["results"]] == [3, 4, 6]
    ws = Workspace(path)
    acts = ws.table("activities")
    closed = ws.deals(closed_only=True)
    closed = closed[closed["deal_id"].isin(acts["deal_id"])].copy()
    # the censoring guard: drop deals created within the 95th-percentile cycle of the data's end
    last_act = acts.groupby("deal_id")["occurred_at"].max()
    end = np.maximum(pd.to_datetime(closed["closed_at"]), closed["deal_id"].map(last_act))
    cycle = (end - pd.to_datetime(closed["created_at"])).dt.total_seconds() / 86400
    horizon = float(np.quantile(cycle, 0.95))
    cutoff = acts["occurred_at"].max() - pd.Timedelta(days=horizon)
    assert abs(data["split"]["censoring_guard"]["horizon_days"] - horizon) < 1e-9
    closed = closed[pd.to_datetime(closed["created_at"]) <= cutoff]
    n_closed = len(closed)
    assert data["split"]["n_closed"] == n_closed
    assert data["split"]["n_train_deals"] == int(np.floor(0.7 * n_closed))
    # per k: the test deals are the later-created 30 % with more than k actions
    closed = closed.sort_values("created_at", kind="stable")
    counts = acts.groupby("deal_id").size()
    test = closed.iloc[int(np.floor(0.7 * n_closed)) :]
    train = closed.iloc[: int(np.floor(0.7 * n_closed))]
    for r in data["results"]:
        assert set(r) >= {"k", "n_train", "n_test", "auc", "brier", "baselines", "calibration"}
        assert set(r["baselines"]) >= {
            "base_rate",
            "last_action",
            "markov_first_order",
            "gradient_boosting",
        }
        assert all(set(m) == {"auc", "brier"} for m in r["baselines"].values())
        k = r["k"]
        assert r["n_test"] == int((counts.reindex(test["deal_id"]).to_numpy() > k).sum())
        assert r["n_train"] == int((counts.reindex(train["deal_id"]).to_numpy() > k).sum())
        # base rate: the training win rate among deals with more than k actions
        won_train = train[counts.reindex(train["deal_id"]).to_numpy() > k]["outcome"] == "won"
        won_test = test[counts.reindex(test["deal_id"]).to_numpy() > k]["outcome"] == "won"
        expected = float(np.mean((won_train.mean() - won_test.to_numpy()) ** 2))
        assert abs(r["baselines"]["base_rate"]["brier"] - expected) < 1e-12
        # the planted paths carry signal the path model finds beyond every baseline
        best = max(m["auc"] for m in r["baselines"].values())
        assert r["auc"] >= best
    ws.close()


def test_export_import_round_trip_keeps_paths_and_outcomes(
    demo_store: Path, tmp_path: Path
) -> None:
    src = Workspace(demo_store, read_only=True)
    for name in ("log.csv", "log.xes.gz"):
        target = tmp_path / name
        n = src.export_event_log(target)
        acts = src.table("activities")
        deals = src.deals()
        closed_with_acts = deals[
            deals["outcome"].isin(["won", "lost"]) & deals["deal_id"].isin(acts["deal_id"])
        ]
        assert n == len(acts) + int(deals["outcome"].isin(["won", "lost"]).sum())
        dst = Workspace(tmp_path / f"{name}.duckdb")
        result = dst.import_event_log(target, won=("Deal won",), lost=("Deal lost",))
        assert result.won == int((closed_with_acts["outcome"] == "won").sum())
        assert result.lost == int((closed_with_acts["outcome"] == "lost").sum())
        va = PathGraph(top_variants=100_000).run(src.store).variants
        vb = PathGraph(top_variants=100_000).run(dst.store).variants
        va = va[va["variant"] != "(no activities)"].set_index("variant")[["won", "lost"]]
        vb = vb.set_index("variant")[["won", "lost"]]
        pd.testing.assert_frame_equal(va.sort_index(), vb.sort_index(), check_dtype=False)
        dst.close()
    with gzip.open(tmp_path / "log.xes.gz", "rt") as fh:
        head = fh.read(400)
    assert "http://www.xes-standard.org/" in head
    src.close()


def test_final_outcome_events_are_removed_and_earlier_ones_kept() -> None:
    events = pd.DataFrame(
        {
            "case": ["a", "a", "a", "b", "b", "c"],
            "activity": ["Create", "Payment", "Payment", "Create", "Collect", "Create"],
            "timestamp": [
                "2020-01-01",
                "2020-01-05",
                "2020-02-01",
                "2020-01-02",
                "2020-03-01",
                "2020-01-03",
            ],
            "resource": None,
        }
    )
    r = events_to_deals(events, won=["Payment"], lost=["Collect"])
    outcome = r.deals.set_index("deal_id")["outcome"]
    assert outcome.to_dict() == {"a": "won", "b": "lost", "c": "open"}
    paths = r.activities.groupby("deal_id")["type"].agg(list).to_dict()
    assert paths == {"a": ["Create", "Payment"], "b": ["Create"], "c": ["Create"]}
    closed = r.deals.set_index("deal_id")["closed_at"]
    assert closed["a"] == pd.Timestamp("2020-02-01") and pd.isna(closed["c"])
    assert r.outcome_events_removed == 2


def test_event_log_errors_name_what_to_fix(tmp_path: Path) -> None:
    bad = tmp_path / "log.csv"
    bad.write_text("case,activity,when\nA,x,2020-01-01\n")
    with pytest.raises(InputError, match="no column 'time:timestamp'"):
        read_event_log(bad, case="case", activity="activity")
    events = read_event_log(bad, case="case", activity="activity", timestamp="when")
    with pytest.raises(UsageError, match="won and lost"):
        events_to_deals(events, won=[], lost=["y"])
    events.loc[0, "timestamp"] = "not a date"
    with pytest.raises(
        InputError, match="line 2 of the file, column 'when', case 'A', value 'not a date'"
    ):
        events_to_deals(events, won=["x"], lost=["y"])
    with pytest.raises(UsageError, match=".xes"):
        read_event_log(tmp_path / "log.json")


def test_next_action_all_csv_and_single_deal(demo_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store, path)
    code, out, _ = run(
        "--db", str(path), "next-action", "--all", "--bootstrap", "20", "--format", "csv"
    )
    assert code == 0
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert list(frame.columns[:3]) == ["deal_id", "group", "state"]
    assert frame.groupby("deal_id").size().max() == 3
    assert (frame.groupby("deal_id")["rank"].min() == 1).all()
    # per deal: supported steps by P(win) after, then thin ones by support, never a thin one first
    for _deal, rows in frame.sort_values("rank").groupby("deal_id"):
        thin = rows["low_support"].to_numpy(dtype=bool)
        assert list(thin) == sorted(thin), rows
        assert list(rows["p_win_after"][~thin]) == sorted(rows["p_win_after"][~thin], reverse=True)
        assert list(rows["support"][thin]) == sorted(rows["support"][thin], reverse=True)
    code, out, err = run("--db", str(path), "next-action", "--all", "--bootstrap", "20")
    assert code == 0
    if frame["low_support"].any():
        assert "* marks a step fewer than 5 past deals took" in err and " *" in out
    deal = frame["deal_id"].iloc[0]
    code, out, err = run(
        "--db", str(path), "next-action", deal, "--bootstrap", "20", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    ranked = [c["p_win_after"] for c in data["candidates"] if not c["low_support"]]
    assert ranked == sorted(ranked, reverse=True)
    assert "causal" in data["caveat"]
    with pytest.raises(UsageError, match="--all"):
        run("--db", str(path), "next-action")
