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
    order = {v: i for i, v in enumerate(column.dropna().astype(str).drop_duplicates())}
    chosen: dict[str, tuple[int, int, int, int, str]] = {}  # key -> rank, spelling last
    for spelling, n in stored.items():
        rank = (1, int(n), _case_score(str(spelling)), 0, str(spelling))
        key = type_key(str(spelling))
        if key not in chosen or _better(rank, chosen[key]):
            chosen[key] = rank
    for spelling, n in written.items():
        rank = (0, int(n), _case_score(str(spelling)), -order[str(spelling)], str(spelling))
        key = type_key(str(spelling))
        if key not in chosen or _better(rank, chosen[key]):
            chosen[key] = rank
    renamed = {
        str(s): chosen[type_key(str(s))][-1]
        for s in written.index
        if chosen[type_key(str(s))][-1] != str(s)
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


def _case_score(spelling: str) -> int:
    """How well written a spelling is: single spacing counts most (``Demo call`` over ``Demo
    call `` or ``Demo  call``), then case: ``Call`` over ``call`` over ``CALL`` (or no letters)."""
    spaced = 3 if _SPACES.sub(" ", spelling.strip()) == spelling else 0
    letters = [c for c in spelling if c.isalpha()]
    if not letters or not any(c.islower() for c in letters):
        return spaced
    return spaced + (2 if letters[0].isupper() else 1)


def _better(a: tuple[int, int, int, int, str], b: tuple[int, int, int, int, str]) -> bool:
    """Is spelling ``a`` preferred to ``b``: stored, more used, written out, earlier in the
    file, then alphabetical (two stored spellings of one type)."""
    return a[:4] > b[:4] or (a[:4] == b[:4] and a[4] < b[4])


def stored_counts(frame: pd.DataFrame) -> dict[str, int]:
    """``{type: n}`` from a frame of ``type, n`` rows (the store's query)."""
    return {str(t): int(n) for t, n in frame[["type", "n"]].itertuples(index=False)}
