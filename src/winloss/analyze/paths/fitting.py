"""Fit the pooled and per-segment Markov chains of a :class:`PathTable`, with bootstrap replicates.

The bootstrap resamples deals (Poisson(1) weights per deal, the same weights for the pooled and the
segment models of one replicate) and re-solves every chain exactly; intervals are percentiles.
A replicate row whose support leaves the full model's support (a state no resampled deal left) uses
the full model's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from winloss.analyze.paths.data import PathTable, PathVariants, creation_rank
from winloss.analyze.paths.markov import (
    AbsorbingChain,
    MarkovModel,
    Transitions,
    _absorb,
    empirical_bayes_strength,
    select_order,
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChainFit:
    """One fitted chain (pooled or a segment's) and its bootstrap replicates."""

    name: str
    n_deals: int
    n_won: int
    n_lost: int
    model: MarkovModel
    chain: AbsorbingChain
    boot_win: FloatArray  # replicates × states
    removal: FloatArray  # per action
    boot_removal: FloatArray  # replicates × actions

    def interval(self, values: FloatArray, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        if values.shape[0] == 0:
            nan = np.full(values.shape[1:], np.nan)
            return nan, nan
        a = (1 - level) / 2
        lo, hi = np.nanquantile(values, [a, 1 - a], axis=0)
        return np.asarray(lo), np.asarray(hi)

    @cached_property
    def win_interval(self) -> tuple[FloatArray, FloatArray]:
        """95 % bootstrap interval of P(win | state), per state."""
        return self.interval(self.boot_win)

    def support(self, state: int, token: int) -> int:
        """Deals' transitions from exactly this state (at the model's order) into ``token``."""
        keys = self.model.contexts[-1]
        i = int(np.searchsorted(keys, state))
        if i < len(keys) and keys[i] == state:
            return int(round(self.model.tables[-1][i, token]))
        return 0

    def visits(self, state: int) -> int:
        keys = self.model.contexts[-1]
        i = int(np.searchsorted(keys, state))
        if i < len(keys) and keys[i] == state:
            return int(round(self.model.tables[-1][i].sum()))
        return 0


@dataclass(frozen=True)
class FittedPaths:
    """The pooled chain, the segment chains shrunk towards it, and how they were chosen."""

    table: PathTable | PathVariants
    order: int
    order_scores: dict[int, float]
    action_tokens: tuple[int, ...]
    pooled: ChainFit
    segments: dict[str, ChainFit]
    prior_strength: float
    bootstrap: int


def _replicate_probs(model: MarkovModel, full: AbsorbingChain) -> FloatArray:
    p = model.probabilities(full.states)
    bad = ((p > 0) & (full.probs == 0)).any(axis=1)
    p[bad] = full.probs[bad]
    return p


def _removal(chain: AbsorbingChain, probs: FloatArray, tokens: tuple[int, ...]) -> FloatArray:
    start = chain.index(0)
    win, _ = _absorb(chain.model, chain.states, probs)
    base = win[start]
    out = np.full(len(tokens), np.nan)
    if base <= 0:
        return out
    for i, tok in enumerate(tokens):
        p = probs.copy()
        p[:, 2] += p[:, tok]
        p[:, tok] = 0.0
        w, _ = _absorb(chain.model, chain.states, p)
        out[i] = 1.0 - w[start] / base
    return out


def fit_paths(
    table: PathTable | PathVariants,
    *,
    order: int | None = 1,
    max_order: int = 3,
    backoff: float = 5.0,
    bootstrap: int = 200,
    seed: int = 0,
    segments: bool = False,
    extra_histories: list[tuple[str, ...]] | None = None,
) -> FittedPaths:
    """Fit the chains; ``order=None`` chooses it by held-out likelihood (1..``max_order``, which
    needs the deals' creation order: a :class:`PathTable`).

    A path's weight counts the deals on it; a bootstrap replicate draws each path's deals as
    Poisson(weight) (the sum of the deals' independent Poisson(1) weights), so fitting the distinct
    paths of :class:`PathVariants` is the same bootstrap as fitting every deal's path."""
    seqs = table.seqs
    scores: dict[int, float] = {}
    if order is None:
        if not isinstance(table, PathTable):
            raise ValueError("choosing the order needs the deals' paths (a PathTable)")
        order, scores = select_order(
            seqs, creation_rank(table), max_order=max_order, backoff=backoff
        )
    vocab = seqs.vocabulary
    actions = tuple(vocab.index(a) for a in table.actions())
    tr = Transitions.of(seqs, order)
    pooled_model = MarkovModel.fit(seqs, order, backoff=backoff, transitions=tr)
    extra = None
    if extra_histories:
        extra = np.array([pooled_model.state_code(h) for h in extra_histories], dtype=np.int64)
    pooled_chain = pooled_model.chain(extra)

    seg_parts: dict[str, tuple[NDArray[np.bool_], Transitions, MarkovModel]] = {}
    seg_seqs = {}
    if segments:
        for name in sorted({str(g) for g in table.group}):
            mask = np.asarray(table.group == name)
            sub = seg_seqs[name] = seqs.subset(mask)
            sub_tr = Transitions.of(sub, order)
            seg_parts[name] = (
                mask,
                sub_tr,
                MarkovModel.fit(sub, order, backoff=backoff, transitions=sub_tr),
            )
    strength = (
        empirical_bayes_strength(pooled_model, [m for _, _, m in seg_parts.values()])
        if seg_parts
        else 0.0
    )
    seg_models = {
        name: MarkovModel.fit(
            seg_seqs[name],
            order,
            backoff=backoff,
            transitions=sub_tr,
            prior=pooled_model,
            prior_strength=strength,
        )
        for name, (mask, sub_tr, _) in seg_parts.items()
    }
    seg_chains = {name: m.chain(extra) for name, m in seg_models.items()}

    rng = np.random.default_rng(seed)
    boot_pooled, boot_pooled_rm = [], []
    boot_seg: dict[str, list[FloatArray]] = {n: [] for n in seg_models}
    boot_seg_rm: dict[str, list[FloatArray]] = {n: [] for n in seg_models}
    for _ in range(bootstrap):
        w = rng.poisson(seqs.weight).astype(np.float64)
        rep = MarkovModel.fit(seqs, order, backoff=backoff, transitions=tr, path_weight=w)
        p = _replicate_probs(rep, pooled_chain)
        win, _ = _absorb(pooled_model, pooled_chain.states, p)
        boot_pooled.append(win)
        boot_pooled_rm.append(_removal(pooled_chain, p, actions))
        for name, (mask, sub_tr, _) in seg_parts.items():
            rep_seg = MarkovModel.fit(
                seg_seqs[name],
                order,
                backoff=backoff,
                transitions=sub_tr,
                path_weight=w[mask],
                prior=rep,
                prior_strength=strength,
            )
            ps = _replicate_probs(rep_seg, seg_chains[name])
            sw, _ = _absorb(seg_models[name], seg_chains[name].states, ps)
            boot_seg[name].append(sw)
            boot_seg_rm[name].append(_removal(seg_chains[name], ps, actions))

    def fit_of(
        name: str,
        model: MarkovModel,
        chain: AbsorbingChain,
        mask: NDArray[np.bool_],
        wins: list[FloatArray],
        rms: list[FloatArray],
    ) -> ChainFit:
        out, weight = seqs.outcome[mask], seqs.weight[mask]
        n_states, n_act = len(chain.states), len(actions)
        return ChainFit(
            name,
            int(round(weight.sum())),
            int(round(weight[out == 1].sum())),
            int(round(weight[out == 0].sum())),
            model,
            chain,
            np.array(wins) if wins else np.zeros((0, n_states)),
            chain.removal_effects(actions),
            np.array(rms) if rms else np.zeros((0, n_act)),
        )

    everyone = np.ones(seqs.n_paths, dtype=bool)
    pooled = fit_of("all", pooled_model, pooled_chain, everyone, boot_pooled, boot_pooled_rm)
    segs = {
        name: fit_of(
            name,
            seg_models[name],
            seg_chains[name],
            seg_parts[name][0],
            boot_seg[name],
            boot_seg_rm[name],
        )
        for name in seg_models
    }
    return FittedPaths(table, order, scores, actions, pooled, segs, strength, bootstrap)
