"""Named queries of the registers: analysis runs, scores, the findings and action registers.

The analyses and the plan call these; they hold the SQL, the analyses hold the logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from winloss.store.duckdb_store import DuckDBStore


def insert_analysis_run(
    store: DuckDBStore,
    *,
    run_id: str,
    kind: str,
    period: str | None,
    params: str,
    result: str,
    created_at: dt.datetime,
) -> None:
    """One ``analysis_runs`` row (``params`` and ``result`` are JSON text)."""
    store.execute(
        "INSERT INTO analysis_runs VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, kind, period, params, result, created_at],
    )


def insert_scores(store: DuckDBStore, rows: pd.DataFrame) -> None:
    """Append rows (run_id, deal_id, probability, ci_low, ci_high, factors, scored_at) to
    ``scores``."""
    with store.register_frame("_scores_in", rows):
        store.execute(
            "INSERT INTO scores SELECT run_id, deal_id, probability, ci_low, "
            "ci_high, factors, scored_at FROM _scores_in"
        )


# -- the findings register ------------------------------------------------------------------------
def findings_recorded(store: DuckDBStore, period: str) -> bool:
    """Whether the findings register holds rows for ``period``."""
    return bool(
        store.fetchall("SELECT count(*) FROM findings_register WHERE period = ?", [period])[0][0]
    )


def recorded_findings(store: DuckDBStore, period: str) -> list[tuple[str, str, str, str | None]]:
    """(finding_key, direction, statement, payload JSON) of the period's findings, gone ones
    excluded."""
    rows = store.fetchall(
        "SELECT finding_key, direction, statement, payload FROM findings_register "
        "WHERE period = ? AND status <> 'gone'",
        [period],
    )
    return [(str(k), str(d), str(s), p) for k, d, s, p in rows]


def replace_findings(
    store: DuckDBStore,
    *,
    period: str,
    run: Sequence[Any],
    rows: Sequence[Sequence[Any]],
    gone: Sequence[Sequence[Any]],
) -> None:
    """In one transaction: record the run (``analysis_runs`` values), replace the period's
    register rows with ``rows`` (every column) and add the ``gone`` rows (period, finding_key,
    run_id, statement, direction, status, payload, recorded_at)."""
    with store.transaction():
        store.execute("INSERT INTO analysis_runs VALUES (?, ?, ?, ?, ?, ?)", list(run))
        store.execute("DELETE FROM findings_register WHERE period = ?", [period])
        for row in rows:
            store.execute(
                "INSERT INTO findings_register VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                list(row),
            )
        for row in gone:
            store.execute(
                "INSERT INTO findings_register (period, finding_key, run_id, statement, "
                "direction, status, payload, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                list(row),
            )


# -- the action register --------------------------------------------------------------------------
def actions_before(store: DuckDBStore, period: str) -> pd.DataFrame:
    """Every action of the register recorded for a period before ``period``."""
    return store.query("SELECT * FROM action_register WHERE period < ? ORDER BY period", [period])


def replace_actions(store: DuckDBStore, period: str, rows: Sequence[Sequence[Any]]) -> None:
    """Replace the period's actions (period, key, kind, title, status, payload, measured,
    recorded_at) in one transaction."""
    with store.transaction():
        store.execute("DELETE FROM action_register WHERE period = ?", [period])
        for row in rows:
            store.execute("INSERT INTO action_register VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row))
