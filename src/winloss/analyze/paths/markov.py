"""Markov chains of order k over action tokens, with absorbing ``(won)`` and ``(lost)`` states.

A path is ``(start) → token … token → (won)|(lost)`` (open deals stop at their last token: censored,
they contribute their transitions but no absorption). The state of order ``k`` is the last ``k``
symbols, padded with ``(start)``. Transition probabilities:

* order 1: the maximum-likelihood estimate ``n(s, a) / n(s)`` (a state never left falls back to the
  overall distribution of next symbols);
* order j > 1: interpolated back-off, ``(n(c_j, a) + α · P(a | c_{j-1})) / (n(c_j) + α)`` — a rare
  state of order j is dominated by its shorter history (``α`` = :attr:`MarkovModel.backoff`);
* a segment model: ``(n_g(c, a) + m · P_pooled(a | c)) / (n_g(c) + m)``, the empirical-Bayes
  pseudo-count ``m`` maximising the Dirichlet-multinomial likelihood of the segments' counts.

Absorption probabilities are exact: ``h = (I − Q)⁻¹ r`` solved with a sparse LU factorisation
(``Q``: transient-to-transient probabilities; ``r``: one-step probability of ``(won)``). States that
cannot reach an absorbing state (possible with censored paths) have absorption probability 0.
The removal effect of an action ``a`` (ChannelAttribution's definition) is
``1 − P(won | start; every transition into a redirected to (lost)) / P(won | start)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.sparse.linalg import spsolve
from scipy.special import gammaln

START, WON, LOST = "(start)", "(won)", "(lost)"
RESERVED = (START, WON, LOST)
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """The concatenation of ``arange(start, start + length)`` for each pair (vectorised)."""
    keep = np.asarray(lengths) > 0
    st, ln = np.asarray(starts, dtype=np.int64)[keep], np.asarray(lengths, dtype=np.int64)[keep]
    if len(st) == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.ones(int(ln.sum()), dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(ln)[:-1]])
    # each run starts by jumping from the previous run's last value to its own start
    out[first[1:]] = st[1:] - (st[:-1] + ln[:-1] - 1)
    out[0] = st[0]
    return np.cumsum(out)


@dataclass(frozen=True)
class Sequences:
    """Encoded paths: tokens of every path concatenated, with offsets, outcome and weight per path.

    ``vocabulary[0:3]`` are ``(start)``, ``(won)``, ``(lost)``; ``outcome`` is 1 (won), 0 (lost) or
    −1 (open); ``weight`` multiplies the path (a grouped path seen several times).
    """

    vocabulary: tuple[str, ...]
    symbols: IntArray
    offsets: IntArray
    outcome: NDArray[np.int8]
    weight: FloatArray

    @property
    def n_paths(self) -> int:
        return len(self.outcome)

    @classmethod
    def from_lists(
        cls,
        paths: Sequence[Sequence[str]],
        outcomes: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        vocabulary: Sequence[str] | None = None,
    ) -> Sequences:
        """Build from token lists and outcomes ``"won"``/``"lost"``/``"open"``."""
        vocab = list(RESERVED) + sorted(
            {t for p in paths for t in p} - set(RESERVED)
            if vocabulary is None
            else [v for v in vocabulary if v not in RESERVED]
        )
        index = {t: i for i, t in enumerate(vocab)}
        flat = np.fromiter((index[t] for p in paths for t in p), dtype=np.int64)
        lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        code = {"won": 1, "lost": 0, "open": -1}
        outcome = np.array([code[o] for o in outcomes], dtype=np.int8)
        w = np.ones(len(paths)) if weights is None else np.asarray(weights, dtype=float)
        return cls(tuple(vocab), flat, offsets, outcome, w)

    def subset(self, mask: NDArray[np.bool_]) -> Sequences:
        """The paths where ``mask`` is true (same vocabulary)."""
        idx = np.flatnonzero(mask)
        lengths = np.diff(self.offsets)[idx]
        take = ranges(self.offsets[idx], lengths)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return Sequences(
            self.vocabulary,
            self.symbols[take].astype(np.int64),
            offsets,
            self.outcome[idx],
            self.weight[idx],
        )

    def path(self, i: int) -> tuple[str, ...]:
        return tuple(
            self.vocabulary[s] for s in self.symbols[self.offsets[i] : self.offsets[i + 1]]
        )


@dataclass(frozen=True)
class Transitions:
    """Every transition of a set of paths with its order-1..k contexts, counted once, reweightable.

    Counting is a sort (``np.unique``) done once; bootstrap replicates only re-run ``bincount``.
    """

    order: int
    n_symbols: int
    path_of: IntArray  # path of each transition
    pair_index: list[IntArray]  # per order j: transition -> unique (context, next) pair
    pair_context: list[IntArray]  # per order j: unique pair -> row in contexts[j]
    pair_next: list[IntArray]
    contexts: list[IntArray]  # per order j: sorted unique context codes
    targets: IntArray  # next symbol of each transition
    context_codes: list[IntArray]  # per order j: context code of each transition

    @classmethod
    def of(cls, seqs: Sequences, order: int) -> Transitions:
        if order < 1:
            raise ValueError("order must be at least 1")
        v = len(seqs.vocabulary)
        lengths = np.diff(seqs.offsets)
        closed = (seqs.outcome >= 0).astype(np.int64)
        full_len = 1 + lengths + closed
        full_start = np.concatenate([[0], np.cumsum(full_len)[:-1]]).astype(np.int64)
        total = int(full_len.sum())
        full = np.zeros(total, dtype=np.int64)  # START everywhere, then fill
        n_paths = seqs.n_paths
        path_of_tok = np.repeat(np.arange(n_paths), lengths)
        tok_pos = (
            np.arange(len(seqs.symbols))
            - seqs.offsets[:-1][path_of_tok]
            + full_start[path_of_tok]
            + 1
        )
        full[tok_pos] = seqs.symbols
        absorb_pos = full_start + 1 + lengths
        full[absorb_pos[closed == 1]] = np.where(seqs.outcome[closed == 1] == 1, 1, 2)
        path_full = np.repeat(np.arange(n_paths), full_len)
        offset_in_path = np.arange(total) - full_start[path_full]
        is_target = offset_in_path >= 1
        t_idx = np.flatnonzero(is_target)
        targets = full[t_idx]
        path_of = path_full[t_idx]
        ctx_codes: list[IntArray] = []
        code = np.zeros(len(t_idx), dtype=np.int64)
        for j in range(1, order + 1):
            back = t_idx - j
            valid = offset_in_path[t_idx] - j >= 0
            sym = np.where(valid, full[np.maximum(back, 0)], 0)
            code = code + sym * v ** (j - 1)
            ctx_codes.append(code.copy())
        pair_index, pair_context, pair_next, contexts = [], [], [], []
        for j in range(order):
            keys = ctx_codes[j] * v + targets
            uniq, inverse = np.unique(keys, return_inverse=True)
            ctx_of_pair = uniq // v
            ctx_uniq, ctx_row = np.unique(ctx_of_pair, return_inverse=True)
            pair_index.append(inverse.astype(np.int64))
            pair_context.append(ctx_row.astype(np.int64))
            pair_next.append((uniq % v).astype(np.int64))
            contexts.append(ctx_uniq.astype(np.int64))
        return cls(
            order,
            v,
            path_of.astype(np.int64),
            pair_index,
            pair_context,
            pair_next,
            contexts,
            targets.astype(np.int64),
            ctx_codes,
        )

    def count_tables(self, path_weight: FloatArray) -> list[FloatArray]:
        """Per order j, the dense count matrix (contexts[j] × symbols) under path weights."""
        w = path_weight[self.path_of]
        out = []
        for j in range(self.order):
            pair_counts = np.bincount(
                self.pair_index[j], weights=w, minlength=len(self.pair_next[j])
            )
            table = np.zeros((len(self.contexts[j]), self.n_symbols))
            table[self.pair_context[j], self.pair_next[j]] = pair_counts
            out.append(table)
        return out


@dataclass(frozen=True)
class MarkovModel:
    """Transition probabilities of order ``order`` (see the module docstring)."""

    vocabulary: tuple[str, ...]
    order: int
    contexts: tuple[IntArray, ...]
    tables: tuple[FloatArray, ...]
    unigram: FloatArray
    backoff: float = 5.0
    prior: MarkovModel | None = None
    prior_strength: float = 0.0

    @classmethod
    def fit(
        cls,
        seqs: Sequences,
        order: int = 1,
        *,
        backoff: float = 5.0,
        transitions: Transitions | None = None,
        path_weight: FloatArray | None = None,
        prior: MarkovModel | None = None,
        prior_strength: float = 0.0,
    ) -> MarkovModel:
        tr = transitions or Transitions.of(seqs, order)
        weights = seqs.weight if path_weight is None else path_weight
        tables = tr.count_tables(weights)
        target_w = np.bincount(tr.targets, weights=weights[tr.path_of], minlength=tr.n_symbols)
        unigram = target_w / max(target_w.sum(), 1e-300)
        return cls(
            seqs.vocabulary,
            tr.order,
            tuple(tr.contexts),
            tuple(tables),
            unigram,
            backoff,
            prior,
            prior_strength,
        )

    @classmethod
    def from_first_order_counts(
        cls, sources: Sequence[str], targets: Sequence[str], counts: Sequence[float]
    ) -> MarkovModel:
        """An order-1 model from counted transitions (e.g. counted in the store by SQL)."""
        names = sorted({*sources, *targets} - set(RESERVED))
        vocab = tuple(RESERVED) + tuple(names)
        index = {t: i for i, t in enumerate(vocab)}
        src = np.array([index[x] for x in sources], dtype=np.int64)
        dst = np.array([index[x] for x in targets], dtype=np.int64)
        n = np.asarray(counts, dtype=float)
        contexts, row = np.unique(src, return_inverse=True)
        table = np.zeros((len(contexts), len(vocab)))
        np.add.at(table, (row, dst), n)
        unigram = np.bincount(dst, weights=n, minlength=len(vocab))
        return cls(
            vocab, 1, (contexts.astype(np.int64),), (table,), unigram / max(unigram.sum(), 1e-300)
        )

    @property
    def n_symbols(self) -> int:
        return len(self.vocabulary)

    def _rows(self, j: int, codes: IntArray) -> FloatArray:
        keys = self.contexts[j]
        if len(keys) == 0:
            return np.zeros((len(codes), self.n_symbols))
        idx = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
        found = keys[idx] == codes
        return np.where(found[:, None], self.tables[j][idx], 0.0)

    def probabilities(self, states: IntArray) -> FloatArray:
        """Next-symbol probabilities (rows sum to 1) for order-``order`` state codes."""
        v = self.n_symbols
        states = np.asarray(states, dtype=np.int64)
        first = self._rows(0, states % v)
        totals = first.sum(axis=1, keepdims=True)
        p = np.where(totals > 0, first / np.where(totals > 0, totals, 1), self.unigram[None, :])
        for j in range(1, self.order):
            rows = self._rows(j, states % v ** (j + 1))
            p = (rows + self.backoff * p) / (rows.sum(axis=1, keepdims=True) + self.backoff)
        if self.prior is not None:
            rows = self._rows(self.order - 1, states)
            prior_p = self.prior.probabilities(states)
            m = self.prior_strength
            p = (rows + m * prior_p) / (rows.sum(axis=1, keepdims=True) + m)
        return p

    def state_code(self, history: Sequence[str]) -> int:
        """The state after a token history (oldest first; ``(start)`` prepended implicitly)."""
        index = {t: i for i, t in enumerate(self.vocabulary)}
        recent = [index[t] for t in history][::-1][: self.order]
        recent += [0] * (self.order - len(recent))
        return int(sum(s * self.n_symbols**m for m, s in enumerate(recent)))

    def state_label(self, code: int) -> str:
        v = self.n_symbols
        syms = [(code // v**m) % v for m in range(self.order)][::-1]
        return " > ".join(self.vocabulary[s] for s in syms)

    def next_state(self, code: int, token: int) -> int:
        return int(token + self.n_symbols * (code % self.n_symbols ** (self.order - 1)))

    def log_likelihood(self, seqs: Sequences, *, floor: float = 1e-6) -> float:
        """Mean log-probability per transition of ``seqs`` (held-out likelihood)."""
        tr = Transitions.of(seqs, self.order)
        codes = tr.context_codes[-1]
        uniq, inv = np.unique(codes, return_inverse=True)
        p = self.probabilities(uniq)[inv, tr.targets]
        p = (1 - floor) * p + floor / self.n_symbols
        w = seqs.weight[tr.path_of]
        return float((w * np.log(p)).sum() / max(w.sum(), 1e-300))

    def chain(self, extra_states: IntArray | None = None) -> AbsorbingChain:
        """The absorbing chain of every state reachable from ``(start)`` (and ``extra_states``)."""
        v = self.n_symbols
        seeds = [np.zeros(1, dtype=np.int64), self.contexts[-1]]
        if extra_states is not None:
            seeds.append(np.asarray(extra_states, dtype=np.int64))
        frontier = np.unique(np.concatenate(seeds))
        known = frontier
        while len(frontier):
            p = self.probabilities(frontier)
            p[:, :3] = 0.0
            s_idx, tok = np.nonzero(p > 0)
            nxt = tok + v * (frontier[s_idx] % v ** (self.order - 1))
            new = np.setdiff1d(np.unique(nxt), known)
            known = np.union1d(known, new)
            frontier = new
        return AbsorbingChain.build(self, known)


@dataclass(frozen=True)
class AbsorbingChain:
    """States, their transition matrix and exact absorption probabilities."""

    model: MarkovModel
    states: IntArray  # sorted state codes
    probs: FloatArray  # (states × symbols) next-symbol probabilities
    p_win: FloatArray = field(repr=False)  # P(absorbed in won | state)
    p_lost: FloatArray = field(repr=False)

    @classmethod
    def build(
        cls, model: MarkovModel, states: IntArray, probs: FloatArray | None = None
    ) -> AbsorbingChain:
        states = np.asarray(states, dtype=np.int64)
        p = model.probabilities(states) if probs is None else probs
        win, lost = _absorb(model, states, p)
        return cls(model, states, p, win, lost)

    def index(self, code: int) -> int:
        i = int(np.searchsorted(self.states, code))
        if i >= len(self.states) or self.states[i] != code:
            raise KeyError(code)
        return i

    def win_probability(self, code: int) -> float:
        return float(self.p_win[self.index(code)])

    def removal_effects(self, tokens: Sequence[int]) -> FloatArray:
        """Removal effect of each token (transitions into it go to ``(lost)``)."""
        base = self.p_win[self.index(0)]
        out = np.full(len(tokens), np.nan)
        if base <= 0:
            return out
        for i, tok in enumerate(tokens):
            p = self.probs.copy()
            p[:, 2] += p[:, tok]
            p[:, tok] = 0.0
            win, _ = _absorb(self.model, self.states, p)
            out[i] = 1.0 - win[self.index(0)] / base
        return out


#: Chains up to this many states are solved densely (LAPACK); larger ones by sparse LU.
DENSE_MAX = 600


def _absorb(model: MarkovModel, states: IntArray, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Exact absorption probabilities into won and lost: solve (I − Q) h = r (LU factorisation)."""
    v = model.n_symbols
    n = len(states)
    trans = p[:, 3:]
    s_idx, tok = np.nonzero(trans > 0)
    nxt = tok + 3 + v * (states[s_idx] % v ** (model.order - 1))
    j = np.searchsorted(states, nxt)
    inside = (j < n) & (states[np.minimum(j, n - 1)] == nxt)
    if not inside.all():
        raise ValueError("the state space is not closed under the transitions")
    values = trans[s_idx, tok]
    # states that cannot reach an absorbing state are absorbed with probability 0: drop them
    reach = (p[:, 1] + p[:, 2]) > 0
    while True:
        grown = reach.copy()
        grown[s_idx[reach[j]]] = True
        if grown.sum() == reach.sum():
            break
        reach = grown
    keep = np.flatnonzero(reach)
    win = np.zeros(n)
    lost = np.zeros(n)
    if not len(keep):
        return win, lost
    pos = np.full(n, -1)
    pos[keep] = np.arange(len(keep))
    edge = reach[s_idx] & reach[j]
    rows, cols, vals = pos[s_idx[edge]], pos[j[edge]], values[edge]
    rhs = np.column_stack([p[keep, 1], p[keep, 2]])
    m = len(keep)
    if m <= DENSE_MAX:
        lhs = np.eye(m)
        np.add.at(lhs, (rows, cols), -vals)
        sol = np.linalg.solve(lhs, rhs)
    else:
        q = sp.csc_matrix((vals, (rows, cols)), shape=(m, m))
        sol = np.asarray(spsolve((sp.identity(m, format="csc") - q).tocsc(), rhs)).reshape(m, 2)
    win[keep], lost[keep] = sol[:, 0], sol[:, 1]
    return win, lost


def select_order(
    seqs: Sequences,
    created_rank: NDArray[np.float64],
    *,
    max_order: int = 3,
    backoff: float = 5.0,
    holdout: float = 0.2,
) -> tuple[int, dict[int, float]]:
    """The order (1..max_order) with the best held-out log-likelihood per transition.

    Fitted on the paths created first (``1 − holdout``), scored on the latest ``holdout``.
    """
    cut = np.quantile(created_rank, 1 - holdout) if len(created_rank) else 0.0
    train, valid = seqs.subset(created_rank <= cut), seqs.subset(created_rank > cut)
    scores: dict[int, float] = {}
    if valid.n_paths == 0 or train.n_paths == 0:
        return 1, scores
    for k in range(1, max_order + 1):
        scores[k] = MarkovModel.fit(train, k, backoff=backoff).log_likelihood(valid)
    best = max(scores, key=lambda k: scores[k])
    return best, scores


def empirical_bayes_strength(pooled: MarkovModel, segment_models: Sequence[MarkovModel]) -> float:
    """Pseudo-count ``m`` maximising the Dirichlet-multinomial likelihood of the segments' counts
    around the pooled transition probabilities (one ``m`` for all segments and states)."""
    blocks = []
    for seg in segment_models:
        counts = seg.tables[-1]
        keep = counts.sum(axis=1) > 0
        if not keep.any():
            continue
        prior = pooled.probabilities(seg.contexts[-1][keep])
        blocks.append((counts[keep], np.clip(prior, 1e-12, 1.0)))
    if not blocks:
        return 1.0

    def negative_ll(log_m: float) -> float:
        m = float(np.exp(log_m))
        total = 0.0
        for n, p in blocks:
            pos = n > 0
            total += float((gammaln(m) - gammaln(n.sum(axis=1) + m)).sum())
            total += float((gammaln(n[pos] + m * p[pos]) - gammaln(m * p[pos])).sum())
        return -total

    res = minimize_scalar(negative_ll, bounds=(np.log(0.1), np.log(1e5)), method="bounded")
    return float(np.exp(res.x))
