"""JSON for automation: the one encoder for dates, numpy scalars, missing values and result objects.

:func:`dumps` gives strict JSON text, :func:`plain` the same data as plain Python objects (what
``to_dict()`` of a result returns), :func:`records` the rows of a DataFrame in that form. All three
go through :func:`jsonable`, so every result, report and register speaks the same JSON: dates as
ISO text, numpy scalars as numbers, NaN, infinities, ``pd.NA`` and ``NaT`` as ``null``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def jsonable(obj: Any) -> Any:
    """Convert one non-JSON value (``json.dumps(default=…)`` hook)."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    if obj is pd.NA or obj is pd.NaT:  # NaT is a datetime: test it first
        return None
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


def plain(data: Any) -> Any:
    """``data`` as plain JSON types (dicts, lists, str, int, float, bool, None)."""
    return _clean(json.loads(json.dumps(data, default=jsonable)))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as plain JSON-ready dicts."""
    out: list[dict[str, Any]] = plain(frame)
    return out


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``data``."""
    return json.dumps(plain(data), indent=indent, ensure_ascii=False, allow_nan=False)
