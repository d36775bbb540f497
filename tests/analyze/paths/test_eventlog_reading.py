"""Reading process-mining logs as they come: tool column names, lifecycle transitions, outcomes
that are not the last event, and outcome names that the log does not have."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.runner import run
from winloss import Workspace
from winloss.analyze.paths.eventlog import events_to_deals, read_event_log
from winloss.cli.main import main
from winloss.errors import InputError, UsageError

# a loan-application log the way Disco or ProM write it: the decision is followed by back-office
# work, and work items have a start and a completion
DISCO = """Case ID,Activity,Resource,Complete Timestamp,lifecycle:transition
L1,Submit,ann,2021/03/01 09:00:00.000,complete
L1,Review,bob,2021/03/02 09:00:00.000,start
L1,Review,bob,2021/03/02 10:00:00.000,complete
L1,Accepted,bob,2021/03/03 09:00:00.000,complete
L1,Archive,eve,2021/03/09 09:00:00.000,complete
L2,Submit,ann,2021/03/01 11:00:00.000,complete
L2,Review,bob,2021/03/04 09:00:00.000,start
L2,Review,bob,2021/03/04 12:00:00.000,complete
L2,Denied,bob,2021/03/05 09:00:00.000,complete
L3,Submit,ann,2021/03/02 09:00:00.000,complete
L3,Call,ann,2021/03/02 10:00:00.000,complete
L3,Accepted,bob,2021/03/06 09:00:00.000,complete
L4,Submit,ann,2021/03/07 09:00:00.000,complete
L4,Review,bob,2021/03/08 09:00:00.000,schedule
"""


def _disco(tmp_path: Path) -> Path:
    path = tmp_path / "loans.csv"
    path.write_text(DISCO)
    return path


def test_tool_column_names_are_found_and_listed(tmp_path: Path) -> None:
    events = read_event_log(_disco(tmp_path))
    raw = pd.read_csv(_disco(tmp_path), dtype=str)
    assert events["case"].tolist() == raw["Case ID"].tolist()
    assert events["activity"].tolist() == raw["Activity"].tolist()
    assert events["timestamp"].tolist() == raw["Complete Timestamp"].tolist()
    assert events["resource"].tolist() == raw["Resource"].tolist()
    assert events["lifecycle"].tolist() == raw["lifecycle:transition"].tolist()
    assert "case 'Case ID'" in events.attrs["notes"][0]
    assert "timestamp 'Complete Timestamp'" in events.attrs["notes"][0]
    # a column the user names and the file lacks is still an error naming it
    with pytest.raises(Exception, match="no column 'Case'"):
        read_event_log(_disco(tmp_path), case="Case")


def test_only_completions_are_steps_and_any_outcome_drops_what_came_after(tmp_path: Path) -> None:
    events = read_event_log(_disco(tmp_path))
    r = events_to_deals(events, won=["Accepted"], lost=["Denied"], outcome_event="any")
    paths = r.activities.groupby("deal_id")["type"].agg(list).to_dict()
    # independent reading: completed (or blank) events, cut at each case's last deciding event
    done = pd.read_csv(_disco(tmp_path), dtype=str)
    done = done[done["lifecycle:transition"] == "complete"]
    expected: dict[str, list[str]] = {}
    for case, g in done.groupby("Case ID"):
        acts = g["Activity"].tolist()
        cut = max((i for i, a in enumerate(acts) if a in ("Accepted", "Denied")), default=None)
        expected[str(case)] = acts[:cut] if cut is not None else acts
    assert paths == {k: v for k, v in expected.items() if v}
    outcome = r.deals.set_index("deal_id")["outcome"].to_dict()
    assert outcome == {"L1": "won", "L2": "lost", "L3": "won", "L4": "open"}
    closed = r.deals.set_index("deal_id")["closed_at"]
    assert closed["L1"] == pd.Timestamp("2021-03-03 09:00")  # the decision, not the archive
    # 2 starts + 1 schedule are not steps; L1's archive came after the close
    assert r.lifecycle_events_skipped == 3
    assert (r.events_after_outcome, r.cases_with_events_after_outcome) == (1, 1)
    assert any("start 2" in n and "schedule 1" in n for n in r.notes)
    assert any("1 event in 1 case came after" in n for n in r.notes)
    # every event kept: all transitions are steps
    everything = events_to_deals(
        events, won=["Accepted"], lost=["Denied"], outcome_event="any", lifecycle="all"
    )
    assert everything.lifecycle_events_skipped == 0
    assert everything.activities.groupby("deal_id")["type"].agg(list)["L2"] == [
        "Submit",
        "Review",
        "Review",
    ]


def test_outcome_names_the_log_lacks_or_never_ends_with_are_refused(tmp_path: Path) -> None:
    events = read_event_log(_disco(tmp_path))
    with pytest.raises(UsageError, match=r"--won 'Acepted' is not an activity in the log"):
        events_to_deals(events, won=["Acepted"], lost=["Denied"])
    # L1 ends with 'Archive': 'Accepted' ends L3 only, so 'final' still reads it; but a name that
    # ends no case is refused with the option that reads it
    with pytest.raises(UsageError, match="--outcome-event any"):
        events_to_deals(events, won=["Review"], lost=["Denied"])
    final = events_to_deals(events, won=["Accepted"], lost=["Denied"])
    assert final.deals.set_index("deal_id")["outcome"].to_dict() == {
        "L1": "open",
        "L2": "lost",
        "L3": "won",
        "L4": "open",
    }
    assert final.events_after_outcome == 0


def test_xes_lifecycle_and_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = '<trace><string key="concept:name" value="{case}"/>{events}</trace>'
    event = (
        '<event><string key="concept:name" value="{a}"/>'
        '<string key="lifecycle:transition" value="{t}"/>'
        '<date key="time:timestamp" value="2021-03-0{d}T09:00:00.000+01:00"/></event>'
    )
    rows = pd.read_csv(_disco(tmp_path), dtype=str)
    traces = "".join(
        trace.format(
            case=case,
            events="".join(
                event.format(
                    a=r["Activity"], t=r["lifecycle:transition"], d=r["Complete Timestamp"][9]
                )
                for _, r in g.iterrows()
            ),
        )
        for case, g in rows.groupby("Case ID")
    )
    path = tmp_path / "loans.xes.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(f'<?xml version="1.0"?><log xes.version="1.0">{traces}</log>')
    db = tmp_path / "loans.duckdb"
    code, out, err = run(
        "--db",
        str(db),
        "paths",
        "import",
        str(path),
        "--won",
        "Accepted",
        "--lost",
        "Denied",
        "--outcome-event",
        "any",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["won"], data["lost"], data["open"]) == (2, 1, 1)
    assert data["lifecycle_events_skipped"] == 3 and data["events_after_outcome"] == 1
    ws = Workspace(db)
    assert ws.store.count("activities") == data["activities"] == 7
    ws.close()
    capsys.readouterr()
    code = main(
        [
            "--db",
            str(tmp_path / "other.duckdb"),
            "paths",
            "import",
            str(path),
            "--won",
            "Acepted",
            "--lost",
            "Denied",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "'Acepted' is not an activity" in err, err
    assert (
        not (tmp_path / "other.duckdb").exists()
        or Workspace(tmp_path / "other.duckdb").deals().empty
    )


def test_reimport_with_another_reading_leaves_no_step_of_the_first(tmp_path: Path) -> None:
    db = tmp_path / "re.duckdb"
    ws = Workspace(db)
    first = ws.import_event_log(_disco(tmp_path), won=("Accepted",), lost=("Denied",))
    assert first.events_after_outcome == 0
    assert any("1 open case reached a --won or --lost activity" in n for n in first.notes)
    second = ws.import_event_log(
        _disco(tmp_path), won=("Accepted",), lost=("Denied",), outcome_event="any"
    )
    stored = ws.store.query("SELECT deal_id, type FROM activities ORDER BY activity_id")
    # the store holds exactly the second reading's steps: L1's decision and archive are gone
    assert len(stored) == len(second.activities) == 7
    assert not stored["type"].isin(["Accepted", "Denied", "Archive"]).any()
    assert any("2 steps stored by an earlier import" in n for n in second.notes)
    assert second.steps_replaced == 2
    again = ws.import_event_log(
        _disco(tmp_path), won=("Accepted",), lost=("Denied",), outcome_event="any"
    )
    assert not any("earlier import" in n for n in again.notes)  # same reading: nothing removed
    ws.close()


def test_day_first_dates_are_read_in_one_order(tmp_path: Path) -> None:
    rows = [
        ("A", "Submit", "06/03/2020 09:00"),
        ("A", "Review", "13/03/2020 09:00"),  # only day-first: the whole log is day-first
        ("A", "Accepted", "02/04/2020 10:00"),
        ("B", "Submit", "01/03/2020 09:00"),
        ("B", "Denied", "05/03/2020 09:00"),
    ]
    path = tmp_path / "dmy.csv"
    path.write_text("Case ID,Activity,Timestamp\n" + "".join(f"{c},{a},{t}\n" for c, a, t in rows))
    r = events_to_deals(read_event_log(path), won=["Accepted"], lost=["Denied"])
    acts = r.activities.set_index("activity_id")["occurred_at"]
    assert acts["A#000001"] == pd.Timestamp("2020-03-06 09:00")
    assert acts["A#000002"] == pd.Timestamp("2020-03-13 09:00")
    closed = r.deals.set_index("deal_id")["closed_at"]
    assert closed["A"] == pd.Timestamp("2020-04-02 10:00")  # 2 April, not 4 February
    # both orders in one log: refused, naming both lines
    path.write_text(path.read_text() + "B,Note,03/25/2020 09:00\n")
    with pytest.raises(InputError, match=r"two orders: '13/03/2020 09:00' \(line 3 of the file\)"):
        events_to_deals(read_event_log(path), won=["Accepted"], lost=["Denied"])
    # every date reads both ways: refused unless the order is named
    path.write_text("Case ID,Activity,Timestamp\nA,Submit,06/03/2020\nA,Accepted,07/03/2020\n"
                    "B,Denied,01/02/2020\n")  # fmt: skip
    with pytest.raises(InputError, match="--day-first or --month-first"):
        events_to_deals(read_event_log(path), won=["Accepted"], lost=["Denied"])
    eu = events_to_deals(read_event_log(path), won=["Accepted"], lost=["Denied"], day_first=True)
    assert eu.deals.set_index("deal_id")["closed_at"]["A"] == pd.Timestamp("2020-03-07")


def test_empty_and_header_only_logs_and_bad_timestamps_name_the_place(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        read_event_log(empty)
    header = tmp_path / "header.csv"
    header.write_text("Case ID,Activity,Timestamp\n")
    with pytest.raises(InputError, match="the log has no events"):
        events_to_deals(read_event_log(header), won=["a"], lost=["b"])
    bad = tmp_path / "bad.csv"
    bad.write_text("Case ID,Activity,Timestamp\nA,Submit,2021-03-01\nA,Paid,2021/02/30 25:61\n")
    with pytest.raises(
        InputError,
        match=r"1 event has no readable timestamp \(first: line 3 of the file, column "
        r"'Timestamp', case 'A', value '2021/02/30 25:61'\)",
    ):
        events_to_deals(read_event_log(bad), won=["Paid"], lost=["x"])


def test_next_action_says_when_no_lift_is_clear() -> None:
    """A stranger's --all ranked one action first for every open deal with lift intervals from
    −0.005 to +0.020, and nothing said the ranking was no evidence."""
    from winloss.analyze.paths.analysis import _deals_without_a_clear_lift

    frame = pd.DataFrame(
        {
            "deal_id": ["a", "a", "b", "b", "c"],
            "lift_low": [-0.005, 0.01, -0.02, 5.7e-17, -0.1],
        }
    )
    # a has a lift wholly above zero; b's best bound is rounding noise; c has none
    assert _deals_without_a_clear_lift(frame) == 2
    assert _deals_without_a_clear_lift(frame.iloc[:0]) == 0


def test_a_semicolon_windows_1252_log_reads_like_the_crm_files(tmp_path: Path) -> None:
    """Event logs go through the CRM files' reader: any delimiter and encoding, no row lost."""
    path = tmp_path / "de.csv"
    text = "Case ID;Activity;Timestamp\nA;Prüfung;2021-03-01 09:00\nA;Zahlung;2021-03-04 10:00\nB;Mahnung;2021-03-02\n"
    path.write_bytes(text.encode("cp1252"))
    r = events_to_deals(
        read_event_log(path), won=["Zahlung"], lost=["Mahnung"], outcome_event="any"
    )
    assert r.activities["type"].tolist() == ["Prüfung"]
    assert r.deals["outcome"].tolist() == ["won", "lost"]


def test_trailing_blank_lines_ambiguous_dates_and_the_order_that_decided(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Case ID,Activity,Timestamp\nA,Submit,2021-03-01\nA,Paid,2021-03-02\n\n\n")
    events = read_event_log(path)
    assert len(events) == 2 and "dropped 2 blank line(s) at the end" in events.attrs["notes"][0]
    header_then_blank = tmp_path / "h.csv"
    header_then_blank.write_text("Case ID,Activity,Timestamp\n\n\n")
    with pytest.raises(InputError, match="the log has no events"):
        events_to_deals(read_event_log(header_then_blank), won=["a"], lost=["b"])
    # every date reads both ways: the order must be named, as the CRM import asks
    both = tmp_path / "both.csv"
    both.write_text("Case ID,Activity,Timestamp\nA,Submit,06/03/2020\nA,Paid,07/03/2020\n"
                    "B,Lost,01/02/2020\n")  # fmt: skip
    with pytest.raises(InputError, match="--day-first or --month-first"):
        events_to_deals(read_event_log(both), won=["Paid"], lost=["Lost"])
    us = events_to_deals(read_event_log(both), won=["Paid"], lost=["Lost"], month_first=True)
    assert us.deals.set_index("deal_id")["closed_at"]["A"] == pd.Timestamp("2020-07-03")
    # a date that can only be day-first decides, and the note names it
    dmy = tmp_path / "dmy.csv"
    dmy.write_text("Case ID,Activity,Timestamp\nA,Submit,06/03/2020\nA,Paid,13/03/2020\n"
                   "B,Lost,01/02/2020\n")  # fmt: skip
    r = events_to_deals(read_event_log(dmy), won=["Paid"], lost=["Lost"])
    assert any("dates read day-first, as '13/03/2020' (line 3 of the file)" in n for n in r.notes)
    with pytest.raises(InputError, match=r"cannot be month-first \(13 is no month\)"):
        events_to_deals(read_event_log(dmy), won=["Paid"], lost=["Lost"], month_first=True)


def test_outcome_activities_are_not_offered_as_next_actions(tmp_path: Path) -> None:
    """With --outcome-event any, an "Accepted" before a cancellation stays a step of the path;
    next-action then offered "Application Accepted" as a next action (P(win) 0.03)."""
    rows = []
    for i in range(60):
        case = f"C{i}"
        rows += [(case, "Submit", f"2021-01-{1 + i % 28:02d} 09:00")]
        if i % 3 == 0:
            rows += [(case, "Accepted", f"2021-02-{1 + i % 28:02d} 09:00")]
        rows += [(case, "Call" if i % 2 else "Email", f"2021-03-{1 + i % 28:02d} 09:00")]
        if i < 56:
            final = "Cancelled" if i % 3 == 0 or i % 4 == 0 else "Accepted"
            rows += [(case, final, f"2021-04-{1 + i % 28:02d} 09:00")]
    path = tmp_path / "log.csv"
    path.write_text("Case ID,Activity,Timestamp\n" + "".join(f"{c},{a},{t}\n" for c, a, t in rows))
    with Workspace(tmp_path / "n.duckdb") as ws:
        ws.import_event_log(path, won=("Accepted",), lost=("Cancelled",), outcome_event="any")
        result = ws.next_action(["C57"])
    offered = set(result.candidates["action"])
    assert offered and not offered & {"Accepted", "Cancelled"}
    assert any("are outcomes, not offered as next actions" in w for w in result.warnings)
