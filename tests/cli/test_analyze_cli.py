"""``winloss analyze`` on the store and on a file, driven in-process through click's runner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.analyze.planted import planted_deals
from tests.cli.runner import run
from winloss import Workspace
from winloss.cli.main import main
from winloss.errors import UsageError, ValidationError


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analyze") / "w.duckdb"
    ws = Workspace(path)
    ws.import_deals(planted_deals(4000, seed=21))
    ws.close()
    return path


def test_store_mode_json_follows_the_documented_shape(store: Path) -> None:
    code, out, err = run("--db", str(store), "analyze", "--format", "json", "--no-record")
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == "all" and data["deals"] == 4000
    assert data["hypotheses_tested"] > 1000
    assert data["findings"] and all(f["q_value"] <= 0.05 for f in data["findings"])
    fields = {c["field"] for f in data["findings"] for c in f["conditions"]}
    assert {"pain_category", "stakeholders"} <= fields


def test_store_mode_quarter_records_the_register(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ws = Workspace(db)
    ws.import_deals(planted_deals(12000, seed=21))
    ws.close()
    code, out, err = run(
        "--db", str(db), "analyze", "--quarter", "2025Q4", "--segment", "SMB", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == "2025Q4" and data["filters"]["segment"] == "SMB"
    assert data["findings"] and data["register"]
    assert {f["register_status"] for f in data["findings"]} <= {
        "new",
        "stronger",
        "weaker",
        "steady",
    }
    ws = Workspace(db)
    rows = ws.store.con.execute(
        "SELECT period, count(*) FROM findings_register GROUP BY 1"
    ).fetchall()
    ws.close()
    assert rows == [("2025Q4 segment=SMB", len(data["register"]))]


def test_store_mode_table_and_csv(store: Path) -> None:
    code, out, err = run("--db", str(store), "analyze", "--no-record")
    assert code == 0, err
    assert "closed deals" in err and "hypotheses tested" in err  # messages on stderr
    assert "F1. Deals " in out and "95 % CI" in out
    code, out, _ = run(
        "--db", str(store), "analyze", "--format", "csv", "--no-record", "--depth", "1"
    )
    frame = pd.read_csv(io.StringIO(out))
    assert {"id", "finding", "direction", "n", "win_rate", "q_value", "statement"} <= set(
        frame.columns
    )
    assert len(frame) >= 3 and not frame["finding"].str.contains("&").any()


def test_file_mode_with_a_column_mapping_and_won_value(tmp_path: Path) -> None:
    deals = planted_deals(3000, seed=4).drop(columns=["deal_id", "created_at", "closed_at"])
    deals = deals.rename(columns={"outcome": "Closed As", "pain_category": "Main Pain"})
    deals["Closed As"] = deals["Closed As"].map({"won": "Signed", "lost": "No deal"})
    path = tmp_path / "deals.csv"
    deals.to_csv(path, index=False)
    code, out, err = run(
        "analyze",
        str(path),
        "--column",
        "outcome=Closed As",
        "--column",
        "pain_category=Main Pain",
        "--won-value",
        "Signed",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["deals"] == 3000
    assert any("quarter-over-quarter" in n for n in data["notes"])
    ux = [
        f
        for f in data["findings"]
        if f["conditions"] == [{"field": "pain_category", "op": "==", "value": "ux"}]
    ]
    assert ux and ux[0]["direction"] == "loss" and ux[0]["quarters_seen"] is None


def test_mapping_options_without_a_file_are_a_usage_error(store: Path) -> None:
    assert main(["--db", str(store), "analyze", "--won-value", "Won"]) == 2


def test_too_few_deals_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.csv"
    planted_deals(10, seed=1).to_csv(path, index=False)
    assert main(["analyze", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: only 10 closed deal(s)") and "\n" not in err


def _dated_file(path: Path, day_first: bool) -> Path:
    """A CRM-like export whose dates are all ambiguous except some with a day above 12."""
    rows = ["Opportunity ID,Stage,Amount,Created Date,Close Date,Segment"]
    for i in range(120):
        created = pd.Timestamp("2025-01-01") + pd.Timedelta(days=(i * 7) % 300)
        closed = created + pd.Timedelta(days=20 + i % 60)
        fmt = "%d/%m/%Y" if day_first else "%m/%d/%Y"
        segment = "SMB" if i % 3 else "ENT"
        stage = "Closed Won" if (i % 2 == 0) == (segment == "ENT") or i % 5 == 0 else "Closed Lost"
        rows.append(
            f"OPP{i},{stage},{1000 * (1 + i % 40)},{created:{fmt}},{closed:{fmt}},{segment}"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def test_analyze_file_takes_the_date_order(tmp_path: Path) -> None:
    path = _dated_file(tmp_path / "dmy.csv", day_first=True)
    frame = pd.read_csv(path)
    closes = pd.to_datetime(frame["Close Date"], format="%d/%m/%Y")
    code, out, err = run("analyze", str(path), "--day-first", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["inputs"]["n"] == len(frame)
    first, last = str(closes.min().to_period("Q")), str(closes.max().to_period("Q"))
    assert result["quarters"][0] == first and result["quarters"][-1] == last
    # the stated order is binding: month-first on day-first dates is an error naming a cell
    with pytest.raises(ValidationError) as raised:
        run("analyze", str(path), "--month-first")
    assert "not a month-first date" in str(raised.value)
    assert "column 'Created Date'" in str(raised.value)
    # and the flags apply to a FILE only
    with pytest.raises(UsageError, match="apply to a FILE"):
        run("analyze", "--day-first")


def test_too_few_deals_advice_fits_the_filter_and_an_inverted_period_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze --segment SMB` on a store without segments said "only 0 closed deal(s) in all;
    … widen the period", and `--since` after `--until` was accepted with the same advice."""

    csv = tmp_path / "d.csv"
    csv.write_text(
        "deal_id,outcome,created_at,closed_at,region\n"
        + "".join(
            f"d{i},{'won' if i % 3 else 'lost'},2026-01-01,2026-02-01,{'n' if i % 2 else 's'}\n"
            for i in range(40)
        )
    )
    db = str(tmp_path / "w.duckdb")
    assert main(["--db", db, "import", "deals", str(csv)]) == 0
    capsys.readouterr()
    main(["--db", db, "analyze", "--segment", "SMB"])
    err = capsys.readouterr().err
    assert "only 0 closed deal(s);" in err and "drop or change the filter (segment 'SMB')" in err
    assert "widen the period" not in err
    assert main(["--db", db, "analyze", "--since", "2026-03-01", "--until", "2026-01-01"]) == 2
    assert "--since 2026-03-01 is after --until 2026-01-01" in capsys.readouterr().err


def test_bowtie_and_simulate_refuse_an_inverted_period(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bowtie --since 2026-09-01 --until 2026-06-01` printed all-zero stages beside the
    unfiltered NRR."""
    db = str(tmp_path / "w.duckdb")
    csv = tmp_path / "d.csv"
    csv.write_text("deal_id,outcome,created_at,closed_at\na,won,2026-01-01,2026-02-01\n")
    assert main(["--db", db, "import", "deals", str(csv)]) == 0
    capsys.readouterr()
    for command in ("bowtie", "simulate"):
        code = main(["--db", db, command, "--since", "2026-09-01", "--until", "2026-06-01"])
        assert code == 2
        assert "--since 2026-09-01 is after --until 2026-06-01" in capsys.readouterr().err
