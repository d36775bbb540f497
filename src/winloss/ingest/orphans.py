"""Rows of related tables that name a deal the store does not hold ("orphans").

Stakeholders, activities, stage history and captures belong to a deal. A row naming an unknown
``deal_id`` is handled by a policy (``--on-orphan``):

- ``error`` (default): refuse the file, listing the rows, and import nothing;
- ``keep``: import every row, and report how many are orphans and on which rows;
- ``skip``: leave the orphan rows out, and report how many and which.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from winloss.errors import InputError
from winloss.model.prepared_import import OrphanPolicy, PreparedImport

#: Tables whose rows belong to a deal.
RELATED_TABLES = ("stakeholders", "activities", "stage_history", "captures")
_SHOWN = 10


def _describe(rows: list[int], ids: list[str]) -> str:
    shown = ", ".join(f"row {r} ({i!r})" for r, i in zip(rows[:_SHOWN], ids[:_SHOWN], strict=True))
    return shown + (f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else "")


def orphan_mask(prepared: PreparedImport, known_deal_ids: pd.Series) -> np.ndarray:
    """True for each prepared row whose ``deal_id`` is not among ``known_deal_ids``."""
    if prepared.table.name not in RELATED_TABLES or "deal_id" not in prepared.frame.columns:
        return np.zeros(len(prepared.frame), dtype=bool)
    ids = prepared.frame["deal_id"].astype("string")
    known = pd.Index(known_deal_ids.astype("string").dropna().unique())
    mask: np.ndarray = (~ids.isin(known)).to_numpy(dtype=bool)
    return mask


def apply_orphan_policy(
    prepared: PreparedImport, known_deal_ids: pd.Series, policy: OrphanPolicy
) -> PreparedImport:
    """The import after the orphan policy, with a note naming the rows; raises under ``error``."""
    mask = orphan_mask(prepared, known_deal_ids)
    if not mask.any():
        return prepared
    positions = np.flatnonzero(mask)
    rows = [prepared.row_numbers[i] if prepared.row_numbers else int(i) + 2 for i in positions]
    ids = [str(v) for v in prepared.frame["deal_id"].iloc[positions]]
    table = prepared.table.name
    if policy == "error":
        raise InputError(
            f"{prepared.file}: {len(rows)} {table} row(s) name a deal that is not in the store: "
            f"{_describe(rows, ids)}; import those deals first, or choose --on-orphan keep "
            "(import them anyway) or --on-orphan skip (leave them out). Nothing was imported."
        )
    if policy == "keep":
        note = (
            f"{len(rows)} {table} row(s) name a deal not in the store (kept, --on-orphan keep): "
            f"{_describe(rows, ids)}"
        )
        return replace(prepared, notes=[*prepared.notes, note])
    keep = ~mask
    note = (
        f"{len(rows)} {table} row(s) name a deal not in the store and were left out "
        f"(--on-orphan skip): {_describe(rows, ids)}"
    )
    return replace(
        prepared,
        frame=prepared.frame.loc[keep].reset_index(drop=True),
        row_numbers=[r for r, k in zip(prepared.row_numbers, keep, strict=True) if k],
        notes=[*prepared.notes, note],
        orphans_dropped=len(rows),
    )


#: The time column of each related table whose rows describe a deal's life.
EVENT_TIME = {"stage_history": "entered_at", "activities": "occurred_at"}


def before_creation_note(prepared: PreparedImport, created: pd.DataFrame) -> str | None:
    """A note naming the rows dated before their deal was created (``created``: deal_id and
    created_at of the store's deals), or ``None``. They are kept — a CRM may back-date a stage —
    but a Bowtie cohort or a path read from them would start before the deal did."""
    column = EVENT_TIME.get(prepared.table.name)
    frame = prepared.frame
    if column is None or column not in frame.columns or created.empty:
        return None
    when = pd.to_datetime(frame[column], errors="coerce")
    born = frame["deal_id"].map(
        dict(zip(created["deal_id"], pd.to_datetime(created["created_at"]), strict=True))
    )
    early = (when.dt.normalize() < pd.to_datetime(born)).to_numpy(dtype=bool)
    if not early.any():
        return None
    positions = np.flatnonzero(early)
    rows = [prepared.row_numbers[i] if prepared.row_numbers else int(i) + 2 for i in positions]
    shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
    return (
        f"{len(rows)} row(s) are dated before their deal was created (row(s) {shown}): they are "
        "imported as they are, but stage timing and paths read them as starting before the deal; "
        "check those dates in the CRM"
    )
