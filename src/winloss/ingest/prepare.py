"""Map, normalise and validate a file into a canonical frame, ready for one transactional write.

Nothing here touches the store: :func:`prepare` either returns a
:class:`~winloss.model.prepared_import.PreparedImport` whose frame is fully valid, or raises an
error naming file, row, column and what to do. It runs five stages, one function each:

1. **map** (:func:`~winloss.ingest.column_roles.map_columns`): roles to source columns, validated;
2. **convert** (:func:`convert_mapped`): every mapped column to its type, every bad cell listed;
3. **required** (:func:`check_required`): required columns present and filled;
4. **custom** (:func:`custom_columns`): other columns kept with an inferred type;
5. **duplicates** (:func:`resolve_duplicates`): the key once per file, by policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from winloss.errors import DuplicateKeyError, InputError, ValidationError
from winloss.ingest.column_roles import map_columns, snake_case
from winloss.ingest.convert import Problems, convert_field, minimum_problem
from winloss.ingest.custom_types import infer_columns
from winloss.ingest.lookups import apply_lookups
from winloss.ingest.normalize import ambiguous_day_month, clean_strings, date_order, infer_type
from winloss.ingest.outcomes import derive_outcome
from winloss.ingest.readers import RawFrame
from winloss.model.mapping import Mapping
from winloss.model.prepared_import import (
    CustomField,
    DuplicatePolicy,
    PreparedImport,
    UnknownValuePolicy,
)
from winloss.model.schema import DEALS, DERIVED_DEAL_FIELDS, Field, Table

__all__ = [
    "CustomField",
    "DuplicatePolicy",
    "PreparedImport",
    "UnknownValuePolicy",
    "prepare",
    "snake_case",
]

#: Columns a file may bring beyond the schema; wider files are refused before any heavy work.
MAX_CUSTOM_COLUMNS = 1000


@dataclass
class _Stage:
    """What the stages share: the cleaned frame, the mapping found and what they learn."""

    raw: RawFrame
    table: Table
    mapping: Mapping
    frame: pd.DataFrame
    mapped: dict[str, str]
    problems: Problems
    out: dict[str, pd.Series] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    joined: dict[str, str] = field(default_factory=dict)  # lookup column -> lookup file
    unknown_values: UnknownValuePolicy = "error"

    def report(self, mask: np.ndarray, raw: pd.Series, label: str, problem: str) -> None:
        self.problems.add(mask, raw, label, problem)


#: Canonical fields where "NA" is a value (North America), not a missing marker.
NA_IS_A_VALUE = ("region",)


def _clean(
    frame: pd.DataFrame, mapping: Mapping, mapped: dict[str, str] | None = None
) -> pd.DataFrame:
    """Strip cells and turn the mapping's missing markers into missing values, in one pass.

    In a region column "NA" is North America: it stays a value unless the mapping's own
    ``missing_values`` were changed to say otherwise."""
    markers = frozenset(mapping.missing_values)
    regional = {mapped[f] for f in NA_IS_A_VALUE if mapped and f in mapped}
    kept = markers - {"NA", "na"}
    cleaned = {
        label: clean_strings(frame[label], kept if label in regional else markers)
        for label in frame.columns
    }
    return pd.DataFrame(cleaned, index=frame.index)


def _date_order_known(mapping: Mapping) -> bool:
    return mapping.day_first or mapping.month_first


def settle_date_order(
    frame: pd.DataFrame, table: Table, mapped: dict[str, str], mapping: Mapping, notes: list[str]
) -> Mapping:
    """The mapping with the file's day/month order, when its unambiguous dates tell it.

    One export writes every date the same way, so a column such as 3/15/2026 settles the order
    of a column of 02/01/2026-like dates. Without such evidence the order stays unknown and an
    all-ambiguous column is refused (see :func:`refuse_ambiguous_dates`).
    """
    if _date_order_known(mapping):
        return mapping
    found = {
        date_order(frame[label])
        for name, label in mapped.items()
        if name in table.names and table.field(name).dtype in ("date", "timestamp")
    }
    if "month" in found and "day" in found:
        raise InputError(
            "dates in this file are written both month-first and day-first in "
            "different columns; fix the export, or say which with --month-first "
            "or --day-first. Nothing was imported."
        )
    if "month" in found:
        return replace(mapping, month_first=True)
    if "day" in found:
        notes.append("dates are day-first (a date such as 31/01 shows it); read every date so")
        return replace(mapping, day_first=True)
    return mapping


def convert_mapped(stage: _Stage) -> None:
    """Convert every mapped canonical column (outcome apart), reporting each bad cell."""
    for f in stage.table.fields:
        label = stage.mapped.get(f.name)
        if f.name == "outcome" or label is None:
            continue
        unknown = stage.unknown_values if label not in stage.joined else "keep"
        _convert_into(stage, f, label, unknown)


def _convert_into(stage: _Stage, f: Field, label: str, unknown: UnknownValuePolicy) -> None:
    raw = stage.frame[label]
    values, found = convert_field(f, raw, mapping=stage.mapping, unknown=unknown)
    shown = label if label not in stage.joined else f"{label} (from {stage.joined[label]})"
    for mask, text in found:
        stage.report(mask, raw, shown, text)
    dated = f.dtype in ("date", "timestamp")
    if dated and not _date_order_known(stage.mapping) and ambiguous_day_month(raw):
        stage.ambiguous.append(label)
    below = minimum_problem(f, values)
    if below is not None:
        stage.report(below[0], raw, shown, below[1])
    if f.vocabulary:
        _note_readings(stage, f.name, shown, raw, values)
    stage.out[f.name] = values


def _note_readings(stage: _Stage, name: str, label: str, raw: pd.Series, values: pd.Series) -> None:
    """Say which written values a vocabulary field stores as another word ('Web' as inbound):
    a trial's leader saw "inbound" in a breakdown and no "Web" anywhere."""
    from winloss.model.vocabulary import normalise_token

    pairs = pd.DataFrame({"raw": raw.astype("string"), "value": values.astype("string")}).dropna()
    if pairs.empty:
        return
    counts = pairs.value_counts(sort=False)
    changed = [
        (str(a), str(b), int(n))
        for (a, b), n in counts.items()
        if normalise_token(str(a)) != normalise_token(str(b))
    ]
    if not changed:
        return
    changed.sort(key=lambda t: (-t[2], t[0]))
    said = ", ".join(f"{a!r} as {b} ({n:,} row(s))" for a, b, n in changed[:8])
    more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
    stage.notes.append(
        f"{label}: read {said}{more} — the values {name} takes in winloss; map them otherwise "
        f"under value_maps: {name}: in a mapping file"
    )


#: Currency marks written in amount cells, as ISO codes ("$" is read as US dollars unless the
#: file says otherwise: US$, C$, A$ and codes are read as written).
_CURRENCY_SIGNS = (("US$", "USD"), ("C$", "CAD"), ("A$", "AUD"), ("€", "EUR"), ("£", "GBP"),
                   ("¥", "JPY"), ("₹", "INR"), ("$", "USD"))  # fmt: skip
_CURRENCY_CODE = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
#: ISO 4217 codes a CRM writes beside an amount (other three-letter words, e.g. TBD, are not)
_ISO_CODES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "INR",
        "CNY",
        "HKD",
        "SGD",
        "ZAR",
        "BRL",
        "MXN",
        "KRW",
        "TWD",
        "ILS",
        "AED",
        "SAR",
        "TRY",
        "RUB",
        "THB",
        "MYR",
        "IDR",
        "PHP",
        "CLP",
        "COP",
        "ARS",
        "PEN",
    ]
)


def _currency_of(cell: str) -> str | None:
    code = _CURRENCY_CODE.search(cell)
    if code and code.group(1) in _ISO_CODES:
        return code.group(1)
    return next((iso for sign, iso in _CURRENCY_SIGNS if sign in cell), None)


def check_currencies(stage: _Stage) -> None:
    """Amount cells that carry their currency ("$12,500.00", "EUR 3.400,50"): one currency
    fills an unmapped currency column; several, without a currency column, are an error naming
    the rows — amounts in different currencies would otherwise be added up as one."""
    label = stage.mapped.get("amount")
    if label is None or "amount" not in stage.out:
        return
    raw = stage.frame[label]
    filled = raw.notna()
    if not filled.any():
        return
    distinct = pd.Series(raw[filled].unique()).astype(str)
    marks = dict(zip(distinct, distinct.map(_currency_of), strict=True))
    cell_marks = raw.astype(object).map(lambda v: marks.get(str(v)) if pd.notna(v) else None)
    found = cell_marks.dropna()
    if found.empty:
        return
    counts = found.value_counts()
    if len(counts) > 1:
        if "currency" in stage.mapped:
            return  # the file says each amount's currency in its own column
        main = str(counts.index[0])
        for code in counts.index[1:]:
            stage.report(
                (cell_marks == code).to_numpy(dtype=bool),
                raw,
                label,
                f"an amount in {code} while {int(counts.iloc[0]):,} other amount(s) are in "
                f"{main}: amounts in different currencies cannot be added up; export them "
                "converted to one currency, or map the file's currency column with --column "
                "currency=COLUMN",
            )
        return
    if "currency" not in stage.mapped and "currency" in {f.name for f in stage.table.fields}:
        code = str(counts.index[0])
        # every deal of the file: a deal without an amount is in the file's currency too (set
        # only beside amounts, the audit blamed the CRM for a blank currency it never had)
        stage.out["currency"] = pd.Series(code, index=raw.index, dtype="string")
        stage.notes.append(
            f"amounts are written in {code}: the currency of every deal is set to {code}"
        )


def refuse_ambiguous_dates(stage: _Stage, *, generate_ids: bool = False) -> None:
    """Stop when every date of a column reads both month-first and day-first.

    A file analysed directly (``generate_ids``: nothing is stored) is read month-first with a
    note instead, as ``winloss analyze FILE`` has no date-order flags.
    """
    if not stage.ambiguous:
        return
    columns = ", ".join(repr(c) for c in stage.ambiguous)
    if generate_ids:
        stage.notes.append(
            f"column(s) {columns}: every date reads both month-first and "
            "day-first; read month-first"
        )
        stage.ambiguous.clear()
        return
    raise InputError(
        f"{stage.raw.file}: column(s) {columns}: every date reads both month-first and day-first "
        "(e.g. 02/01/2025 is 1 February or 2 January), so the order cannot be told from the data; "
        "import again with --month-first or --day-first (month_first: / day_first: true in a "
        "mapping file). Nothing was imported."
    )


#: A column named as an identifier: ``customerID``, ``CustomerId``, ``record_id``, ``Case ID``.
_ID_NAME = re.compile(r"(?:^|[_\s\-.])[iI][dD]$|[a-z](?:ID|Id)$")
#: Identifiers of other things than the deal (a converted lead's id is unique per opportunity
#: too, but stage history and activities name the opportunity): never read as the deal id.
_OTHER_IDS = re.compile(
    r"^(?:contact|lead|owner|account|invoice|row|user|product|campaign|activity|task|event|"
    r"company|parent|org|organi[sz]ation|person|employee|territory|quote|order|line|item)",
    re.IGNORECASE,
)


def infer_deal_id(stage: _Stage) -> None:
    """A deals file whose id column has no known name (Telco's ``customerID``): the one column
    named as an identifier whose values are present and distinct on every row is the deal id,
    said in a note (rows were numbered row-N, so scores could not be joined back)."""
    if stage.table.name != "deals" or "deal_id" in stage.out:
        return
    used = set(stage.mapped.values())
    found = []
    for label in stage.frame.columns:
        name = str(label)
        if (
            label in used
            or not _ID_NAME.search(name)
            or _OTHER_IDS.match(name.strip())
            or stage.mapping.is_ignored(name)
        ):
            continue
        values = stage.frame[label].astype("string").str.strip()
        if len(values) and values.notna().all() and (values != "").all() and values.is_unique:
            found.append((str(label), values))
    if len(found) != 1:
        return
    label, values = found[0]
    stage.out["deal_id"] = values.astype("string")
    stage.mapped["deal_id"] = label
    stage.notes.append(
        f"read {label!r} as the deal id (named as an id, a distinct value on every row); "
        "map another column with --column deal_id=COLUMN"
    )


def check_required(stage: _Stage, *, generate_ids: bool) -> None:
    """Every required column mapped and every required value present."""
    table, mapping, rows = stage.table, stage.mapping, stage.raw.row_numbers
    infer_deal_id(stage)
    no_dates = mapping.no_dates or generate_ids
    labels = list(stage.frame.columns)
    missing = [
        f.name
        for f in table.fields
        if f.required
        and f.name != "outcome"
        and f.name not in stage.out
        and not (f.name == "deal_id" and generate_ids)
        and not (f.name == "created_at" and no_dates)
    ]
    if missing:
        hint = (
            " If the file really has no dates, pass --no-dates." if "created_at" in missing else ""
        )
        flags = " ".join(f"--column {name}=COLUMN" for name in missing)
        shown = ", ".join(labels[:12]) + ("…" if len(labels) > 12 else "")
        raise InputError(
            f"{stage.raw.file}: required column(s) {', '.join(map(repr, missing))} not found "
            f"among {shown}; map them with {flags} or a mapping file.{hint}"
        )
    for f in table.fields:
        if not f.required or f.name == "outcome":
            continue
        if f.name not in stage.out:
            if f.name == "deal_id":
                stage.out["deal_id"] = pd.Series(
                    [f"row-{r}" for r in rows], index=stage.frame.index, dtype="string"
                )
                stage.notes.append("the file has no id column: rows are numbered row-N")
            else:
                stage.notes.append(
                    "the file has no created date: quarter-over-quarter and time-ordered "
                    "analyses are skipped"
                )
            continue
        empty = stage.out[f.name].isna().to_numpy()
        if table is DEALS and f.name == "created_at" and "outcome" in stage.out:
            # open deals may not have a created date yet (e.g. still prospecting)
            is_open = (stage.out["outcome"] == "open").fillna(False).to_numpy(dtype=bool)
            if (empty & is_open).any():
                stage.notes.append(
                    f"{int((empty & is_open).sum())} open deal(s) have no created date"
                )
            empty = empty & ~is_open
        label = stage.mapped[f.name]
        raw_col = stage.frame[label]
        already_bad = raw_col.notna().to_numpy()  # non-empty but unreadable: reported already
        stage.report(
            empty & ~already_bad,
            raw_col,
            label,
            f"{f.name} is required; fill it in, or remove the row",
        )


def _unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` … when taken (store columns ignore case)."""
    if name.casefold() not in taken:
        return name
    n = 2
    while f"{name}_{n}".casefold() in taken:
        n += 1
    return f"{name}_{n}"


def _extra_labels(
    frame: pd.DataFrame, table: Table, mapping: Mapping, mapped: dict[str, str]
) -> list[str]:
    """Columns beyond the mapped roles that the mapping does not ignore."""
    used = set(mapped.values())
    return [label for label in frame.columns if label not in used and not mapping.is_ignored(label)]


def undated_closed_note(out: pd.DataFrame, rows: pd.Series, mapped: dict[str, str]) -> str | None:
    """Say which closed deals have no close date while others have one: they are imported and
    counted in totals and by group, but in no quarter, trend, backtest or forecast."""
    if "closed_at" not in out or "outcome" not in out:
        return None
    closed = out["outcome"].isin(["won", "lost"]).to_numpy()
    blank = out["closed_at"].isna().to_numpy() & closed
    if not blank.any() or blank.sum() == closed.sum():
        return None  # none, or an undated file (every closed deal without one): said elsewhere
    at = [int(r) for r in rows.to_numpy()[blank][:5]]
    where = ", ".join(str(r) for r in at) + (", …" if blank.sum() > len(at) else "")
    column = mapped.get("closed_at", "the close date")
    return (
        f"{int(blank.sum()):,} closed deal(s) have no close date (column {column!r}, row(s) "
        f"{where}): they are imported and count in totals and by owner, segment and source, "
        "but in no quarter, trend, backtest or forecast; fill the close date in the CRM and "
        "import again"
    )


def refuse_wide(
    frame: pd.DataFrame, table: Table, mapping: Mapping, mapped: dict[str, str], file: str
) -> None:
    """Refuse, before any per-column work, a file with more custom columns than kept."""
    if not table.extensible:
        return
    extra = len(_extra_labels(frame, table, mapping, mapped))
    if extra > MAX_CUSTOM_COLUMNS:
        raise InputError(
            f"{file}: {extra:,} columns beyond the schema; winloss keeps at most "
            f"{MAX_CUSTOM_COLUMNS:,}. List the ones you do not need under ignore: in a mapping "
            'file (e.g. ignore: ["re:^Date entered"]) or export fewer columns. Nothing was '
            "imported."
        )


def _custom_labels(stage: _Stage) -> list[str]:
    keep = []
    for label in _extra_labels(stage.frame, stage.table, stage.mapping, stage.mapped):
        if not stage.table.extensible:
            stage.notes.append(
                f"column {label!r} is not part of {stage.table.name} and was ignored"
            )
            continue
        keep.append(label)
    return keep


def _infer_alone(
    stage: _Stage, raw: pd.Series, name: str, label: str, day_first: bool
) -> tuple[str, pd.Series]:
    """Type and values of one custom column (dates, typed Parquet columns, lookups)."""
    dtype = infer_type(raw, day_first=day_first)
    if dtype in ("string", "category"):
        return dtype, raw.astype("string")
    f = Field(name, dtype, label)  # type: ignore[arg-type]
    converted, found = convert_field(f, raw, mapping=stage.mapping, unknown="keep")
    if any(mask.any() for mask, _ in found):
        return "category", raw.astype("string")  # a value the type cannot hold: keep all as text
    if dtype == "date" and not _date_order_known(stage.mapping) and ambiguous_day_month(raw):
        stage.ambiguous.append(label)
    return dtype, converted


def custom_columns(stage: _Stage) -> list[CustomField]:
    """Keep every other column as a custom attribute with an inferred type."""
    custom: list[CustomField] = []
    taken = {name.casefold() for name in stage.out} | {n.casefold() for n in stage.table.names}
    after = {a.casefold() for a in stage.mapping.after_outcome}
    day_first = stage.mapping.day_first
    labels = _custom_labels(stage)
    used = set(stage.mapped.values())
    ignored = [
        str(label)
        for label in stage.raw.frame.columns
        if label not in used and stage.mapping.is_ignored(str(label))
    ]
    if ignored:
        by = f"the {stage.mapping.preset} preset" if stage.mapping.preset else "the mapping"
        stage.notes.append(
            f"left out, as {by} says: {', '.join(repr(x) for x in ignored[:8])}"
            + (f" and {len(ignored) - 8} more" if len(ignored) > 8 else "")
            + " (name a column with --column ROLE=COLUMN to use it)"
        )
    # derived fields too: a file's "Cycle Days" kept as cycle_days shadowed the store's own
    # closed_at − created_at (5 where the dates said 31)
    derived = [f.name for f in DERIVED_DEAL_FIELDS] if stage.table is DEALS else []
    canonical = {n.casefold() for n in (*stage.table.names, *derived)}
    fast = infer_columns(stage.frame, [lab for lab in labels if lab not in stage.joined])
    for label in labels:
        raw = stage.frame[label]
        if label in stage.joined and label in stage.table.names and label not in stage.out:
            _convert_into(stage, stage.table.field(label), label, "keep")  # lookup → canonical
            taken.add(label.casefold())
            continue
        base = label if label in stage.joined else snake_case(label)
        if base.casefold() in canonical:
            base = f"x_{base}"
        name = _unique_name(base, taken)
        inferred = fast.get(label)
        if inferred is not None and inferred.values is not None:
            dtype, values = inferred.dtype, inferred.values
        else:
            dtype, values = _infer_alone(stage, raw, name, label, day_first)
        stage.out[name] = values
        taken.add(name.casefold())
        known = "after" if label.casefold() in after else "before"
        custom.append(CustomField(name, label, dtype, known, dtype != "string"))
    return custom


def duplicate_keys(out: pd.DataFrame, rows: pd.Series, key: list[str]) -> dict[str, list[int]]:
    """Each key value found on more than one row, with those rows (file line numbers)."""
    if not all(k in out.columns for k in key):
        return {}
    dup_mask = out.duplicated(subset=key, keep=False).to_numpy()
    dups: dict[str, list[int]] = {}
    sub = out.loc[dup_mask, key]
    for pos, krow in zip(np.flatnonzero(dup_mask), sub.itertuples(index=False), strict=True):
        k = "/".join(str(v) for v in krow)
        dups.setdefault(k, []).append(int(rows.iloc[pos]))
    return dups


def resolve_duplicates(
    out: pd.DataFrame,
    rows: pd.Series,
    table: Table,
    file: str,
    policy: DuplicatePolicy,
    mapped: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.Series, int, str | None]:
    """Apply the duplicate-key policy: (frame, row numbers, rows dropped, note)."""
    key = list(table.key)
    if not all(k in out.columns for k in key):
        return out, rows, 0, None
    dup_mask = out.duplicated(subset=key, keep=False).to_numpy()
    if not dup_mask.any():
        return out, rows, 0, None
    if policy == "error":
        column = "/".join((mapped or {}).get(k, k) for k in key)
        raise DuplicateKeyError(file, "/".join(key), duplicate_keys(out, rows, key), column=column)
    keep_mask = ~out.duplicated(subset=key, keep="last" if policy == "keep-last" else "first")
    dropped = int((~keep_mask).sum())
    which = "last" if policy == "keep-last" else "first"
    groups = list(duplicate_keys(out, rows, key).items())
    shown = "; ".join(
        f"{k!r} on rows {', '.join(map(str, found))} (row {found[-1 if which == 'last' else 0]} "
        "kept)"
        for k, found in groups[:5]
    )
    more = f"; and {len(groups) - 5} more id(s)" if len(groups) > 5 else ""
    return (
        out.loc[keep_mask],
        rows.loc[keep_mask.to_numpy()],
        dropped,
        f"{dropped} row(s) repeat an id of another row and were not stored ({policy}: the "
        f"{which} row of each id is kept): {shown}{more}",
    )


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
    frame = raw.frame
    joined: dict[str, str] = {}
    if table is DEALS:
        frame, joined = apply_lookups(raw, mapping, refs, unmatched, notes)
    frame, mapped = map_columns(frame, table, mapping, raw.file, list(raw.frame.columns))
    refuse_wide(frame, table, mapping, mapped, raw.file)
    frame = _clean(frame, mapping, mapped)
    mapping = settle_date_order(frame, table, mapped, mapping, notes)
    stage = _Stage(
        raw,
        table,
        mapping,
        frame,
        mapped,
        Problems(raw.row_numbers),
        notes=notes,
        joined=joined,
        unknown_values=unknown_values,
    )
    convert_mapped(stage)
    if table is DEALS:
        check_currencies(stage)
        outcome = derive_outcome(
            stage.frame, mapped, mapping, stage.report, raw.file, notes=stage.notes
        )
        if outcome is None:
            raise InputError(
                f"{raw.file}: no outcome column found; map it with --column outcome=COLUMN "
                "(and --won-value VALUE), or map a stage or Won column"
            )
        stage.out["outcome"] = outcome
    check_required(stage, generate_ids=generate_ids)
    refuse_ambiguous_dates(stage, generate_ids=generate_ids)
    if stage.problems.items:
        # the duplicated ids too, so one check lists every problem of the file
        keys = [k for k in table.key if k in stage.out]
        dups = (
            duplicate_keys(
                pd.DataFrame({k: stage.out[k] for k in keys}, index=stage.frame.index),
                raw.row_numbers,
                list(table.key),
            )
            if on_duplicate == "error" and len(keys) == len(table.key)
            else {}
        )
        error = ValidationError(
            raw.file,
            stage.problems.items,
            duplicates=dups,
            total=stage.problems.total,
            key_column="/".join(stage.mapped.get(k, k) for k in table.key),
        )
        error.notes = list(notes)
        if table is not DEALS and "deal_id" in stage.out:
            ids = stage.out["deal_id"]
            error.deal_ids = {
                int(row): str(v)
                for row, v in zip(raw.row_numbers, ids.tolist(), strict=True)
                if isinstance(v, str) and v
            }
        raise error
    custom = custom_columns(stage)
    refuse_ambiguous_dates(stage, generate_ids=generate_ids)
    if stage.problems.items:  # a lookup column joined onto a canonical field
        error = ValidationError(raw.file, stage.problems.items, total=stage.problems.total)
        error.notes = list(notes)
        raise error
    ordered = [f.name for f in table.fields if f.name in stage.out]
    ordered += [c for c in stage.out if c not in ordered]
    out = pd.DataFrame({c: stage.out[c] for c in ordered}, index=stage.frame.index)
    out, rows, dropped, note = resolve_duplicates(
        out, raw.row_numbers, table, raw.file, on_duplicate, mapped
    )
    if note:
        notes.append(note)
    if table is DEALS:
        undated = undated_closed_note(out, rows, mapped)
        if undated:
            notes.append(undated)
    return PreparedImport(
        table=table,
        frame=out.reset_index(drop=True),
        file=raw.file,
        rows_read=len(raw.frame),
        custom_fields=custom,
        notes=notes,
        mapped=mapped,
        references=refs,
        unmatched=unmatched,
        duplicates_dropped=dropped,
        row_numbers=[int(r) for r in rows],
    )
