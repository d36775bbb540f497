"""Exhaustive search of single conditions and pairs of conditions, counted with ``np.bincount``.

Every attribute is coded once as small integers: categorical values (rare ones pooled), numeric
values as bins between candidate cut points taken from the data's own quantiles. The counts of
every single condition then follow from one ``bincount`` per attribute and cumulative sums; the
counts of every pair of conditions on two attributes from one joint ``bincount`` and two matrix
products. Nothing loops over deals in Python.

Hypotheses come in families: one per attribute (each value, missingness, every threshold and range
candidate) and one per pair of attributes (every combination tried). A single condition is tested
against the rest of the deals; a combination is tested for what it adds over *both* of its parts
(intersection–union: the largest of the exact Fisher p-values against each part and the p-value of
the logit interaction), so a combination that merely inherits one part's effect is not a finding.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from winloss.analyze.concentrations.conditions import Condition
from winloss.analyze.deal_table import CategoricalColumn, DealTable, NumericColumn
from winloss.analyze.stats.exact_tests import (
    approximate_two_sided_p,
    fisher_p_where_it_matters,
    hypergeometric_z,
    interaction_z,
)

Kind = Literal["eq", "missing", "le", "gt", "window"]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SearchSettings:
    """How wide the search is."""

    min_support: int
    max_depth: int = 2
    max_cuts: int = 100
    range_cuts: int = 19
    pair_cuts: int = 9
    screen_p: float = 0.1  # pair tests whose approximate p-value exceeds this stay approximate


@dataclass(frozen=True)
class CodedCondition:
    """A condition in coded form: ``kind`` on the level codes of one attribute."""

    attribute: int
    kind: Kind
    a: int = -1
    b: int = -1


@dataclass
class EncodedAttribute:
    """One attribute coded for the search."""

    index: int
    name: str
    numeric: bool
    integer: bool
    codes: NDArray[np.int32]  # categorical: value codes, missing = n_values; numeric: bins
    missing_code: int
    labels: tuple[object, ...] = ()
    cuts: FloatArray | None = None  # numeric: ascending candidate cut values (data values)
    values: FloatArray | None = None
    pair_codes: NDArray[np.signedinteger] | None = None
    pair_levels: int = 0
    pair_conditions: tuple[int, ...] = ()  # indices into Hypotheses.conditions
    pair_matrix: FloatArray | None = None  # conditions × pair levels, 0/1


@dataclass
class Hypotheses:
    """Every hypothesis tried, column-wise."""

    conditions: list[CodedCondition]
    family: IntArray
    family_names: list[str]
    first: IntArray  # index into conditions
    second: IntArray  # index into conditions, -1 for a single condition
    n: FloatArray
    wins: FloatArray
    p_value: FloatArray  # the hypothesis' p-value (vs the rest, or added over the parts)
    strength: FloatArray  # |z| of that test (for pairs the weakest of its three), for ordering
    exact: NDArray[np.bool_]
    part_n: FloatArray  # pairs: deals of (first, second) alone; singles: nan
    part_wins: FloatArray

    @property
    def size(self) -> int:
        return int(self.family.size)


def _quantile_positions(cumulative: FloatArray, total: float, count: int) -> IntArray:
    """Indices of cut points closest to ``count`` evenly spaced quantiles."""
    if count <= 0 or cumulative.size == 0:
        return np.zeros(0, dtype=np.int64)
    targets = total * np.arange(1, count + 1) / (count + 1)
    idx = np.searchsorted(cumulative, targets, side="left")
    return np.unique(np.clip(idx, 0, cumulative.size - 1)).astype(np.int64)


def _choose_cuts(distinct: FloatArray, cumulative: FloatArray, max_cuts: int) -> FloatArray:
    """Every distinct value but the largest when there are few; else the values at evenly spaced
    quantiles (inverted CDF), so ``x <= cut`` never holds for every deal."""
    if distinct.size - 1 <= max_cuts:
        return np.asarray(distinct[:-1], dtype=np.float64)
    targets = cumulative[-1] * np.arange(1, max_cuts + 1) / (max_cuts + 1)
    chosen = np.unique(np.searchsorted(cumulative, targets, side="left"))
    chosen = chosen[chosen < distinct.size - 1]
    return np.asarray(distinct[chosen], dtype=np.float64)


def numeric_codes(values: FloatArray, max_cuts: int) -> tuple[FloatArray, NDArray[np.int32]]:
    """Candidate cut points from the data and each deal's bin: 0 for ``x <= cuts[0]``, j for
    ``cuts[j-1] < x <= cuts[j]``, ``len(cuts)`` above the last cut, ``len(cuts) + 1`` missing.

    Integer-valued fields (day counts, stakeholders) are binned through a lookup table over their
    range (every distinct value is a candidate when there are few); other fields take the values
    at evenly spaced quantiles by a partial sort. Both bin every deal exactly."""
    present_mask = ~np.isnan(values)
    present = values[present_mask]
    codes = np.empty(values.size, dtype=np.int32)
    if present.size == 0:
        codes.fill(1)
        return np.zeros(0), codes
    low, high = float(present.min()), float(present.max())
    if high - low <= 2_000_000 and np.array_equal(present, np.round(present)):
        offset = (present - low).astype(np.int64)
        counts = np.bincount(offset)
        positions = np.flatnonzero(counts)
        cuts = _choose_cuts(
            (positions + low).astype(np.float64),
            np.cumsum(counts[positions]).astype(np.float64),
            max_cuts,
        )
        lookup = np.searchsorted(cuts, np.arange(counts.size) + low, side="left")
        codes[present_mask] = lookup[offset]
    else:
        # values at evenly spaced quantiles (inverted CDF) by one partial sort
        targets = np.ceil(present.size * np.arange(1, max_cuts + 1) / (max_cuts + 1)) - 1
        kth = np.unique(np.append(targets.astype(np.int64), present.size - 1))
        parted = np.partition(present, kth)
        cuts = np.unique(parted[kth])
        cuts = cuts[cuts < high].astype(np.float64)
        codes[present_mask] = np.searchsorted(cuts, present, side="left")
    codes[~present_mask] = cuts.size + 1
    return cuts, codes


def encode(table: DealTable, names: list[str], settings: SearchSettings) -> list[EncodedAttribute]:
    """Code every attribute for the search."""

    def one(item: tuple[int, str]) -> EncodedAttribute:
        index, name = item
        column = table.columns[name]
        if isinstance(column, NumericColumn):
            cuts, codes = numeric_codes(column.values, settings.max_cuts)
            return EncodedAttribute(
                index,
                name,
                True,
                column.integer,
                codes,
                cuts.size + 1,
                cuts=cuts,
                values=column.values,
            )
        assert isinstance(column, CategoricalColumn)
        missing_code = len(column.labels)
        codes = np.where(column.codes < 0, missing_code, column.codes).astype(np.int32)
        return EncodedAttribute(
            index, name, False, False, codes, missing_code, labels=column.labels
        )

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, enumerate(names)))


def coded_mask(cond: CodedCondition, attr: EncodedAttribute) -> NDArray[np.bool_]:
    """Deals satisfying a coded condition."""
    codes = attr.codes
    if cond.kind == "eq":
        return np.asarray(codes == cond.a, dtype=bool)
    if cond.kind == "missing":
        return np.asarray(codes == attr.missing_code, dtype=bool)
    if cond.kind == "le":
        return codes <= cond.a
    if cond.kind == "gt":
        return (codes > cond.a) & (codes < attr.missing_code)
    return (codes > cond.a) & (codes <= cond.b)


def to_condition(cond: CodedCondition, attr: EncodedAttribute) -> Condition:
    """The public form of a coded condition."""
    if cond.kind == "missing":
        return Condition(attr.name, "is_missing", True)
    if cond.kind == "eq":
        label = attr.labels[cond.a]
        return Condition(attr.name, "==", label.item() if hasattr(label, "item") else label)
    assert attr.cuts is not None and attr.values is not None
    cut = float(attr.cuts[cond.a])
    if cond.kind == "le":
        return Condition(attr.name, "<=", _tidy(cut, attr.integer))
    if cond.kind == "gt":
        return Condition(attr.name, ">", _tidy(cut, attr.integer))
    high = float(attr.cuts[cond.b])
    inside = attr.values[(attr.values > cut) & (attr.values <= high)]
    low = float(inside.min()) if inside.size else cut
    return Condition(attr.name, "between", (_tidy(low, attr.integer), _tidy(high, attr.integer)))


def _tidy(value: float, integer: bool) -> float | int:
    return int(round(value)) if integer else value


class _Collector:
    """Accumulates hypotheses as numpy chunks."""

    def __init__(self) -> None:
        self.conditions: list[CodedCondition] = []
        self.family_names: list[str] = []
        self.chunks: list[dict[str, np.ndarray]] = []

    def condition(self, cond: CodedCondition) -> int:
        self.conditions.append(cond)
        return len(self.conditions) - 1

    def add(
        self,
        family: int,
        first: np.ndarray,
        second: np.ndarray,
        n: np.ndarray,
        wins: np.ndarray,
        p: np.ndarray,
        strength: np.ndarray,
        exact: np.ndarray,
        part_n: np.ndarray,
        part_wins: np.ndarray,
    ) -> None:
        size = np.asarray(n).size
        if size == 0:
            return
        self.chunks.append(
            {
                "family": np.full(size, family, dtype=np.int64),
                "first": np.asarray(first, dtype=np.int64),
                "second": np.asarray(second, np.int64),
                "n": np.asarray(n, np.float64),
                "wins": np.asarray(wins, np.float64),
                "p": np.asarray(p, np.float64),
                "strength": np.asarray(strength, np.float64),
                "exact": np.asarray(exact, bool),
                "part_n": np.asarray(part_n, np.float64).reshape(size, -1),
                "part_wins": np.asarray(part_wins, np.float64).reshape(size, -1),
            }
        )

    def build(self) -> Hypotheses:
        def cat(key: str, empty_shape: tuple[int, ...] = (0,)) -> np.ndarray:
            parts = [c[key] for c in self.chunks]
            if key.startswith("part"):
                parts = [
                    np.pad(p, ((0, 0), (0, 2 - p.shape[1])), constant_values=np.nan) for p in parts
                ]
                return np.concatenate(parts) if parts else np.zeros((0, 2))
            return np.concatenate(parts) if parts else np.zeros(empty_shape)

        # renumber families densely (families without hypotheses do not count)
        family = cat("family").astype(np.int64)
        used, dense = np.unique(family, return_inverse=True)
        return Hypotheses(
            conditions=self.conditions,
            family=dense.astype(np.int64),
            family_names=[self.family_names[i] for i in used],
            first=cat("first").astype(np.int64),
            second=cat("second").astype(np.int64),
            n=cat("n"),
            wins=cat("wins"),
            p_value=cat("p"),
            strength=cat("strength"),
            exact=cat("exact").astype(bool),
            part_n=cat("part_n"),
            part_wins=cat("part_wins"),
        )


def _counts(codes: np.ndarray, won: np.ndarray, levels: int) -> tuple[FloatArray, FloatArray]:
    both = np.bincount(codes.astype(np.int64) * 2 + won, minlength=2 * levels).reshape(levels, 2)
    return both.sum(axis=1).astype(np.float64), both[:, 1].astype(np.float64)


def _single_categorical(
    attr: EncodedAttribute,
    won: np.ndarray,
    total: float,
    wins: float,
    ms: int,
    out: _Collector,
    family: int,
) -> None:
    n, w = _counts(attr.codes, won, attr.missing_code + 1)
    valid = (n >= ms) & (n <= total - ms)
    levels = np.flatnonzero(valid)
    if np.count_nonzero(n > 0) == 2 and levels.size == 2:
        levels = levels[:1]  # two complementary groups: one test
    if levels.size == 0:
        return
    conds = [
        out.condition(
            CodedCondition(attr.index, "missing" if lv == attr.missing_code else "eq", int(lv))
        )
        for lv in levels
    ]
    p, exact = fisher_p_where_it_matters(w[levels], n[levels], wins, total)
    z = np.abs(hypergeometric_z(w[levels], n[levels], wins, total))
    nan = np.full(levels.size, np.nan)
    out.add(
        family,
        np.array(conds),
        np.full(levels.size, -1),
        n[levels],
        w[levels],
        p,
        z,
        exact,
        nan,
        nan,
    )


def _single_numeric(
    attr: EncodedAttribute,
    won: np.ndarray,
    total: float,
    wins: float,
    settings: SearchSettings,
    out: _Collector,
    family: int,
) -> None:
    assert attr.cuts is not None
    k = attr.cuts.size
    ms = settings.min_support
    n_bins, w_bins = _counts(attr.codes, won, attr.missing_code + 1)
    n_missing, w_missing = n_bins[-1], w_bins[-1]
    n_le, w_le = np.cumsum(n_bins[:k]), np.cumsum(w_bins[:k])
    n_present, w_present = total - n_missing, wins - w_missing
    firsts: list[int] = []
    ns: list[float] = []
    ws: list[float] = []
    for j in range(k):
        if ms <= n_le[j] <= total - ms:
            if n_missing == 0 and n_le[j] > total / 2:
                # the same split, read from the smaller side
                firsts.append(out.condition(CodedCondition(attr.index, "gt", j)))
                ns.append(total - n_le[j])
                ws.append(wins - w_le[j])
            else:
                firsts.append(out.condition(CodedCondition(attr.index, "le", j)))
                ns.append(n_le[j])
                ws.append(w_le[j])
        if n_missing > 0 and ms <= n_present - n_le[j] <= total - ms:
            firsts.append(out.condition(CodedCondition(attr.index, "gt", j)))
            ns.append(n_present - n_le[j])
            ws.append(w_present - w_le[j])
    grid = _quantile_positions(n_le, n_present, settings.range_cuts)
    for ai, a in enumerate(grid):
        for b in grid[ai + 1 :]:
            n_window = n_le[b] - n_le[a]
            if ms <= n_window <= total - ms:
                firsts.append(out.condition(CodedCondition(attr.index, "window", int(a), int(b))))
                ns.append(n_window)
                ws.append(w_le[b] - w_le[a])
    if ms <= n_missing <= total - ms and n_missing < total:
        firsts.append(out.condition(CodedCondition(attr.index, "missing")))
        ns.append(n_missing)
        ws.append(w_missing)
    if not firsts:
        return
    n_arr, w_arr = np.array(ns), np.array(ws)
    p, exact = fisher_p_where_it_matters(w_arr, n_arr, wins, total)
    z = np.abs(hypergeometric_z(w_arr, n_arr, wins, total))
    nan = np.full(n_arr.size, np.nan)
    out.add(family, np.array(firsts), np.full(n_arr.size, -1), n_arr, w_arr, p, z, exact, nan, nan)


def _pair_encoding(
    attr: EncodedAttribute, won: np.ndarray, total: float, settings: SearchSettings, out: _Collector
) -> None:
    """Pair-level codes (few levels) and the conditions used in combinations."""
    ms = settings.min_support
    n, _ = _counts(attr.codes, won, attr.missing_code + 1)
    conds: list[CodedCondition] = []
    rows: list[np.ndarray] = []
    if attr.numeric:
        assert attr.cuts is not None
        k = attr.cuts.size
        n_le = np.cumsum(n[:k])
        grid = _quantile_positions(n_le, total - n[-1], settings.pair_cuts)
        grid = grid[(n_le[grid] >= ms) | (total - n[-1] - n_le[grid] >= ms)]
        # fine bin -> coarse level: bins up to grid[0] -> 0, ..., above the last cut -> g
        level_of_bin = np.searchsorted(grid, np.arange(k + 1), side="left")
        g = grid.size
        mapping = np.concatenate([level_of_bin, [g + 1]])
        levels = g + 2
        for i, cut in enumerate(grid):
            le = np.zeros(levels)
            le[: i + 1] = 1
            gt = np.zeros(levels)
            gt[i + 1 : g + 1] = 1
            for kind, row in (("le", le), ("gt", gt)):
                support = float(row[mapping] @ n)
                if ms <= support <= total - ms:
                    conds.append(CodedCondition(attr.index, kind, int(cut)))  # type: ignore[arg-type]
                    rows.append(row)
        missing_level = g + 1
    else:
        supported = np.flatnonzero(n[:-1] >= ms)
        mapping = np.full(attr.missing_code + 1, supported.size, dtype=np.int64)  # "other"
        mapping[supported] = np.arange(supported.size)
        missing_level = supported.size + 1
        mapping[attr.missing_code] = missing_level
        levels = supported.size + 2
        for i, lv in enumerate(supported):
            if n[lv] <= total - ms:
                row = np.zeros(levels)
                row[i] = 1
                conds.append(CodedCondition(attr.index, "eq", int(lv)))
                rows.append(row)
    if ms <= n[-1] <= total - ms:
        row = np.zeros(levels)
        row[missing_level] = 1
        conds.append(CodedCondition(attr.index, "missing"))
        rows.append(row)
    dtype = np.int16 if levels < 128 else np.int32
    attr.pair_codes = mapping[attr.codes].astype(dtype)
    attr.pair_levels = levels
    attr.pair_conditions = tuple(out.condition(c) for c in conds)
    attr.pair_matrix = np.array(rows) if rows else np.zeros((0, levels))


def _pair_counts(
    a: EncodedAttribute, b: EncodedAttribute, won16: np.ndarray, won: np.ndarray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    assert a.pair_codes is not None and b.pair_codes is not None
    assert a.pair_matrix is not None and b.pair_matrix is not None
    la, lb = a.pair_levels, b.pair_levels
    if la * lb * 2 < 32_000 and a.pair_codes.dtype == np.int16 == b.pair_codes.dtype:
        key = a.pair_codes * np.int16(lb * 2) + b.pair_codes * np.int16(2) + won16
    else:
        key = (a.pair_codes.astype(np.int64) * lb + b.pair_codes) * 2 + won
    joint = np.bincount(key, minlength=la * lb * 2).reshape(la, lb, 2).astype(np.float64)
    n_joint = joint.sum(axis=2)
    w_joint = joint[:, :, 1]
    ma, mb = a.pair_matrix, b.pair_matrix
    n_ab = ma @ n_joint @ mb.T
    w_ab = ma @ w_joint @ mb.T
    n_a, w_a = ma @ n_joint.sum(axis=1), ma @ w_joint.sum(axis=1)
    n_b, w_b = mb @ n_joint.sum(axis=0), mb @ w_joint.sum(axis=0)
    return n_ab, w_ab, n_a, w_a, n_b, w_b


def _pair_tests(
    n_ab: FloatArray,
    w_ab: FloatArray,
    n_a: FloatArray,
    w_a: FloatArray,
    n_b: FloatArray,
    w_b: FloatArray,
    total: float,
    wins: float,
    screen_p: float,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """The added-value p-value of combinations (exact where it can matter, else approximate)
    and its strength, the smallest |z| of the three tests."""
    cells_n = np.stack([n_ab, n_a - n_ab, n_b - n_ab, total - n_a - n_b + n_ab], axis=1)
    cells_w = np.stack([w_ab, w_a - w_ab, w_b - w_ab, wins - w_a - w_b + w_ab], axis=1)
    z_interaction = np.abs(interaction_z(cells_w, cells_n))
    p_interaction = special.erfc(z_interaction / np.sqrt(2.0))
    p_a = approximate_two_sided_p(w_ab, n_ab, w_a, n_a)
    p_b = approximate_two_sided_p(w_ab, n_ab, w_b, n_b)
    p = np.maximum(np.maximum(p_a, p_b), p_interaction)
    strength = np.minimum(
        np.minimum(
            np.abs(hypergeometric_z(w_ab, n_ab, w_a, n_a)),
            np.abs(hypergeometric_z(w_ab, n_ab, w_b, n_b)),
        ),
        z_interaction,
    )
    exact = np.zeros(p.size, dtype=bool)
    # only where the largest of the three decides and could be near a decision
    need = (p < screen_p) & (p >= 1e-10)
    if need.any():
        idx = np.flatnonzero(need)
        pa, exact_a = fisher_p_where_it_matters(
            w_ab[idx], n_ab[idx], w_a[idx], n_a[idx], high=screen_p
        )
        pb, exact_b = fisher_p_where_it_matters(
            w_ab[idx], n_ab[idx], w_b[idx], n_b[idx], high=screen_p
        )
        p[idx] = np.maximum(np.maximum(pa, pb), p_interaction[idx])
        exact[idx] = exact_a & exact_b
    return p, strength, exact


def search(
    table: DealTable,
    names: list[str],
    settings: SearchSettings,
    *,
    encoded: list[EncodedAttribute] | None = None,
) -> tuple[Hypotheses, list[EncodedAttribute]]:
    """Try every single condition and (depth 2) every pair of conditions on two attributes."""
    attrs = encoded if encoded is not None else encode(table, names, settings)
    won = table.won.astype(np.int64)
    total, wins = float(table.n), float(table.wins)
    out = _Collector()
    for attr in attrs:
        out.family_names.append(attr.name)
        if attr.numeric:
            _single_numeric(attr, won, total, wins, settings, out, attr.index)
        else:
            _single_categorical(attr, won, total, wins, settings.min_support, out, attr.index)
    if settings.max_depth >= 2 and len(attrs) > 1:
        for attr in attrs:
            _pair_encoding(attr, won, total, settings, out)
        pairs = [
            (i, j)
            for i in range(len(attrs))
            for j in range(i + 1, len(attrs))
            if attrs[i].pair_conditions and attrs[j].pair_conditions
        ]
        won16 = won.astype(np.int16)
        ms = settings.min_support

        def count(pair: tuple[int, int]) -> tuple[FloatArray, ...]:
            return _pair_counts(attrs[pair[0]], attrs[pair[1]], won16, won)

        workers = min(4, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(count, pairs))
        base = len(out.family_names)
        firsts, seconds, fams, cols = [], [], [], []
        for number, ((i, j), (n_ab, w_ab, n_a, w_a, n_b, w_b)) in enumerate(
            zip(pairs, results, strict=True)
        ):
            out.family_names.append(f"{attrs[i].name} × {attrs[j].name}")
            ia, ib = np.nonzero(
                (n_ab >= ms)
                & (n_ab <= total - ms)
                & (n_a[:, None] - n_ab >= 1)
                & (n_b[None, :] - n_ab >= 1)
            )
            if ia.size == 0:
                continue
            firsts.append(np.asarray(attrs[i].pair_conditions)[ia])
            seconds.append(np.asarray(attrs[j].pair_conditions)[ib])
            fams.append(np.full(ia.size, base + number))
            cols.append(
                np.stack([n_ab[ia, ib], w_ab[ia, ib], n_a[ia], w_a[ia], n_b[ib], w_b[ib]], axis=1)
            )
        if cols:
            stacked = np.concatenate(cols)
            n_ab, w_ab, n_a, w_a, n_b, w_b = stacked.T
            p, strength, exact = _pair_tests(
                n_ab, w_ab, n_a, w_a, n_b, w_b, total, wins, settings.screen_p
            )
            family = np.concatenate(fams)
            first, second = np.concatenate(firsts), np.concatenate(seconds)
            # one chunk per call keeps _Collector simple; families are labelled per row
            out.chunks.append(
                {
                    "family": family,
                    "first": first,
                    "second": second,
                    "n": n_ab,
                    "wins": w_ab,
                    "p": p,
                    "strength": strength,
                    "exact": exact,
                    "part_n": np.stack([n_a, n_b], axis=1),
                    "part_wins": np.stack([w_a, w_b], axis=1),
                }
            )
    return out.build(), attrs
