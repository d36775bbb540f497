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

import csv
import gzip
import re
from collections.abc import Callable, Iterable
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
    #: events not taken as steps because the log has lifecycle transitions and these are not
    #: completions (a start and a completion of one activity are one step)
    lifecycle_events_skipped: int = 0
    #: events after a case's deciding event (``outcome_event="any"`` only): after the close
    events_after_outcome: int = 0
    cases_with_events_after_outcome: int = 0
    #: steps of the same cases stored by an earlier import and removed by this one
    steps_replaced: int = 0
    notes: tuple[str, ...] = ()


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
    life: list[str | None] = []
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
            life.append(event.get("lifecycle:transition"))
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
    frame = pd.DataFrame(
        {"case": cases, "activity": acts, "timestamp": stamps, "resource": res, "lifecycle": life}
    )
    return frame


#: Column names process-mining tools write (compared lower-case, letters and digits only), tried in
#: order when the standard XES names are absent and no column was named.
COLUMN_ALIASES = {
    "case": ("caseconceptname", "caseid", "casenumber", "case", "traceid", "caseidentifier"),
    "activity": ("conceptname", "activity", "activityname", "eventname", "event", "task"),
    "timestamp": (
        "timetimestamp",
        "completetimestamp",
        "timestamp",
        "endtimestamp",
        "completetime",
        "datetime",
        "eventtime",
        "time",
    ),
    "resource": ("orgresource", "resource", "user", "performer"),
    "lifecycle": ("lifecycletransition", "lifecycle", "transition"),
}
STANDARD_COLUMNS = {
    "case": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "lifecycle": "lifecycle:transition",
}


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _find_column(columns: pd.Index, role: str) -> str | None:
    """The column that plays ``role``: the standard XES name, else the first known alias."""
    if STANDARD_COLUMNS[role] in columns:
        return STANDARD_COLUMNS[role]
    squashed: dict[str, str] = {}
    for c in columns:
        squashed.setdefault(_squash(str(c)), str(c))
    return next((squashed[a] for a in COLUMN_ALIASES[role] if a in squashed), None)


def read_csv_log(
    path: str | Path,
    *,
    case: str | None = None,
    activity: str | None = None,
    timestamp: str | None = None,
    resource: str | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Events of a CSV log: ``case, activity, timestamp, resource, lifecycle``.

    A column not named is found by its standard XES name (``case:concept:name`` …) or, failing
    that, by the names process-mining tools export (``Case ID``, ``Activity``, ``Complete
    Timestamp``, ``Resource``, ``lifecycle:transition``); the columns found are listed in the
    frame's ``attrs["notes"]``.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(65536)
        if not head.strip():
            raise InputError(
                f"{p}: the file is empty; export the event log with a header row (case id, "
                "activity, timestamp) and one row per event"
            )
        if sep is None and p.suffix.lower() != ".gz":
            # the CRM reader: any encoding and delimiter, fast (Arrow), and no row dropped unsaid
            from winloss.ingest.csv_reader import read_csv_text

            parsed = read_csv_text(p)
            raw = parsed.frame
            reading_notes = list(parsed.notes)
        else:
            raw = pd.read_csv(p, sep=sep, engine="python", dtype=str, keep_default_na=False)
            reading_notes = []
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the CSV event log ({exc})") from exc
    except csv.Error as exc:  # the separator sniffer: one column, or no rows to look at
        raise InputError(
            f"{p}: cannot tell the CSV event log's separator ({exc}); the file needs a header "
            "row and events separated by commas, semicolons or tabs"
        ) from exc
    # blank lines at the end of the file are no events (a header then blank lines: no events)
    last_filled = len(raw)
    while last_filled and all(str(v).strip() == "" for v in raw.iloc[last_filled - 1]):
        last_filled -= 1
    if last_filled < len(raw):
        reading_notes.append(
            f"dropped {len(raw) - last_filled:,} blank line(s) at the end of the file"
        )
        raw = raw.iloc[:last_filled]
    named = {"case": case, "activity": activity, "timestamp": timestamp, "resource": resource}
    used: dict[str, str | None] = {}
    missing: list[str] = []
    for role in ("case", "activity", "timestamp", "resource", "lifecycle"):
        given = named.get(role)
        if given is not None:
            if given not in raw.columns:
                missing.append(repr(given))
            used[role] = given
            continue
        used[role] = _find_column(raw.columns, role)
        if used[role] is None and role in ("case", "activity", "timestamp"):
            missing.append(
                repr(STANDARD_COLUMNS[role])
                + " (or a column such as "
                + {"case": "'Case ID'", "activity": "'Activity'", "timestamp": "'Timestamp'"}[role]
                + ")"
            )
    if missing:
        raise InputError(
            f"{p}: no column {', '.join(missing)}; the columns are "
            f"{', '.join(map(repr, raw.columns[:12]))}; name them with --case, "
            "--activity and --timestamp"
        )
    frame = pd.DataFrame(
        {role: raw[col] if col is not None else None for role, col in used.items()}
    )
    guessed = [
        f"{role} {used[role]!r}"
        for role in ("case", "activity", "timestamp", "resource", "lifecycle")
        if named.get(role) is None
        and used[role] is not None
        and used[role] != STANDARD_COLUMNS[role]
    ]
    # data row i is line i + 2 of the file (the header is line 1)
    frame.attrs["first_line"] = 2
    frame.attrs["columns"] = {role: col for role, col in used.items() if col is not None}
    frame.attrs["notes"] = reading_notes
    if guessed:
        frame.attrs["notes"] = reading_notes + [
            "columns read as: " + ", ".join(guessed) + " (name others with --case, --activity, "
            "--timestamp)"
        ]
    return frame


def read_event_log(path: str | Path, **csv_options: str | None) -> pd.DataFrame:
    """Events of a ``.xes``, ``.xes.gz`` or ``.csv`` log."""
    name = str(path).lower()
    if name.endswith((".xes", ".xes.gz")):
        return read_xes(path)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return read_csv_log(path, **csv_options)
    raise UsageError(f"{path}: an event log must end in .xes, .xes.gz or .csv")


#: How a case's outcome is read: from its last event only, or from its last won/lost event.
OUTCOME_EVENTS = ("final", "any")
LIFECYCLES = ("complete", "all")


def _lifecycle_filter(ev: pd.DataFrame, lifecycle: str) -> tuple[pd.DataFrame, int, list[str]]:
    """Only completions as steps when the log records lifecycle transitions (``complete``)."""
    if lifecycle not in LIFECYCLES:
        raise UsageError(f"--lifecycle must be one of {', '.join(LIFECYCLES)}")
    if "lifecycle" not in ev.columns or lifecycle == "all":
        return ev, 0, []
    life = ev["lifecycle"].fillna("").astype(str).str.strip().str.lower()
    is_complete = life == "complete"
    if not is_complete.any():
        return ev, 0, []
    keep = is_complete | (life == "")
    skipped = int((~keep).sum())
    if not skipped:
        return ev, 0, []
    kinds = life[~keep].value_counts()
    shown = ", ".join(f"{k} {v:,}" for k, v in kinds.head(4).items())
    note = (
        f"the log records lifecycle transitions: only its {int(is_complete.sum()):,} completed "
        f"events are read (as steps, or as outcomes); {skipped:,} other transitions ({shown}) "
        "are not counted as steps (--lifecycle all keeps every event)"
    )
    return ev[keep.to_numpy()], skipped, [note]


def _check_outcome_names(
    ev: pd.DataFrame, won_set: set[str], lost_set: set[str], source: str, outcome_event: str
) -> None:
    """Refuse a --won/--lost activity that the log never has (a typo reads every case as open)."""
    present = set(ev["activity"].unique())
    last = ev.drop_duplicates("case", keep="last")["activity"].value_counts()
    common = ", ".join(repr(str(a)) for a in last.index[:6])
    for flag, names in (("--won", won_set), ("--lost", lost_set)):
        absent = sorted(n for n in names if n not in present)
        if absent:
            raise UsageError(
                f"{source}: {flag} {', '.join(map(repr, absent))} is not an activity in the log; "
                f"the activities that end most cases are {common}"
            )
        if outcome_event == "final" and not last.index.isin(list(names)).any():
            cases = ev.loc[ev["activity"].isin(list(names)), "case"].nunique()
            raise UsageError(
                f"{source}: {flag} {', '.join(map(repr, sorted(names)))} occurs in {cases:,} "
                "cases but is the last event of none, and the outcome is read from a case's last "
                "event; add --outcome-event any to read it from the case's last won or lost "
                f"activity wherever it is (the activities that end most cases are {common})"
            )


_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?=$|[ T])(.*)$")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _event_position(events: pd.DataFrame, source: str) -> Callable[[int], str]:
    """How to name event ``i`` to the user: its line in a CSV file, its position in an XES log."""
    first_line = events.attrs.get("first_line")
    if first_line is not None:
        return lambda i: f"line {i + int(first_line)} of the file"
    return lambda i: f"event {i + 1} of the log"


def _read_timestamps(
    raw: pd.Series,
    source: str,
    where: Callable[[int], str],
    *,
    day_first: bool,
    month_first: bool = False,
) -> tuple[pd.Series, list[str]]:
    """Timestamps as the wall-clock time written, with one day/month order for the whole log.

    Parsing each value on its own (pandas' ``format="mixed"``) reads 06/03/2020 month-first and
    13/03/2020 day-first, which scrambles the order of a case's events. Numeric dates
    (``dd/mm/yyyy`` or ``mm/dd/yyyy``, with ``/``, ``.`` or ``-``) are therefore read in the one
    order their values allow: day-first when a first part exceeds 12, month-first when a second
    part does (a note names the date that decided), refused when both happen. When every date
    reads both ways the order must be named (``day_first`` / ``month_first``), as the CRM import
    asks; dotted dates (06.03.2020) are day-first.
    """
    if day_first and month_first:
        raise UsageError("--day-first and --month-first contradict each other: give one")
    # the UTC offset is dropped, so a fine created at midnight stays on its day across
    # daylight-saving changes
    text = raw.astype(str).str.strip().str.replace(r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)
    notes: list[str] = []
    parts = text.str.extract(_NUMERIC_DATE)
    numeric = parts[0].notna()
    if numeric.any():
        a = parts.loc[numeric, 0].astype(int)
        b = parts.loc[numeric, 1].astype(int)
        says_day, says_month = bool((a > 12).any()), bool((b > 12).any())
        i_day = int(numeric[numeric].index[(a > 12).to_numpy()][0]) if says_day else -1
        i_month = int(numeric[numeric].index[(b > 12).to_numpy()][0]) if says_month else -1
        if says_day and says_month:
            raise InputError(
                f"{source}: the dates are written in two orders: {raw.iloc[i_day]!r} "
                f"({where(i_day)}) is day-first and {raw.iloc[i_month]!r} ({where(i_month)}) "
                "month-first; write them in one order (ISO: 2021-03-15 09:00) and import again"
            )
        if day_first and says_month:
            raise InputError(
                f"{source}: --day-first, but {raw.iloc[i_month]!r} ({where(i_month)}) cannot be "
                f"day-first ({b.max()} is no month): the dates are month-first; import without "
                "--day-first"
            )
        if month_first and says_day:
            raise InputError(
                f"{source}: --month-first, but {raw.iloc[i_day]!r} ({where(i_day)}) cannot be "
                f"month-first ({a.max()} is no month): the dates are day-first; import without "
                "--month-first"
            )
        # dotted dates (06.03.2020) are day-first where they are written so
        dotted = bool(text[numeric].str.match(r"^\d{1,2}\.").all())
        ambiguous = not says_day and not says_month and not dotted and bool((a != b).any())
        if ambiguous and not (day_first or month_first):
            i = int(numeric[numeric].index[(a != b).to_numpy()][0])
            raise InputError(
                f"{source}: every numeric date reads both ways (e.g. {raw.iloc[i]!r}, "
                f"{where(i)}); say which with --day-first or --month-first"
            )
        first_is_day = says_day or ((day_first or dotted) and not says_month)
        if says_day or says_month:
            i = i_day if says_day else i_month
            notes.append(
                f"dates read {'day' if says_day else 'month'}-first, as {raw.iloc[i]!r} "
                f"({where(i)}) can only be"
            )
        day = parts.loc[numeric, 0 if first_is_day else 1]
        month = parts.loc[numeric, 1 if first_is_day else 0]
        year = parts.loc[numeric, 2].where(
            parts.loc[numeric, 2].str.len() == 4, "20" + parts.loc[numeric, 2]
        )
        iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts.loc[numeric, 3]
        text = text.where(~numeric, iso)
    stamps = pd.to_datetime(text, errors="coerce", format="mixed")
    return stamps, notes


def events_to_deals(
    events: pd.DataFrame,
    *,
    won: Iterable[str],
    lost: Iterable[str],
    source: str = "event log",
    outcome_event: str = "final",
    lifecycle: str = "complete",
    day_first: bool = False,
    month_first: bool = False,
) -> EventLogImport:
    """Deals and activities from events; outcome from the named final activities (see above).

    ``outcome_event="any"`` reads the outcome from the case's *last* won or lost activity wherever
    it is; the events after it happened after the close and are not imported (counted in the
    result). With lifecycle transitions in the log only completions are steps (``lifecycle=
    "all"`` keeps every event).
    """
    won_set, lost_set = set(won), set(lost)
    if not won_set or not lost_set:
        raise UsageError(
            "name the final activities meaning won and lost, e.g. --won Payment "
            "--lost 'Send for Credit Collection'"
        )
    if won_set & lost_set:
        raise UsageError(f"{sorted(won_set & lost_set)} named as both won and lost")
    if outcome_event not in OUTCOME_EVENTS:
        raise UsageError(f"--outcome-event must be one of {', '.join(OUTCOME_EVENTS)}")
    notes = list(events.attrs.get("notes", []))
    ev = events.copy()
    if ev.empty:
        raise InputError(f"{source}: the log has no events; nothing was imported")
    where = _event_position(events, source)
    bad_rows = (
        ev["case"].isna() | (ev["case"] == "") | ev["activity"].isna() | (ev["activity"] == "")
    )
    if bad_rows.any():
        first = int(bad_rows.to_numpy().nonzero()[0][0])
        n_bad = int(bad_rows.sum())
        raise InputError(
            f"{source}: {n_bad:,} {'event lacks' if n_bad == 1 else 'events lack'} a case id or "
            f"an activity (first: {where(first)}); fix the log"
        )
    stamps, order_note = _read_timestamps(
        ev["timestamp"], source, where, day_first=day_first, month_first=month_first
    )
    notes += order_note
    bad = stamps.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        n_bad = int(bad.sum())
        column = events.attrs.get("columns", {}).get("timestamp")
        raise InputError(
            f"{source}: {n_bad:,} {'event has' if n_bad == 1 else 'events have'} no readable "
            f"timestamp (first: {where(first)}"
            + (f", column {column!r}" if column else "")
            + f", case {ev['case'].iloc[first]!r}, value {ev['timestamp'].iloc[first]!r}); fix "
            "them or drop those events"
        )
    ev["timestamp"] = stamps
    ev["seq"] = range(len(ev))
    ev, skipped, life_notes = _lifecycle_filter(ev, lifecycle)
    notes += life_notes
    ev = ev.sort_values(["case", "timestamp", "seq"], kind="stable").reset_index(drop=True)
    _check_outcome_names(ev, won_set, lost_set, source, outcome_event)
    after = pd.Series(False, index=ev.index)
    if outcome_event == "any":
        deciding = ev["activity"].isin(won_set | lost_set)
        # position of each case's last deciding event; events after it are after the close
        pos = ev.groupby("case", sort=False).cumcount()
        last_pos = pos.where(deciding).groupby(ev["case"], sort=False).transform("max")
        after = last_pos.notna() & (pos > last_pos)
        n_after, cases_after = int(after.sum()), int(ev.loc[after, "case"].nunique())
        if n_after:
            notes.append(
                f"{_count(n_after, 'event')} in {_count(cases_after, 'case')} came after the case's won or lost "
                "activity (after the close) and are not imported as steps"
            )
        ev = ev[~after.to_numpy()].reset_index(drop=True)
    else:
        n_after = cases_after = 0
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
    if outcome_event == "final":
        # open cases that did reach a won/lost activity, but went on after it
        reached = ev.loc[ev["activity"].isin(won_set | lost_set), "case"].unique()
        still_open = outcome.index[outcome.eq("open").to_numpy()].intersection(reached)
        if len(still_open):
            after_names = final_act.loc[still_open, "activity"].value_counts().index[:3]
            notes.append(
                f"{_count(len(still_open), 'open case')} reached a --won or --lost activity and "
                "went on "
                f"after it ({'it ends' if len(still_open) == 1 else 'they end'} with "
                f"{', '.join(map(repr, after_names))}): the outcome is "
                "read from a case's last event; --outcome-event any reads them as won or lost"
            )
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
        lifecycle_events_skipped=skipped,
        events_after_outcome=n_after,
        cases_with_events_after_outcome=cases_after,
        notes=tuple(notes),
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
