"""The quarterly report's build time: a baseline source tree against this one, in one run.

``python benchmarks/bench_report.py --baseline-src /tmp/base/src`` generates the demo company
(``--deals``, default 600) into a store, copies it once per job, and builds the quarterly report
with the baseline tree (e.g. ``git archive b3cfff3 src | tar -x -C /tmp/base``) and with this
tree, each in its own process on its own copy. It prints both wall times, their ratio, and whether
the two reports' JSON agree (ignoring what changes from run to run: times, run ids, paths).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure  # noqa: E402

HERE_SRC = Path(__file__).resolve().parents[1] / "src"
#: Keys whose values differ between any two runs (clock, ids, paths).
VOLATILE = {"generated_at", "elapsed_seconds", "run_id", "scored_at", "store", "version"}

MAKE_STORE = """
import sys
sys.path.insert(0, {src!r})
from winloss import Workspace
from winloss.demo.generator import generate_demo
from winloss.demo.run import import_demo
ws = Workspace({path!r})
import_demo(ws, generate_demo({deals}, seed={seed}))
ws.close()
"""

BUILD_REPORT = """
import sys, time
sys.path.insert(0, {src!r})
from winloss import Workspace
ws = Workspace({path!r})
import resource
def _cpu():
    # this process and its worker processes (model fits run in joblib's loky workers since
    # 2026-12-01): the workers are shut down below so that their CPU time is counted
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime
t0, c0 = time.perf_counter(), _cpu()
report = ws.report()
_extra["report_seconds"] = time.perf_counter() - t0
try:
    from joblib.externals.loky import reusable_executor
    if reusable_executor._executor is not None:  # started by this build (never by the baseline)
        reusable_executor._executor.shutdown(wait=True)
except ImportError:
    pass
_extra["report_cpu_seconds"] = _cpu() - c0
open({out!r}, "w").write(report.to_json())
ws.close()
"""


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """JSON paths where ``a`` and ``b`` differ (keys only in ``b`` are listed as added)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: removed" for k in a if k not in b]
        out += [f"{path}.{k}: added" for k in b if k not in a]
        for k in a:
            if k in b:
                out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items → {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} → {b!r}"[:200]]


def _load() -> str:
    """The 1-, 5- and 15-minute load averages (the machine is shared)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", required=True, help="src/ folder of the baseline")
    parser.add_argument("--deals", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="keep the two report JSON files in this folder")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="builds per tree, alternating baseline and this tree (median shown)",
    )
    args = parser.parse_args()
    load0 = _load()
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        trees = {"baseline": args.baseline_src, "this tree": str(HERE_SRC)}
        # each tree generates the demo company with its own code (same size and seed): a store
        # written by a newer schema cannot be opened by the baseline
        stores = {name: work / f"{name.replace(' ', '_')}.duckdb" for name in trees}
        for name, src in trees.items():
            measure(
                MAKE_STORE.format(src=src, path=str(stores[name]), deals=args.deals, seed=args.seed)
            )
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "this tree": []}
        reports: dict[str, Any] = {}
        for i in range(args.repeat):
            for name, src in trees.items():
                copy = work / f"{name.replace(' ', '_')}-{i}.duckdb"
                shutil.copy(stores[name], copy)
                out = work / f"{name.replace(' ', '_')}-{i}.json"
                runs[name].append(
                    measure(BUILD_REPORT.format(src=src, path=str(copy), out=str(out)))
                )
                reports[name] = json.loads(out.read_text())
        results = {}
        for name, rs in runs.items():
            seconds = sorted(r["report_seconds"] for r in rs)
            cpu = sorted(r["report_cpu_seconds"] for r in rs)
            median = dict(
                rs[0],
                report_seconds=seconds[len(seconds) // 2],
                all_seconds=seconds,
                report_cpu_seconds=cpu[len(cpu) // 2],
            )
            results[name] = (median, reports[name])
        (base, base_json), (_new, new_json) = results["baseline"], results["this tree"]
        print(f"demo company: {args.deals:,} deals, seed {args.seed}")
        print(f"load average before / after: {load0} / {_load()}")
        print(
            "| job | report build s, median (each run) | CPU s, median | peak MB | "
            "speed-up (wall) | speed-up (CPU) |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for name, (r, _) in results.items():
            ratio = base["report_seconds"] / r["report_seconds"]
            cpu_ratio = base["report_cpu_seconds"] / r["report_cpu_seconds"]
            each = ", ".join(f"{x:.1f}" for x in r["all_seconds"])
            print(
                f"| {name} | {r['report_seconds']:.1f} ({each}) | {r['report_cpu_seconds']:.1f} | "
                f"{r['peak_mb']:,.0f} | {ratio:.2f}× | {cpu_ratio:.2f}× |"
            )
        diff = differences(strip(base_json), strip(new_json))
        changed = [d for d in diff if not d.endswith(": added")]
        print(
            f"report JSON identical (apart from {', '.join(sorted(VOLATILE))}): "
            f"{not changed}; keys added: {len(diff) - len(changed)}"
        )
        for d in diff[:40]:
            print("  " + d)
        if args.keep:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            (keep / "baseline.json").write_text(json.dumps(base_json, indent=1))
            (keep / "this_tree.json").write_text(json.dumps(new_json, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
