"""Closed deals as compact numpy columns, read from the store through Arrow.

The concentration search never touches pandas rows: DuckDB filters and projects the deals, Arrow
dictionary-encodes the text columns in C++, and every attribute arrives as integer codes
(categorical) or float64 values with NaN for missing (numeric).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

if TYPE_CHECKING:
    from winloss.model.deals import DealField, DealFilter, DealSource

CATEGORICAL_DTYPES = frozenset({"category", "string", "bool"})
NUMERIC_DTYPES = frozenset({"int", "float"})
DATE_DTYPES = frozenset({"date", "timestamp"})


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical attribute: ``codes`` index ``labels``; -1 marks a missing value."""

    name: str
    codes: NDArray[np.int32]
    labels: tuple[Any, ...]

    @property
    def missing(self) -> NDArray[np.bool_]:
        return self.codes < 0

    def code_of(self, value: Any) -> int | None:
        for i, label in enumerate(self.labels):
            if label == value:
                return i
        return None

    def take(self, rows: NDArray[np.intp]) -> CategoricalColumn:
        return CategoricalColumn(self.name, self.codes[rows], self.labels)


@dataclass(frozen=True)
class NumericColumn:
    """A numeric attribute as float64; NaN marks a missing value."""

    name: str
    values: NDArray[np.float64]
    integer: bool

    @property
    def missing(self) -> NDArray[np.bool_]:
        return np.isnan(self.values)

    def take(self, rows: NDArray[np.intp]) -> NumericColumn:
        return NumericColumn(self.name, self.values[rows], self.integer)


Column = CategoricalColumn | NumericColumn


@dataclass(frozen=True)
class DealTable:
    """Closed deals of one period: outcome, amount, quarter and the candidate attributes."""

    won: NDArray[np.bool_]
    amount: NDArray[np.float64] | None
    quarter: CategoricalColumn | None
    columns: dict[str, Column]
    fields: dict[str, DealField] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.won.size)

    @property
    def wins(self) -> int:
        return int(self.won.sum())

    def with_outcomes(self, won: NDArray[np.bool_]) -> DealTable:
        """The same deals with other outcomes (label-shuffle checks)."""
        return DealTable(
            np.asarray(won, dtype=bool), self.amount, self.quarter, self.columns, self.fields
        )


def _categorical(name: str, array: pa.ChunkedArray) -> CategoricalColumn:
    if pa.types.is_boolean(array.type):
        values = array.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        codes = np.full(len(array), -1, dtype=np.int32)
        codes[valid] = np.asarray(values[valid], dtype=bool).astype(np.int32)
        return CategoricalColumn(name, codes, (False, True))
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    encoded = pc.dictionary_encode(array).combine_chunks()
    indices = encoded.indices.fill_null(-1) if encoded.null_count else encoded.indices
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return CategoricalColumn(name, codes, tuple(encoded.dictionary.to_pylist()))


def _numeric(name: str, array: pa.ChunkedArray, integer: bool) -> NumericColumn:
    values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    return NumericColumn(name, np.asarray(values, dtype=np.float64), integer)


def load_deal_table(
    source: DealSource,
    flt: DealFilter | None,
    fields: list[DealField],
    *,
    since: Any = None,
    until: Any = None,
) -> DealTable:
    """Read closed deals of ``flt`` with the given attribute fields.

    ``since``/``until`` further restrict ``closed_at`` (used to read earlier quarters).
    """
    present = {f.name for f in source.field_catalog()}
    extra: list[str] = [c for c in ("amount", "quarter") if c in present]
    names = list(dict.fromkeys([f.name for f in fields] + extra))
    table = source.closed_deal_columns(names, flt, since=since, until=until)
    won = np.asarray(table.column("_won").to_numpy(zero_copy_only=False), dtype=bool)
    by_name = {f.name: f for f in fields}

    def convert(f: DealField) -> Column:
        array = table.column(f.name)
        if f.dtype in NUMERIC_DTYPES:
            return _numeric(f.name, array, f.dtype == "int")
        return _categorical(f.name, array)

    # Arrow's kernels release the GIL: convert columns side by side
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        columns: dict[str, Column] = dict(zip(by_name, pool.map(convert, fields), strict=True))
    amount = (
        _numeric("amount", table.column("amount"), False).values
        if "amount" in table.column_names
        else None
    )
    quarter = (
        _categorical("quarter", table.column("quarter"))
        if "quarter" in table.column_names
        else None
    )
    return DealTable(won, amount, quarter, columns, by_name)
