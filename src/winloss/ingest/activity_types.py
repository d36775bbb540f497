"""Activity types written in different cases or spacing are one action type.

One CRM writes ``Email`` from the rep's client and ``EMAIL`` from a sequencer, or ``Discovery
call`` and ``discovery  call``; the paths would count them as different actions, split their
support, and rank a type against itself. On import, the types that differ only in case and
spacing are read as one spelling: the one the store already holds, else the file's most used
(ties: the first in alphabetical order). The import says which spellings it read so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from winloss.model.prepared_import import PreparedImport

_SPACES = re.compile(r"\s+")


def type_key(value: str) -> str:
    """The spelling-blind key of an activity type: case-folded, spacing collapsed."""
    return _SPACES.sub(" ", value.strip()).casefold()


def fold_activity_types(prepared: PreparedImport, stored: Mapping[str, int]) -> None:
    """Rewrite ``prepared``'s activity types to one spelling per key, with a note of each
    spelling read as another. ``stored``: the store's types and their activity counts."""
    if prepared.table.name != "activities" or "type" not in prepared.frame.columns:
        return
    column = prepared.frame["type"]
    written = column.dropna().astype(str).value_counts()
    if written.empty:
        return
    chosen: dict[str, tuple[int, int, str]] = {}  # key -> (stored?, count, spelling)
    for spelling, n in stored.items():
        rank = (1, int(n), str(spelling))
        key = type_key(str(spelling))
        if key not in chosen or _better(rank, chosen[key]):
            chosen[key] = rank
    for spelling, n in written.items():
        rank = (0, int(n), str(spelling))
        key = type_key(str(spelling))
        if key not in chosen or _better(rank, chosen[key]):
            chosen[key] = rank
    renamed = {
        str(s): chosen[type_key(str(s))][2]
        for s in written.index
        if chosen[type_key(str(s))][2] != str(s)
    }
    if not renamed:
        return
    prepared.frame["type"] = column.map(lambda v: renamed.get(v, v) if isinstance(v, str) else v)
    said = sorted(renamed.items(), key=lambda kv: (-int(written[kv[0]]), kv[0]))
    shown = ", ".join(f"{a!r} as {b!r} ({int(written[a]):,} row(s))" for a, b in said[:8])
    more = f" and {len(said) - 8} more" if len(said) > 8 else ""
    prepared.notes.append(
        f"type: read {shown}{more} — activity types that differ only in case or spacing are "
        "one action type (the spelling the store already holds, else the file's most used)"
    )


def _better(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Is spelling ``a`` preferred to ``b``: stored first, then more used, then alphabetical."""
    return (a[0], a[1]) > (b[0], b[1]) or ((a[0], a[1]) == (b[0], b[1]) and a[2] < b[2])


def stored_counts(frame: pd.DataFrame) -> dict[str, int]:
    """``{type: n}`` from a frame of ``type, n`` rows (the store's query)."""
    return {str(t): int(n) for t, n in frame[["type", "n"]].itertuples(index=False)}
