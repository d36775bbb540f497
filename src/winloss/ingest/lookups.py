"""Join side files named by a mapping (e.g. Maven's accounts.csv) onto the imported frame.

Keys without a match are recorded (``unmatched``) for the data-quality audit, and the side file's
key values become the reference vocabulary of the field they name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from winloss.ingest.column_roles import find_label
from winloss.ingest.readers import RawFrame, read_file
from winloss.model.mapping import Mapping


def apply_lookups(
    raw: RawFrame,
    mapping: Mapping,
    references: dict[str, list[str]],
    unmatched: dict[str, dict[str, int]],
    notes: list[str],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with every lookup's columns joined: (frame, joined column → lookup file)."""
    frame = raw.frame
    joined: dict[str, str] = {}
    base = Path(raw.file).parent if raw.file and not raw.file.startswith("<") else None
    for lk in mapping.lookups:
        path = Path(lk.file)
        if not path.is_absolute() and base is not None:
            path = base / path
        if not path.exists():
            notes.append(f"lookup file {lk.file} not found beside the import; its columns skipped")
            continue
        side = read_file(path).frame
        key_left = find_label((lk.left_on,), list(frame.columns))
        key_right = find_label((lk.right_on,), list(side.columns))
        if key_left is None or key_right is None:
            notes.append(f"lookup {lk.file}: key column missing; skipped")
            continue
        keep = {c: t for c, t in lk.columns.items() if find_label((c,), list(side.columns))}
        side = side[[key_right, *keep]].drop_duplicates(subset=[key_right])
        side = side.rename(columns={c: f"__lk__{t}" for c, t in keep.items()})
        side = side.rename(columns={key_right: "__lk_key"})
        # the mapping's corrections of the key field apply before the join: the audit's fix for a
        # product missing from products.csv ("value_maps: product: {GTXPro: GTX Pro}") renamed
        # the deals' product but left their joined columns empty
        fixes = mapping.value_maps.get(lk.reference_for) if lk.reference_for else None
        left_vals = frame[key_left].astype("string").replace(fixes) if fixes else frame[key_left]
        merged = (
            frame.assign(__lk_left=left_vals)
            .merge(side, how="left", left_on="__lk_left", right_on="__lk_key")
            .drop(columns=["__lk_left"])
        )
        merged.index = frame.index
        matched = left_vals.isin(side["__lk_key"])
        miss = left_vals[~matched & left_vals.notna() & (left_vals.str.strip() != "")]
        if lk.reference_for:
            references[lk.reference_for] = sorted(side["__lk_key"].dropna().unique().tolist())
            if len(miss):
                unmatched[lk.reference_for] = miss.value_counts().to_dict()
        if len(miss):
            notes.append(
                f"{len(miss)} row(s) have a {key_left} not found in {path.name}: "
                + ", ".join(f"{k!r} ({v})" for k, v in list(miss.value_counts().items())[:5])
            )
        frame = merged.drop(columns=["__lk_key"])
        frame.columns = [c.replace("__lk__", "") for c in frame.columns]
        joined.update({t: path.name for t in keep.values()})
    return frame, joined
