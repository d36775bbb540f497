"""The one JSON encoder: what every result's to_dict/to_json and the report go through."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from winloss.serialize import dumps, plain, records


def test_values_become_plain_json() -> None:
    data = {
        "int": np.int64(3),
        "float": np.float64(0.5),
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "bool": np.bool_(True),
        "date": dt.date(2026, 3, 31),
        "ts": pd.Timestamp("2026-01-02 03:04:05"),
        "nat": pd.NaT,
        "na": pd.NA,
        "array": np.array([1, 2]),
        "tuple": (1, 2),
        "frame": pd.DataFrame({"a": [1.0, np.nan]}),
    }
    expected = {
        "int": 3,
        "float": 0.5,
        "nan": None,
        "inf": None,
        "bool": True,
        "date": "2026-03-31",
        "ts": "2026-01-02T03:04:05",
        "nat": None,
        "na": None,
        "array": [1, 2],
        "tuple": [1, 2],
        "frame": [{"a": 1.0}, {"a": None}],
    }
    assert plain(data) == expected
    assert json.loads(dumps(data)) == expected  # strict JSON: no NaN token
    assert "NaN" not in dumps(data)


def test_records_of_a_frame() -> None:
    frame = pd.DataFrame({"d": pd.to_datetime(["2026-01-01", None]), "x": [np.int64(1), 2]})
    assert records(frame) == [{"d": "2026-01-01T00:00:00", "x": 1}, {"d": None, "x": 2}]


def test_objects_with_to_dict_are_encoded() -> None:
    class Thing:
        def to_dict(self) -> dict[str, object]:
            return {"v": np.float64(1.5)}

    assert plain({"t": Thing()}) == {"t": {"v": 1.5}}
