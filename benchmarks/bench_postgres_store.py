"""Import and analysis time on the PostgreSQL store against the embedded DuckDB (baseline), in one run.

    PYTHONPATH=src python benchmarks/bench_postgres_store.py postgresql://user@host/db [--deals N]

The PostgreSQL database must be empty (or a scratch database): the script creates the store's
tables in it. It imports ``N`` generated deals (winloss.demo.generator.generate_deals) into a new
DuckDB file and into PostgreSQL, re-imports the same frame (every row an update), runs the
concentration analysis on both, and prints seconds and the PostgreSQL/DuckDB ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from winloss import Workspace
from winloss.demo.generator import generate_deals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="postgresql:// URL of an empty scratch database")
    parser.add_argument("--deals", type=int, default=100_000)
    args = parser.parse_args()
    frame = generate_deals(args.deals, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        rows: dict[str, dict[str, float]] = {}
        for name, target in (("duckdb", str(Path(tmp) / "bench.duckdb")), ("postgres", args.url)):
            ws = Workspace(target)
            times: dict[str, float] = {}
            t = time.perf_counter()
            first = ws.import_deals(frame.copy(), on_duplicate="keep-last")
            times["import"] = time.perf_counter() - t
            t = time.perf_counter()
            again = ws.import_deals(frame.copy(), on_duplicate="keep-last")
            times["re-import"] = time.perf_counter() - t
            assert (first.inserted, again.updated) == (len(frame), len(frame))
            t = time.perf_counter()
            result = ws.analyze()
            times["analyze"] = time.perf_counter() - t
            times["findings"] = len(result.findings)
            ws.close()
            rows[name] = times
    print(f"{args.deals:,} deals")
    print(f"{'step':<10} {'duckdb s':>9} {'postgres s':>11} {'ratio':>7}")
    for step in ("import", "re-import", "analyze"):
        d, p = rows["duckdb"][step], rows["postgres"][step]
        print(f"{step:<10} {d:9.2f} {p:11.2f} {p / d:7.2f}")
    print(
        f"findings: duckdb {rows['duckdb']['findings']:.0f}, postgres {rows['postgres']['findings']:.0f}"
    )


if __name__ == "__main__":
    main()
