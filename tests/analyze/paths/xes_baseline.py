"""The XES reader winloss's streaming expat reader replaced (ElementTree ``iterparse``), kept as
it was (plus the ``lifecycle:transition`` column the streaming reader gained later): the reference of tests/analyze/paths/test_xes_reader.py and the named baseline of
benchmarks/bench_xes_import.py."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd


def read_xes_elementtree(path: str | Path) -> pd.DataFrame:
    """ElementTree iterparse, elements cleared at each event and trace end: columns ``case,
    activity, timestamp, resource, lifecycle`` (a trace without a name is ``trace-N``, N counting from 1)."""
    cases: list[str] = []
    acts: list[str | None] = []
    stamps: list[str | None] = []
    res: list[str | None] = []
    life: list[str | None] = []
    case_id: str | None = None
    in_event, n_traces = False, 0
    event: dict[str, str] = {}
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        for ev, el in ET.iterparse(fh, events=("start", "end")):
            tag = el.tag.rsplit("}", 1)[-1]
            if ev == "start":
                if tag == "trace":
                    case_id, n_traces = None, n_traces + 1
                elif tag == "event":
                    in_event, event = True, {}
                continue
            if tag in ("string", "date") and el.get("key") is not None:
                key, value = el.get("key"), el.get("value")
                if in_event:
                    event[str(key)] = str(value)
                elif key == "concept:name" and case_id is None:
                    case_id = str(value)
            elif tag == "event":
                in_event = False
                cases.append(case_id if case_id is not None else f"trace-{n_traces}")
                acts.append(event.get("concept:name"))
                stamps.append(event.get("time:timestamp"))
                res.append(event.get("org:resource"))
                life.append(event.get("lifecycle:transition"))
                el.clear()
            elif tag == "trace":
                el.clear()
    return pd.DataFrame(
        {"case": cases, "activity": acts, "timestamp": stamps, "resource": res, "lifecycle": life}
    )
