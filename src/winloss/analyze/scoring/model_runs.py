"""Persist model outputs in the store: score runs (``scores``) and analysis runs (``analysis_runs``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from winloss.analyze.result_json import jsonable

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore


def record_run(store: DuckDBStore, kind: str, result: Any, *, period: str | None = None,
               params: dict[str, Any] | None = None) -> str:
    """Write one ``analysis_runs`` row holding the result's JSON; returns its run id."""
    run_id = f"{kind}-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    store.con.execute(
        "INSERT INTO analysis_runs VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, kind, period, json.dumps(jsonable(params or {})), result.to_json(indent=None),
         dt.datetime.now()])
    return run_id


def save_scores(store: DuckDBStore, result: Any) -> str:
    """Store the probabilities, intervals and factors of a score result under a new run id."""
    scores: pd.DataFrame = result.scores
    run_id = record_run(store, result.kind, result, params=result.inputs)
    now = dt.datetime.now()
    rows = pd.DataFrame({
        "run_id": run_id,
        "deal_id": scores["deal_id"].astype(str),
        "probability": scores["probability"].astype(float),
        "ci_low": scores.get("ci_low", pd.Series([None] * len(scores))),
        "ci_high": scores.get("ci_high", pd.Series([None] * len(scores))),
        "factors": [json.dumps(jsonable(f)) for f in scores["factors"]]
        if "factors" in scores.columns else None,
        "scored_at": now,
    })
    store.con.register("_scores_in", rows)
    try:
        store.con.execute("INSERT INTO scores SELECT run_id, deal_id, probability, ci_low, "
                             "ci_high, factors, scored_at FROM _scores_in")
    finally:
        store.con.unregister("_scores_in")
    return run_id
