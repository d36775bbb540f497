"""The road-traffic-fine event log (real XES, gzip): a sample of its first 2,000 cases imported.

Outcome rule (docs/paths.md): the final ``Payment`` = won, the final ``Send for Credit Collection`` =
lost. The independent reference is a regular-expression scan of the same XML lines.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, require
from winloss import Workspace
from winloss.analyze.paths.eventlog import events_to_deals, read_xes

LOG = SHARED_DATA / "road_traffic_fine_management" / "Road_Traffic_Fine_Management_Process.xes.gz"
N = 2000

pytestmark = pytest.mark.realdata


def _reference_last_events() -> dict[str, tuple[str, int]]:
    """Case -> (last activity, number of events), by a line scan of the XML."""
    out: dict[str, tuple[str, int]] = {}
    case, acts, in_event = None, [], False
    name = re.compile(r'<string key="concept:name" value="([^"]*)"')
    with gzip.open(require(LOG), "rt", encoding="utf-8") as fh:
        for line in fh:
            if "<trace>" in line:
                case, acts, in_event = None, [], False
            elif "<event>" in line:
                in_event = True
            elif "</event>" in line:
                in_event = False
            elif "</trace>" in line:
                out[str(case)] = (acts[-1], len(acts))
                if len(out) == N:
                    break
            else:
                m = name.search(line)
                if m and in_event:
                    acts.append(m.group(1))
                elif m and case is None:
                    case = m.group(1)
    return out


def test_sample_import_matches_a_line_scan(tmp_path: Path) -> None:
    events = read_xes(require(LOG), max_traces=N)
    ref = _reference_last_events()
    assert events["case"].nunique() == N == len(ref)
    assert len(events) == sum(n for _, n in ref.values())
    result = events_to_deals(events, won=["Payment"], lost=["Send for Credit Collection"])
    won = sum(a == "Payment" for a, _ in ref.values())
    lost = sum(a == "Send for Credit Collection" for a, _ in ref.values())
    assert (result.won, result.lost, result.open) == (won, lost, N - won - lost)
    assert len(result.activities) == len(events) - won - lost
    ws = Workspace(tmp_path / "road.duckdb")
    ws.import_file("deals", result.deals)
    ws.import_file("activities", result.activities)
    evaluation = ws.evaluate_paths(prefixes=(1, 2), censoring_guard=None)
    assert [r["k"] for r in evaluation.results] == [1, 2]
    for r in evaluation.results:
        assert 0 <= r["brier"] <= 1 and r["n_test"] > 100
    ws.close()
