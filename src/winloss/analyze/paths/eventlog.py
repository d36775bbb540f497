"""Event logs in and out: CSV (case / activity / timestamp) and XES (IEEE 1849), ``.xes.gz`` too.

Export writes one event per activity (``case:concept:name`` = deal id, ``concept:name`` = activity
type, ``time:timestamp``, ``org:resource`` = the deal owner) and, for closed deals, a final
``Deal won`` / ``Deal lost`` event at the close, so the outcome survives the round trip.

Import reads such a log into deals and activities. A case's outcome comes from named final
activities: a case whose *last* event is one of ``won`` is won, one of ``lost`` is lost, anything
else is open. That final event is removed from the path (it is the outcome, not a step towards it)
and its time becomes the close date; earlier occurrences of the same activity stay (a partial
payment before the final one was a real step). The deal's creation is its first event.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

import pandas as pd

from winloss.errors import InputError, UsageError

WON_EVENT, LOST_EVENT = "Deal won", "Deal lost"
CSV_COLUMNS = ("case:concept:name", "concept:name", "time:timestamp", "org:resource")


@dataclass(frozen=True)
class EventLogImport:
    """Deals and activities read from an event log, ready for the store, and what was read."""

    deals: pd.DataFrame
    activities: pd.DataFrame
    events_read: int
    cases: int
    won: int
    lost: int
    open: int
    outcome_events_removed: int


def _open_text(path: Path) -> object:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


_ATTR, _EVENT, _TRACE, _OTHER = 1, 2, 3, 0
_KINDS = {"string": _ATTR, "date": _ATTR, "event": _EVENT, "trace": _TRACE}


class _EnoughTraces(Exception):
    """Raised inside the parser's callback to stop after ``max_traces`` traces."""


def read_xes(path: str | Path, *, max_traces: int | None = None) -> pd.DataFrame:
    """Events of an XES file (``.xes`` or ``.xes.gz``): ``case, activity, timestamp, resource``.

    ``max_traces`` stops after that many traces (a quick look at a large log).

    A streaming parse with expat's callbacks (no element tree is built): ``<string>`` and ``<date>``
    attributes are applied when their element ends, in document order, so nested attributes
    resolve as in the file; an event's attributes come from anywhere inside the event, a trace's
    case id is the first ``concept:name`` attribute of the trace outside its events.
    """
    p = Path(path)
    cases: list[str] = []
    acts: list[str | None] = []
    stamps: list[str | None] = []
    res: list[str | None] = []
    case_id: str | None = None
    in_event = False
    n_traces = 0
    event: dict[str, str] = {}
    pending: list[tuple[str, str | None] | None] = []  # one entry per open element
    push, pop = pending.append, pending.pop
    kinds: dict[str, int] = {}  # element name (maybe prefixed) → _ATTR, _EVENT, _TRACE or _OTHER

    def kind(name: str) -> int:
        tag = name.rpartition(":")[2]
        k = kinds[name] = _KINDS.get(tag, _OTHER)
        return k

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal case_id, in_event, n_traces
        k = kinds.get(name)
        if k is None:
            k = kind(name)
        if k == _ATTR:
            key = attrs.get("key")
            push((key, attrs.get("value")) if key is not None else None)
            return
        push(None)
        if k == _EVENT:
            in_event = True
            event.clear()
        elif k == _TRACE:
            case_id = None
            n_traces += 1

    def end(name: str) -> None:
        nonlocal case_id, in_event
        attr = pop()
        if attr is not None:
            key, value = attr
            if in_event:
                event[key] = str(value)
            elif case_id is None and key == "concept:name":
                case_id = str(value)
            return
        k = kinds[name]
        if k == _EVENT:
            in_event = False
            cases.append(case_id if case_id is not None else f"trace-{n_traces}")
            acts.append(event.get("concept:name"))
            stamps.append(event.get("time:timestamp"))
            res.append(event.get("org:resource"))
        elif k == _TRACE and max_traces is not None and n_traces >= max_traces:
            raise _EnoughTraces

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with _open_text(p) as fh:  # type: ignore[attr-defined]
            parser.ParseFile(fh)
    except _EnoughTraces:
        pass
    except (expat.ExpatError, OSError, EOFError) as exc:
        raise InputError(
            f"{p}: not a readable XES file ({exc}); export the log as XES or CSV "
            "with case, activity and timestamp columns"
        ) from exc
    frame = pd.DataFrame({"case": cases, "activity": acts, "timestamp": stamps, "resource": res})
    return frame


def read_csv_log(
    path: str | Path,
    *,
    case: str = "case:concept:name",
    activity: str = "concept:name",
    timestamp: str = "time:timestamp",
    resource: str | None = "org:resource",
    sep: str | None = None,
) -> pd.DataFrame:
    """Events of a CSV log with the named columns: ``case, activity, timestamp, resource``."""
    p = Path(path)
    try:
        raw = pd.read_csv(p, sep=sep, engine="python", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the CSV event log ({exc})") from exc
    missing = [c for c in (case, activity, timestamp) if c not in raw.columns]
    if missing:
        raise InputError(
            f"{p}: no column {', '.join(repr(m) for m in missing)}; the columns are "
            f"{', '.join(map(repr, raw.columns[:12]))}; name them with --case, "
            "--activity and --timestamp"
        )
    return pd.DataFrame(
        {
            "case": raw[case],
            "activity": raw[activity],
            "timestamp": raw[timestamp],
            "resource": raw[resource] if resource and resource in raw.columns else None,
        }
    )


def read_event_log(path: str | Path, **csv_options: str | None) -> pd.DataFrame:
    """Events of a ``.xes``, ``.xes.gz`` or ``.csv`` log."""
    name = str(path).lower()
    if name.endswith((".xes", ".xes.gz")):
        return read_xes(path)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return read_csv_log(path, **csv_options)  # type: ignore[arg-type]
    raise UsageError(f"{path}: an event log must end in .xes, .xes.gz or .csv")


def events_to_deals(
    events: pd.DataFrame, *, won: Iterable[str], lost: Iterable[str], source: str = "event log"
) -> EventLogImport:
    """Deals and activities from events; outcome from the named final activities (see above)."""
    won_set, lost_set = set(won), set(lost)
    if not won_set or not lost_set:
        raise UsageError(
            "name the final activities meaning won and lost, e.g. --won Payment "
            "--lost 'Send for Credit Collection'"
        )
    if won_set & lost_set:
        raise UsageError(f"{sorted(won_set & lost_set)} named as both won and lost")
    ev = events.copy()
    bad_rows = (
        ev["case"].isna() | (ev["case"] == "") | ev["activity"].isna() | (ev["activity"] == "")
    )
    if bad_rows.any():
        first = int(bad_rows.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{source}: {int(bad_rows.sum())} events lack a case id or an activity "
            f"(first: event {first + 1}); fix the log"
        )
    # the wall-clock time written in the log: the UTC offset is dropped, so a fine created at
    # midnight stays on its day across daylight-saving changes
    text = (
        ev["timestamp"].astype(str).str.strip().str.replace(r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)
    )
    stamps = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = stamps.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{source}: {int(bad.sum())} events have no readable timestamp (first: "
            f"event {first + 1}, value {ev['timestamp'].iloc[first]!r}); fix them "
            "or drop those events"
        )
    ev["timestamp"] = stamps
    ev["seq"] = range(len(ev))
    ev = ev.sort_values(["case", "timestamp", "seq"], kind="stable").reset_index(drop=True)
    last = ~ev["case"].duplicated(keep="last")
    final_act = ev.loc[last, ["case", "activity", "timestamp"]].set_index("case")
    outcome = pd.Series("open", index=final_act.index)
    outcome[final_act["activity"].isin(won_set)] = "won"
    outcome[final_act["activity"].isin(lost_set)] = "lost"
    decisive = last & ev["activity"].isin(won_set | lost_set)
    first_time = ev.groupby("case", sort=False)["timestamp"].min()
    deals = pd.DataFrame(
        {
            "deal_id": final_act.index.astype(str),
            "created_at": first_time.reindex(final_act.index).dt.normalize(),
            "outcome": outcome.to_numpy(),
        }
    )
    closed_at = final_act["timestamp"].where(outcome != "open")
    deals["closed_at"] = closed_at.to_numpy()
    owner = ev.groupby("case", sort=False)["resource"].first()
    deals["owner"] = owner.reindex(final_act.index).to_numpy()
    kept = ev[~decisive]
    activities = pd.DataFrame(
        {
            # zero-padded so that the id order is the log order for events at the same time
            "activity_id": kept["case"].astype(str)
            + "#"
            + kept.groupby("case").cumcount().add(1).astype(str).str.zfill(6),
            "deal_id": kept["case"].astype(str),
            "type": kept["activity"].astype(str),
            "occurred_at": kept["timestamp"],
        }
    ).reset_index(drop=True)
    counts = outcome.value_counts()
    return EventLogImport(
        deals.reset_index(drop=True),
        activities,
        len(events),
        len(deals),
        int(counts.get("won", 0)),
        int(counts.get("lost", 0)),
        int(counts.get("open", 0)),
        int(decisive.sum()),
    )


def export_frame(activities: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Events of the store in process-mining columns, with the outcome events of closed deals."""
    acts = activities.merge(deals[["deal_id", "owner"]], on="deal_id", how="left")
    ev = pd.DataFrame(
        {
            "case:concept:name": acts["deal_id"],
            "concept:name": acts["type"],
            "time:timestamp": pd.to_datetime(acts["occurred_at"]),
            "org:resource": acts["owner"],
            "_id": acts["activity_id"],
        }
    )
    closed = deals[deals["outcome"].isin(["won", "lost"]) & deals["closed_at"].notna()]
    ends = pd.DataFrame(
        {
            "case:concept:name": closed["deal_id"],
            "concept:name": closed["outcome"].map({"won": WON_EVENT, "lost": LOST_EVENT}),
            # the close is a date: the outcome event comes after every activity of that day
            "time:timestamp": pd.to_datetime(closed["closed_at"]),
            "org:resource": closed["owner"],
            "_id": "~close",
        }
    )
    last = ev.groupby("case:concept:name")["time:timestamp"].max()
    after_last = ends["case:concept:name"].map(last)
    ends["time:timestamp"] = pd.concat([ends["time:timestamp"], after_last], axis=1).max(axis=1)
    out = pd.concat([ev, ends], ignore_index=True)
    out = out.sort_values(["case:concept:name", "time:timestamp", "_id"], kind="stable")
    return out.drop(columns="_id").reset_index(drop=True)


def write_csv_log(frame: pd.DataFrame, path: str | Path) -> None:
    out = frame.copy()
    out["time:timestamp"] = out["time:timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    out.to_csv(path, index=False)


def write_xes(frame: pd.DataFrame, path: str | Path) -> None:
    """Write an XES log (gzip when the name ends in ``.gz``); times as written, offset +00:00."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "wt", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<log xes.version="1.0" xes.features="nested-attributes" '
            'xmlns="http://www.xes-standard.org/">\n'
            '  <extension name="Concept" prefix="concept" '
            'uri="http://www.xes-standard.org/concept.xesext"/>\n'
            '  <extension name="Time" prefix="time" '
            'uri="http://www.xes-standard.org/time.xesext"/>\n'
            '  <extension name="Organizational" prefix="org" '
            'uri="http://www.xes-standard.org/org.xesext"/>\n'
        )
        for case, group in frame.groupby("case:concept:name", sort=False):
            fh.write(f'  <trace>\n    <string key="concept:name" value={quoteattr(str(case))}/>\n')
            for act, ts, res in zip(
                group["concept:name"], group["time:timestamp"], group["org:resource"], strict=True
            ):
                fh.write(
                    "    <event>\n"
                    f'      <string key="concept:name" value={quoteattr(str(act))}/>\n'
                    f'      <date key="time:timestamp" '
                    f'value="{pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")}"/>\n'
                )
                if res is not None and not pd.isna(res):
                    fh.write(f'      <string key="org:resource" value={quoteattr(str(res))}/>\n')
                fh.write("    </event>\n")
            fh.write("  </trace>\n")
        fh.write("</log>\n")


def write_event_log(frame: pd.DataFrame, path: str | Path) -> str:
    """Write ``frame`` as CSV or XES by the file name; returns the format written."""
    name = str(path).lower()
    if name.endswith((".xes", ".xes.gz")):
        write_xes(frame, path)
        return "xes"
    if name.endswith(".csv"):
        write_csv_log(frame, path)
        return "csv"
    raise UsageError(f"{path}: name the export .csv, .xes or .xes.gz")
