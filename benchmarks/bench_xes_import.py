"""XES import speed (issue 14): winloss's streaming expat reader against the ElementTree
``iterparse`` reader it replaced (kept here as the named baseline), on the same log in the same run.

Run from the repository root::

    python benchmarks/bench_xes_import.py [LOG.xes.gz]

(default: ../shared/data/road_traffic_fine_management, 150,370 traces, 561,470 events). Each job runs
in its own process (wall time, CPU time of the process, peak RSS). The two readers' event frames
are compared cell by cell and must be identical. The full ``Workspace.import_event_log`` (read,
outcomes, and the store's validated import of deals and activities) is timed too.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _measure import measure  # noqa: E402

DEFAULT = (
    ROOT.parent
    / "shared"
    / "data"
    / "road_traffic_fine_management"
    / "Road_Traffic_Fine_Management_Process.xes.gz"
)

# the reader before this change, shared with the XES reader test (tests/analyze/paths/xes_baseline.py)
BASELINE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.analyze.paths.xes_baseline import read_xes_elementtree
"""

JOB = """
import time
t0 = time.process_time()
frame = READER(LOG)
_extra["cpu"] = time.process_time() - t0
_extra["events"] = len(frame)
frame.to_pickle(OUT)
"""

FULL = """
import tempfile, time
from pathlib import Path
from winloss import Workspace
t0 = time.process_time()
with Workspace(Path(tempfile.mkdtemp()) / "xes.duckdb") as ws:
    r = ws.import_event_log(LOG, won=("Payment",), lost=("Send for Credit Collection",))
_extra["cpu"] = time.process_time() - t0
_extra["events"] = r.events_read
_extra["won_lost_open"] = [r.won, r.lost, r.open]
"""


def main() -> None:
    import tempfile

    import pandas as pd

    log = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    tmp = Path(tempfile.mkdtemp())
    env = f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\nLOG = {str(log)!r}\n"
    results = {}
    for name, setup, reader in (
        ("ElementTree iterparse (baseline)", BASELINE, "read_xes_elementtree"),
        (
            "winloss read_xes (expat)",
            "from winloss.analyze.paths.eventlog import read_xes\n",
            "read_xes",
        ),
    ):
        out = tmp / f"{reader}.pkl"
        code = env + setup + f"READER = {reader}\nOUT = {str(out)!r}\n" + JOB
        results[name] = measure(code)
        r = results[name]
        print(
            f"{name:34s} wall {r['seconds']:6.1f} s  cpu {r['cpu']:6.1f} s  "
            f"peak {r['peak_mb']:6.0f} MB  events {r['events']:,}",
            flush=True,
        )
    old = pd.read_pickle(tmp / "read_xes_elementtree.pkl")
    new = pd.read_pickle(tmp / "read_xes.pkl")
    same = old.equals(new)
    base, ours = results.values()
    print(
        f"identical frames: {same}; speed-up wall {base['seconds'] / ours['seconds']:.2f}x, "
        f"cpu {base['cpu'] / ours['cpu']:.2f}x"
    )
    full = measure(env + FULL)
    print(
        f"full Workspace.import_event_log: wall {full['seconds']:.1f} s, cpu {full['cpu']:.1f} s, "
        f"peak {full['peak_mb']:.0f} MB, won/lost/open {full['won_lost_open']}"
    )
    if not same:
        raise SystemExit("the readers disagree")


if __name__ == "__main__":
    main()
