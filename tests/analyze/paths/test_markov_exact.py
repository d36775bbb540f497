"""Exactness of the absorbing chains against analytic values and exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from winloss.analyze.paths.markov import (
    MarkovModel,
    Sequences,
    Transitions,
    empirical_bayes_strength,
)

TOL = 1e-9


def _model_from_matrix(names: list[str], rows: dict[str, dict[str, int]]) -> MarkovModel:
    """A first-order model whose counts are exactly ``rows`` (source -> target -> count).

    Each transition is its own two-symbol path fragment, so the counts equal ``rows`` exactly:
    the path ``[source, target]`` contributes ``source -> target`` (plus ``(start) -> source``,
    which only the start row sees, and the start row is overwritten by ``rows['(start)']``).
    """
    vocab = ["(start)", "(won)", "(lost)", *names]
    index = {t: i for i, t in enumerate(vocab)}
    v = len(vocab)
    table = np.zeros((len(rows), v))
    contexts = np.array(sorted(index[s] for s in rows), dtype=np.int64)
    for s, targets in rows.items():
        r = int(np.searchsorted(contexts, index[s]))
        for t, n in targets.items():
            table[r, index[t]] = n
    unigram = table.sum(axis=0) / table.sum()
    return MarkovModel(tuple(vocab), 1, (contexts,), (table,), unigram)


def _exact_absorption(
    names: list[str], rows: dict[str, dict[str, int]], removed: str | None = None
) -> dict[str, Fraction]:
    """P(won | state) by Gauss-Jordan elimination over the rationals (independent of numpy)."""
    states = ["(start)", *names]
    probs: dict[str, dict[str, Fraction]] = {}
    for s in states:
        total = sum(rows[s].values())
        probs[s] = {t: Fraction(n, total) for t, n in rows[s].items()}
        if removed is not None and removed in probs[s]:
            probs[s]["(lost)"] = probs[s].get("(lost)", Fraction(0)) + probs[s].pop(removed)
    n = len(states)
    a = [
        [Fraction(int(i == j)) for j in range(n)] + [probs[s].get("(won)", Fraction(0))]
        for i, s in enumerate(states)
    ]
    for i, s in enumerate(states):
        for j, t in enumerate(states):
            a[i][j] -= probs[s].get(t, Fraction(0))
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        div = a[col][col]
        a[col] = [x / div for x in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return {s: a[i][n] for i, s in enumerate(states)}


def test_gamblers_ruin_absorption_matches_closed_form() -> None:
    """Positions 1..4 of a gambler's ruin to 5 with p = 3/5: P(win from i) = (1-(q/p)^i)/(1-(q/p)^5).

    Source: the classical gambler's-ruin formula (Feller, vol. 1, XIV.2).
    """
    names = ["p1", "p2", "p3", "p4"]
    rows = {"(start)": {"p1": 1}}
    for i, name in enumerate(names, start=1):
        up = "(won)" if i == 4 else f"p{i + 1}"
        down = "(lost)" if i == 1 else f"p{i - 1}"
        rows[name] = {up: 3, down: 2}
    chain = _model_from_matrix(names, rows).chain()
    ratio = 2 / 3
    for i, name in enumerate(names, start=1):
        code = chain.model.state_code([name])
        expected = (1 - ratio**i) / (1 - ratio**5)
        assert abs(chain.win_probability(code) - expected) < TOL
        assert abs(chain.p_lost[chain.index(code)] - (1 - expected)) < TOL
    # removing a rung of the ladder makes winning impossible: removal effect exactly 1
    effects = chain.removal_effects([chain.model.vocabulary.index("p3")])
    assert abs(effects[0] - 1.0) < TOL


def test_branching_chain_absorption_and_removal_match_rational_solution() -> None:
    names = ["email", "call", "demo", "proposal"]
    rows = {
        "(start)": {"email": 5, "call": 3, "demo": 2},
        "email": {"call": 4, "demo": 3, "email": 1, "(lost)": 2},
        "call": {"demo": 5, "proposal": 2, "email": 1, "(lost)": 2},
        "demo": {"proposal": 6, "call": 1, "(lost)": 3},
        "proposal": {"(won)": 7, "demo": 1, "(lost)": 2},
    }
    model = _model_from_matrix(names, rows)
    chain = model.chain()
    exact = _exact_absorption(names, rows)
    for s in ["(start)", *names]:
        code = 0 if s == "(start)" else model.state_code([s])
        assert abs(chain.win_probability(code) - float(exact[s])) < TOL
    tokens = [model.vocabulary.index(n) for n in names]
    effects = chain.removal_effects(tokens)
    for name, effect in zip(names, effects, strict=True):
        removed = _exact_absorption(names, rows, removed=name)
        expected = 1 - removed["(start)"] / exact["(start)"]
        assert abs(effect - float(expected)) < TOL


def test_counts_from_paths_equal_pandas_counts() -> None:
    rng = np.random.default_rng(5)
    actions = ["a", "b", "c"]
    paths = [list(rng.choice(actions, rng.integers(1, 6))) for _ in range(200)]
    outcomes = list(rng.choice(["won", "lost", "open"], 200))
    seqs = Sequences.from_lists(paths, outcomes)
    tr = Transitions.of(seqs, 2)
    table = tr.count_tables(seqs.weight)
    rows = []
    for p, o in zip(paths, outcomes, strict=True):
        full = ["(start)", *p] + ([f"({o})"] if o != "open" else [])
        for i in range(1, len(full)):
            prev2 = full[i - 2] if i >= 2 else "(start)"
            rows.append((full[i - 1], prev2, full[i]))
    ref = pd.DataFrame(rows, columns=["prev", "prev2", "next"])
    first = ref.groupby(["prev", "next"]).size()
    vocab = seqs.vocabulary
    for (prev, nxt), n in first.items():
        r = int(np.searchsorted(tr.contexts[0], vocab.index(prev)))
        assert table[0][r, vocab.index(nxt)] == n
    assert table[0].sum() == len(ref)
    second = ref.groupby(["prev", "prev2", "next"]).size()
    v = len(vocab)
    for (prev, prev2, nxt), n in second.items():
        code = vocab.index(prev) + v * vocab.index(prev2)
        r = int(np.searchsorted(tr.contexts[1], code))
        assert tr.contexts[1][r] == code and table[1][r, vocab.index(nxt)] == n


def test_order_two_back_off_formula_by_hand() -> None:
    """P(won | b after a) = (n(ab, won) + α P1(won | b)) / (n(ab) + α), counted by hand."""
    paths = [["a", "b"], ["a", "b"], ["c", "b"], ["c", "b"], ["c", "b"]]
    outcomes = ["won", "lost", "won", "won", "won"]
    seqs = Sequences.from_lists(paths, outcomes)
    model = MarkovModel.fit(seqs, 2, backoff=4.0)
    p1_won = 4 / 5  # b -> won in 4 of 5
    expected = (1 + 4.0 * p1_won) / (2 + 4.0)
    p = model.probabilities(np.array([model.state_code(["a", "b"])]))[0]
    assert abs(p[1] - expected) < TOL
    chain = model.chain()
    assert abs(chain.win_probability(model.state_code(["a", "b"])) - expected) < TOL


def test_empirical_bayes_strength_reflects_heterogeneity() -> None:
    rng = np.random.default_rng(1)

    def seg(p_won: float, n: int) -> MarkovModel:
        outs = list(np.where(rng.random(n) < p_won, "won", "lost"))
        return MarkovModel.fit(Sequences.from_lists([["x"]] * n, outs, vocabulary=["x"]), 1)

    same = [seg(0.4, 400), seg(0.4, 400), seg(0.4, 400)]
    pooled_same = MarkovModel.fit(
        Sequences.from_lists([["x"]] * 1200, ["won"] * 480 + ["lost"] * 720, vocabulary=["x"]), 1
    )
    differ = [seg(0.1, 400), seg(0.5, 400), seg(0.9, 400)]
    pooled_diff = MarkovModel.fit(
        Sequences.from_lists([["x"]] * 1200, ["won"] * 600 + ["lost"] * 600, vocabulary=["x"]), 1
    )
    assert empirical_bayes_strength(pooled_same, same) > 100
    assert empirical_bayes_strength(pooled_diff, differ) < 20


@pytest.mark.parametrize("order", [1, 2, 3])
def test_absorption_probabilities_are_probabilities(order: int) -> None:
    rng = np.random.default_rng(order)
    paths = [list(rng.choice(["a", "b", "c", "d"], rng.integers(1, 7))) for _ in range(300)]
    outcomes = list(rng.choice(["won", "lost"], 300))
    chain = MarkovModel.fit(Sequences.from_lists(paths, outcomes), order).chain()
    assert np.all((chain.p_win >= -TOL) & (chain.p_win <= 1 + TOL))
    assert np.allclose(chain.p_win + chain.p_lost, 1.0, atol=1e-9)


def test_sparse_solver_equals_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    import winloss.analyze.paths.markov as markov

    rng = np.random.default_rng(9)
    paths = [list(rng.choice(["a", "b", "c", "d"], rng.integers(1, 7))) for _ in range(300)]
    outcomes = list(rng.choice(["won", "lost", "open"], 300))
    model = MarkovModel.fit(Sequences.from_lists(paths, outcomes), 2)
    dense = model.chain()
    monkeypatch.setattr(markov, "DENSE_MAX", 0)
    sparse = model.chain()
    assert np.allclose(dense.p_win, sparse.p_win, atol=1e-12)
    assert np.allclose(dense.removal_effects([3, 4]), sparse.removal_effects([3, 4]), atol=1e-12)
