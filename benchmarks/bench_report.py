"""Quarterly report build time on the demo company (issue 8: "the report is slow").

Run from the repository root::

    python benchmarks/bench_report.py [--deals 600] [--seed 3] [--repeat 3] [--write-readme]

Builds the demo store once with ``winloss demo`` (its wall time includes its own report), then
builds the quarterly report ``--repeat`` times, each in its own process on a fresh copy of that
store (the report records the plan and the findings register, so a second build on the same copy
would start from a different store): ``Workspace(copy).report()`` and nothing else is timed, in
wall and in CPU seconds of the process (CPU time moves less when other jobs share the machine).
Only the public surface is used (the ``winloss demo`` command and ``winloss.Workspace``), so the
script measures the same thing before and after the analyses move between modules.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import measure  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- report:start -->", "<!-- report:end -->"

REPORT_JOB = """
from winloss import Workspace
ws = Workspace({path!r})
_t, _c = time.perf_counter(), time.process_time()
report = ws.report()
_extra["report_seconds"] = time.perf_counter() - _t
_extra["report_cpu_seconds"] = time.process_time() - _c
_extra["sections"] = len(report.sections)
ws.close()
"""


def build_demo_store(folder: Path, deals: int, seed: int) -> tuple[Path, float]:
    """Run ``winloss demo`` into ``folder``; the store and the command's wall time."""
    store = folder / "demo.duckdb"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "winloss",
            "--db",
            str(store),
            "demo",
            "--deals",
            str(deals),
            "--seed",
            str(seed),
            "--report",
            str(folder / "demo-report.html"),
        ],
        check=True,
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    return store, time.perf_counter() - started


def run(deals: int, seed: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(tmp)
        store, demo_seconds = build_demo_store(folder, deals, seed)
        builds = []
        for i in range(repeat):
            copy = folder / f"copy{i}.duckdb"
            shutil.copy(store, copy)
            builds.append(measure(REPORT_JOB.format(path=str(copy))))
            copy.unlink()
    seconds = [float(b["report_seconds"]) for b in builds]
    cpu = [float(b["report_cpu_seconds"]) for b in builds]
    return {
        "deals": deals,
        "seed": seed,
        "demo_seconds": round(demo_seconds, 1),
        "report_seconds": [round(s, 2) for s in seconds],
        "report_median_seconds": round(statistics.median(seconds), 2),
        "report_cpu_seconds": [round(c, 2) for c in cpu],
        "report_median_cpu_seconds": round(statistics.median(cpu), 2),
        "peak_mb": round(max(float(b["peak_mb"]) for b in builds)),
        "sections": builds[0]["sections"],
    }


def table(result: dict[str, Any]) -> str:
    runs = ", ".join(f"{s:.1f}" for s in result["report_seconds"])
    return "\n".join(
        [
            "| deals | seed | `winloss demo` s | report build s (median) | each build s "
            "| report CPU s (median) | peak MB |",
            "|---:|---:|---:|---:|---|---:|---:|",
            f"| {result['deals']:,} | {result['seed']} | {result['demo_seconds']} | "
            f"{result['report_median_seconds']} | {runs} | {result['report_median_cpu_seconds']} "
            f"| {result['peak_mb']:,} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=600)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"replace the table between {START} and {END} in {README.name}",
    )
    args = parser.parse_args()
    result = run(args.deals, args.seed, args.repeat)
    print(json.dumps(result))
    print(table(result))
    if args.write_readme:
        text = README.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{table(result)}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
