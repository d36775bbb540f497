"""`winloss user add/list`, `winloss captures agreement|plan|sources|precedence`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run
from tests.web.conftest import build_store
from winloss.errors import UsageError
from winloss.workspace import Workspace


def test_user_add_and_list(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    build_store(db)
    code, _out, err = run(
        "--db",
        str(db),
        "user",
        "add",
        "cara",
        "--role",
        "rep",
        "--owner",
        "Ann Lee",
        "--password",
        "cara-pass-1",
    )
    assert code == 0, err
    assert "user cara (rep, Ann Lee) saved" in err
    # adding an existing name replaces the account: said, not a silent "saved"
    code, _out, err = run(
        "--db", str(db), "user", "add", "ann", "--role", "manager", "--password", "ann-pass-99"
    )
    assert code == 0 and "user ann (manager) replaced" in err
    with Workspace(db) as ws:
        row = ws.user("cara")
    assert row is not None and row["owner_name"] == "Ann Lee"
    assert row["password_hash"].startswith("$argon2id$")
    with pytest.raises(UsageError, match="no deal has owner 'Nobody'"):
        run(
            "--db",
            str(db),
            "user",
            "add",
            "dan",
            "--role",
            "rep",
            "--owner",
            "Nobody",
            "--password",
            "dan-pass-12",
        )
    with pytest.raises(UsageError, match="at least 8 characters"):
        run("--db", str(db), "user", "add", "eve", "--role", "manager", "--password", "short")
    code, out, _err = run("--db", str(db), "user", "list", "--format", "json")
    users = json.loads(out)
    assert {u["username"] for u in users} == {"root", "boss", "ann", "bob", "cara"}
    assert all("password_hash" not in u for u in users)


def test_captures_commands(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    build_store(db)
    code, out, err = run("--db", str(db), "captures", "agreement", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    reason = next(f for f in data["fields"] if f["field"] == "primary_reason")
    assert (reason["deals"], reason["agree"]) == (1, 0)  # B1: rep Price, buyer Timing
    code, out, err = run(
        "--db", str(db), "captures", "plan", "--today", "2024-03-20", "--format", "json"
    )
    assert code == 0, err
    assert {d["deal_id"] for d in json.loads(out)["deals"]} == {"A1", "A2", "B2", "B3"}
    code, out, _ = run("--db", str(db), "captures", "sources", "--deal", "B1", "--format", "json")
    src = {r["field"]: r["source"] for r in json.loads(out)}
    assert src["pain_category"] == "buyer" and src["loss_reason"] == "buyer"
    code, out, _ = run("--db", str(db), "captures", "precedence", "rep,buyer,crm")
    assert code == 0 and out.strip() == "rep,buyer,crm"
    with Workspace(db) as ws:
        assert ws.deal("B1")["pain_category"] == "cost"  # the rep's answer now wins
    with pytest.raises(UsageError, match="precedence"):
        run("--db", str(db), "captures", "precedence", "rep,boss")


def test_serve_removes_its_store_copies_when_stopped(tmp_path: Path) -> None:
    """A service manager stops `winloss serve` with SIGTERM: the dashboards' private copies of
    the store were left in the temporary folder."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    db = tmp_path / "w.duckdb"
    build_store(db)
    temp = tmp_path / "tmp"
    temp.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TMPDIR": str(temp)}
    code = "import sys; from winloss.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--db", str(db), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while not list(temp.glob("winloss-dashboards-*")):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the dashboards were never warmed"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(temp.glob("winloss-dashboards-*")) == []


def test_copies_left_by_a_killed_server_are_swept(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL) cannot remove its store copies: the next one does,
    and only those whose process is gone."""
    import os
    import subprocess
    import sys

    from winloss.web.routes_dashboards import COPY_PREFIX, sweep_left_copies

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{COPY_PREFIX}{gone.stdout.strip()}-abc123"
    alive = tmp_path / f"{COPY_PREFIX}{os.getpid()}-def456"
    older = tmp_path / f"{COPY_PREFIX}5ino6tan"  # named before folders carried their process id
    for folder in (dead, alive, older):
        folder.mkdir()
        (folder / "store.duckdb").write_bytes(b"copy")
    assert sweep_left_copies(str(tmp_path)) == [str(dead)]
    assert not dead.exists() and alive.exists() and older.exists()
