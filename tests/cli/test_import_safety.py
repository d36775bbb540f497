"""Store-file safety and safe exports through the CLI (issues #9 and #11).

A ``--db`` that is not a store is refused and left as it was; ``--check`` and the read commands
write nothing; a damaged store gives a clear error and is never written; every CSV the CLI writes
neutralises formula-like cells.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.ingest.store_state import store_fingerprint
from winloss.cli.main import main
from winloss.csv_safety import neutralise_cell, neutralise_csv_text

DEALS = (
    "deal_id,outcome,created_at,amount,account_name,delta\n"
    "a,won,2026-01-01,100,Acme,-5\nb,lost,2026-01-05,50,Beta,3\n"
    "c,Pending,2026-02-01,70,Gamma,-1\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``winloss ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # --check exits 1 when it finds problems
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _deals(tmp_path: Path, text: str = DEALS) -> Path:
    path = tmp_path / "d.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("notes.csv", b"a,b\n1,2\n", "not a DuckDB file"),
        ("deals.parquet", b"PAR1\x00\x00" + b"x" * 64, "a Parquet file"),
        ("empty.duckdb", b"", "an empty file"),
        ("book.xlsx", b"PK\x03\x04" + b"x" * 64, "a zip file"),
    ],
)
def test_a_db_that_is_not_a_store_is_refused_and_left_untouched(
    tmp_path: Path, name: str, content: bytes, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / name
    db.write_bytes(content)
    for args in (("import", "deals", str(_deals(tmp_path))), ("info",), ("deals",)):
        code, out, err = run(capsys, "--db", str(db), *args)
        assert code == 1, err
        assert "is not a winloss store" in err and kind in err and "left untouched" in err
        assert db.read_bytes() == content


def test_a_db_in_a_missing_folder_is_an_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "typo" / "dir" / "x.duckdb"
    for args, exit_code in ((("info",), 2), (("import", "deals", str(_deals(tmp_path))), 1)):
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code == exit_code
        assert "does not exist" in err and str(db.parent) in err
    assert not (tmp_path / "typo").exists()


def test_analysis_commands_on_a_mistyped_db_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stranger's typo in --db made `analyze` and `forecast` create an empty 800 KB store and
    then complain about 0 closed deals."""
    db = tmp_path / "tpyo.duckdb"
    every_reader = (
        ("analyze",),
        ("forecast",),
        ("plan",),
        ("report",),
        ("model", "evaluate"),
        ("bowtie",),
        ("committee",),
        ("plg",),
        ("deals",),
        ("info",),
        ("paths",),
        ("paths", "markov"),
        ("next-action", "--all"),
        ("simulate",),
        ("captures", "plan"),
        ("user", "list"),
    )
    for args in every_reader:
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code == 2, (args, err)
        assert f"no store at {db}" in err and "winloss import deals" in err
    assert not db.exists()
    # importing still creates it
    code, _, err = run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path)))
    assert code == 0, err
    assert db.exists()


def test_a_failed_first_import_leaves_no_store_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "new.duckdb"
    log = tmp_path / "log.csv"
    log.write_text("id,step,when\nc1,A,2025-01-01\nc1,Paid,2025-01-02\n")
    code, _, err = run(capsys, "--db", str(db), "paths", "import", str(log), "--won", "Paid",
                       "--lost", "Lost")  # fmt: skip
    assert code == 1 and "name them with --case" in err
    code, _, err = run(capsys, "--db", str(db), "import", "deals", str(log))
    assert code == 1 and "no outcome column" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]
    # a failed import into an existing store keeps the store and what it holds
    code, _, err = run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path)))
    assert code == 0, err
    before = store_fingerprint(db)
    code, _, err = run(capsys, "--db", str(db), "import", "deals", str(log))
    assert code == 1
    assert store_fingerprint(db) == before


def test_check_on_a_fresh_store_writes_nothing_and_shows_outcome_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "fresh.duckdb"
    code, _, err = run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path)), "--check")
    assert code == 0, err
    assert "it would import 3 row(s): 1 won / 1 lost / 1 open" in err
    assert not db.exists() and not Path(str(db) + ".wal").exists()


def test_import_summary_shows_won_lost_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "--db",
        str(tmp_path / "s.duckdb"),
        "import",
        "deals",
        str(_deals(tmp_path)),
        "--format",
        "json",
    )
    assert code == 0, err
    assert "1 won / 1 lost / 1 open" in err
    assert json.loads(out)["outcomes"] == {"won": 1, "lost": 1, "open": 1}


def test_read_commands_open_the_store_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    assert run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path)))[0] == 0
    before, raw = store_fingerprint(db), db.read_bytes()
    for args in (("info",), ("deals", "--format", "csv"), ("info", "--format", "json")):
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code == 0, err
    assert store_fingerprint(db) == before and db.read_bytes() == raw
    missing = tmp_path / "none.duckdb"
    code, out, err = run(capsys, "--db", str(missing), "info", "--format", "json")
    assert code == 2 and out == "" and f"no store at {missing}" in err  # not "0 deals"
    assert not missing.exists()  # reading does not create a store


def test_a_read_only_store_file_serves_info_and_deals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from winloss import Workspace

    db = tmp_path / "s.duckdb"
    assert run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path)))[0] == 0
    with Workspace(db, read_only=True) as ws:
        assert ws.store.con.execute("SELECT current_setting('access_mode')").fetchone() == (
            "read_only",
        )
        assert sorted(ws.deals()["deal_id"]) == ["a", "b", "c"]
        assert ws.info()["tables"]["deals"] == 3


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "header-zeroed":
        data[:64] = bytes(64)
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "header-zeroed"])
def test_a_damaged_store_is_a_clear_error_and_never_written(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    big = "deal_id,outcome,created_at,amount\n" + "".join(
        f"d{i},won,2026-01-01,{i}\n" for i in range(50_000)
    )
    assert run(capsys, "--db", str(db), "import", "deals", str(_deals(tmp_path, big)))[0] == 0
    _damage(db, how)
    damaged = db.read_bytes()
    for args in (("info",), ("import", "deals", str(_deals(tmp_path)))):
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code == 1
        assert "unexpected" not in err
        assert ("damaged" in err or "not a winloss store" in err) and "untouched" in err
        assert db.read_bytes() == damaged


def test_csv_exports_neutralise_formula_cells_but_not_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.duckdb")
    text = (
        "deal_id,outcome,created_at,amount,account_name,delta\n"
        'a,won,2026-01-01,100,"=HYPERLINK(""http://x"",""y"")",-5\n'
        "b,lost,2026-01-05,50,+cmd|' /C calc'!A0,3\n"
        "c,won,2026-02-01,70,@SUM(A1),-1\n"
        'd,won,2026-02-01,70,"\tTAB",2\n'
        "-e,won,2026-02-01,70,-1+1,4\n"
    )
    assert run(capsys, "--db", db, "import", "deals", str(_deals(tmp_path, text)))[0] == 0
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "deals",
        "--format",
        "csv",
        "--columns",
        "deal_id,account_name,amount,delta",
    )
    assert code == 0
    rows = {r["deal_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["a"]["account_name"] == '\'=HYPERLINK("http://x","y")'
    assert rows["b"]["account_name"] == "'+cmd|' /C calc'!A0"
    assert rows["c"]["account_name"] == "'@SUM(A1)"
    assert rows["d"]["account_name"] == "TAB"  # import strips the tab; the unit test covers it
    assert rows["'-e"]["account_name"] == "'-1+1"
    assert rows["a"]["delta"] == "-5" and rows["a"]["amount"] == "100.0"  # numbers untouched
    bad = text.replace("a,won,", "a,maybe,")
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "import",
        "deals",
        str(_deals(tmp_path, bad)),
        "--check",
        "--format",
        "csv",
    )
    assert code == 1
    checked = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert not checked.map(lambda v: v[:1] in "=+-@\t\r" if v else False).any().any()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e3", "-1e3"),
        ("plain", "plain"),
        ("", ""),
        ("-", "'-"),
    ],
)
def test_neutralise_cell(value: str, expected: str) -> None:
    assert neutralise_cell(value) == expected


def test_ready_made_csv_text_is_neutralised_cell_by_cell() -> None:
    text = 'key,title\nr1,"=cmd, ""x"""\nr2,-5\n'
    assert neutralise_csv_text(text) == 'key,title\nr1,"\'=cmd, ""x"""\nr2,-5\n'


def test_check_lists_invalid_values_and_duplicate_ids_in_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with both kinds of problem is reported whole: fixing one kind never reveals the other."""
    text = (
        "deal_id,outcome,created_at,amount,account_name\n"
        "a,maybe,2026-01-01,100,Acme\n"  # row 2: an outcome that is neither won, lost nor open
        "b,lost,2026-01-05,50,Beta\n"  # rows 3 and 4: the same id twice
        "b,won,2026-01-06,60,Beta\n"
        "c,won,2026-02-01,70,Gamma\n"
    )
    db = str(tmp_path / "w.duckdb")
    path = _deals(tmp_path, text)
    code, out, _ = run(
        capsys, "--db", db, "import", "deals", str(path), "--check", "--format", "csv"
    )
    assert code == 1
    checked = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    invalid = checked[checked["kind"] == "invalid value"]
    duplicate = checked[checked["kind"] == "duplicate id"]
    assert list(invalid["row"]) == ["2"] and list(invalid["column"]) == ["outcome"]
    assert sorted(duplicate["row"]) == ["3", "4"] and set(duplicate["value"]) == {"b"}
    # the import itself refuses the file, names the invalid cell and says duplicates exist too
    code, _, err = run(capsys, "--db", db, "import", "deals", str(path))
    assert code != 0
    assert "row 2" in err and "outcome" in err
    assert "Also 1 id(s) on more than one row" in err and "Nothing was imported" in err


def test_a_command_reading_a_file_never_says_it_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _deals(tmp_path, DEALS.replace("a,won,", "a,maybe,"))
    code, _, err = run(capsys, "--db", str(tmp_path / "w.duckdb"), "model", "evaluate", str(bad))
    assert code != 0
    assert "row 2" in err and "Nothing was analysed." in err and "imported" not in err
    assert not (tmp_path / "w.duckdb").exists()


def test_json_dates_read_like_the_table_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "w.duckdb")
    run(capsys, "--db", db, "import", "deals", str(_deals(tmp_path)))
    code, out, _ = run(capsys, "--db", db, "deals", "--format", "json")
    assert code == 0
    dates = {r["deal_id"]: r["created_at"] for r in json.loads(out)}
    assert dates == {"a": "2026-01-01", "b": "2026-01-05", "c": "2026-02-01"}


def test_check_lists_orphans_beside_invalid_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A captures file with a bad value and a row naming an unknown deal: --check listed the
    orphan only once the bad value was fixed."""
    db = str(tmp_path / "w.duckdb")
    deals = _deals(
        tmp_path,
        "deal_id,outcome,created_at,closed_at\nD1,won,2026-01-01,2026-02-01\n"
        "D2,lost,2026-01-02,2026-02-02\n",
    )
    assert run(capsys, "--db", db, "import", "deals", str(deals))[0] == 0
    caps = tmp_path / "caps.csv"
    caps.write_text(
        "deal_id,captured_at,respondent,primary_reason,stakeholders\n"
        "D1,2026-02-05,rep,Fit,3\n"
        "D9,2026-02-05,rep,Fit,x\n"  # row 3: unknown deal and a bad number
        "D2,2026-02-06,rep,Price,two\n"  # row 4: a bad number
        "D8,2026-02-06,rep,Price,1\n",  # row 5: unknown deal
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys, "--db", db, "import", "captures", str(caps), "--check", "--format", "csv"
    )
    assert code == 1
    checked = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(zip(checked["kind"], checked["row"], checked["value"], strict=True)) == [
        ("orphan", "3", "D9"),
        ("invalid value", "3", "x"),
        ("invalid value", "4", "two"),
        ("orphan", "5", "D8"),
    ]
    # with a policy for orphans, only the invalid values remain
    code, out, _ = run(
        capsys, "--db", db, "import", "captures", str(caps), "--check", "--on-orphan", "skip",
        "--format", "csv",
    )  # fmt: skip
    checked = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert set(checked["kind"]) == {"invalid value"}
