"""``winloss paths`` and ``winloss captures sources`` in-process: unknown filter values are errors
that name the value and list what exists, not empty tables with exit code 0."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from winloss import Workspace
from winloss.cli.main import main


@pytest.fixture(scope="module")
def store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo store: the commands open it for writing."""
    target = tmp_path_factory.mktemp("paths-cli") / "demo.duckdb"
    shutil.copy(demo_store, target)
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``winloss ARGS`` through the real entry point (errors become exit codes)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "command",
    [("paths",), ("paths", "--edges"), ("paths", "markov"), ("paths", "evaluate")],
)
def test_unknown_segment_is_a_usage_error_listing_the_segments(
    store: Path, command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", str(store), *command, "--segment", "Nope")
    assert code == 2, (out, err)
    assert out == ""
    assert "'Nope'" in err
    ws = Workspace(store, read_only=True)
    segments = sorted(ws.deals()["segment"].dropna().unique())
    ws.close()
    assert len(segments) >= 2
    for segment in segments:
        assert repr(segment) in err


def test_known_segment_still_filters(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "--db", str(store), "paths", "--segment", "SMB", "--nodes", "--format", "csv"
    )
    assert code == 0, err
    nodes = pd.read_csv(io.StringIO(out)).set_index("node")
    ws = Workspace(store, read_only=True)
    deals = ws.deals()
    acts = ws.table("activities")
    ws.close()
    smb = deals[(deals["segment"] == "SMB") & deals["deal_id"].isin(acts["deal_id"])]
    assert nodes.loc["(start)", "deals"] == len(smb)


def test_nodes_and_edges_flags_exclude_each_other(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--db", str(store), "paths", "--nodes", "--edges")
    assert code == 2 and "not both" in err


def test_captures_sources_of_an_unknown_deal_is_a_usage_error(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", str(store), "captures", "sources", "--deal", "D-NOPE")
    assert code == 2, (out, err)
    assert out == ""
    assert "no deal 'D-NOPE'" in err and "winloss deals" in err
    # a near miss is answered with the closest ids
    code, _, err = run(capsys, "--db", str(store), "captures", "sources", "--deal", "D-0000011")
    assert code == 2 and "D-000011" in err


def test_captures_sources_of_a_known_deal_lists_its_fields(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace(store, read_only=True)
    deal_id = str(ws.deals(closed_only=True)["deal_id"].iloc[0])
    ws.close()
    code, out, err = run(
        capsys, "--db", str(store), "captures", "sources", "--deal", deal_id, "--format", "csv"
    )
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert len(frame) > 0 and set(frame["deal_id"]) == {deal_id}


def test_one_bootstrap_default_for_every_place_that_shows_the_chains() -> None:
    """The demo (50), the report (100) and the CLI (200) once printed three q-values for one
    micro-action: every place now uses the chains' default."""
    import inspect

    from winloss.analyze.paths.analysis import BOOTSTRAP, PathChains
    from winloss.cli.paths_commands import markov
    from winloss.demo import steps
    from winloss.report.sections import paths as paths_section
    from winloss.web import routes_next

    cli_default = next(p.default for p in markov.params if p.name == "bootstrap")
    assert cli_default == BOOTSTRAP == PathChains().bootstrap
    assert routes_next.BOOTSTRAP == BOOTSTRAP
    for module in (steps, paths_section):
        assert "bootstrap=" not in inspect.getsource(module).replace("bootstrap=BOOTSTRAP", "")
