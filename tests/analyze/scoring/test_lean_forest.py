"""The lean forest equals scikit-learn's RandomForestClassifier tree for tree (lean_forest.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.ensemble import RandomForestClassifier

from winloss.analyze.scoring import lean_forest
from winloss.analyze.scoring.lean_forest import LeanForest, fit_forest


def _onehot_like(n: int, p: int, seed: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Sparse 0/1 columns (plus a few 2s, as binned numbers give) and an outcome tied to two."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, p)) < 0.2) * rng.integers(1, 3, (n, p))
    logit = -0.5 + 1.5 * dense[:, 0] - 1.0 * dense[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return sparse.csr_matrix(dense.astype(float)), y


@pytest.mark.parametrize(
    ("n", "p", "leaf", "seed"),
    [(450, 150, 3, 0), (120, 40, 3, 7), (300, 12, 1, 3), (60, 5, 3, 11)],
)
def test_probabilities_equal_scikit_learns_forest(n: int, p: int, leaf: int, seed: int) -> None:
    X, y = _onehot_like(n, p, seed)
    X_new, _ = _onehot_like(97, p, seed + 100)
    ref = RandomForestClassifier(
        n_estimators=100, min_samples_leaf=leaf, max_features="sqrt", random_state=seed, n_jobs=1
    ).fit(X, y)
    for threads in (1, 3):  # trees grown in threads keep the forest's order
        ours = LeanForest(100, leaf, seed, threads=threads).fit(X, y)
        assert list(ours.classes_) == list(ref.classes_)
        for data in (X, X_new):
            # bit for bit, not approximately: same trees, summed in the same order
            np.testing.assert_array_equal(ours.predict_proba(data), ref.predict_proba(data))
        for mine, theirs in zip(ours.trees, ref.estimators_, strict=True):
            np.testing.assert_array_equal(mine.feature, theirs.tree_.feature)
            np.testing.assert_array_equal(mine.threshold, theirs.tree_.threshold)


def test_one_outcome_only_gives_one_class_like_scikit_learn() -> None:
    X, _ = _onehot_like(80, 10, 1)
    y = np.ones(80, dtype=np.int64)
    ours = LeanForest(20, 3, 0).fit(X, y)
    ref = RandomForestClassifier(n_estimators=20, min_samples_leaf=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(X), ref.predict_proba(X))
    assert ours.predict_proba(X).shape == (80, 1)


def test_dense_input_and_unchecked_versions_use_scikit_learn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = _onehot_like(100, 20, 2)
    kw = {"n_estimators": 10, "min_samples_leaf": 3, "random_state": 0}
    assert isinstance(fit_forest(X, y, **kw), LeanForest)
    assert isinstance(fit_forest(X.toarray(), y, **kw), RandomForestClassifier)
    monkeypatch.setattr(lean_forest, "CHECKED_VERSIONS", ((0, 1),))
    fallback = fit_forest(X, y, **kw)
    assert isinstance(fallback, RandomForestClassifier)
    np.testing.assert_array_equal(
        fallback.predict_proba(X), LeanForest(10, 3, 0).fit(X, y).predict_proba(X)
    )


def test_wrong_width_is_refused() -> None:
    X, y = _onehot_like(50, 8, 0)
    forest = LeanForest(5, 3, 0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        forest.predict_proba(X[:, :7])
