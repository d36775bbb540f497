"""From every hypothesis tried to a short, non-redundant list of findings.

Multiple testing follows Benjamini & Bogomolov (2014, JRSS-B 76:297), "Selective inference on
multiple families of hypotheses": each family (an attribute, or a pair of attributes) gets a Simes
p-value over all its members; Benjamini–Hochberg over the families selects ``R`` of ``M``; inside a
selected family, Benjamini–Hochberg at level ``alpha * R / M`` picks the findings. A hypothesis'
reported q-value is ``max(q_family, q_within * M / R)``: it is a finding exactly when that is at most
``alpha``. Every hypothesis tried — each threshold candidate included — is a member of a family.

Findings are then ordered by evidence and near-copies removed: a finding whose deals overlap an
earlier one of the same direction by more than ``max_overlap`` (Jaccard), or that restates an
earlier threshold from the other side, is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from winloss.analyze.concentrations.adjusted_effects import (
    dense_patterns,
    fit_pooled_logistic,
    pattern_design,
)
from winloss.analyze.concentrations.subgroup_search import (
    CodedCondition,
    EncodedAttribute,
    Hypotheses,
    coded_mask,
)
from winloss.analyze.stats.exact_tests import (
    benjamini_hochberg,
    family_simes,
    fisher_exact_two_sided,
    hypergeometric_z,
    interaction_p,
    within_family_bh,
)

FloatArray = NDArray[np.float64]


def family_q_values(hyp: Hypotheses, alpha: float) -> tuple[FloatArray, int, int]:
    """Benjamini–Bogomolov q-values of every hypothesis; also ``R`` and ``M`` families."""
    if hyp.size == 0:
        return np.zeros(0), 0, 0
    n_families = int(hyp.family.max()) + 1
    family_p = family_simes(hyp.p_value, hyp.family, n_families)
    family_q = benjamini_hochberg(family_p)
    selected = int(np.count_nonzero(family_q <= alpha))
    within = within_family_bh(hyp.p_value, hyp.family, n_families)
    scale = n_families / max(selected, 1)
    q = np.maximum(family_q[hyp.family], np.minimum(1.0, within * scale))
    return q, selected, n_families


@dataclass(frozen=True)
class Candidate:
    """A discovery before de-duplication."""

    hypothesis: int
    family: int
    conditions: tuple[CodedCondition, ...]
    n: int
    wins: int
    p_value: float  # against the rest (singles; see exact_p_values), nan for combinations
    q_value: float
    p_added: float | None  # combinations: the added-over-parts p-value
    direction: str
    difference: float
    strength: float  # |z| of the hypothesis' test, for ordering (p-values underflow)


def discoveries(
    hyp: Hypotheses, q: FloatArray, total: int, wins: int, alpha: float
) -> list[Candidate]:
    """Hypotheses with q ≤ alpha whose direction is coherent, ordered by evidence."""
    idx = np.flatnonzero(q <= alpha)
    if idx.size == 0:
        return []
    n, w = hyp.n[idx], hyp.wins[idx]
    rate = w / n
    rest_rate = (wins - w) / np.maximum(total - n, 1)
    is_pair = hyp.second[idx] >= 0
    p_rest = np.where(is_pair, np.nan, hyp.p_value[idx])
    part_rates = hyp.part_wins[idx] / hyp.part_n[idx]
    candidates: list[Candidate] = []
    for row, h in enumerate(idx):
        up = rate[row] > rest_rate[row]
        if is_pair[row]:
            # a combination must concentrate beyond both of its parts, in the same direction
            beyond = (rate[row] > part_rates[row]) if up else (rate[row] < part_rates[row])
            if not beyond.all():
                continue
        conds = tuple(hyp.conditions[c] for c in (hyp.first[h], hyp.second[h]) if c >= 0)
        candidates.append(
            Candidate(
                hypothesis=int(h),
                family=int(hyp.family[h]),
                conditions=conds,
                n=int(n[row]),
                wins=int(w[row]),
                p_value=float(p_rest[row]),
                q_value=float(q[h]),
                p_added=float(hyp.p_value[h]) if is_pair[row] else None,
                direction="win" if up else "loss",
                difference=float(rate[row] - rest_rate[row]),
                strength=float(hyp.strength[h]),
            )
        )
    # parts before combinations: a combination must add to the single findings kept before it
    candidates.sort(key=lambda c: (len(c.conditions), -c.strength))
    return candidates


def exact_p_values(
    candidate: Candidate, mask_n: int, mask_wins: int, total: int, wins: int, hyp: Hypotheses
) -> tuple[float, float | None]:
    """The exact Fisher p-value of a kept finding against the rest and, for a combination, the
    exact added-over-parts p-value (tests far in the tail were approximated during the search)."""
    p_rest = float(fisher_exact_two_sided(mask_wins, mask_n, wins, total)[0])
    if candidate.p_added is None:
        return p_rest, None
    h = candidate.hypothesis
    part_n, part_w = hyp.part_n[h], hyp.part_wins[h]
    p_a = fisher_exact_two_sided(mask_wins, mask_n, part_w[0], part_n[0])[0]
    p_b = fisher_exact_two_sided(mask_wins, mask_n, part_w[1], part_n[1])[0]
    return p_rest, float(max(p_a, p_b, _interaction_of(hyp, h, total, wins)))


def _interaction_of(hyp: Hypotheses, h: int, total: int, wins: int) -> float:
    n_ab, w_ab = hyp.n[h], hyp.wins[h]
    n_a, n_b = hyp.part_n[h]
    w_a, w_b = hyp.part_wins[h]
    cells_n = np.array([[n_ab, n_a - n_ab, n_b - n_ab, total - n_a - n_b + n_ab]])
    cells_w = np.array([[w_ab, w_a - w_ab, w_b - w_ab, wins - w_a - w_b + w_ab]])
    return float(interaction_p(cells_w, cells_n)[0])


def _fields(c: Candidate) -> frozenset[int]:
    return frozenset(cond.attribute for cond in c.conditions)


def _restates_threshold(c: Candidate, kept: Candidate) -> bool:
    """``x <= a`` for wins and ``x > b`` for losses on one field tell one story."""
    if len(c.conditions) != 1 or len(kept.conditions) != 1:
        return False
    a, b = c.conditions[0], kept.conditions[0]
    return (
        a.attribute == b.attribute
        and {a.kind, b.kind} == {"le", "gt"}
        and c.direction != kept.direction
    )


class _KeptModel:
    """The logistic model of the findings kept so far, for conditional (score) tests."""

    def __init__(self, won: NDArray[np.bool_], ridge: float) -> None:
        self.won = won
        self.ridge = ridge
        self.masks: list[NDArray[np.bool_]] = []
        self.keys = np.zeros(won.size, dtype=np.int64)
        self._refit()

    def _refit(self) -> None:
        k = len(self.masks)
        unique, self.inverse = dense_patterns(self.keys, k)
        self.design = pattern_design(unique, k)
        groups = unique.size
        # one bincount per score test: key = 4 * pattern + 2 * in_candidate + won
        self.base_key = self.inverse * 4 + self.won
        n = np.bincount(self.inverse, minlength=groups).astype(np.float64)
        wins = np.bincount(self.inverse, weights=self.won, minlength=groups).astype(np.float64)
        _, self.prob, info = fit_pooled_logistic(self.design, n, wins, ridge=self.ridge)
        self.variance = self.prob * (1 - self.prob)
        self.info_inverse = np.linalg.pinv(info)

    def add(self, mask: NDArray[np.bool_]) -> None:
        self.keys |= mask.astype(np.int64) << len(self.masks)
        self.masks.append(mask)
        self._refit()

    def score_test(self, mask: NDArray[np.bool_]) -> tuple[float, float]:
        """Mean excess of wins over the model's expectation in ``mask`` and the score test's
        p-value of adding ``mask`` to the model."""
        groups = self.design.shape[0]
        cells = np.bincount(self.base_key + 2 * mask, minlength=4 * groups).reshape(groups, 2, 2)
        n_in = cells[:, 1, :].sum(axis=1).astype(np.float64)
        w_in = cells[:, 1, 1].astype(np.float64)
        score = float(np.sum(w_in - n_in * self.prob))
        excess = score / max(float(n_in.sum()), 1.0)
        weight = n_in * self.variance
        cross = self.design.T @ weight
        variance = float(weight.sum() - cross @ self.info_inverse @ cross)
        if variance <= 1e-12:
            return excess, 1.0
        z = score / np.sqrt(variance)
        return excess, float(special.erfc(abs(z) / np.sqrt(2.0)))


def select_findings(
    candidates: list[Candidate],
    attrs: list[EncodedAttribute],
    won: NDArray[np.bool_],
    *,
    max_findings: int,
    max_overlap: float,
    min_difference: float = 0.02,
    ridge: float = 1.0,
    per_family: int = 3,
) -> list[tuple[Candidate, NDArray[np.bool_]]]:
    """Greedy non-redundant selection; returns each finding with its deal mask.

    In order of evidence, a discovery is kept when it is not a near-copy of a kept finding
    (Jaccard overlap, the same threshold read from the other side) and when it still matters
    given every finding kept before it: a score test of adding it to their logistic model, at a
    Bonferroni level ``0.05 / number of discoveries``, in its own direction, and by at least
    ``min_difference`` of win rate beyond what they predict (with a million deals, a tiny and
    useless difference is significant). Single conditions are considered before combinations,
    and at most ``per_family`` of each family (the 50th-best cut of one field is a near-copy).
    """
    kept: list[tuple[Candidate, NDArray[np.bool_], NDArray[np.uint8], int]] = []
    mask_cache: dict[CodedCondition, NDArray[np.bool_]] = {}
    model = _KeptModel(won, ridge)
    level = 0.05 / max(len(candidates), 1)
    total = int(won.size)

    def mask_of(conds: tuple[CodedCondition, ...]) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] | None = None
        for cond in conds:
            if cond not in mask_cache:
                mask_cache[cond] = coded_mask(cond, attrs[cond.attribute])
            out = mask_cache[cond] if out is None else out & mask_cache[cond]
        assert out is not None
        return out

    considered: dict[int, int] = {}
    for candidate in candidates:
        if len(kept) >= max_findings:
            break
        if considered.get(candidate.family, 0) >= per_family:
            continue
        considered[candidate.family] = considered.get(candidate.family, 0) + 1
        if any(_restates_threshold(candidate, k[0]) for k in kept):
            continue
        mask = mask_of(candidate.conditions)
        packed = np.packbits(mask)
        count = int(np.bitwise_count(packed).sum())
        if _near_copy(candidate, packed, count, kept, max_overlap, total):
            continue
        excess, p = model.score_test(mask)
        if kept and p > level:
            continue
        if (excess > 0) != (candidate.direction == "win") or abs(excess) < min_difference:
            continue
        kept.append((candidate, mask, packed, count))
        model.add(mask)
    return [(c, m) for c, m, _, _ in kept]


def _shape(candidate: Candidate) -> frozenset[tuple[int, str, int]] | None:
    """Fields, operators and categorical values, without the cut points: two findings of the
    same shape and direction (``x <= 40`` and ``x <= 88``) tell the same story."""
    if any(c.kind == "window" for c in candidate.conditions):
        return None
    return frozenset(
        (c.attribute, c.kind, c.a if c.kind == "eq" else -1) for c in candidate.conditions
    )


def _near_copy(
    candidate: Candidate,
    packed: NDArray[np.uint8],
    count: int,
    kept: list[tuple[Candidate, NDArray[np.bool_], NDArray[np.uint8], int]],
    max_overlap: float,
    total: int,
) -> bool:
    shape = _shape(candidate)
    for other, _, other_packed, other_count in kept:
        if shape is not None and shape == _shape(other) and candidate.direction == other.direction:
            return True
        fa, fb = _fields(candidate), _fields(other)
        if fa < fb or fb < fa:
            continue  # a combination and one of its parts: the added-value test decided
        both = int(np.bitwise_count(packed & other_packed).sum())
        either = count + other_count - both
        if candidate.direction == other.direction and both / max(either, 1) >= max_overlap:
            return True
        if (
            fa == fb
            and candidate.direction != other.direction
            and both == 0
            and either >= 0.9 * total
        ):
            return True  # one split read from both sides
    return False


def bootstrap_cut_interval(
    cond: CodedCondition,
    attr: EncodedAttribute,
    won: NDArray[np.bool_],
    direction: str,
    min_support: int,
    replicates: int,
    seed: int,
) -> tuple[float, float] | None:
    """95 % bootstrap interval of a discovered cut point (or of a range's two ends).

    Resampling deals with replacement is a multinomial draw of the (bin × outcome) counts, so
    each replicate costs a few hundred numbers, not a pass over the deals. In each replicate the
    cut is searched again exactly as in the data (best standardised excess on the same side).
    """
    if cond.kind not in ("le", "gt", "window") or attr.cuts is None or replicates <= 0:
        return None
    levels = attr.missing_code + 1
    cells = np.bincount(attr.codes.astype(np.int64) * 2 + won, minlength=2 * levels)
    total = int(cells.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, cells / total, size=replicates).reshape(replicates, levels, 2)
    n_bins = draws.sum(axis=2).astype(np.float64)
    w_bins = draws[:, :, 1].astype(np.float64)
    k = attr.cuts.size
    n_le, w_le = np.cumsum(n_bins[:, :k], axis=1), np.cumsum(w_bins[:, :k], axis=1)
    n_all, w_all = n_bins.sum(axis=1, keepdims=True), w_bins.sum(axis=1, keepdims=True)
    sign = 1.0 if direction == "win" else -1.0
    if cond.kind == "window":
        return _bootstrap_window(cond, attr, n_le, w_le, n_all, w_all, sign, min_support)
    if cond.kind == "le":
        n_in, w_in = n_le, w_le
    else:
        n_in = n_le[:, -1:] + n_bins[:, k : k + 1] - n_le
        w_in = w_le[:, -1:] + w_bins[:, k : k + 1] - w_le
    z = sign * hypergeometric_z(w_in, n_in, w_all, n_all)
    z = np.where((n_in >= min_support) & (n_all - n_in >= min_support), z, -np.inf)
    best = attr.cuts[np.argmax(z, axis=1)]
    low, high = np.percentile(best, [2.5, 97.5], method="inverted_cdf")
    return float(low), float(high)


def _bootstrap_window(
    cond: CodedCondition,
    attr: EncodedAttribute,
    n_le: FloatArray,
    w_le: FloatArray,
    n_all: FloatArray,
    w_all: FloatArray,
    sign: float,
    min_support: int,
) -> tuple[float, float] | None:
    """Bootstrap the width-preserving shift of a range: the interval of its centre."""
    assert attr.cuts is not None
    a, b = cond.a, cond.b
    span = b - a
    starts = np.arange(0, attr.cuts.size - span)
    if starts.size == 0:
        return None
    n_in = n_le[:, starts + span] - n_le[:, starts]
    w_in = w_le[:, starts + span] - w_le[:, starts]
    z = sign * hypergeometric_z(w_in, n_in, w_all, n_all)
    z = np.where((n_in >= min_support) & (n_all - n_in >= min_support), z, -np.inf)
    best = starts[np.argmax(z, axis=1)]
    centres = (attr.cuts[best] + attr.cuts[best + span]) / 2
    low, high = np.percentile(centres, [2.5, 97.5], method="inverted_cdf")
    return float(low), float(high)
