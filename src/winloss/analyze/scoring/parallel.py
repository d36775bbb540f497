"""Independent model fits on more than one core.

The repeated out-of-fold model choice (:meth:`WinModel._choose_out_of_fold`) fits every candidate
on every fold of every repeat: fits that share nothing but their inputs. Python threads do not speed
them up (scikit-learn's boosting grows its trees in Python and holds the GIL: two threads ran eight
400-deal fits 1.7× *slower* than one), so they run in worker processes — joblib's ``loky`` executor,
started once and reused by every later fit of the process, which neither forks a process that holds
OpenMP or DuckDB threads nor re-runs the caller's ``__main__``. This process runs a share of the
jobs itself, so on two cores one worker is started, not two.

Each job is a function of its arguments only (fixed seeds, fixed folds), so the results are the same
bit for bit whether the jobs run here or in workers, in any order (tested).
``$WINLOSS_THREADS`` (default: every core) caps the processes; ``1`` runs everything in this process.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: Below this many deals per job the work is too small to pay for sending it to a worker (and, the
#: first time, for starting the workers: about a second).
MIN_ROWS = 200


def workers() -> int:
    """Processes available to independent fits: ``$WINLOSS_THREADS``, default every core."""
    return int(os.environ.get("WINLOSS_THREADS", "0")) or os.cpu_count() or 1


def run_jobs(fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], *, rows: int) -> list[T]:
    """``[fn(*job) for job in jobs]``, spread over worker processes when that pays (``rows`` per
    job): the first job runs here while up to ``workers() - 1`` workers run the others."""
    n = min(workers(), len(jobs))
    if n < 2 or rows < MIN_ROWS:
        return [fn(*job) for job in jobs]
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=workers() - 1)
    # Each job is pickled here, before the first job runs in this thread: the executor would
    # otherwise pickle its arguments in a background thread while the first job reads the same
    # objects (a DataFrame fills its column cache as it is read: "dictionary changed size during
    # iteration", an intermittent failure).
    blobs = [pickle.dumps((fn, job), protocol=pickle.HIGHEST_PROTOCOL) for job in jobs[1:]]
    futures = [executor.submit(_run_pickled, blob) for blob in blobs]
    first = fn(*jobs[0])
    return [first, *(f.result() for f in futures)]


def stop_workers() -> None:
    """Stop the worker processes if this process started any (a server about to exit): their
    semaphores are released, so the interpreter's resource tracker has nothing left to warn
    about ("leaked semlock objects")."""
    import sys

    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None) if module is not None else None
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
        # the executor's queues hold named semaphores, unregistered from the tracker by their
        # finalizers, which run at the interpreter's exit: a server leaving by os._exit (SIGTERM)
        # skips that, and on a busy machine the tracker then warned of leaked semaphores
        import multiprocessing.util

        run_finalizers = getattr(multiprocessing.util, "_run_finalizers", None)
        if run_finalizers is not None:
            run_finalizers(0)


def _run_pickled(blob: bytes) -> Any:
    """Run a job pickled by :func:`run_jobs` (in a worker process)."""
    fn, job = pickle.loads(blob)
    return fn(*job)
