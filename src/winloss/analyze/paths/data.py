"""Deal paths read from the store (the token stream of :mod:`winloss.store.paths_queries`),
encoded once for the Markov chains, the next best action and the evaluation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from winloss.analyze.paths.markov import RESERVED, Sequences, ranges
from winloss.errors import InsufficientDataError, UsageError
from winloss.store import paths_queries
from winloss.store.duckdb_store import DuckDBStore

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter, DealSource


def as_store(source: DealSource) -> DuckDBStore:
    """The store behind ``source``: paths read activities through the store's named queries."""
    if not isinstance(source, DuckDBStore):
        raise UsageError(
            "action paths need a winloss store (activities are read with SQL); "
            "import the deals and activities first"
        )
    return source


@dataclass(frozen=True)
class PathTable:
    """Every deal with activities as a token path, in creation order.

    ``action_number[i]`` is, per token, the raw action it is or precedes (1-based), so the first
    ``k`` actions and their timing are the tokens with ``action_number <= k``.
    """

    seqs: Sequences
    deal_ids: NDArray[np.object_]
    created_at: NDArray[np.datetime64]
    group: NDArray[np.object_]
    n_actions: NDArray[np.int64]
    action_number: NDArray[np.int64]
    age_days: NDArray[np.float64]
    cycle_days: NDArray[np.float64]

    @property
    def n_deals(self) -> int:
        return self.seqs.n_paths

    def closed(self) -> NDArray[np.bool_]:
        return np.asarray(self.seqs.outcome >= 0)

    def subset(self, mask: NDArray[np.bool_]) -> PathTable:
        idx = np.flatnonzero(mask)
        take = ranges(self.seqs.offsets[idx], np.diff(self.seqs.offsets)[idx])
        return PathTable(
            self.seqs.subset(mask),
            self.deal_ids[idx],
            self.created_at[idx],
            self.group[idx],
            self.n_actions[idx],
            self.action_number[take].astype(np.int64),
            self.age_days[take],
            self.cycle_days[idx],
        )

    def prefix(self, k: int, *, closed_as_open: bool = True) -> PathTable:
        """The first ``k`` actions (and the timing tokens before them) of every path.

        With ``closed_as_open`` the outcome is hidden (−1): the prefix of a closed deal is what an
        open deal looked like after ``k`` actions.
        """
        keep = self.action_number <= k
        path_of = np.repeat(np.arange(self.n_deals), np.diff(self.seqs.offsets))
        lengths = np.bincount(path_of[keep], minlength=self.n_deals)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        outcome = np.full(self.n_deals, -1, dtype=np.int8) if closed_as_open else self.seqs.outcome
        seqs = Sequences(
            self.seqs.vocabulary, self.seqs.symbols[keep], offsets, outcome, self.seqs.weight
        )
        return PathTable(
            seqs,
            self.deal_ids,
            self.created_at,
            self.group,
            self.n_actions,
            self.action_number[keep],
            self.age_days[keep],
            self.cycle_days,
        )

    def without_timing(self) -> PathTable:
        """The same paths with the timing tokens (``silent``, ``aged``) removed."""
        vocab = self.seqs.vocabulary
        timing = [vocab.index(t) for t in (paths_queries.SILENT, paths_queries.AGED) if t in vocab]
        keep = ~np.isin(self.seqs.symbols, timing)
        path_of = np.repeat(np.arange(self.n_deals), np.diff(self.seqs.offsets))
        lengths = np.bincount(path_of[keep], minlength=self.n_deals)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        seqs = Sequences(
            vocab, self.seqs.symbols[keep], offsets, self.seqs.outcome, self.seqs.weight
        )
        return PathTable(
            seqs,
            self.deal_ids,
            self.created_at,
            self.group,
            self.n_actions,
            self.action_number[keep],
            self.age_days[keep],
            self.cycle_days,
        )

    def actions(self) -> tuple[str, ...]:
        """The action types (no reserved or timing tokens)."""
        return _actions(self.seqs.vocabulary)


def _actions(vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    """The action types of a vocabulary (no reserved or timing tokens)."""
    timing = {paths_queries.SILENT, paths_queries.AGED}
    return tuple(t for t in vocabulary[3:] if t not in timing)


def _no_activities() -> InsufficientDataError:
    return InsufficientDataError(
        "no deal has activities; import them with `winloss import "
        "activities FILE` (or `winloss paths import` for an event log)"
    )


def _encode_tokens(tokens: pa.Array) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    """The vocabulary (reserved markers, then the tokens sorted) and each token's symbol in it.

    Dictionary encoding in Arrow (C++): no Python string per event.
    """
    tok_enc = pc.dictionary_encode(tokens)
    names = tok_enc.dictionary.to_numpy(zero_copy_only=False).astype(str)
    clash = set(RESERVED) & set(names)
    if clash:
        raise InsufficientDataError(
            f"activity types {sorted(clash)} collide with the path "
            "markers; rename them in the activities file"
        )
    order = np.argsort(names, kind="stable")
    remap = np.empty(len(names), dtype=np.int64)
    remap[order] = np.arange(len(names))
    symbols = remap[tok_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)] + len(RESERVED)
    vocab = tuple(RESERVED) + tuple(str(t) for t in names[order])
    return vocab, symbols


def _outcome_codes(outcome_text: Any) -> NDArray[np.int8]:
    """``won`` → 1, ``lost`` → 0, anything else (open) → -1."""
    return np.select([outcome_text == "won", outcome_text == "lost"], [1, 0], -1).astype(np.int8)


def load_paths(
    source: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> PathTable:
    """Read and encode the token paths of the deals of ``flt`` that have activities."""
    stream = paths_queries.token_stream(
        source, flt, by=by, silent_days=silent_days, aged_days=aged_days, as_of=as_of
    )
    if stream.num_rows == 0:
        raise _no_activities()
    # dictionary encoding in Arrow (C++): no Python string per event
    deal_enc = pc.dictionary_encode(stream.column("deal_id").combine_chunks())
    deal_code = deal_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    deal_ids = deal_enc.dictionary.to_numpy(zero_copy_only=False)
    vocab, symbols = _encode_tokens(stream.column("token").combine_chunks())
    n = len(deal_ids)
    lengths = np.bincount(deal_code, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    first = offsets[:-1]
    outcome_text = stream.column("outcome").take(first).to_numpy(zero_copy_only=False)
    outcome = _outcome_codes(outcome_text)
    created = pd.to_datetime(stream.column("created_at").take(first).to_pandas()).to_numpy()
    group = stream.column("grp").take(first).to_numpy(zero_copy_only=False).astype(object)
    n_actions = stream.column("n_actions").to_numpy()[first].astype(np.int64)
    action_number = stream.column("action_number").to_numpy().astype(np.int64)
    age = np.nan_to_num(stream.column("age_days").to_numpy(zero_copy_only=False).astype(float))
    cycle = stream.column("cycle_days").to_numpy(zero_copy_only=False).astype(float)[first]
    seqs = Sequences(vocab, symbols, offsets, outcome, np.ones(n))
    return PathTable(
        seqs,
        np.asarray(deal_ids, dtype=object),
        created,
        group,
        n_actions,
        action_number,
        age,
        cycle,
    )


def creation_rank(table: PathTable) -> NDArray[np.float64]:
    """Rank of each deal by creation (ties by the stored order), scaled to [0, 1]."""
    order = np.argsort(table.created_at, kind="stable")
    rank = np.empty(len(order), dtype=np.float64)
    rank[order] = np.arange(len(order))
    return rank / max(len(order) - 1, 1)


@dataclass(frozen=True)
class PathVariants:
    """The distinct token paths of the deals (grouped in the store), each weighted by its deals.

    What the chains of a fixed order are fitted on: the same counts as the deals' own paths
    (:class:`PathTable`), with one path per distinct (group, outcome, path).
    """

    seqs: Sequences  # weight = deals on the path
    group: NDArray[np.object_]

    @property
    def n_deals(self) -> int:
        return int(self.seqs.weight.sum())

    def closed(self) -> NDArray[np.bool_]:
        return np.asarray(self.seqs.outcome >= 0)

    def actions(self) -> tuple[str, ...]:
        """The action types (no reserved or timing tokens)."""
        return _actions(self.seqs.vocabulary)


def load_variants(
    source: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> PathVariants:
    """Read the distinct token paths with their deal counts (grouped in DuckDB) and encode them."""
    table = paths_queries.chain_path_variants(
        source, flt, by=by, silent_days=silent_days, aged_days=aged_days, as_of=as_of
    )
    if table.num_rows == 0:
        raise _no_activities()
    lists = table.column("tokens").combine_chunks()
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = offsets - offsets[0]
    vocab, symbols = _encode_tokens(lists.flatten())
    outcome_text = table.column("outcome").to_numpy(zero_copy_only=False)
    outcome = _outcome_codes(outcome_text)
    weight = table.column("n").to_numpy().astype(np.float64)
    group = table.column("grp").to_numpy(zero_copy_only=False).astype(object)
    return PathVariants(Sequences(vocab, symbols, offsets, outcome, weight), group)
