"""``winloss paths evaluate``: P(win | first k actions and their timing) out of sample, beside baselines.

The one split (documented in docs/paths.md, shared by users and tests): closed deals with
activities, ordered by creation, without those created within the 95th percentile of the closed
deals' cycle (creation to close) before the data's end (the *censoring guard*: most of those are
still open, and the few closed are the fast closes); the first ``train_share`` (70 %) are the training deals, the rest
the test deals. For each prefix length ``k`` the test set is the test deals with more than ``k``
actions (their outcome was not yet decided after ``k``); the chains are fitted on the training deals'
whole paths, the baselines on the training deals with more than ``k`` actions, truncated at ``k``.

The chain's prediction conditions on the deal taking another action (the test deals all do): with
``s`` the state after the first ``k`` actions (timing tokens included), P(win | s, another action
before the close), solved exactly (see :func:`continuing_win_probability`). A Markov chain forgets what happened more than ``order`` steps ago
and does not count steps, so the evaluated *path model* is gradient boosting on the chain's
probability (cross-fitted on the training deals: 3 folds, each scored by a chain fitted on the other
two), the counts of every token in the prefix (actions, ``silent``, ``aged``), the k-th action and the
days from creation to it — or the chain alone, whichever has the lower Brier score on the latest
20 % of the training deals (fitted on the earlier 80 %; a time-ordered choice that never sees the
test deals, because timing patterns drift). The chain alone is reported too (``markov_chain``). Baselines: the training win rate (``base_rate``), the win rate by
the k-th action (``last_action``, shrunk to the base rate with 2 pseudo-deals), a first-order chain
without timing tokens (``markov_first_order``), and gradient boosting on the counts of each action
type in the first ``k`` (``gradient_boosting``, scikit-learn's HistGradientBoostingClassifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse as sp
from scipy.sparse.linalg import spsolve
from threadpoolctl import threadpool_limits

from winloss.analyze.base import Analysis, AnalysisInputs, AnalysisResult
from winloss.analyze.paths.data import PathTable, as_store, creation_rank, load_paths
from winloss.analyze.paths.markov import AbsorbingChain, MarkovModel, select_order
from winloss.analyze.stats.calibration import auc, brier, ece, reliability_curve
from winloss.errors import InsufficientDataError, UsageError
from winloss.store import paths_queries

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter, DealSource

FloatArray = NDArray[np.float64]
BASELINES = ("base_rate", "last_action", "markov_first_order", "gradient_boosting", "markov_chain")
N_FOLDS = 3
#: The latest share of the training deals on which the path model is chosen (see _path_model).
VALIDATION_SHARE = 0.2
#: One regularised setting for the path model and the gradient-boosting baseline alike.
GBM_PARAMS: dict[str, Any] = {
    "max_iter": 100,
    "learning_rate": 0.05,
    "max_depth": 3,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
}


@dataclass(frozen=True)
class PathEvaluationResult(AnalysisResult):
    """Per prefix length k: AUC, Brier, calibration of the chain, and the baselines' AUC/Brier."""

    inputs: AnalysisInputs
    order: int
    order_scores: dict[int, float]
    split: dict[str, Any]
    results: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for r in self.results:
            row = {
                "k": r["k"],
                "n_train": r["n_train"],
                "n_test": r["n_test"],
                "auc": r["auc"],
                "brier": r["brier"],
                "ece": r["ece"],
            }
            for name, m in r["baselines"].items():
                row[f"{name}_auc"] = m["auc"]
                row[f"{name}_brier"] = m["brier"]
            rows.append(row)
        return pd.DataFrame(rows)

    def compact(self) -> pd.DataFrame:
        """One line per k for people: the model, its scores, the best baseline's."""
        rows = []
        for r in self.results:
            named = {n: m for n, m in r["baselines"].items() if n != "markov_chain"}
            best = max(named, key=lambda n: np.nan_to_num(named[n]["auc"]))
            rows.append(
                {
                    "k": r["k"],
                    "n_test": r["n_test"],
                    "model": r["model"],
                    "auc": r["auc"],
                    "brier": r["brier"],
                    "best_baseline": best,
                    "baseline_auc": named[best]["auc"],
                    "base_rate_brier": named["base_rate"]["brier"],
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "order": self.order,
            "order_scores": {str(k): v for k, v in self.order_scores.items()},
            "split": dict(self.split),
            "results": [dict(r) for r in self.results],
            "warnings": list(self.warnings),
        }


def continuing_win_probability(
    chain: AbsorbingChain, states: list[int], timing_tokens: tuple[int, ...] = ()
) -> FloatArray:
    """P(win | state, the deal takes another action) for each state code.

    With ``f(s)`` = P(another action comes before the close, and the deal is won) and ``g(s)`` =
    P(another action comes before the close), both exact solutions of
    ``(I − T) [f g] = [Σ_a P(a|s) h(s→a), Σ_a P(a|s)]`` (``a`` over actions, ``T`` the transitions
    through timing tokens), the answer is ``f / g`` (``h(s)`` where ``g = 0``).
    """
    model = chain.model
    v = model.n_symbols
    n = len(chain.states)
    p = chain.probs
    s_idx, tok = np.nonzero(p[:, 3:] > 0)
    tok = tok + 3
    nxt = tok + v * (chain.states[s_idx] % v ** (model.order - 1))
    j = np.searchsorted(chain.states, nxt)
    prob = p[s_idx, tok]
    is_timing = np.isin(tok, np.asarray(timing_tokens, dtype=np.int64))
    act = ~is_timing
    b_f = np.bincount(s_idx[act], weights=prob[act] * chain.p_win[j[act]], minlength=n)
    b_g = np.bincount(s_idx[act], weights=prob[act], minlength=n)
    t = sp.csc_matrix((prob[is_timing], (s_idx[is_timing], j[is_timing])), shape=(n, n))
    sol = np.asarray(
        spsolve((sp.identity(n, format="csc") - t).tocsc(), np.column_stack([b_f, b_g]))
    ).reshape(n, 2)
    rows = np.array([chain.index(code) for code in states], dtype=np.int64)
    f, g = sol[rows, 0], sol[rows, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(g > 1e-12, f / np.where(g > 1e-12, g, 1.0), chain.p_win[rows])


def _chain_predictions(
    model: MarkovModel, train_extra: list[tuple[str, ...]]
) -> tuple[AbsorbingChain, list[int]]:
    codes = [model.state_code(h) for h in train_extra]
    chain = model.chain(np.array(codes, dtype=np.int64) if codes else None)
    return chain, codes


def _timing(model: MarkovModel) -> tuple[int, ...]:
    return tuple(i for i, t in enumerate(model.vocabulary) if t in ("silent", "aged"))


def _histories(table: PathTable) -> list[tuple[str, ...]]:
    return [table.seqs.path(i) for i in range(table.n_deals)]


def _action_counts(table: PathTable, actions: tuple[str, ...]) -> FloatArray:
    vocab = table.seqs.vocabulary
    index = {vocab.index(a): j for j, a in enumerate(actions)}
    out = np.zeros((table.n_deals, len(actions)))
    path_of = np.repeat(np.arange(table.n_deals), np.diff(table.seqs.offsets))
    for sym, j in index.items():
        hit = table.seqs.symbols == sym
        out[:, j] = np.bincount(path_of[hit], minlength=table.n_deals)
    return out


def _last_actions(table: PathTable, k: int) -> NDArray[np.object_]:
    vocab = table.seqs.vocabulary
    timing = {"silent", "aged"}
    last = np.empty(table.n_deals, dtype=object)
    for i in range(table.n_deals):
        toks = [t for t in table.seqs.path(i) if t not in timing]
        last[i] = toks[k - 1] if len(toks) >= k else None
    del vocab
    return last


def _metrics(y: FloatArray, p: FloatArray) -> dict[str, float]:
    return {"auc": auc(y, p), "brier": brier(y, p)}


class PathEvaluationOptions(TypedDict, total=False):
    """Keyword settings of :class:`PathEvaluation` besides the filter."""

    prefixes: tuple[int, ...]
    train_share: float
    order: int | None
    max_order: int
    silent_days: float
    aged_days: float
    backoff: float
    seed: int
    censoring_guard: float | None


@dataclass(frozen=True)
class PathEvaluation(Analysis[PathEvaluationResult]):
    """Settings of ``winloss paths evaluate`` (one field per flag)."""

    deal_filter: DealFilter | None = None
    prefixes: tuple[int, ...] = (4, 6, 8)
    train_share: float = 0.7
    order: int | None = None  # None: by held-out likelihood on the training deals
    max_order: int = 3
    silent_days: float = 30.0
    aged_days: float = 180.0
    backoff: float = 5.0
    seed: int = 0
    censoring_guard: float | None = 0.95

    def run(self, source: DealSource) -> PathEvaluationResult:
        if not self.prefixes or min(self.prefixes) < 1:
            raise UsageError("--prefix takes positive action counts, e.g. --prefix 4,6,8")
        if not 0.1 <= self.train_share <= 0.9:
            raise UsageError("--train-share must be between 0.1 and 0.9")
        full = load_paths(
            as_store(source),
            self.deal_filter,
            silent_days=self.silent_days,
            aged_days=self.aged_days,
        )
        closed = full.subset(full.closed())
        guard: dict[str, Any] = {}
        if self.censoring_guard and closed.n_deals:
            # deals created within the usual cycle of the data's end are mostly still open; the
            # few that closed are the fast ones, which would bias the test set
            horizon = float(np.quantile(closed.cycle_days, self.censoring_guard))
            data_end = pd.Timestamp(paths_queries.data_as_of(as_store(source)))
            cutoff = data_end - pd.Timedelta(days=horizon)
            recent = closed.created_at > np.datetime64(cutoff)
            guard = {
                "quantile": self.censoring_guard,
                "horizon_days": horizon,
                "data_end": str(data_end),
                "created_until": str(cutoff),
                "excluded_recent_deals": int(recent.sum()),
            }
            closed = closed.subset(~recent)
        n = closed.n_deals
        if n < 20:
            raise InsufficientDataError(
                f"{n} closed deals with activities; the evaluation needs at least 20"
            )
        rank = creation_rank(closed)
        n_train = int(np.floor(self.train_share * n))
        order_idx = np.argsort(rank, kind="stable")
        is_train = np.zeros(n, dtype=bool)
        is_train[order_idx[:n_train]] = True
        train, test = closed.subset(is_train), closed.subset(~is_train)
        scores: dict[int, float] = {}
        order = self.order
        if order is None:
            order, scores = select_order(
                train.seqs, creation_rank(train), max_order=self.max_order, backoff=self.backoff
            )
        actions = closed.actions()
        main_model = MarkovModel.fit(train.seqs, order, backoff=self.backoff)
        plain_train = train.without_timing()
        first_model = MarkovModel.fit(plain_train.seqs, 1)
        warnings: list[str] = []
        results: list[dict[str, Any]] = []
        for k in sorted(set(self.prefixes)):
            test_k = test.subset(test.n_actions > k)
            train_k = train.subset(train.n_actions > k)
            if test_k.n_deals < 10 or train_k.n_deals < 10:
                warnings.append(
                    f"k={k}: {train_k.n_deals} training and {test_k.n_deals} test "
                    "deals have more than k actions; skipped"
                )
                continue
            y = (test_k.seqs.outcome == 1).astype(float)
            y_train = (train_k.seqs.outcome == 1).astype(float)
            prefix = test_k.prefix(k)
            chain, codes = _chain_predictions(main_model, _histories(prefix))
            p_chain = continuing_win_probability(chain, codes, _timing(main_model))
            p_main, choice = self._path_model(train, train_k, y_train, prefix, p_chain, order, k)
            plain_prefix = prefix.without_timing()
            chain1, codes1 = _chain_predictions(first_model, _histories(plain_prefix))
            p_first = continuing_win_probability(chain1, codes1, _timing(first_model))
            base = float(y_train.mean())
            last_train, last_test = _last_actions(train_k, k), _last_actions(test_k, k)
            rates = (
                pd.DataFrame({"a": last_train, "y": y_train})
                .groupby("a")["y"]
                .agg(["sum", "count"])
            )
            shrunk = (rates["sum"] + 2 * base) / (rates["count"] + 2)
            p_last = pd.Series(last_test).map(shrunk).fillna(base).to_numpy(dtype=float)
            p_gbm = _gradient_boosting(train_k.prefix(k), y_train, prefix, actions, base, self.seed)
            curve = reliability_curve(y, p_main)
            results.append(
                {
                    "k": k,
                    "n_train": train_k.n_deals,
                    "n_test": test_k.n_deals,
                    "model": choice["chosen"],
                    "validation_brier": choice.get("validation_brier", {}),
                    "test_win_rate": float(y.mean()),
                    "auc": auc(y, p_main),
                    "brier": brier(y, p_main),
                    "ece": ece(y, p_main),
                    "calibration": curve.to_dict(orient="records"),
                    "baselines": {
                        "base_rate": _metrics(y, np.full(len(y), base)),
                        "last_action": _metrics(y, p_last),
                        "markov_first_order": _metrics(y, p_first),
                        "gradient_boosting": _metrics(y, p_gbm),
                        "markov_chain": _metrics(y, p_chain),
                    },
                }
            )
        for r in results:
            named = {n: m for n, m in r["baselines"].items() if n != "markov_chain"}
            best = max(named.items(), key=lambda kv: np.nan_to_num(kv[1]["auc"]))
            if r["auc"] < best[1]["auc"]:
                warnings.append(
                    f"k={r['k']}: the path model's AUC {r['auc']:.3f} is below the "
                    f"{best[0]} baseline's {best[1]['auc']:.3f}"
                )
            if r["brier"] > r["baselines"]["base_rate"]["brier"]:
                warnings.append(
                    f"k={r['k']}: the path model's Brier score is worse than the base "
                    "rate's: its probabilities are not calibrated here"
                )
        split = {
            "rule": "closed deals with activities ordered by created_at; the first "
            f"{self.train_share:.0%} train, the rest test; per k only deals with "
            "more than k actions",
            "n_closed": n,
            "n_train_deals": int(n_train),
            "n_test_deals": int(n - n_train),
            "train_created_until": str(pd.Timestamp(train.created_at.max())),
            "test_created_from": str(pd.Timestamp(test.created_at.min())),
            "censoring_guard": guard,
        }
        return PathEvaluationResult(
            AnalysisInputs.of(n, flt=self.deal_filter),
            order,
            scores,
            split,
            tuple(results),
            tuple(warnings),
        )

    def _path_model(
        self,
        train: PathTable,
        train_k: PathTable,
        y_train: FloatArray,
        test_prefix: PathTable,
        p_chain_test: FloatArray,
        order: int,
        k: int,
    ) -> tuple[FloatArray, dict[str, Any]]:
        """Gradient boosting on the cross-fitted chain probability and the prefix's tokens/timing."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        if len(np.unique(y_train)) < 2:
            return np.full(test_prefix.n_deals, float(y_train.mean())), {"chosen": "base_rate"}
        # cross-fitted chain probabilities of the training prefixes: no deal scores itself
        rng = np.random.default_rng(self.seed)
        fold_of_deal = rng.integers(0, N_FOLDS, train.n_deals)
        wanted = set(train_k.deal_ids)
        fold_k = np.array([fold_of_deal[i] for i, d in enumerate(train.deal_ids) if d in wanted])
        train_prefix = train_k.prefix(k)
        p_chain_train = np.empty(train_k.n_deals)
        histories = _histories(train_prefix)
        for f in range(N_FOLDS):
            rows = np.flatnonzero(fold_k == f)
            if not len(rows):
                continue
            model = MarkovModel.fit(
                train.subset(fold_of_deal != f).seqs, order, backoff=self.backoff
            )
            chain, codes = _chain_predictions(model, [histories[i] for i in rows])
            p_chain_train[rows] = continuing_win_probability(chain, codes, _timing(model))
        tokens = tuple(t for t in train.seqs.vocabulary[3:])
        x_train = _path_features(train_prefix, p_chain_train, tokens)
        x_test = _path_features(test_prefix, p_chain_test, tokens)

        def boosted(x_fit: FloatArray, y_fit: FloatArray, x_new: FloatArray) -> FloatArray:
            if len(np.unique(y_fit)) < 2:
                return np.full(len(x_new), float(y_fit.mean()))
            clf = HistGradientBoostingClassifier(
                **GBM_PARAMS, random_state=self.seed, categorical_features=[x_fit.shape[1] - 1]
            )
            with threadpool_limits(1):  # OpenMP threads on a busy machine cost more than they give
                clf.fit(x_fit, y_fit)
                return np.asarray(clf.predict_proba(x_new)[:, 1], dtype=float)

        # choose between the boosted path model and the chain alone on the latest training deals
        # (time-ordered, never the test deals): timing patterns can drift from year to year
        rank = creation_rank(train_k)
        late = rank > np.quantile(rank, 1 - VALIDATION_SHARE)
        candidates = {
            "boosted": boosted(x_train[~late], y_train[~late], x_train[late]),
            "chain": p_chain_train[late],
        }
        scores = {name: brier(y_train[late], p) for name, p in candidates.items()}
        choice = min(scores, key=lambda name: scores[name])
        chosen = {"chosen": choice, "validation_brier": scores}
        if choice == "chain":
            return p_chain_test, chosen
        return boosted(x_train, y_train, x_test), chosen


def _path_features(prefix: PathTable, p_chain: FloatArray, tokens: tuple[str, ...]) -> FloatArray:
    """Chain probability, token counts, days from creation to the last step, last action code."""
    counts = _action_counts(prefix, tokens)
    n = prefix.n_deals
    ends = prefix.seqs.offsets[1:] - 1
    has = np.diff(prefix.seqs.offsets) > 0
    age = np.where(has, prefix.age_days[np.maximum(ends, 0)], 0.0)
    vocab = prefix.seqs.vocabulary
    timing = {vocab.index(t) for t in ("silent", "aged") if t in vocab}
    last_code = np.zeros(n)
    for i in range(n):
        toks = [
            s
            for s in prefix.seqs.symbols[prefix.seqs.offsets[i] : prefix.seqs.offsets[i + 1]]
            if s not in timing
        ]
        last_code[i] = toks[-1] - 3 if toks else len(vocab)
    return np.column_stack([p_chain, counts, age, last_code])


def _gradient_boosting(
    train: PathTable,
    y: FloatArray,
    test: PathTable,
    actions: tuple[str, ...],
    base: float,
    seed: int,
) -> FloatArray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(np.unique(y)) < 2:
        return np.full(test.n_deals, base)
    clf = HistGradientBoostingClassifier(**GBM_PARAMS, random_state=seed)
    with threadpool_limits(1):
        clf.fit(_action_counts(train, actions), y)
        return np.asarray(clf.predict_proba(_action_counts(test, actions))[:, 1], dtype=float)
