"""Win/loss concentrations (issue 3): winloss against pysubgroup on the same planted data.

Run from the repository root::

    python benchmarks/bench_concentrations.py [--sizes 10000 100000 1000000] [--write-readme]

The data come from ``tests/analyze/planted.py`` (20 attributes: five planted patterns — three
numeric thresholds, one categorical value, one interaction — and noise). winloss analyses a store
built from the canonical deals file; pysubgroup gets the same attributes as a DataFrame. pysubgroup
pins ``numpy<2``, so it runs in its own virtual environment (``benchmarks/.venv-pysubgroup``,
created on first use with ``pip install pysubgroup``). Every measured job runs in its own process
: time is the analysis call alone (data already loaded), memory the process's peak RSS
read from ``VmHWM`` in ``/proc/self/status`` (``ru_maxrss`` is inherited across ``exec`` on Linux,
so a child started by a parent holding a million generated deals would report the parent's peak).

pysubgroup's quality function (StandardQF, a = 0.5, the binomial test's) ranks subgroups with a
*higher* win rate only, so loss concentrations need a second search on ``won == False``; both
directions are timed, and its result per direction is the top 20 (winloss reports at most 20).
Selectors: ``create_selectors(nbins=5)``, pysubgroup's default binning. Depth 2 for both.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.analyze.planted import (  # noqa: E402
    NOISE_FIELDS,
    PLANTED_PATTERNS,
    planted_attributes,
    planted_deals,
)

DATA = ROOT / "benchmarks" / "data"
VENV = ROOT / "benchmarks" / ".venv-pysubgroup"
README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- concentrations:start -->", "<!-- concentrations:end -->"
SEED = 7
EXHAUSTIVE = ("SimpleDFS", "DFS-bitset", "Apriori", "BestFirstSearch", "SimpleSearch")

WINLOSS_JOB = """
import time
from winloss import Workspace
from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
ws = Workspace({path!r}, read_only=True)
t0 = time.perf_counter()
result = ConcentrationAnalysis(record=False).run(ws.store)
_extra["search_seconds"] = time.perf_counter() - t0
_extra["hypotheses"] = result.hypotheses_tested
_extra["subgroups"] = [
    {{"direction": f.direction,
      "conditions": [[c.field, c.op, list(c.value) if isinstance(c.value, tuple) else c.value]
                     for c in f.conditions]}}
    for f in result.findings]
"""

PYSUBGROUP_JOB = """
import time, warnings
import numpy as np, pandas as pd, pysubgroup as ps
warnings.simplefilter("ignore")
data = pd.read_csv({csv!r})
algorithms = {{"SimpleDFS": lambda: ps.SimpleDFS(),
               "DFS-bitset": lambda: ps.DFS(ps.BitSetRepresentation),
               "Apriori": lambda: ps.Apriori(), "BestFirstSearch": lambda: ps.BestFirstSearch(),
               "SimpleSearch": lambda: ps.SimpleSearch()}}
subgroups, times = [], {{}}
t0 = time.perf_counter()
space = ps.create_selectors(data, ignore=["won"], nbins=5)
times["selectors"] = time.perf_counter() - t0
for direction, value in {directions!r}:
    t1 = time.perf_counter()
    task = ps.SubgroupDiscoveryTask(data, ps.BinaryTarget("won", value), space,
                                    result_set_size=20, depth=2, qf=ps.StandardQF(0.5))
    result = algorithms[{algorithm!r}]().execute(task)
    times[direction] = time.perf_counter() - t1
    for quality, sg in result.to_descriptions():
        conditions = []
        for sel in sg.selectors:
            if isinstance(sel, ps.IntervalSelector):
                conditions.append([sel.attribute_name, "interval",
                                   [float(sel.lower_bound), float(sel.upper_bound)]])
            else:
                conditions.append([sel.attribute_name, "==", str(sel.attribute_value)])
        subgroups.append({{"direction": direction, "conditions": conditions}})
_extra["search_seconds"] = time.perf_counter() - t0
_extra["times"] = times
_extra["selectors"] = len(space)
_extra["subgroups"] = subgroups
"""


MEASURED = """
import json, sys, time
_t0 = time.perf_counter()
_extra = {}
exec(compile(sys.stdin.read(), "<bench>", "exec"))
_wall = time.perf_counter() - _t0
_peak = next(int(line.split()[1]) for line in open("/proc/self/status")
             if line.startswith("VmHWM:")) / 1024
print("__RESULT__" + json.dumps({"seconds": _wall, "peak_mb": _peak, **_extra}))
"""


def measure(code: str, *, python: str = sys.executable, timeout: int = 7200) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter: wall time, peak memory and the ``_extra`` it sets."""
    proc = subprocess.run(
        [python, "-c", MEASURED],
        input=code,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark job failed:\n{proc.stderr[-4000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("__RESULT__")][-1]
    result: dict[str, Any] = json.loads(line[len("__RESULT__") :])
    return result


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pysubgroup"], check=True)
    return python


def prepare(n: int) -> tuple[Path, Path, float]:
    """The CSV for pysubgroup and the winloss store (built once; import time returned)."""
    from winloss import Workspace

    DATA.mkdir(parents=True, exist_ok=True)
    csv, store = DATA / f"planted_{n}.csv", DATA / f"planted_{n}.duckdb"
    if not csv.exists():
        planted_attributes(n, seed=SEED).to_csv(csv, index=False)
    seconds = float("nan")
    if not store.exists():
        t0 = time.perf_counter()
        ws = Workspace(store)
        ws.import_deals(planted_deals(n, seed=SEED))
        ws.close()
        seconds = time.perf_counter() - t0
    return csv, store, seconds


def _cut_and_side(condition: list[Any]) -> tuple[float, str] | None:
    """A one-field threshold as (cut, side): ``x <= cut`` is "low", ``x > cut`` is "high".

    Integer data: pysubgroup's ``[lb, ub[`` means ``x <= ub - 1`` (or ``x >= lb``, i.e. the high
    side of ``lb - 1``)."""
    _, op, value = condition
    if op == "<=":
        return float(value), "low"
    if op in (">", ">="):
        return float(value) - (1 if op == ">=" else 0), "high"
    if op == "between":
        return float(value[1]), "low"
    if op == "interval":
        low, high = value
        if math.isfinite(high):
            return high - 1, "low"
        if math.isfinite(low):
            return low - 1, "high"
    return None


def score(subgroups: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall of the planted patterns, relative threshold error, subgroups with noise fields."""
    recovered: list[str] = []
    errors: list[float] = []
    for pattern in PLANTED_PATTERNS:
        wanted = sorted(pattern.fields)
        best: float | None = None
        hit = False
        for sg in subgroups:
            fields = sorted(c[0] for c in sg["conditions"])
            if fields != wanted:
                continue
            if pattern.op == "==":
                values = {c[0]: c[2] for c in sg["conditions"] if c[1] == "=="}
                if sg["direction"] == pattern.direction and all(
                    str(values.get(f)) == str(v)
                    for f, v in zip(pattern.fields, pattern.value, strict=True)
                ):
                    hit = True
                continue
            cut = _cut_and_side(sg["conditions"][0])
            if cut is None:
                continue
            # x <= c for wins is the same split as x > c for losses
            side_ok = (cut[1] == "low") == (sg["direction"] == pattern.direction)
            if side_ok:
                hit = True
                error = abs(cut[0] - pattern.value[0]) / pattern.value[0]
                best = error if best is None else min(best, error)
        if hit:
            recovered.append("+".join(pattern.fields))
            if best is not None:
                errors.append(best)
    noisy = sum(any(c[0] in NOISE_FIELDS for c in sg["conditions"]) for sg in subgroups)
    return {
        "recall": len(recovered) / len(PLANTED_PATTERNS),
        "recovered": recovered,
        "threshold_error": max(errors) if errors else None,
        "mean_threshold_error": sum(errors) / len(errors) if errors else None,
        "noise_subgroups": noisy,
        "subgroups": len(subgroups),
    }


def repeated(code: str, python: str, repeat: int) -> dict[str, Any]:
    """The median-time run of ``repeat`` runs (peak memory: the largest of them), so that one
    busy moment on a shared machine does not decide a ratio."""
    runs = sorted(
        (measure(code, python=python) for _ in range(repeat)), key=lambda r: r["search_seconds"]
    )
    out = dict(runs[len(runs) // 2])
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    out["runs"] = [round(r["search_seconds"], 3) for r in runs]
    out.update(score(out.pop("subgroups")))
    return out


def run_winloss(store: Path, repeat: int = 1) -> dict[str, Any]:
    return repeated(WINLOSS_JOB.format(path=str(store)), sys.executable, repeat)


def run_pysubgroup(
    python: Path,
    csv: Path,
    algorithm: str,
    directions: tuple[tuple[str, bool], ...],
    repeat: int = 1,
) -> dict[str, Any]:
    code = PYSUBGROUP_JOB.format(csv=str(csv), algorithm=algorithm, directions=list(directions))
    return repeated(code, str(python), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="Runs of winloss and of the fastest pysubgroup search per size; "
        "the median is reported.",
    )
    parser.add_argument(
        "--simple-dfs",
        action="store_true",
        help="Also time SimpleDFS (wins only) above the smallest size (slow).",
    )
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="Replace the concentrations section of benchmarks/README.md.",
    )
    args = parser.parse_args()
    python = ensure_venv()
    both = (("win", True), ("loss", False))
    rows: list[dict[str, Any]] = []
    fastest = "DFS-bitset"
    for n in args.sizes:
        csv, store, import_seconds = prepare(n)
        ours = run_winloss(store, args.repeat)
        ours.update(tool="winloss", n=n, import_seconds=import_seconds)
        rows.append(ours)
        print(json.dumps(ours), flush=True)
        if n == min(args.sizes):
            trials = {}
            for algorithm in EXHAUSTIVE:
                result = run_pysubgroup(python, csv, algorithm, (("win", True),))
                trials[algorithm] = result["search_seconds"]
                result.update(tool=f"pysubgroup {algorithm} (wins only; choosing the fastest)", n=n)
                rows.append(result)
                print(json.dumps(result), flush=True)
            fastest = min(trials, key=lambda a: trials[a])
        for label, directions in (
            (f"pysubgroup {fastest} (wins only)", both[:1]),
            (f"pysubgroup {fastest} (wins and losses)", both),
        ):
            result = run_pysubgroup(python, csv, fastest, directions, args.repeat)
            result.update(tool=label, n=n)
            rows.append(result)
            print(json.dumps(result), flush=True)
        if args.simple_dfs and n != min(args.sizes) and fastest != "SimpleDFS":
            result = run_pysubgroup(python, csv, "SimpleDFS", both[:1])
            result.update(tool="pysubgroup SimpleDFS (wins only)", n=n)
            rows.append(result)
            print(json.dumps(result), flush=True)
    table = markdown(rows)
    print(table)
    if args.write_readme:
        write_readme(table)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| deals | tool | search s | peak MB | time × winloss | memory × winloss | recall "
        "| max threshold error | subgroups with a noise field |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_n = {r["n"]: r for r in rows if r["tool"] == "winloss"}
    for r in rows:
        base = by_n[r["n"]]
        error = f"{100 * r['threshold_error']:.1f} %" if r["threshold_error"] is not None else "—"
        lines.append(
            f"| {r['n']:,} | {r['tool']} | {r['search_seconds']:.2f} | {r['peak_mb']:,.0f} | "
            f"{r['search_seconds'] / base['search_seconds']:.1f}× | "
            f"{r['peak_mb'] / base['peak_mb']:.2f}× | {100 * r['recall']:.0f} % | {error} | "
            f"{r['noise_subgroups']} of {r['subgroups']} |"
        )
    return "\n".join(lines)


def write_readme(table: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    block = f"{START}\n{table}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


if __name__ == "__main__":
    main()
