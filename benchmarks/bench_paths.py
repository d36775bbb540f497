"""Action paths (issue 14): directly-follows counts and the exact Markov solve on 1M and 10M events,
beside pm4py's directly-follows discovery on the same events.

Run from the repository root (pm4py is AGPL: it lives in its own virtual environment, never in
winloss's dependencies)::

    python -m venv /tmp/pm4py-venv && /tmp/pm4py-venv/bin/pip install pm4py
    python benchmarks/bench_paths.py [--sizes 1000000 10000000] [--pm4py /tmp/pm4py-venv/bin/python]

Events are generated once per size (seeded): cases of 1-20 actions drawn from a fixed first-order
chain over 8 action types, one event per action, increasing timestamps, outcomes won/lost/open; they
are written to Parquet. Every job runs in its own process; its time is the measured calls alone
(loading excluded), its memory the process's peak RSS (``VmHWM``). Jobs:

* ``winloss DFG`` — the store's directly-follows query (window function + GROUP BY in DuckDB) on the
  ``activities`` table, after a bulk load of the Parquet file into a fresh store (load not timed);
* ``winloss transitions + exact solve`` — the first-order transition counts of the token paths
  (with the silent/aged timing tokens) counted in DuckDB (``paths_queries.first_order_counts``),
  the absorbing chain solved exactly, and every action's removal effect (8 more exact solves);
* ``pm4py DFG`` — ``pm4py.discover_dfg`` on the same events as a pandas DataFrame (reading the
  Parquet file not timed).

The edge counts of winloss's DFG and pm4py's are compared edge by edge (they must be identical).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import measure  # noqa: E402

ACTIONS = ["email", "call", "discovery call", "demo", "proposal", "trial", "meeting", "follow-up"]


def generate(n_events: int, path: Path, seed: int = 14) -> int:
    """Write about ``n_events`` events and their deals to ``path`` (Parquet); returns events."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 21, size=n_events // 10 + 1)
    lengths = lengths[np.cumsum(lengths) <= n_events]
    n_cases = len(lengths)
    total = int(lengths.sum())
    trans = rng.dirichlet(np.ones(len(ACTIONS)), size=len(ACTIONS))
    case = np.repeat(np.arange(n_cases), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    acts = np.empty(total, dtype=np.int64)
    acts[first] = rng.integers(0, len(ACTIONS), n_cases)
    # draw each step from the chain, vectorised by position
    pos = np.arange(total) - first[case]
    cum = np.cumsum(trans, axis=1)
    for step in range(1, int(lengths.max())):
        idx = np.flatnonzero(pos == step)
        u = rng.random(len(idx))
        acts[idx] = (u[:, None] > cum[acts[idx - 1]]).sum(axis=1)
    acts = np.minimum(acts, len(ACTIONS) - 1)
    created = np.datetime64("2024-01-01") + rng.integers(0, 600, n_cases).astype("timedelta64[D]")
    gaps = rng.exponential(9.0, total) * 86400
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first] - gaps[first], lengths)
    ts = np.repeat(created, lengths) + offset.astype("timedelta64[s]")
    deal_ids = np.char.add("C", np.arange(n_cases).astype(str))
    outcome = rng.choice(np.array(["won", "lost", "open"]), n_cases, p=[0.35, 0.5, 0.15])
    last = ts[first + lengths - 1]
    closed = np.where(
        outcome == "open", np.datetime64("NaT"), last + np.timedelta64(86400 * 5, "s")
    )
    pd.DataFrame(
        {
            "case": deal_ids[case],
            "activity": np.array(ACTIONS)[acts],
            "timestamp": ts,
            "activity_id": np.char.add("E", np.arange(total).astype(str)),
        }
    ).to_parquet(path / "events.parquet", index=False)
    pd.DataFrame(
        {
            "deal_id": deal_ids,
            "created_at": created.astype("datetime64[D]"),
            "outcome": outcome,
            "closed_at": closed.astype("datetime64[D]"),
        }
    ).to_parquet(path / "deals.parquet", index=False)
    return total


OURS = """
import time, json
from winloss.store.duckdb_store import DuckDBStore
from winloss.store import paths_queries
from winloss.analyze.paths.markov import MarkovModel
store = DuckDBStore(DIR + "/bench.duckdb")
store.con.execute("INSERT INTO deals (deal_id, created_at, outcome, closed_at) "
                  "SELECT deal_id, created_at, outcome, closed_at FROM read_parquet(?)",
                  [DIR + "/deals.parquet"])
store.con.execute("INSERT INTO activities (activity_id, deal_id, type, occurred_at) "
                  "SELECT activity_id, \\"case\\", activity, \\"timestamp\\" FROM read_parquet(?)",
                  [DIR + "/events.parquet"])
store._create_views()
t = time.perf_counter()
dfg = paths_queries.directly_follows_counts(store)
t_dfg = time.perf_counter() - t
t = time.perf_counter()
counts = paths_queries.first_order_counts(store)
model = MarkovModel.from_first_order_counts(counts["source"].tolist(), counts["target"].tolist(),
                                            counts["n"].tolist())
chain = model.chain()
actions = [i for i, a in enumerate(model.vocabulary) if i >= 3 and a not in ("silent", "aged")]
effects = chain.removal_effects(actions)
t_solve = time.perf_counter() - t
_extra = {"dfg_seconds": t_dfg, "solve_seconds": t_solve, "states": int(len(chain.states)),
          "p_win_start": float(chain.win_probability(0)),
          "edges": {f"{s}|{d}": int(n) for s, d, n in dfg.itertuples(index=False)}}
"""

PM4PY = """
import time
import pandas as pd
import pm4py
df = pd.read_parquet(DIR + "/events.parquet")
t = time.perf_counter()
df = pm4py.format_dataframe(df, case_id="case", activity_key="activity",
                            timestamp_key="timestamp")
dfg, start, end = pm4py.discover_dfg(df)
t_dfg = time.perf_counter() - t
_extra = {"dfg_seconds": t_dfg, "edges": {f"{s}|{d}": int(n) for (s, d), n in dfg.items()}}
"""


def run(sizes: list[int], pm4py_python: str | None) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            events = generate(n, Path(tmp))
            prefix = f"DIR = {tmp!r}\n"
            ours = measure(
                f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n" + prefix + OURS
            )
            row: dict[str, object] = {
                "events": events,
                "winloss_dfg_s": ours["dfg_seconds"],
                "winloss_solve_s": ours["solve_seconds"],
                "winloss_peak_mb": ours["peak_mb"],
                "states": ours["states"],
            }
            if pm4py_python:
                theirs = measure(prefix + PM4PY, python=pm4py_python)
                same = theirs["edges"] == ours["edges"]
                row.update(
                    {
                        "pm4py_dfg_s": theirs["dfg_seconds"],
                        "pm4py_peak_mb": theirs["peak_mb"],
                        "edges": len(ours["edges"]),
                        "identical_edge_counts": same,
                        "dfg_speedup": theirs["dfg_seconds"] / ours["dfg_seconds"],
                        "dfg_plus_solve_speedup": theirs["dfg_seconds"]
                        / (ours["dfg_seconds"] + ours["solve_seconds"]),
                    }
                )
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--pm4py",
        default="/tmp/pm4py-venv/bin/python",
        help="Python of a virtual environment with pm4py ('' to skip).",
    )
    args = parser.parse_args()
    pm4py_python = args.pm4py if args.pm4py and Path(args.pm4py).exists() else None
    rows = run(args.sizes, pm4py_python)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
