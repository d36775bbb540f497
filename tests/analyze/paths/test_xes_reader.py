"""The streaming XES reader (expat callbacks) reads what ElementTree's iterparse reads, on a
document with the awkward parts of the standard: a global-attribute block, a prefixed namespace,
nested attributes, typed attributes, a trace without a name, entities; and it stops early and
refuses a broken file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from tests.analyze.paths.xes_baseline import read_xes_elementtree
from winloss.analyze.paths.eventlog import read_xes
from winloss.errors import InputError

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <trace> inside -->
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="trace"><string key="concept:name" value="UNKNOWN"/></global>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <string key="concept:name" value="the log"/>
  <trace>
    <string key="concept:name" value="C&amp;1"/>
    <event>
      <string key="concept:name" value="Create &lt;Fine&gt;"/>
      <date key="time:timestamp" value="2006-07-24T00:00:00.000+02:00"/>
      <int key="amount" value="35"/>
      <string key="org:resource" value="561"/>
    </event>
    <event>
      <string key="concept:name" value="outer">
        <string key="concept:name" value="inner"/>
      </string>
      <date key="time:timestamp" value="2006-08-01T10:00:00.000+02:00"/>
    </event>
  </trace>
  <trace>
    <int key="size" value="2"/>
    <event><string key='concept:name' value='Send Fine'/>
      <date key="time:timestamp" value="2006-12-05T00:00:00.000+01:00"/></event>
  </trace>
  <x:trace xmlns:x="http://www.xes-standard.org/">
    <x:string key="concept:name" value="C3"/>
    <x:event><x:string key="concept:name" value="Payment"/>
      <x:date key="time:timestamp" value="2007-01-01T00:00:00.000+01:00"/></x:event>
  </x:trace>
</log>
"""


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "awkward.xes.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(DOC)
    return path


def test_reads_what_elementtree_reads(log: Path) -> None:
    got = read_xes(log)
    pd.testing.assert_frame_equal(got, read_xes_elementtree(log))
    assert got["case"].tolist() == ["C&1", "C&1", "trace-2", "C3"]
    assert got["activity"].tolist() == ["Create <Fine>", "outer", "Send Fine", "Payment"]
    assert got["resource"].tolist() == ["561", None, None, None]


def test_max_traces_stops_early(log: Path) -> None:
    got = read_xes(log, max_traces=1)
    pd.testing.assert_frame_equal(got, read_xes_elementtree(log).iloc[:2])


def test_broken_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xes"
    path.write_text(DOC[: len(DOC) // 2], encoding="utf-8")
    with pytest.raises(InputError, match="not a readable XES file"):
        read_xes(path)
    truncated = tmp_path / "cut.xes.gz"
    truncated.write_bytes(gzip.compress(DOC.encode())[:200])
    with pytest.raises(InputError, match="not a readable XES file"):
        read_xes(truncated)
