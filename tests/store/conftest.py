"""A throwaway PostgreSQL cluster for the PostgreSQL store tests (one per session).

The cluster is made with Debian's ``initdb``/``pg_ctl`` in a temporary directory, listens only on a
Unix socket there, trusts local connections, and is stopped and deleted at the end of the session.
Run as root, the server runs as the ``postgres`` system user (else ``nobody``). Without PostgreSQL's
binaries the tests skip, or fail when ``CI`` is set (``.ci/run`` installs ``postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import in_ci


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs PostgreSQL's tools as a non-root user, and that user's uid."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], uid
    pytest.fail("running as root, and neither the postgres nor the nobody user exists")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The base URL of a running throwaway cluster (database ``postgres``)."""
    bindir = _bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        message = "PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)"
        if in_ci():
            pytest.fail(message + " — .ci/run installs it")
        pytest.skip(message)
    prefix, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="winloss-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    data = root / "data"
    port = 5433 + os.getpid() % 20000
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "winloss",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            **run,  # type: ignore[call-overload]
        )
        options = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ],
            **run,  # type: ignore[call-overload]
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr}\n{log}")
    try:
        yield f"postgresql://winloss@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The URL of a new empty database on the session's cluster (dropped after the test)."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield pg_server.replace("/postgres?", f"/{name}?")
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
