"""The out-of-fold model choice in worker processes equals the same choice in this process, bit for
bit (analyze/scoring/parallel.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.analyze.scoring.small_categorical import small_categorical_deals
from winloss import Workspace
from winloss.analyze.scoring import parallel
from winloss.analyze.scoring.analysis import ModelSettings, WinModel


def _pid(_: int) -> int:
    return os.getpid()


def _square(x: int) -> int:
    return x * x


def test_jobs_run_in_workers_in_order_when_it_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINLOSS_THREADS", "2")
    assert parallel.run_jobs(_square, [(i,) for i in range(7)], rows=1000) == [
        i * i for i in range(7)
    ]
    # the first job runs here, the others in a worker
    pids = parallel.run_jobs(_pid, [(i,) for i in range(4)], rows=1000)
    assert pids[0] == os.getpid() and os.getpid() not in pids[1:]
    # too little work per job, or one process allowed: everything runs here
    assert set(parallel.run_jobs(_pid, [(i,) for i in range(4)], rows=10)) == {os.getpid()}
    monkeypatch.setenv("WINLOSS_THREADS", "1")
    assert set(parallel.run_jobs(_pid, [(i,) for i in range(4)], rows=1000)) == {os.getpid()}


def _grow_or_count(shared: dict[str, int], i: int) -> int:
    if i == 0:  # the job run in this process changes the object the other jobs were given
        for k in range(200_000):
            shared[f"new{k}"] = k
    return len(shared)


def test_the_jobs_sent_to_workers_are_taken_before_the_first_job_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job running here may touch its arguments (a DataFrame fills its column cache as it is
    read) while the others are sent to workers: they are pickled before it starts, so no
    "dictionary changed size during iteration" and no job sees another's changes."""
    monkeypatch.setenv("WINLOSS_THREADS", "2")
    shared = {f"k{k}": k for k in range(200_000)}
    counts = parallel.run_jobs(_grow_or_count, [(shared, i) for i in range(3)], rows=1000)
    assert counts == [400_000, 200_000, 200_000]


def test_the_model_fitted_with_workers_equals_the_one_fitted_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = small_categorical_deals(420, seed=5)
    ws = Workspace.from_file(
        frame, columns={"outcome": "Status", "deal_id": "Opportunity"}, won_values=("Closed Won",)
    )
    closed, catalog = ws.closed_deals(), ws.field_catalog()
    fitted = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("WINLOSS_THREADS", threads)
        model = WinModel(ModelSettings(n_bootstrap=3)).fit(closed, catalog)
        fitted[threads] = (model.selection, model.model_name, model.predict_frame(closed))
    here, workers = fitted["1"], fitted["2"]
    assert here[0] == workers[0]  # every candidate's out-of-fold log loss, exactly
    assert here[1] == workers[1]
    np.testing.assert_array_equal(here[2], workers[2])
    assert len(here[0]) >= 4  # boosting, logistic, forest, naive Bayes, … and the win rate


def test_a_script_without_a_main_guard_runs_once(tmp_path: os.PathLike[str]) -> None:
    """The worker does not re-run the caller's script (as ``multiprocessing``'s spawn would)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    script = Path(tmp_path) / "no_guard.py"
    script.write_text(
        "print('top level')\n"
        f"import sys; sys.path[:0] = [{str(root)!r}, {str(root / 'src')!r}]\n"
        "from winloss.analyze.scoring import parallel\n"
        "print(parallel.run_jobs(abs, [(-1,), (-2,), (-3,)], rows=1000))\n"
    )
    env = {**os.environ, "WINLOSS_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["top level", "[1, 2, 3]"]


STOPPING = """
import os, sys
from winloss.analyze.scoring import parallel
assert parallel.run_jobs(abs, [(-1,), (-2,), (-3,)], rows=1000) == [1, 2, 3]
parallel.stop_workers()
parallel.stop_workers()  # a second call (the server's finally after SIGTERM's) is harmless
sys.stderr.flush()
os._exit(0)  # as `winloss serve` leaves on SIGTERM: no interpreter clean-up
"""


def test_stopping_the_workers_leaves_no_leaked_semaphores() -> None:
    """`winloss serve` stopped by SIGTERM printed "resource_tracker: There appear to be 6 leaked
    semlock objects" (its loky workers were left to die with it). Without the stop the same script
    prints that warning, but only after the orphaned worker gives up (~40 s), too slow to test."""
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(parallel.__file__).resolve().parents[3])
    env = {**os.environ, "WINLOSS_THREADS": "2", "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, "-c", STOPPING],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr, done.stderr
