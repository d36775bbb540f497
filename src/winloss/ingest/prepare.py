"""Map, normalise and validate a file into a canonical frame, ready for one transactional write.

Nothing here touches the store: :func:`prepare` either returns a :class:`PreparedImport` whose
frame is fully valid, or raises an error naming file, row, column and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from winloss.errors import CellProblem, DuplicateKeyError, InputError, UsageError, ValidationError
from winloss.ingest.normalize import (
    ambiguous_day_month,
    by_distinct,
    clean_strings,
    infer_type,
    parse_bools,
    parse_dates,
    parse_numbers,
    parse_vocabulary,
)
from winloss.ingest.readers import RawFrame, read_file
from winloss.model.mapping import OUTCOME_HELPER_ROLES, Mapping
from winloss.model.schema import DEALS, Field, Table
from winloss.model.vocabulary import OUTCOME_SYNONYMS, normalise_token, vocabulary_lookup

DuplicatePolicy = Literal["error", "keep-last", "keep-first"]
UnknownValuePolicy = Literal["error", "other", "keep"]
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class CustomField:
    """A column kept from the file beyond the canonical schema."""

    name: str  # snake_case name in the store
    label: str  # label in the source file
    dtype: str
    known: str  # before / after the outcome
    analyse: bool


@dataclass
class PreparedImport:
    """A validated canonical frame and what was learnt while preparing it."""

    table: Table
    frame: pd.DataFrame
    file: str
    rows_read: int
    custom_fields: list[CustomField] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)  # role -> source label
    references: dict[str, list[str]] = field(default_factory=dict)  # field -> reference values
    unmatched: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> value -> count
    duplicates_dropped: int = 0


def snake_case(label: str) -> str:
    s = re.sub(r"[^0-9a-zA-Z]+", "_", label.strip()).strip("_").lower()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    if not s:
        s = "column"
    if s[0].isdigit():
        s = "c_" + s
    return s


def _find_label(candidates: tuple[str, ...], labels: list[str]) -> str | None:
    lower = {label.casefold(): label for label in labels}
    for cand in candidates:
        hit = lower.get(cand.casefold())
        if hit is not None:
            return hit
    return None


class _Problems:
    def __init__(self) -> None:
        self.items: list[CellProblem] = []
        self.total = 0

    def add_mask(self, mask: np.ndarray, raw: pd.Series, rows: pd.Series, label: str,
                 problem: str) -> None:
        idx = np.flatnonzero(mask)
        self.total += len(idx)
        for i in idx[: max(0, MAX_PROBLEMS - len(self.items))]:
            self.items.append(CellProblem(int(rows.iloc[i]), label, str(raw.iloc[i]), problem))


def _convert(
    f: Field,
    raw: pd.Series,
    *,
    mapping: Mapping,
    unknown: UnknownValuePolicy,
) -> tuple[pd.Series, np.ndarray, str]:
    """Convert one mapped column to the field's type: (values, bad mask, problem text)."""
    if f.dtype in ("int", "float"):
        values, bad = by_distinct(raw, parse_numbers)
        if f.dtype == "int":
            frac = values.notna() & (values.astype(float) % 1 != 0)
            bad = bad | frac.to_numpy(dtype=bool)
            values = values.where(~frac).astype("Int64")
        return values, bad, "not a number; write digits such as 1200 or 1,200.50"
    if f.dtype in ("date", "timestamp"):
        values, bad = by_distinct(raw, lambda u: parse_dates(u, day_first=mapping.day_first))
        values = pd.to_datetime(values)
        if f.dtype == "date":
            values = values.dt.normalize()
        return values, bad, "not a date; use YYYY-MM-DD (or set day_first in a mapping file)"
    if f.dtype == "bool":
        values, bad = by_distinct(raw, parse_bools)
        return values.astype("boolean"), bad, "not a yes/no value; use yes/no, true/false or 1/0"
    if f.vocabulary:
        lookup = vocabulary_lookup(f.name, f.vocabulary)
        extra = {normalise_token(k): v for k, v in mapping.value_maps.get(f.name, {}).items()}
        lookup.update(extra)
        values, bad = by_distinct(raw, lambda u: parse_vocabulary(u, lookup))
        if unknown == "other" and "other" in f.vocabulary:
            values = values.where(~bad, "other")
            bad = np.zeros(len(bad), dtype=bool)
        elif unknown == "keep":
            values = values.where(~bad, raw)
            bad = np.zeros(len(bad), dtype=bool)
        allowed = ", ".join(f.vocabulary)
        return (values.astype("string"), bad,
                f"not one of {allowed}; map it under value_maps: {f.name}: in a mapping file or "
                "pass --unknown-values other")
    value_map = mapping.value_maps.get(f.name)
    values = raw.astype("string")
    if value_map:
        values = values.replace(value_map)
    return values, np.zeros(len(raw), dtype=bool), ""


def _outcome(
    frame: pd.DataFrame, mapped: dict[str, str], mapping: Mapping, rows: pd.Series,
    problems: _Problems
) -> pd.Series | None:
    explicit: dict[str, str] = {}
    for v in mapping.won_values:
        explicit[normalise_token(v)] = "won"
    for v in mapping.lost_values:
        explicit[normalise_token(v)] = "lost"
    for v in mapping.open_values:
        explicit[normalise_token(v)] = "open"
    rest_lost = bool(mapping.won_values) and not mapping.lost_values

    def convert(uniq: pd.Series) -> tuple[pd.Series, np.ndarray]:
        tokens = uniq.astype(str).astype(object).map(normalise_token)
        out = tokens.map(explicit).astype(object)
        out = out.fillna(tokens.map(OUTCOME_SYNONYMS).astype(object))
        if rest_lost:
            out = out.fillna("lost")
        return out.astype(object), out.isna().to_numpy(dtype=bool)

    if "outcome" in mapped:
        label = mapped["outcome"]
        values, bad = by_distinct(frame[label], convert)
        problems.add_mask(bad, frame[label], rows, label,
                          "not a recognised outcome; say which value means won with --won-value "
                          "(and lost with --lost-value)")
        missing = values.isna() & ~bad
        problems.add_mask(missing.to_numpy(), frame[label], rows, label,
                          "outcome is empty; every deal needs won, lost or open")
        return values.astype("string")
    if "is_won" in mapped:
        won, bad_w = by_distinct(frame[mapped["is_won"]], parse_bools)
        problems.add_mask(bad_w, frame[mapped["is_won"]], rows, mapped["is_won"],
                          "not a yes/no value")
        if "is_closed" in mapped:
            closed, bad_c = by_distinct(frame[mapped["is_closed"]], parse_bools)
            problems.add_mask(bad_c, frame[mapped["is_closed"]], rows, mapped["is_closed"],
                              "not a yes/no value")
        elif "stage" in mapped:
            st = frame[mapped["stage"]].astype(object).fillna("").map(normalise_token)
            closed = pd.Series(st.str.contains("closed") | st.map(explicit).isin(["won", "lost"]),
                               index=frame.index).astype(object)
        else:
            closed = pd.Series(True, index=frame.index, dtype=object)
        out = np.where(closed.fillna(True).astype(bool),
                       np.where(won.fillna(False).astype(bool), "won", "lost"), "open")
        return pd.Series(out, index=frame.index, dtype="string")
    if "stage" in mapped:
        tokens = frame[mapped["stage"]].astype(object).fillna("").map(normalise_token)
        out = tokens.map(explicit).astype(object)
        syn = tokens.map(OUTCOME_SYNONYMS).astype(object)
        out = out.fillna(syn.where(syn.isin(["won", "lost"]))).fillna("open")
        return out.astype("string")
    return None


def _apply_lookups(raw: RawFrame, mapping: Mapping, prepared_refs: dict[str, list[str]],
                   unmatched: dict[str, dict[str, int]], notes: list[str]) -> pd.DataFrame:
    frame = raw.frame
    base = Path(raw.file).parent if raw.file and not raw.file.startswith("<") else None
    for lk in mapping.lookups:
        path = Path(lk.file)
        if not path.is_absolute() and base is not None:
            path = base / path
        if not path.exists():
            notes.append(f"lookup file {lk.file} not found beside the import; its columns skipped")
            continue
        side = read_file(path).frame
        key_left = _find_label((lk.left_on,), list(frame.columns))
        key_right = _find_label((lk.right_on,), list(side.columns))
        if key_left is None or key_right is None:
            notes.append(f"lookup {lk.file}: key column missing; skipped")
            continue
        keep = {c: t for c, t in lk.columns.items() if _find_label((c,), list(side.columns))}
        side = side[[key_right, *keep]].drop_duplicates(subset=[key_right])
        side = side.rename(columns={c: f"__lk__{t}" for c, t in keep.items()})
        side = side.rename(columns={key_right: "__lk_key"})
        merged = frame.merge(side, how="left", left_on=key_left, right_on="__lk_key")
        merged.index = frame.index
        left_vals = frame[key_left]
        matched = left_vals.isin(side["__lk_key"])
        miss = left_vals[~matched & left_vals.notna() & (left_vals.str.strip() != "")]
        if lk.reference_for:
            prepared_refs[lk.reference_for] = sorted(side["__lk_key"].dropna().unique().tolist())
            if len(miss):
                unmatched[lk.reference_for] = miss.value_counts().to_dict()
        if len(miss):
            notes.append(
                f"{len(miss)} row(s) have a {key_left} not found in {path.name}: "
                + ", ".join(f"{k!r} ({v})" for k, v in list(miss.value_counts().items())[:5])
            )
        frame = merged.drop(columns=["__lk_key"])
        frame.columns = [c.replace("__lk__", "") for c in frame.columns]
    return frame


def prepare(
    raw: RawFrame,
    table: Table,
    mapping: Mapping,
    *,
    on_duplicate: DuplicatePolicy = "error",
    unknown_values: UnknownValuePolicy = "error",
    generate_ids: bool = False,
) -> PreparedImport:
    """Map, convert and validate ``raw`` for ``table``.

    Parameters
    ----------
    generate_ids
        For analysing a file directly: number the rows when the file has no id column, and do not
        require dates.
    """
    notes = list(raw.notes)
    refs: dict[str, list[str]] = {}
    unmatched: dict[str, dict[str, int]] = {}
    frame = _apply_lookups(raw, mapping, refs, unmatched, notes) if table is DEALS else raw.frame
    rows = raw.row_numbers
    labels = list(frame.columns)
    valid_roles = set(table.names) | (set(OUTCOME_HELPER_ROLES) if table is DEALS else set())
    mapped: dict[str, str] = {}
    for role, candidates in mapping.columns.items():
        if role not in valid_roles:
            if table.extensible:
                # a custom attribute renamed by the mapping
                hit = _find_label(candidates, labels)
                if hit is not None:
                    frame = frame.rename(columns={hit: role})
                    labels = list(frame.columns)
                continue
            raise UsageError(f"unknown column role {role!r} for {table.name}; roles are: "
                             f"{', '.join(sorted(valid_roles))}")
        hit = _find_label(candidates, labels)
        if hit is not None:
            mapped[role] = hit
    # canonical names present verbatim are mapped to themselves
    for f in table.fields:
        if f.name not in mapped:
            hit = _find_label((f.name,), labels)
            if hit is not None and hit not in mapped.values():
                mapped[f.name] = hit

    missing_markers = frozenset(mapping.missing_values)
    for label in labels:
        frame[label] = clean_strings(frame[label], missing_markers)

    problems = _Problems()
    out = pd.DataFrame(index=frame.index)
    for f in table.fields:
        if f.name == "outcome":
            continue
        label = mapped.get(f.name)
        if label is None:
            continue
        values, bad, text = _convert(f, frame[label], mapping=mapping, unknown=unknown_values)
        problems.add_mask(bad, frame[label], rows, label, text)
        if f.dtype in ("date", "timestamp") and ambiguous_day_month(frame[label]):
            order = "day-first" if mapping.day_first else "month-first"
            other = "without --day-first" if mapping.day_first else "with --day-first"
            notes.append(f"column {label!r}: every date reads both month-first and day-first; "
                         f"read {order} (import again {other} if that is wrong)")
        if f.minimum is not None and f.dtype in ("int", "float"):
            below = (values.astype(float) < f.minimum).fillna(False).to_numpy(dtype=bool)
            problems.add_mask(below, frame[label], rows, label,
                              f"must be at least {f.minimum:g}")
        out[f.name] = values

    if table is DEALS:
        outcome = _outcome(frame, mapped, mapping, rows, problems)
        if outcome is None:
            raise InputError(
                f"{raw.file}: no outcome column found; map it with --column outcome=COLUMN "
                "(and --won-value VALUE), or map a stage or Won column"
            )
        out["outcome"] = outcome

    # required columns and values: every missing column named at once
    missing_required = [
        f.name for f in table.fields
        if f.required and f.name != "outcome" and f.name not in out.columns
        and not (f.name == "deal_id" and generate_ids)
        and not (f.name == "created_at" and (mapping.no_dates or generate_ids))
    ]
    if missing_required:
        hint = (" If the file really has no dates, pass --no-dates." if "created_at" in
                missing_required else "")
        flags = " ".join(f"--column {name}=COLUMN" for name in missing_required)
        raise InputError(
            f"{raw.file}: required column(s) {', '.join(map(repr, missing_required))} not "
            f"found among {', '.join(labels[:12])}{'…' if len(labels) > 12 else ''}; map them "
            f"with {flags} or a mapping file.{hint}"
        )
    for f in table.fields:
        if not f.required or f.name == "outcome":
            continue
        if f.name not in out.columns:
            if f.name == "deal_id" and generate_ids:
                out["deal_id"] = pd.Series([f"row-{r}" for r in rows], index=out.index,
                                           dtype="string")
                notes.append("the file has no id column: rows are numbered row-N")
                continue
            if f.name == "created_at" and (mapping.no_dates or generate_ids):
                notes.append("the file has no created date: quarter-over-quarter and "
                             "time-ordered analyses are skipped")
                continue
            hint = (" If the file really has no dates, pass --no-dates." if
                    f.name == "created_at" else "")
            raise InputError(
                f"{raw.file}: required column {f.name!r} not found among "
                f"{', '.join(labels[:12])}{'…' if len(labels) > 12 else ''}; map it with "
                f"--column {f.name}=COLUMN or a mapping file.{hint}"
            )
        empty = out[f.name].isna().to_numpy()
        if table is DEALS and f.name == "created_at":
            # open deals may not have a created date yet (e.g. still prospecting)
            is_open = (out["outcome"] == "open").fillna(False).to_numpy(dtype=bool)
            if (empty & is_open).any():
                notes.append(f"{int((empty & is_open).sum())} open deal(s) have no created date")
            empty = empty & ~is_open
        label = mapped[f.name]
        raw_col = frame[label]
        already_bad = raw_col.notna().to_numpy()  # non-empty but unreadable: reported already
        problems.add_mask(empty & ~already_bad, raw_col.fillna(""), rows, label,
                          f"{f.name} is required; fill it in")

    if problems.items:
        raise ValidationError(raw.file, problems.items,
                              hint=f"{problems.total} problem(s) in all.")

    # custom attributes
    custom: list[CustomField] = []
    used = set(mapped.values())
    lookup_roles = {t for lk in mapping.lookups for t in lk.columns.values()}
    taken = set(out.columns)
    after = {a.casefold() for a in mapping.after_outcome}
    for label in labels:
        if label in used or mapping.is_ignored(label):
            continue
        if not table.extensible:
            notes.append(f"column {label!r} is not part of {table.name} and was ignored")
            continue
        name = label if label in lookup_roles else snake_case(label)
        if name in table.names or name in taken:
            if name in table.names and name in lookup_roles and name not in out.columns:
                f = table.field(name)
                values, bad, text = _convert(f, frame[label], mapping=mapping,
                                             unknown="keep")
                out[name] = values
                taken.add(name)
                continue
            name = f"x_{name}"
        dtype = infer_type(frame[label], day_first=mapping.day_first)
        f = Field(name, dtype if dtype != "string" else "string", label)  # type: ignore[arg-type]
        values, bad, _ = _convert(f, frame[label], mapping=mapping, unknown="keep")
        if dtype == "category":
            values = frame[label].astype("string")
        out[name] = values
        taken.add(name)
        custom.append(CustomField(name, label, dtype, "after" if label.casefold() in after
                                  else "before", dtype != "string"))

    # duplicates on the key
    dropped = 0
    key = list(table.key)
    if all(k in out.columns for k in key):
        dup_mask = out.duplicated(subset=key, keep=False).to_numpy()
        if dup_mask.any():
            if on_duplicate == "error":
                dups: dict[str, list[int]] = {}
                sub = out.loc[dup_mask, key]
                for idx, krow in sub.iterrows():
                    k = "/".join(str(v) for v in krow.tolist())
                    dups.setdefault(k, []).append(int(rows.loc[idx]))
                raise DuplicateKeyError(raw.file, "/".join(key), dups)
            keep = "last" if on_duplicate == "keep-last" else "first"
            before = len(out)
            out = out.drop_duplicates(subset=key, keep=keep)
            dropped = before - len(out)
            notes.append(f"{dropped} duplicated row(s) dropped ({on_duplicate})")

    return PreparedImport(
        table=table, frame=out.reset_index(drop=True), file=raw.file, rows_read=len(raw.frame),
        custom_fields=custom, notes=notes, mapped=mapped, references=refs, unmatched=unmatched,
        duplicates_dropped=dropped,
    )
