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
