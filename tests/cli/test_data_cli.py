"""The CLI's data commands, driven in-process through click's runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.runner import run
from winloss.cli.main import COMMANDS, cli, main
from winloss.model.schema import DEALS


def test_template_prints_the_documented_columns() -> None:
    code, out, _ = run("template", "deals")
    assert code == 0
    assert out.strip().split(",") == list(DEALS.names)


def test_import_info_and_deals_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,amount,segment\n"
        "a,won,2026-01-01,2026-02-01,100,SMB\nb,lost,2026-01-05,2026-03-01,50,SMB\n"
        "c,open,2026-03-01,,70,Enterprise\n"
    )
    code, out, err = run("--db", db, "import", "deals", str(csv), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["inserted"] == 3
    assert "imported 3 rows" in err  # messages go to stderr, data to stdout
    code, out, _ = run("--db", db, "deals", "--format", "json", "--outcome", "won")
    assert [d["deal_id"] for d in json.loads(out)] == ["a"]
    code, out, _ = run("--db", db, "deals", "--format", "csv", "--columns", "deal_id,amount")
    assert out.splitlines() == ["deal_id,amount", "a,100.0", "b,50.0", "c,70.0"]
    code, out, _ = run("--db", db, "info", "--format", "json")
    info = json.loads(out)
    assert info["tables"]["deals"] == 3 and info["outcomes"] == {"lost": 1, "open": 1, "won": 1}
    assert info["quarters"] == ["2026Q1"]


def test_errors_are_one_line_with_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "w.duckdb")
    bad = tmp_path / "bad.csv"
    bad.write_text("deal_id,outcome,created_at\na,won,someday\n")
    assert main(["--db", db, "import", "deals", str(bad)]) == 1
    assert not Path(db).exists()  # a failed first import leaves no empty store behind
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert "row 2" in err and "'created_at'" in err
    assert main(["--db", db, "import", "deals", str(tmp_path / "missing.csv")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["--db", db, "deals", "--quarter", "Q9"]) == 2  # usage error
    assert main(["--db", db, "nonsense"]) == 2


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in COMMANDS:
        assert f"winloss {name}" in readme, f"`winloss {name}` is not documented in README.md"


def test_readme_data_model_is_generated_from_the_schema() -> None:
    from winloss.model.schema import data_model_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert data_model_markdown() in readme, (
        "README data model is stale: run `winloss schema --markdown` and paste it into the README"
    )


def test_help_does_not_import_heavy_libraries() -> None:
    """`winloss --help` must stay fast: no pandas, DuckDB, numpy or sklearn at import."""
    code = (
        "import sys; from winloss.cli.main import main; "
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): rc = main(['--help'])\n"
        "heavy = [m for m in ('pandas', 'duckdb', 'numpy', 'sklearn', 'scipy') "
        "if m in sys.modules]\n"
        "print(rc, heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "0 []"


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "winloss", "template", "stages"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "deal_id,stage,entered_at,close_date,amount"


def test_ci_runs_the_readme_test_command() -> None:
    root = Path(__file__).resolve().parents[2]
    lines = (root / "README.md").read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    install_and_demo, install_and_test = lines.strip().splitlines()
    assert "winloss demo" in install_and_demo
    assert install_and_test in (root / ".ci" / "run").read_text()


def test_import_check_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    f = tmp_path / "d.csv"
    f.write_text(
        "deal_id,outcome,created_at\na,won,2026-01-01\nb,lost,2026-01-02\n"
        "a,lost,2026-01-03\nc,won,2026-01-04\nc,won,2026-01-05\nc,won,2026-01-06\n"
    )
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", db, "import", "deals", str(f), "--check", "--format", "json"]
    )
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert sorted((r["value"], r["row"]) for r in rows) == [
        ("a", 2),
        ("a", 4),
        ("c", 5),
        ("c", 6),
        ("c", 7),
    ]
    assert "nothing was imported" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("deal_id,outcome,created_at\na,won,someday\nb,maybe,2026-01-01\n")
    result = runner.invoke(
        cli, ["--db", db, "import", "deals", str(bad), "--check", "--format", "json"]
    )
    rows = json.loads(result.stdout)
    assert {(r["row"], r["column"]) for r in rows} == {(2, "created_at"), (3, "outcome")}
    ok = runner.invoke(
        cli,
        [
            "--db",
            db,
            "import",
            "deals",
            str(bad).replace("bad", "d"),
            "--check",
            "--on-duplicate",
            "keep-last",
        ],
    )
    assert ok.exit_code == 0 and "no problems" in ok.stderr
    from winloss import Workspace

    assert Workspace(db).store.count("deals") == 0


def test_settings_fiscal_year_start_moves_quarters(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text("deal_id,outcome,created_at,closed_at\na,won,2025-03-01,2025-04-15\n")
    run("--db", db, "import", "deals", str(csv))
    code, out, _ = run("--db", db, "settings", "--fiscal-year-start", "4", "--format", "json")
    assert code == 0 and json.loads(out)["fiscal_year_start_month"] == 4
    _, out, _ = run("--db", db, "deals", "--format", "json", "--columns", "deal_id,quarter")
    assert json.loads(out) == [{"deal_id": "a", "quarter": "2026Q1"}]


def test_deals_filters_say_why_nothing_matched_and_open_deals_have_no_cycle(
    tmp_path: Path,
) -> None:
    """A trial: `--owner "maria lopez"` printed only "0 deal(s)", `--limit -1` was accepted,
    and an open deal showed a 403-day cycle from its expected close date."""
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,owner\n"
        "a,won,2026-01-01,2026-02-01,Maria Lopez\nb,lost,2026-01-05,2026-03-01,Bo\n"
        "c,open,2026-01-10,2026-03-20,Bo\n"
    )
    assert run("--db", db, "import", "deals", str(csv))[0] == 0
    code, out, err = run("--db", db, "deals", "--owner", "maria lopez")
    assert code == 0 and "0 deal(s)" in err
    # the same name in another case is offered, and names are quoted (a doubled space shows)
    assert (
        "no deal has owner 'maria lopez'; did you mean 'Maria Lopez'? owners in the store: "
        "'Bo', 'Maria Lopez'"
    ) in " ".join(err.split())
    code, _, err = run("--db", db, "deals", "--segment", "SMB")
    assert "no deal has a segment" in err
    code, _, err = run("--db", db, "deals", "--limit", "-1")
    assert code == 2 and "-1 is not in the range" in err
    code, out, _ = run(
        "--db", db, "deals", "--quarter", "2026Q1", "--format", "json", "--columns",
        "deal_id,outcome,cycle_days",
    )  # fmt: skip
    rows = {d["deal_id"]: d for d in json.loads(out)}
    assert set(rows) == {"a", "b", "c"}  # the help: closed in it, or open and due in it
    assert rows["a"]["cycle_days"] == 31 and rows["c"]["cycle_days"] is None


def test_import_check_says_what_the_import_would_note(tmp_path: Path) -> None:
    """Maven's sales_pipeline.csv copied away from its lookup files: --check said "no
    problems" while the import said that accounts, products and teams were not found."""
    f = tmp_path / "sales_pipeline.csv"
    f.write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
        "close_value\n"
        "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\n"
        "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Lost,2016-10-25,2017-03-11,0\n"
    )
    db = str(tmp_path / "w.duckdb")
    code, _, err = run("--db", db, "import", "deals", str(f), "--check")
    assert code == 0 and "no problems" in err
    assert "note: lookup file accounts.csv not found beside the import" in err


def test_a_failing_check_still_says_how_other_values_were_read(tmp_path: Path) -> None:
    """A failing --check listed the bad cells but dropped the notes of how the other values
    were read (here: day-first dates), which a clean check and the import both print."""
    f = tmp_path / "d.csv"
    f.write_text(
        "deal_id,outcome,created_at,closed_at,amount\n"
        "a,won,31/01/2026,15/03/2026,100\n"
        "b,lost,02/02/2026,20/03/2026,lots\n"
    )
    db = str(tmp_path / "w.duckdb")
    code, out, err = run("--db", db, "import", "deals", str(f), "--check")
    assert code == 1
    assert "note: dates are day-first" in err
    assert "lots" in out + err  # the problem is listed too
    assert not Path(db).exists()  # and nothing was written


def test_import_says_each_note_once_and_names_the_custom_fields(tmp_path: Path) -> None:
    """The console import used to print a key/value table after the summary that repeated
    every note, the counts and the outcomes; the people's format now says each once."""
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,amount,Partner Tier\n"
        "a,won,2026-01-01,2026-02-01,100,Gold\nb,lost,2026-01-05,2026-03-01,50,Silver\n"
        "c,open,,,70,Gold\n"
    )
    code, out, err = run("--db", db, "import", "deals", str(csv))
    assert code == 0, err
    both = out + err
    assert both.count("have no created date") == 1
    assert both.count("imported 3 rows") == 1
    assert "custom fields: partner_tier" in err
    assert "rows_read" not in both  # no raw key dump
    code, out, err = run("--db", db, "import", "deals", str(csv), "--format", "json")
    data = json.loads(out)  # automation still gets every figure
    assert data["custom_fields"] == ["partner_tier"] and data["updated"] == 3


def test_demo_never_deletes_imported_data_nor_mixes_into_existing_deals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`winloss demo` deleted whatever store --db named (a user's imported CRM data included), and
    `demo --keep` wrote the demo company over existing deal ids, adding its contacts and stage
    history on top (798 → 1,027 stakeholders for 300 deals)."""
    db = tmp_path / "crm.duckdb"
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at\n"
        "a,won,2026-01-01,2026-02-01\nb,lost,2026-01-05,2026-03-01\n"
    )
    assert main(["--db", str(db), "import", "deals", str(csv)]) == 0
    before = db.read_bytes()
    capsys.readouterr()
    assert main(["--db", str(db), "demo", "--deals", "300"]) == 2
    err = capsys.readouterr().err
    assert "holds data imported from" in err and "d.csv" in err and "--db demo.duckdb" in err
    assert main(["--db", str(db), "demo", "--deals", "300", "--keep"]) == 2
    assert "already holds 2 deals" in capsys.readouterr().err
    assert db.read_bytes() == before  # nothing deleted, nothing written


def test_check_says_how_many_bad_values_there_are_beyond_those_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """IBM's file with the wrong --won-value has 17,548 bad outcomes; --check said "1,000
    problem(s)" (the listed ones) as if that were all of them."""
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at\n"
        + "".join(f"d{i},{'maybe' if i < 1500 else 'won'},2026-01-01\n" for i in range(1600))
    )
    db = str(tmp_path / "w.duckdb")
    code, out, err = run("--db", db, "import", "deals", str(csv), "--check", "--format", "json")
    assert code == 1
    assert "1,500 problem(s) (1,500 invalid value; the first 1,000" in err
    assert len(json.loads(out)) == 1000
    assert main(["--db", db, "import", "deals", str(csv)]) == 1
    assert "1,500 invalid value(s) (the first 1,000 kept" in capsys.readouterr().err


def test_bad_mapping_files_and_missing_output_folders_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A YAML mapping with a syntax error printed "unexpected ParserError … please report it";
    `plan -o /no/such/dir/p.csv` computed the whole plan, then failed with FileNotFoundError."""
    csv = tmp_path / "d.csv"
    csv.write_text("deal_id,outcome\na,won\n")
    db = str(tmp_path / "w.duckdb")
    yaml_file = tmp_path / "m.yaml"
    yaml_file.write_text("columns:\n  owner: [Owner\n")
    assert main(["--db", db, "import", "deals", str(csv), "--mapping", str(yaml_file)]) == 2
    err = capsys.readouterr().err
    assert "m.yaml, line 3" in err and "not valid YAML" in err and "unexpected" not in err
    json_file = tmp_path / "m.json"
    json_file.write_text('{"columns": {"owner": }')
    assert main(["--db", db, "import", "deals", str(csv), "--mapping", str(json_file)]) == 2
    assert "m.json, line 1, column 23: not valid JSON" in capsys.readouterr().err
    missing = str(tmp_path / "nowhere" / "p.csv")
    assert main(["--db", db, "plan", "-o", missing]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err
    assert main(["--db", db, "report", "-o", str(tmp_path / "nowhere" / "r.html")]) == 2
    assert not Path(db).exists()  # refused before any store was opened or created


def test_console_tables_show_crm_text_in_brackets_as_typed(tmp_path: Path) -> None:
    """Rich read "[high] renewal" as a style and dropped "[high]"; "[/x]" stopped the command
    with a markup error. The console shows a CRM value as it is, in tables and in `info`."""
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,account_name,segment,[tier]\n"
        "a,won,2026-01-01,2026-02-01,[high] renewal,SMB,1\n"
        "b,lost,2026-01-05,2026-03-01,Acme [/x] Ltd,SMB,2\n"
    )
    code, _, err = run("--db", db, "import", "deals", str(csv))
    assert code == 0, err
    code, out, err = run("--db", db, "deals", "--columns", "deal_id,account_name")
    assert code == 0, err
    assert "[high] renewal" in out and "Acme [/x] Ltd" in out
    code, out, err = run("--db", db, "info")
    assert code == 0, err


def test_a_mapping_file_adds_to_the_preset_named_on_the_command_line(tmp_path: Path) -> None:
    """`--preset maven-crm --mapping fix.yaml` (only value_maps in the file) lost the preset's
    columns: "no outcome column found". A file naming another preset is refused."""
    csv = tmp_path / "sales_pipeline.csv"
    csv.write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "X1,Ann,GTXPro,Acme,Won,2017-01-02,2017-02-03,1000\n"
        "X2,Bob,MG Special,Beta,Lost,2017-01-05,2017-03-01,0\n"
    )
    fix = tmp_path / "fix.yaml"
    fix.write_text("value_maps:\n  product:\n    GTXPro: GTX Pro\n")
    db = str(tmp_path / "w.duckdb")
    code, _, err = run(
        "--db", db, "import", "deals", str(csv), "--preset", "maven-crm", "--mapping", str(fix)
    )
    assert code == 0, err
    code, out, _ = run(
        "--db", db, "deals", "--format", "csv", "--columns", "deal_id,product,outcome"
    )
    assert out.splitlines()[1:] == ["X1,GTX Pro,won", "X2,MG Special,lost"]
    other = tmp_path / "other.yaml"
    other.write_text("preset: hubspot\n")
    args = ["--db", db, "import", "deals", str(csv), "--preset", "maven-crm", "--mapping"]
    assert main([*args, str(other)]) == 2
