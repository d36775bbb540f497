"""Win-probability model (issues 4 and 10): training time and memory at 100k and 1M deals, scoring 1M.

Run from the repository root::

    python benchmarks/bench_scoring.py [--sizes 100000 1000000] [--intervals] [--write-readme]

The deals come from the demo generator (``winloss.demo.generator.generate_deals``: SPICED fields,
planted effects, a noise column), with the store's derived fields added in pandas, so the model sees
exactly what ``Workspace.deals()`` returns without timing an import. They are generated once per
size by a setup process and written to Parquet; every measured job runs in its own process, reads
them and runs one call. Time is the call alone (wall and the process's CPU time — on a shared
machine the CPU time is the steadier of the two); memory is the process's peak RSS (``VmHWM``),
which includes reading the deals (generating 1M deals peaks at 2.3 GB by itself, so it is kept out of
the measured processes). Jobs:

* ``fit`` — :class:`WinModel` with default settings except no bootstrap: field choice, leakage
  checks, the candidates on a held-out split, calibration, permutation importances;
* ``plain HistGradientBoosting`` — the baseline the fit is judged against: scikit-learn's
  ``HistGradientBoostingClassifier`` with its defaults on the same closed deals (fields encoded as
  in the model, without companions; encoding not timed);
* ``fit + intervals`` (with ``--intervals``) — the same with the default bootstrap refits (10
  from 20,000 deals);
* ``score`` — a model fitted on 100k deals (not timed) scores N deals: probability and the 80 %
  bootstrap interval (10 refits), without the per-deal factors (those are for the open deals of a
  store, thousands, not millions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import measure  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- scoring:start -->", "<!-- scoring:end -->"

DATA = "/tmp/winloss_bench_scoring"

GENERATE = """
import os
from winloss.demo.generator import generate_deals
os.makedirs("{data}", exist_ok=True)
d = generate_deals({n}, seed={seed})
d["days_to_critical_event"] = (d["critical_event_date"] - d["created_at"]).dt.days
d["champion_tenure_days"] = (d["created_at"] - d["champion_start_date"]).dt.days
d["cycle_days"] = (d["closed_at"] - d["created_at"]).dt.days
d.to_parquet("{data}/deals_{n}_{seed}.parquet")
"""

SETUP = """
DATA = "{data}"
import numpy as np, pandas as pd
from winloss import Workspace
from winloss.demo.generator import generate_deals
from winloss.analyze.scoring.analysis import ModelSettings, WinModel

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def deals(n, seed):
    return pd.read_parquet(f"{{DATA}}/deals_{{n}}_{{seed}}.parquet")

sample = generate_deals(2000, seed=99)
ws = Workspace(":memory:")
ws.import_deals(sample, on_duplicate="keep-last")
catalog = ws.field_catalog()
"""

FIT = (
    SETUP
    + """
frame = deals({n}, 1)
closed = frame[frame["outcome"] != "open"].reset_index(drop=True)
open_deals = frame[frame["outcome"] == "open"].reset_index(drop=True)
del frame
import gc, time
gc.collect()
_extra["frame_mb"] = (closed.memory_usage(deep=True).sum()
                      + open_deals.memory_usage(deep=True).sum()) / 2**20
t0, c0 = time.perf_counter(), time.process_time()
model = WinModel(ModelSettings(n_bootstrap={boot})).fit(closed, catalog, open_deals=open_deals)
_extra["call_seconds"] = time.perf_counter() - t0
_extra["cpu_seconds"] = time.process_time() - c0
_extra["n_closed"] = len(closed)
_extra["model"] = model.model_name
_extra["refits"] = len(model.replicas)
_extra["vmhwm_mb"] = peak_mb()
"""
)

PLAIN = (
    SETUP
    + """
from winloss.analyze.scoring.features import FeatureEncoder, choose_fields
from winloss.analyze.scoring.classifiers import make_classifier
frame = deals({n}, 1)
closed = frame[frame["outcome"] != "open"].reset_index(drop=True)
del frame
import gc
gc.collect()
y = (closed["outcome"] == "won").to_numpy().astype(int)
choice = choose_fields(catalog, closed)
encoded = FeatureEncoder(choice.predictors, companions=False).fit(closed).transform(closed)
encoded.dense
import time
t0, c0 = time.perf_counter(), time.process_time()
clf = make_classifier("gradient_boosting_plain").fit(encoded, y)
_extra["call_seconds"] = time.perf_counter() - t0
_extra["cpu_seconds"] = time.process_time() - c0
_extra["n_closed"] = len(closed)
_extra["model"] = "HistGradientBoosting (defaults)"
_extra["refits"] = 0
_extra["vmhwm_mb"] = peak_mb()
"""
)

SCORE = (
    SETUP
    + """
train = deals(100000, 1)
closed = train[train["outcome"] != "open"].reset_index(drop=True)
model = WinModel(ModelSettings(n_bootstrap=10)).fit(closed, catalog)
target = deals({n}, 2)
import time
t0 = time.perf_counter()
out = model.predict(target, intervals=True)
_extra["call_seconds"] = time.perf_counter() - t0
assert len(out) == {n} and out["probability"].between(0, 1).all()
_extra["model"] = model.model_name
_extra["refits"] = len(model.replicas)
_extra["vmhwm_mb"] = peak_mb()
"""
)


def run(
    sizes: list[int], *, intervals: bool = False, score: bool = True
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n, seed in {(n, 1) for n in sizes} | ({(100_000, 1), (1_000_000, 2)} if score else set()):
        if not Path(f"{DATA}/deals_{n}_{seed}.parquet").exists():
            measure(GENERATE.format(data=DATA, n=n, seed=seed))
    for n in sizes:
        jobs = [
            ("fit", FIT.format(n=n, boot=0, data=DATA)),
            ("plain HistGradientBoosting", PLAIN.format(n=n, data=DATA)),
        ]
        if intervals:
            jobs.append(("fit + intervals", FIT.format(n=n, boot="None", data=DATA)))
        for job, code in jobs:
            r = measure(code)
            rows.append({"job": job, "deals": n, **r})
            print(json.dumps(rows[-1]), flush=True)
        fit, plain = rows[-len(jobs)], rows[-len(jobs) + 1]
        print(
            f"{n:,} deals: fit / plain HistGradientBoosting time "
            f"{float(fit['call_seconds']) / float(plain['call_seconds']):.2f}, "  # type: ignore[arg-type]
            f"CPU time {float(fit['cpu_seconds']) / float(plain['cpu_seconds']):.2f}, "  # type: ignore[arg-type]
            f"peak {float(fit['vmhwm_mb']) / float(plain['vmhwm_mb']):.2f}",
            flush=True,
        )  # type: ignore[arg-type]
    if not score:
        return rows
    r = measure(SCORE.format(n=1_000_000, data=DATA))
    rows.append({"job": "score", "deals": 1_000_000, **r})
    print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| job | deals | closed deals used | model chosen | bootstrap refits | call s | peak MB |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['job']} | {int(r['deals']):,} | "  # type: ignore[call-overload]
            f"{int(r.get('n_closed', 0) or 0):,} | {r['model']} | {r['refits']} | "  # type: ignore[call-overload]
            f"{float(r['call_seconds']):.1f} | {float(r['vmhwm_mb']):,.0f} |"
        )  # type: ignore[arg-type]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="Also time the fit with the default bootstrap refits.",
    )
    parser.add_argument("--no-score", action="store_true", help="Skip scoring 1M deals.")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="Replace the scoring table in benchmarks/README.md.",
    )
    args = parser.parse_args()
    rows = run(args.sizes, intervals=args.intervals, score=not args.no_score)
    text = table(rows)
    print(text)
    if args.write_readme:
        readme = README.read_text()
        if START in readme and END in readme:
            head, rest = readme.split(START, 1)
            readme = head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
            README.write_text(readme)


if __name__ == "__main__":
    main()
