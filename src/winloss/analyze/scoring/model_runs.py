"""Persist model outputs in the store: score runs (``scores``) and analysis runs (``analysis_runs``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from winloss.serialize import dumps
from winloss.store.register_queries import insert_analysis_run, insert_scores

if TYPE_CHECKING:
    from winloss.analyze.base import AnalysisResult
    from winloss.analyze.scoring.analysis import ScoreResult
    from winloss.store.duckdb_store import DuckDBStore


def record_run(
    store: DuckDBStore,
    kind: str,
    result: AnalysisResult,
    *,
    period: str | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """Write one ``analysis_runs`` row holding the result's JSON; returns its run id."""
    run_id = f"{kind}-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    insert_analysis_run(
        store,
        run_id=run_id,
        kind=kind,
        period=period,
        params=dumps(params or {}, indent=None),
        result=result.to_json(indent=None),
        created_at=dt.datetime.now(),
    )
    return run_id


def save_scores(store: DuckDBStore, result: ScoreResult) -> str:
    """Store the probabilities, intervals and factors of a score result under a new run id."""
    scores: pd.DataFrame = result.scores
    run_id = record_run(store, result.kind, result, params=result.inputs.to_dict())
    now = dt.datetime.now()
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "deal_id": scores["deal_id"].astype(str),
            "probability": scores["probability"].astype(float),
            "ci_low": scores.get("ci_low", pd.Series([None] * len(scores))),
            "ci_high": scores.get("ci_high", pd.Series([None] * len(scores))),
            "factors": [dumps(f, indent=None) for f in scores["factors"]]
            if "factors" in scores.columns
            else None,
            "scored_at": now,
        }
    )
    insert_scores(store, rows)
    return run_id
