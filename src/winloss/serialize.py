"""JSON for automation: one encoder for dates, numpy scalars, missing values and result objects."""

from __future__ import annotations

import json
from typing import Any


def jsonable(obj: Any) -> Any:
    """Convert one non-JSON value (``json.dumps(default=…)`` hook)."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    if isinstance(obj, (dt.date, dt.datetime, pd.Timestamp)):
        return obj.isoformat()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict(orient="records")
    if obj is pd.NA or obj is pd.NaT:
        return None
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def _clean(value: Any) -> Any:
    """NaN/inf become null: strict JSON for other tools."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``data``."""
    return json.dumps(_clean(json.loads(json.dumps(data, default=jsonable))), indent=indent,
                      ensure_ascii=False, allow_nan=False)
