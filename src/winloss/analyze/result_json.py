"""JSON output of analysis results: plain types, NaN as null, DataFrames as records."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy/pandas values turned into JSON types (NaN and NaT become ``None``)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return frame_records(obj)
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return None if math.isnan(float(obj)) or math.isinf(float(obj)) else float(obj)
    if obj is pd.NA or obj is pd.NaT or obj is None:
        return None
    if isinstance(obj, pd.Timestamp | dt.date | dt.datetime):
        return obj.isoformat()
    return obj


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts."""
    return [jsonable(r) for r in frame.to_dict(orient="records")]


class ResultMixin:
    """``to_json()`` and helpers for frozen analysis results that define ``to_dict()``."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - defined by each result
        raise NotImplementedError

    @staticmethod
    def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return frame_records(frame)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as JSON text (``to_dict()`` with NaN as ``null``)."""
        return json.dumps(jsonable(self.to_dict()), indent=indent, ensure_ascii=False)
