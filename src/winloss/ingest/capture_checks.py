"""What the web form refuses in a capture, said for a captures file (as notes: an import of
earlier captures is not refused for them).

The form requires the primary reason (a capture without it counts as captured while saying
nothing) and asks before keeping a reason only ever given to deals of the other outcome.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from winloss.model.prepared_import import PreparedImport

_SHOWN = 5


def _rows(rows: list[str]) -> str:
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return ", ".join(rows[:_SHOWN]) + more


def reason_key(reason: object) -> str:
    """A reason as compared: stripped, case-folded ("price " and "Price" are one reason)."""
    return str(reason).strip().casefold()


def reason_counts(reasons: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Deals per reason key and outcome, from ``reason``, ``outcome``, ``deals`` rows (the
    store's :func:`~winloss.store.capture_queries.reason_use`)."""
    used: dict[str, dict[str, int]] = {}
    for reason, outcome, n in reasons[["reason", "outcome", "deals"]].itertuples(index=False):
        counts = used.setdefault(reason_key(reason), {})
        counts[str(outcome)] = counts.get(str(outcome), 0) + int(n)
    return used


def capture_notes(
    prepared: PreparedImport, outcomes: Mapping[str, str], reasons: pd.DataFrame
) -> list[str]:
    """Notes on ``prepared`` captures: rows of closed deals without a primary reason, and rows
    whose reason has only been given to deals of the other outcome (``reasons``: ``reason``,
    ``outcome``, ``deals`` of the store; ``outcomes``: deal id → outcome)."""
    frame = prepared.frame
    if prepared.table.name != "captures" or "deal_id" not in frame.columns:
        return []
    used = reason_counts(reasons)
    given = (
        frame["primary_reason"]
        if "primary_reason" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    blank: list[str] = []
    crossed: list[str] = []
    for i, (deal_id, reason) in enumerate(zip(frame["deal_id"], given, strict=True)):
        outcome = outcomes.get(str(deal_id))
        if outcome not in ("won", "lost"):
            continue
        row = f"row {prepared.row_numbers[i]}" if prepared.row_numbers else f"row {i + 2}"
        if reason is None or pd.isna(reason) or not str(reason).strip():
            blank.append(row)
            continue
        other = "lost" if outcome == "won" else "won"
        counts = used.get(reason_key(reason), {})
        if counts.get(other) and not counts.get(outcome):
            crossed.append(
                f"{row} ({reason!r} on {outcome} deal {deal_id}; {counts[other]:,} {other} "
                f"deal{'s have' if counts[other] != 1 else ' has'} it)"
            )
    notes = []
    if blank:
        notes.append(
            f"{len(blank):,} capture row(s) of closed deals give no primary reason "
            f"({_rows(blank)}): they count as captured while saying nothing of why the deal was "
            "won or lost (the web form refuses such a capture); add the reasons, or leave the rows "
            "out"
        )
    if crossed:
        notes.append(
            f"{len(crossed):,} capture row(s) give a reason only ever given to deals of the other "
            f"outcome: {_rows(crossed)}; check them (the web form asks before keeping one)"
        )
    return notes
