"""Win-probability model (issue 4): training time and memory at 100k and 1M deals, scoring 1M.

Run from the repository root::

    python benchmarks/bench_scoring.py [--sizes 100000 1000000] [--write-readme]

The deals come from the demo generator (``winloss.demo.generator.generate_deals``: SPICED fields,
planted effects, a noise column), with the store's derived fields added in pandas, so the model sees
exactly what ``Workspace.deals()`` returns without timing an import. Every job runs in its own
process; time is the measured call alone (data generated beforehand, inside the job), memory the
process's peak RSS (``VmHWM``). Jobs:

* ``fit`` — :class:`WinModel` with default settings except no bootstrap: field choice, leakage
  checks, three candidates on a held-out split, calibration, permutation importances;
* ``fit + intervals`` — the same with the default bootstrap refits (10 from 20,000 deals);
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

SETUP = """
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
    d = generate_deals(n, seed=seed)
    d["days_to_critical_event"] = (d["critical_event_date"] - d["created_at"]).dt.days
    d["champion_tenure_days"] = (d["created_at"] - d["champion_start_date"]).dt.days
    d["cycle_days"] = (d["closed_at"] - d["created_at"]).dt.days
    return d

sample = generate_deals(2000, seed=99)
ws = Workspace(":memory:")
ws.import_deals(sample, on_duplicate="keep-last")
catalog = ws.field_catalog()
"""

FIT = SETUP + """
frame = deals({n}, 1)
closed = frame[frame["outcome"] != "open"].reset_index(drop=True)
open_deals = frame[frame["outcome"] == "open"]
import time
t0 = time.perf_counter()
model = WinModel(ModelSettings(n_bootstrap={boot})).fit(closed, catalog, open_deals=open_deals)
_extra["call_seconds"] = time.perf_counter() - t0
_extra["n_closed"] = len(closed)
_extra["model"] = model.model_name
_extra["refits"] = len(model.replicas)
_extra["vmhwm_mb"] = peak_mb()
"""

SCORE = SETUP + """
train = deals(100_000, 1)
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


def run(sizes: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in sizes:
        for job, code in (("fit", FIT.format(n=n, boot=0)),
                          ("fit + intervals", FIT.format(n=n, boot="None"))):
            r = measure(code)
            rows.append({"job": job, "deals": n, **r})
            print(json.dumps(rows[-1]), flush=True)
    r = measure(SCORE.format(n=1_000_000))
    rows.append({"job": "score", "deals": 1_000_000, **r})
    print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| job | deals | closed deals used | model chosen | bootstrap refits | call s | "
             "peak MB |", "|---|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['job']} | {int(r['deals']):,} | "  # type: ignore[call-overload]
                     f"{int(r.get('n_closed', 0) or 0):,} | {r['model']} | {r['refits']} | "  # type: ignore[call-overload]
                     f"{float(r['call_seconds']):.1f} | {float(r['vmhwm_mb']):,.0f} |")  # type: ignore[arg-type]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--write-readme", action="store_true",
                        help="Replace the scoring table in benchmarks/README.md.")
    args = parser.parse_args()
    rows = run(args.sizes)
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
