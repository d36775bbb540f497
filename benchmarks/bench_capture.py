"""200 concurrent capture submissions to the web app over loopback (127.0.0.1 only).

Builds a 600-deal demo store, starts ``winloss serve`` in its own process, signs in 10 users
(manager accounts: they may capture any deal), then fires 200 POSTs of the capture form at once
from 200 threads, each carrying a unique marker in its notes. Checks that every submission is
stored exactly once (none lost, none duplicated) and reports p50/p95/max latency and throughput.
Baseline in the same run: the same 200 captures written one after another through the facade
(``Workspace.record_capture``) in one process, with no HTTP; the ratio is the cost of the app.

    PYTHONPATH=src python benchmarks/bench_capture.py [--submissions 200] [--db-url URL]

With ``--db-url postgresql://…`` (an empty scratch database) the app serves a PostgreSQL team
store, whose requests are not serialised; the baseline stays the DuckDB facade.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, SRC)

from winloss.demo.generator import generate_demo  # noqa: E402
from winloss.demo.run import import_demo  # noqa: E402
from winloss.web.auth import hash_password  # noqa: E402
from winloss.workspace import Workspace  # noqa: E402

SESSIONS = 10


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(
    port: int, method: str, path: str, cookie: str = "", form: dict[str, str] | None = None
) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode()
    set_cookie = resp.getheader("Set-Cookie") or ""
    conn.close()
    return resp.status, text, set_cookie.split(";")[0]


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _login(port: int, user: str, password: str) -> tuple[str, str]:
    _s, page, cookie = _request(port, "GET", "/login")
    status, _t, cookie2 = _request(
        port,
        "POST",
        "/login",
        cookie,
        {"username": user, "password": password, "csrf_token": _token(page)},
    )
    assert status == 302, status
    _s, html, cookie3 = _request(port, "GET", "/captures", cookie2)
    return cookie3 or cookie2, _token(html)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=200)
    ap.add_argument("--db-url", help="serve this PostgreSQL store (an empty scratch database)")
    args = ap.parse_args()
    n = args.submissions
    tmp = Path(tempfile.mkdtemp())
    demo = generate_demo(600, seed=3)
    db: str = args.db_url or str(tmp / "bench.duckdb")
    with Workspace(db) as ws:
        import_demo(ws, demo)
        for i in range(SESSIONS):
            ws.add_user(f"m{i}", hash_password(f"bench-pass-{i}"), "manager")
        closed = ws.closed_deals()["deal_id"].tolist()
    deals = [closed[i % len(closed)] for i in range(n)]

    # baseline: the DuckDB facade, sequentially, in this process (its own store)
    base_db = tmp / "baseline.duckdb"
    with Workspace(base_db) as ws:
        import_demo(ws, demo)
    t0 = time.perf_counter()
    with Workspace(base_db) as ws:
        for i, d in enumerate(deals):
            ws.record_capture(
                d, "rep", {"pain_category": "process", "notes": f"base-{i}"}, captured_by="bench"
            )
    baseline_s = time.perf_counter() - t0

    port = _port()
    env = {**os.environ, "PYTHONPATH": SRC}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "winloss",
            "--db",
            db,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(port, "GET", "/login")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        sessions = [_login(port, f"m{i}", f"bench-pass-{i}") for i in range(SESSIONS)]
        latencies: list[float] = [0.0] * n
        statuses: list[int] = [0] * n
        start = threading.Barrier(n)

        def submit(i: int) -> None:
            cookie, tok = sessions[i % SESSIONS]
            start.wait()
            t = time.perf_counter()
            status, _text, _c = _request(
                port,
                "POST",
                f"/deals/{deals[i]}/capture",
                cookie,
                {"csrf_token": tok, "pain_category": "process", "notes": f"bench-{i}"},
            )
            latencies[i] = time.perf_counter() - t
            statuses[i] = status

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(30)

    with Workspace(db, read_only=True) as ws:
        caps = ws.table("captures")
    print(f"store: {'PostgreSQL' if args.db_url else 'DuckDB file'}")
    notes = caps["notes"].dropna()
    marked = notes[notes.str.startswith("bench-")]
    stored = set(marked)
    expected = {f"bench-{i}" for i in range(n)}
    lost = expected - stored
    duplicated = len(marked) - len(stored)
    ok = sum(1 for s in statuses if s == 302)
    lat = sorted(latencies)
    p50 = statistics.median(lat)
    p95 = lat[max(0, int(round(0.95 * n)) - 1)]
    print(f"submissions: {n} concurrent over 127.0.0.1 ({SESSIONS} signed-in sessions)")
    print(
        f"HTTP 302 (saved): {ok}; other statuses: "
        f"{sorted({s for s in statuses if s != 302}) or 'none'}"
    )
    print(f"stored: {len(stored)}, lost: {len(lost)}, duplicated: {duplicated}")
    print(f"latency p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    print(f"wall {wall:.1f} s ({n / wall:.1f} captures/s)")
    print(
        f"baseline (facade, sequential, no HTTP): {baseline_s:.1f} s "
        f"({n / baseline_s:.1f} captures/s); web app / baseline time: {wall / baseline_s:.2f}×"
    )
    if lost or duplicated or ok != n:
        sys.exit(1)


if __name__ == "__main__":
    main()
