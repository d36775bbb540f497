"""Markov chains with bootstrap (issue 14): fitting the distinct token paths grouped in DuckDB
(``paths_queries.chain_path_variants``, weighted by deals) against the previous way, every deal's
token stream pulled into Python (``load_paths``) — same store, same settings, same run.

Run from the repository root on a store with activities (e.g. the road-traffic log imported with
``winloss paths import``)::

    python benchmarks/bench_chain_bootstrap.py STORE.duckdb [--orders 1 3] [--bootstrap 200]

Each job runs in its own process (wall time, peak RSS); the chains' P(win) and removal effects of
the two ways are compared (they must agree to 1e-9).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import measure  # noqa: E402

JOB = """
import sys, json, numpy as np
sys.path.insert(0, SRC)
from winloss import Workspace
from winloss.analyze.paths.analysis import ChainSettings
ws = Workspace(STORE, read_only=True)
s = ChainSettings(by=BY, order=ORDER, bootstrap=BOOT)
table = s.load(ws.store) if WAY == "deals" else s.load_for_chains(ws.store)
fit = s.fit(table).pooled
_extra["paths"] = int(table.seqs.n_paths)
np.save(OUT + "_win.npy", fit.chain.p_win)
np.save(OUT + "_rm.npy", fit.removal)
"""


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--by", default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    for order in args.orders:
        res = {}
        for way in ("deals", "variants"):
            out = str(tmp / f"{way}{order}")
            code = (
                f"SRC = {str(ROOT / 'src')!r}\nSTORE = {args.store!r}\nBY = {args.by!r}\n"
                f"ORDER = {order}\nBOOT = {args.bootstrap}\nWAY = {way!r}\nOUT = {out!r}\n" + JOB
            )
            res[way] = measure(code)
            r = res[way]
            print(
                f"order {order} {way:8s}: {r['seconds']:7.1f} s  peak {r['peak_mb']:6.0f} MB  "
                f"paths fitted {r['paths']:,}",
                flush=True,
            )
        same = all(
            np.allclose(
                np.load(tmp / f"deals{order}_{k}.npy"),
                np.load(tmp / f"variants{order}_{k}.npy"),
                rtol=0,
                atol=1e-9,
                equal_nan=True,
            )
            for k in ("win", "rm")
        )
        ratio = res["deals"]["seconds"] / res["variants"]["seconds"]
        print(
            json.dumps({"order": order, "speedup": round(ratio, 2), "identical_chains": same}),
            flush=True,
        )


if __name__ == "__main__":
    main()
