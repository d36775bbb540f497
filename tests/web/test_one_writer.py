"""One writer: the web app (a separate process) takes captures while CLI commands read the same
DuckDB file. The app holds the file only during a request; each side waits for the other."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.web.conftest import PASSWORDS, build_store
from winloss.workspace import Workspace

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_app_writes_while_cli_reads(tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    build_store(db)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "winloss", "--db", str(db), "serve", "--port", str(port)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(f"{base}/login", timeout=5).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.3)

        def tok(html: str) -> str:
            found = re.search(r'name="csrf_token" value="([^"]+)"', html)
            assert found
            return found.group(1)

        def post(path: str, data: dict[str, str]) -> str:
            body = urllib.parse.urlencode(data).encode()
            return opener.open(f"{base}{path}", body, timeout=60).read().decode()

        post("/login", {"username": "ann", "password": PASSWORDS["ann"], "csrf_token": tok(page)})
        # CLI reads run in other processes while the app takes captures
        cli_results: list[subprocess.CompletedProcess[str]] = []

        def cli_reads() -> None:
            for args in (
                ["audit", "--format", "json"],
                ["captures", "sources"],
                ["deals", "--format", "csv"],
            ):
                cli_results.append(
                    subprocess.run(
                        [sys.executable, "-m", "winloss", "--db", str(db), *args],
                        env=_env(),
                        capture_output=True,
                        text=True,
                        timeout=180,
                    )
                )

        reader = threading.Thread(target=cli_reads)
        reader.start()
        for deal_id, pain, reason in (("A1", "process", "Price"), ("A2", "ux", "Product fit")):
            form = opener.open(f"{base}/deals/{deal_id}/capture", timeout=60).read().decode()
            post(
                f"/deals/{deal_id}/capture",
                {"csrf_token": tok(form), "pain_category": pain, "primary_reason": reason},
            )
        reader.join(240)
        assert len(cli_results) == 3
        for r in cli_results:
            assert r.returncode == 0, r.stderr
        assert '"issues"' in cli_results[0].stdout
        assert "A1" in cli_results[2].stdout
        # the app is still serving after the CLI runs
        assert "Ann Lee" in opener.open(f"{base}/captures", timeout=60).read().decode()
    finally:
        server.terminate()
        server.wait(20)
    with Workspace(db, read_only=True) as ws:
        assert ws.deal("A1")["pain_category"] == "process"
        assert ws.deal("A2")["pain_category"] == "ux"
        assert len(ws.table("captures")) == 4
