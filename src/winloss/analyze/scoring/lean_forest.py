"""scikit-learn's random forest, tree for tree, without its per-tree Python overhead.

The win model's forest (and the blend's half) is fitted a few hundred times in one quarterly report
(out-of-fold model choice, bootstrap refits, every backtest snapshot) on a few hundred deals. At
that size ``RandomForestClassifier.fit`` spends about 70 % of its CPU time outside the tree builder:
cloning the tree estimator through ``get_params`` (``inspect.signature``), checking the targets and
sample weights again for each tree, and dispatching each tree through joblib. :class:`LeanForest`
calls the same Cython builder with the same arguments in the same order: the per-tree seeds drawn
from ``RandomState(random_state)``, the same bootstrap draws (``randint(0, n, n)``), the same
criterion, splitter and builder settings (``min_samples_split = 2 × min_samples_leaf``) — so its
trees, and its probabilities (summed tree by tree in the same order, then divided by the number
of trees), equal the forest's bit for bit (tested against ``RandomForestClassifier`` in
``tests/analyze/test_lean_forest.py``).

It covers what the win model uses: Gini, bootstrap, ``max_features="sqrt"``, an integer
``min_samples_leaf``, no depth limit, sparse finite input. The builder's API is private, so the
lean path is taken only for the scikit-learn versions it was checked against
(:data:`CHECKED_VERSIONS`); otherwise, for dense input, or for non-finite values,
:func:`fit_forest` returns scikit-learn's own forest (same results, slower).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np
from scipy import sparse

#: scikit-learn versions (major, minor) whose tree-builder API the lean path was checked against.
CHECKED_VERSIONS = ((1, 9),)
MAX_INT = int(np.iinfo(np.int32).max)


class ForestModel(Protocol):
    classes_: np.ndarray

    def predict_proba(self, X: Any) -> np.ndarray: ...  # noqa: N803


def tree_threads() -> int:
    """Threads for growing a forest's trees: ``$WINLOSS_THREADS``, default every core."""
    return int(os.environ.get("WINLOSS_THREADS", "0")) or os.cpu_count() or 1


def _version_checked() -> bool:
    import sklearn

    parts = sklearn.__version__.split(".")
    try:
        return (int(parts[0]), int(parts[1])) in CHECKED_VERSIONS
    except (ValueError, IndexError):
        return False


class LeanForest:
    """A fitted random forest: the trees' ``tree_`` objects and the classes (see module doc)."""

    def __init__(
        self, n_estimators: int, min_samples_leaf: int, random_state: int, threads: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        #: Threads growing the trees (0: :func:`tree_threads`); the trees are the same.
        self.threads = threads
        self.trees: list[Any] = []
        self.classes_ = np.zeros(0)
        self.n_features_in_ = 0

    def fit(self, X: sparse.spmatrix, y: np.ndarray) -> LeanForest:  # noqa: N803
        """Fit on sparse ``X`` exactly as ``RandomForestClassifier.fit`` would."""
        from sklearn.tree._criterion import Gini
        from sklearn.tree._splitter import BestSparseSplitter
        from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

        Xc = sparse.csc_matrix(X, dtype=np.float32)  # noqa: N806 - as validate_data converts
        Xc.sort_indices()
        n, p = Xc.shape
        self.n_features_in_ = p
        # the forest encodes y once (classes_), the tree encodes the codes again: the same codes
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        y2 = np.ascontiguousarray(codes.reshape(-1, 1), dtype=np.float64)
        n_classes = np.array([len(self.classes_)], dtype=np.intp)
        max_features = max(1, int(np.sqrt(p)))
        leaf = self.min_samples_leaf
        split = max(2, 2 * leaf)
        rs = np.random.RandomState(self.random_state)
        seeds = [rs.randint(MAX_INT) for _ in range(self.n_estimators)]

        def grow(part: list[int]) -> list[Any]:
            # one generator re-seeded per tree: ``seed(s)`` gives the state of ``RandomState(s)``
            # (which scikit-learn creates twice per tree, at ~0.1 ms each: a third of the CPU
            # time of a 100-tree forest on 450 deals); one generator per thread
            gen = np.random.RandomState()
            out = []
            for seed in part:
                gen.seed(seed)
                draws = gen.randint(0, n, n).astype(np.int32)
                weight = np.bincount(draws, minlength=n).astype(np.float64)
                gen.seed(seed)  # the splitter draws its state from a fresh generator when built
                splitter = BestSparseSplitter(
                    Gini(1, n_classes), max_features, leaf, 0.0, gen, None
                )
                tree = Tree(p, n_classes, 1)
                DepthFirstTreeBuilder(splitter, split, leaf, 0.0, MAX_INT, 0.0).build(
                    tree, Xc, y2, weight, None
                )
                out.append(tree)
            return out

        threads = min(self.threads or tree_threads(), max(1, len(seeds) // 8))
        if threads <= 1:
            self.trees = grow(seeds)
            return self
        # the builder releases the GIL: trees grow in parallel threads (as scikit-learn's
        # n_jobs does), each from its own seed, and keep the forest's order
        from concurrent.futures import ThreadPoolExecutor

        parts = [seeds[i::threads] for i in range(threads)]
        with ThreadPoolExecutor(threads) as pool:
            grown = list(pool.map(grow, parts))
        self.trees = [grown[i % threads][i // threads] for i in range(len(seeds))]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Class probabilities, summed tree by tree as ``RandomForestClassifier.predict_proba``."""
        Xr = sparse.csr_matrix(X, dtype=np.float32)  # noqa: N806
        if Xr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {Xr.shape[1]} features, but the forest is expecting {self.n_features_in_}"
            )
        k = len(self.classes_)
        out = np.zeros((Xr.shape[0], k), dtype=np.float64)
        for tree in self.trees:
            out += tree.predict(Xr)[:, :k]
        out /= len(self.trees)
        return out


def fit_forest(
    X: Any,  # noqa: N803
    y: np.ndarray,
    *,
    n_estimators: int,
    min_samples_leaf: int,
    random_state: int,
) -> ForestModel:
    """``RandomForestClassifier(n_estimators, min_samples_leaf=…, max_features="sqrt",
    random_state=…, n_jobs=1).fit(X, y)``, through :class:`LeanForest` when it applies."""
    lean = (
        sparse.issparse(X)
        and _version_checked()
        and bool(np.isfinite(X.data).all())
        and len(y) == X.shape[0]
        and len(y) > 0
    )
    if lean:
        return LeanForest(n_estimators, min_samples_leaf, random_state).fit(X, y)
    from sklearn.ensemble import RandomForestClassifier

    model: ForestModel = RandomForestClassifier(
        n_estimators=n_estimators,
        min_samples_leaf=min_samples_leaf,
        max_features="sqrt",
        random_state=random_state,
        n_jobs=1,
    ).fit(X, y)
    return model
