"""Import benchmark: a generated 1M-deal CSV into the store, against pandas baselines.

Targets (issue 2): ≤ 30 s and ≤ 2 GB peak on the 2-core machine. Baselines, measured in the same
run on the same file: ``pandas.read_csv`` + ``DataFrame.to_sql`` into SQLite (the usual script), and
``pandas.read_csv`` + DuckDB insert (no validation at all). winloss does more work than either:
encoding/delimiter detection, typed normalisation with per-cell validation, duplicate checks and a
transactional upsert.

    python benchmarks/bench_import.py [--deals 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "deals.csv"
        gen = measure(
            f"from winloss.demo.generator import generate_deals\n"
            f"generate_deals({args.deals}, seed={args.seed}).to_csv({str(csv)!r}, index=False)\n"
        )
        size_mb = csv.stat().st_size / 1e6
        print(
            f"generated {args.deals:,} deals, {size_mb:,.0f} MB CSV in {gen['seconds']:.1f} s",
            file=sys.stderr,
        )
        runs = {
            "winloss import (validated, transactional)": measure(
                "from winloss import Workspace\n"
                f"ws = Workspace({str(Path(tmp) / 'w.duckdb')!r})\n"
                f"r = ws.import_deals({str(csv)!r})\n"
                "_extra['rows'] = r.inserted\n"
            ),
            "winloss re-import (upsert of every row)": measure(
                "from winloss import Workspace\n"
                f"ws = Workspace({str(Path(tmp) / 'w.duckdb')!r})\n"
                f"r = ws.import_deals({str(csv)!r})\n"
                "_extra['rows'] = r.updated\n"
            ),
            "pandas read_csv + to_sql (SQLite)": measure(
                "import pandas as pd, sqlite3\n"
                f"df = pd.read_csv({str(csv)!r})\n"
                f"con = sqlite3.connect({str(Path(tmp) / 'b.sqlite')!r})\n"
                "df.to_sql('deals', con, index=False, chunksize=100_000)\n"
                "con.commit(); _extra['rows'] = len(df)\n"
            ),
            "pandas read_csv + DuckDB insert (no validation)": measure(
                "import pandas as pd, duckdb\n"
                f"df = pd.read_csv({str(csv)!r})\n"
                f"con = duckdb.connect({str(Path(tmp) / 'b.duckdb')!r})\n"
                "con.execute('CREATE TABLE deals AS SELECT * FROM df'); _extra['rows'] = len(df)\n"
            ),
        }
    ours = runs["winloss import (validated, transactional)"]
    print(f"\n{args.deals:,} deals ({size_mb:,.0f} MB CSV)\n")
    print("| job | rows | wall s | peak MB | time vs winloss | memory vs winloss |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        print(
            f"| {name} | {int(r.get('rows', 0)):,} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} | "
            f"{r['seconds'] / ours['seconds']:.2f}× | {r['peak_mb'] / ours['peak_mb']:.2f}× |"
        )
    ok = ours["seconds"] <= 30 and ours["peak_mb"] <= 2048
    print(
        f"\ntarget ≤ 30 s and ≤ 2 GB: {'met' if ok else 'NOT met'} "
        f"({ours['seconds']:.1f} s, {ours['peak_mb']:,.0f} MB)"
    )
    print(json.dumps({"deals": args.deals, "csv_mb": size_mb, "runs": runs}), file=sys.stderr)


if __name__ == "__main__":
    main()
