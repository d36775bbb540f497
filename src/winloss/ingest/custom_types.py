"""Infer the type of many custom columns at once (wide files: thousands of columns).

Inferring column by column costs a few milliseconds of pandas overhead each, which made a file of
1,000 columns take tens of seconds. Here the distinct values of *all* custom columns are parsed
once (numbers, yes/no words), and each column's type is then read off with numpy indexing. The
rules are those of :func:`winloss.ingest.normalize.infer_type`; columns whose values look like
dates are left to it (their day/month order is decided per column).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from winloss.ingest.normalize import parse_numbers
from winloss.model.vocabulary import BOOL_SYNONYMS, normalise_token

EXACT_FLOAT_INT = 2**53
#: Cells parsed together at most (bounded memory: a tall file is typed column by column).
MAX_CELLS = 1_000_000
_DATE_LIKE = r"[-/.]\d|\d[-/.]"


@dataclass(frozen=True)
class InferredColumn:
    """A custom column's inferred type and converted values (``None``: infer it alone)."""

    dtype: str
    values: pd.Series | None


def _distinct_codes(sub: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Codes of every cell (column-major, -1 = missing) into the distinct values of ``sub``."""
    flat = sub.to_numpy(dtype=object, na_value=None).ravel(order="F")
    codes, uniq = pd.factorize(flat, use_na_sentinel=True)
    return np.asarray(codes), pd.Series(np.asarray(uniq, dtype=object).astype(str), dtype=object)


def infer_columns(frame: pd.DataFrame, labels: list[str]) -> dict[str, InferredColumn]:
    """Type and values of every text column in ``labels`` (see the module docstring).

    Columns are parsed in groups of at most :data:`MAX_CELLS` cells; a column taller than that
    is left to :func:`~winloss.ingest.normalize.infer_type` (``values`` is ``None``).
    """
    text = [
        lab
        for lab in labels
        if pd.api.types.is_string_dtype(frame[lab].dtype) or frame[lab].dtype == object
    ]
    out: dict[str, InferredColumn] = {
        lab: InferredColumn("", None) for lab in labels if lab not in text
    }
    per_group = MAX_CELLS // max(1, len(frame))
    if per_group < 2:
        out.update({lab: InferredColumn("", None) for lab in text})
        return out
    for start in range(0, len(text), per_group):
        out.update(_infer_group(frame, text[start : start + per_group]))
    return out


def _infer_group(frame: pd.DataFrame, text: list[str]) -> dict[str, InferredColumn]:
    out: dict[str, InferredColumn] = {}
    n_rows = len(frame)
    codes, uniq = _distinct_codes(frame[text])
    tokens = uniq.map(normalise_token)
    bool_value = tokens.map(BOOL_SYNONYMS)
    is_bool = bool_value.notna().to_numpy(dtype=bool)
    is_01 = tokens.isin(["1", "0", "1.0", "0.0"]).to_numpy(dtype=bool)
    nums, bad = parse_numbers(uniq)
    numbers = nums.to_numpy(dtype=float)
    is_num = ~np.asarray(bad, dtype=bool)
    with np.errstate(invalid="ignore"):
        exact = is_num & np.isfinite(numbers) & (np.abs(numbers) < EXACT_FLOAT_INT)
        integral = exact & (np.mod(np.where(exact, numbers, 0.0), 1) == 0)
    date_like = uniq.str.contains(_DATE_LIKE, regex=True).to_numpy(dtype=bool)
    bool_array = bool_value.to_numpy(dtype=object)
    for j, label in enumerate(text):
        cell = codes[j * n_rows : (j + 1) * n_rows]
        present = cell >= 0
        seen = np.unique(cell[present])
        out[label] = _infer_one(
            frame[label], cell, present, seen, is_bool, is_01, bool_array, is_num, exact,
            integral, numbers, date_like,
        )  # fmt: skip
    return out


def _infer_one(
    raw: pd.Series,
    cell: np.ndarray,
    present: np.ndarray,
    seen: np.ndarray,
    is_bool: np.ndarray,
    is_01: np.ndarray,
    bool_array: np.ndarray,
    is_num: np.ndarray,
    exact: np.ndarray,
    integral: np.ndarray,
    numbers: np.ndarray,
    date_like: np.ndarray,
) -> InferredColumn:
    if len(seen) == 0:
        return InferredColumn("string", raw.astype("string"))
    if len(seen) <= 2 and is_bool[seen].all() and not is_01[seen].all():
        values = np.full(len(cell), None, dtype=object)
        values[present] = bool_array[cell[present]]
        return InferredColumn("bool", pd.Series(values, index=raw.index).astype("boolean"))
    if is_num[seen].all():
        if not exact[seen].all():
            return InferredColumn("string", raw.astype("string"))  # kept exactly, as text
        floats = np.full(len(cell), np.nan)
        floats[present] = numbers[cell[present]]
        if integral[seen].all():
            ints = pd.Series(floats, index=raw.index).astype("Int64")
            return InferredColumn("int", ints)
        return InferredColumn("float", pd.Series(floats, index=raw.index))
    if date_like[seen].all():
        return InferredColumn("", None)  # a date column: inferred on its own
    n_unique, n = len(seen), int(present.sum())
    dtype = "string" if n_unique > 50 and n_unique > 0.5 * n else "category"
    return InferredColumn(dtype, raw.astype("string"))
