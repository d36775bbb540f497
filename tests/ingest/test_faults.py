"""Faults during an import: a real subprocess killed (SIGKILL) or interrupted (SIGINT, Ctrl-C)
at several points, and two imports into one store at once (issue #11).

After every fault the store is exactly as before or fully imported, the exit status and message
say which, and running the import again gives the same store as one clean run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ingest.store_state import store_fingerprint

REPO = Path(__file__).resolve().parents[2]
ROWS = 40_000


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _start(db: Path, file: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "winloss", "--db", str(db), "import", "deals", str(file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(**env),
    )  # fmt: skip


def _import(db: Path, file: Path, **env: str) -> tuple[int, str]:
    proc = _start(db, file, **env)
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err.decode()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A seeded store, a largish file, a second file, and the stores of clean runs."""
    root = tmp_path_factory.mktemp("faults")
    seed = root / "seed.csv"
    seed.write_text(
        "deal_id,outcome,created_at,amount\nS1,won,2025-01-02,10\nS2,lost,2025-02-03,20\n"
    )
    big = root / "big.csv"
    with big.open("w") as fh:
        fh.write("deal_id,outcome,created_at,amount,segment,notes\n")
        for i in range(ROWS):
            outcome = ("won", "lost", "open")[i % 3]
            fh.write(
                f"D{i},{outcome},2025-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 997},"
                f"{('SMB', 'Mid-Market', 'Enterprise')[i % 3]},note {i}\n"
            )
    second = root / "second.csv"
    second.write_text("deal_id,outcome,created_at,amount\nE1,won,2025-03-04,30\n")
    seeded = root / "seeded.duckdb"
    assert _import(seeded, seed)[0] == 0
    clean = root / "clean.duckdb"
    shutil.copy(seeded, clean)
    started = time.monotonic()
    assert _import(clean, big)[0] == 0
    duration = time.monotonic() - started
    both = root / "both.duckdb"
    shutil.copy(clean, both)
    assert _import(both, second)[0] == 0
    (root / "duration").write_text(str(duration))
    return {
        "seed": seeded,
        "big": big,
        "second": second,
        "clean": clean,
        "both": both,
        "duration": root / "duration",
    }


POINTS = [0.2, 0.6, 0.95]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("point", POINTS)
def test_a_signalled_import_is_all_or_nothing_and_says_which(
    files: dict[str, Path], tmp_path: Path, signum: signal.Signals, point: float
) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(files["seed"], db)
    before = store_fingerprint(db, volatile=False)
    after = store_fingerprint(files["clean"], volatile=False)
    proc = _start(db, files["big"])
    time.sleep(point * float(files["duration"].read_text()))
    proc.send_signal(signum)
    _, raw_err = proc.communicate(timeout=600)
    err = raw_err.decode()
    state = store_fingerprint(db, volatile=False)
    assert state in (before, after), "the store was half-written"
    assert "Traceback" not in err and "unexpected" not in err and "cannot rollback" not in err
    if proc.returncode == 0:  # finished before the signal
        assert state == after and "imported 40,000 rows" in err
    elif signum == signal.SIGINT:
        assert proc.returncode == 130, err
        if state == before:
            assert "nothing was" in err or "nothing was half-written" in err, err
        else:
            assert "every row" in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    code, err = _import(db, files["big"])
    assert code == 0, err
    assert store_fingerprint(db, volatile=False) == after, "the rerun differs from a clean run"


@pytest.mark.parametrize("wait", ["short", "long"])
def test_two_imports_at_once_wait_or_say_busy_and_lose_nothing(
    files: dict[str, Path], tmp_path: Path, wait: str
) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(files["seed"], db)
    first = _start(db, files["big"])
    time.sleep(0.3 * float(files["duration"].read_text()))
    timeout = "0.2" if wait == "short" else "600"
    code, err = _import(db, files["second"], WINLOSS_LOCK_TIMEOUT=timeout)
    _, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err.decode()
    if code != 0:
        assert code == 1 and "is busy" in err and "retry" in err, err
        assert "PID" not in err and "duckdb.org" not in err
        code, err = _import(db, files["second"])
    assert code == 0, err
    assert store_fingerprint(db, volatile=False) == store_fingerprint(files["both"], volatile=False)


@pytest.mark.parametrize(
    ("signum", "point"), [(signal.SIGKILL, 0.5), (signal.SIGINT, 0.85)], ids=["SIGKILL", "SIGINT"]
)
def test_a_signalled_wide_import_leaves_the_store_as_it_was_or_complete(
    files: dict[str, Path], tmp_path: Path, signum: signal.Signals, point: float
) -> None:
    wide = tmp_path / "wide.csv"
    with wide.open("w") as fh:
        fh.write("deal_id,outcome,created_at," + ",".join(f"c{i}" for i in range(1000)) + "\n")
        for r in range(200):
            fh.write(
                f"W{r},won,2025-01-02," + ",".join(str((r + i) % 7) for i in range(1000)) + "\n"
            )
    clean = tmp_path / "clean.duckdb"
    shutil.copy(files["seed"], clean)
    started = time.monotonic()
    assert _import(clean, wide)[0] == 0
    duration = time.monotonic() - started
    db = tmp_path / "s.duckdb"
    shutil.copy(files["seed"], db)
    before = store_fingerprint(db, volatile=False)
    after = store_fingerprint(clean, volatile=False)
    proc = _start(db, wide)
    time.sleep(point * duration)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=600)
    assert store_fingerprint(db, volatile=False) in (before, after), err.decode()
    assert _import(db, wide)[0] == 0
    assert store_fingerprint(db, volatile=False) == after
