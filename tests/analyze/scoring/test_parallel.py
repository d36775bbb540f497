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
