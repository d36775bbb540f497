"""Derive each deal's outcome (won, lost or open) from an outcome, Won/Closed or stage column.

The rules, in order, for an outcome column:

1. values the mapping lists (``--won-value``, ``--lost-value``, ``open_values``) are the truth;
2. open-deal values (:data:`~winloss.model.vocabulary.OPEN_OUTCOME_VALUES`: open, pending, in
   progress, …) are open;
3. with only ``--won-value`` given, every other value is lost when it is a yes/no word ("Yes"
   beside ``--won-value No``), a word for lost (Lost, Closed Lost …), or the column's one other
   value; likewise with only ``--lost-value``. A word for the same side ("Closed Won" beside
   ``--won-value Won``) or any other value is an error naming it, so neither "maybe" nor "Closed
   Won" is ever quietly counted as a loss;
4. with both given, a value in neither list (and not open) is an error;
5. with neither, the built-in synonyms (Closed Won, Won, Win, true, 1, Loss, Closed Lost …) apply.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from winloss.errors import InputError
from winloss.ingest.normalize import by_distinct, parse_bools
from winloss.model.mapping import Mapping
from winloss.model.vocabulary import (
    BOOL_SYNONYMS,
    OPEN_OUTCOME_VALUES,
    OUTCOME_SYNONYMS,
    normalise_token,
)

#: Adds a problem: (bad-cell mask, raw column, column label, what is wrong and what to do).
ReportProblem = Callable[[np.ndarray, pd.Series, str, str], None]


def explicit_outcomes(mapping: Mapping) -> dict[str, str]:
    """Normalised value → outcome for the values the mapping names."""
    explicit: dict[str, str] = {}
    for v in mapping.won_values:
        explicit[normalise_token(v)] = "won"
    for v in mapping.lost_values:
        explicit[normalise_token(v)] = "lost"
    for v in mapping.open_values:
        explicit[normalise_token(v)] = "open"
    return explicit


def outcome_reader(
    mapping: Mapping, column: pd.Series
) -> Callable[[pd.Series], tuple[pd.Series, np.ndarray]]:
    """A converter of distinct outcome values following the module's rules."""
    explicit = explicit_outcomes(mapping)
    won_only = bool(mapping.won_values) and not mapping.lost_values
    lost_only = bool(mapping.lost_values) and not mapping.won_values
    complement = "lost" if won_only else "won"
    distinct = {normalise_token(str(v)) for v in column.dropna().unique()}
    others = {t for t in distinct if t not in explicit and t not in OPEN_OUTCOME_VALUES}

    def read(token: str) -> str | None:
        if token in explicit:
            return explicit[token]
        if explicit and token in OPEN_OUTCOME_VALUES:
            return "open"
        if won_only or lost_only:
            side = OUTCOME_SYNONYMS.get(token)
            if token in BOOL_SYNONYMS or side == complement:
                return complement
            if side is None and len(others) == 1:
                return complement
            return None  # a word for the given side, or one of several unknown values
        if mapping.won_values and mapping.lost_values:
            return None
        return OUTCOME_SYNONYMS.get(token)

    def convert(uniq: pd.Series) -> tuple[pd.Series, np.ndarray]:
        out = uniq.astype(str).map(normalise_token).map(read).astype(object)
        return out, out.isna().to_numpy(dtype=bool)

    return convert


def _problem_text(mapping: Mapping) -> str:
    if mapping.won_values and mapping.lost_values:
        return (
            f"neither a won value ({', '.join(mapping.won_values)}) nor a lost value "
            f"({', '.join(mapping.lost_values)}) nor an open-deal value; add it with "
            "--won-value or --lost-value, or under open_values: in a mapping file"
        )
    if mapping.won_values or mapping.lost_values:
        side, given = (
            ("won", mapping.won_values) if mapping.won_values else ("lost", mapping.lost_values)
        )
        other = "lost" if side == "won" else "won"
        return (
            f"not one of the {side} values ({', '.join(given)}) and not clearly {other}; add it "
            f"with --{side}-value if it means {side}, or --{other}-value if it means {other} "
            "(open deals: open_values: in a mapping file)"
        )
    return (
        "not a recognised outcome; say which value means won with --won-value (and lost with "
        "--lost-value)"
    )


def _check_named_values(frame: pd.DataFrame, label: str, mapping: Mapping, file: str) -> None:
    """Every value named with --won-value/--lost-value occurs in the column read (a typo would
    otherwise be ignored in silence)."""
    if not mapping.explicit_values:
        return
    present = {normalise_token(str(v)) for v in frame[label].dropna().unique()}
    absent = [v for v in mapping.explicit_values if normalise_token(v) not in present]
    if absent:
        shown = sorted({str(v) for v in frame[label].dropna().unique()})
        listed = ", ".join(shown[:12]) + (
            f" (and {len(shown) - 12} more)" if len(shown) > 12 else ""
        )
        raise InputError(
            f"{file}: {', '.join(repr(v) for v in absent)} (named with --won-value/--lost-value) "
            f"is not a value of column {label!r}, whose values are: {listed}; check the "
            "spelling. Nothing was imported."
        )


def derive_outcome(
    frame: pd.DataFrame,
    mapped: dict[str, str],
    mapping: Mapping,
    report: ReportProblem,
    file: str = "the file",
    notes: list[str] | None = None,
) -> pd.Series | None:
    """The outcome of every row, or ``None`` when no outcome, Won or stage column is mapped.

    From a stage alone, a stage that is no known outcome but says lost (or won) in so many words
    ("Lost - No Budget") is read so, and ``notes`` says which values were; one that says closed
    without saying how ("Closed Disqualified") is refused — never read as open.
    """
    if "outcome" in mapped:
        _check_named_values(frame, mapped["outcome"], mapping, file)
        label = mapped["outcome"]
        values, bad = by_distinct(frame[label], outcome_reader(mapping, frame[label]))
        report(bad, frame[label], label, _problem_text(mapping))
        missing = (values.isna() & ~pd.Series(bad, index=values.index)).to_numpy(dtype=bool)
        report(
            missing,
            frame[label],
            label,
            "outcome is empty; every deal needs won, lost or open: fill it in, or remove the row",
        )
        return values.astype("string")
    if "is_won" in mapped:
        if mapping.explicit_values:
            raise InputError(
                f"{file}: --won-value/--lost-value name values of an outcome or stage column, but "
                f"this file's outcome is read from its yes/no column {mapped['is_won']!r}; drop "
                "the flag, or read the outcome from the stage with --column outcome=COLUMN. "
                "Nothing was imported."
            )
        return _from_won_flag(frame, mapped, mapping, report)
    if "stage" in mapped:
        explicit = explicit_outcomes(mapping)
        label = mapped["stage"]
        _check_named_values(frame, label, mapping, file)
        tokens = frame[label].astype(object).fillna("").map(normalise_token)
        # the stage is the only outcome here: a blank one cannot be read as open silently
        report(
            (tokens == "").to_numpy(dtype=bool),
            frame[label],
            label,
            "stage is empty, so the deal's outcome (won, lost or open) cannot be told: fill the "
            "stage in, or remove the row",
        )
        out = tokens.map(explicit).astype(object)
        syn = tokens.map(OUTCOME_SYNONYMS).astype(object)
        closed_word = syn.isin(["won", "lost"]) & out.isna()
        if mapping.explicit_values:
            # the values named are the whole truth for the closed side they name: a stage that
            # is a word for that side but not named ("Closed Won" beside --won-value "Closed
            # Lost") is an error, never counted on the side its words say
            given = {"won"} if mapping.won_values else set()
            given |= {"lost"} if mapping.lost_values else set()
            clash = closed_word & syn.isin(list(given))
            report(clash.to_numpy(dtype=bool), frame[label], label, _problem_text(mapping))
        # .where rather than .fillna: fillna on object values warned (a FutureWarning reached
        # users importing a file without a closed deal)
        out = out.where(out.notna(), syn.where(syn.isin(["won", "lost"])))
        unread = out.isna() & ~syn.isin(["open"]) & (tokens != "")
        says_lost = tokens.str.contains(r"\blost\b")
        says_won = tokens.str.contains(r"\bwon\b(?!['’]t)")
        # "Not Won", "Won't Proceed": words that deny, never read as the side they name
        negated = tokens.str.contains(r"\b(?:not|no|never)\s+(?:won|lost)\b|\bwon['’]t\b")
        # values named with --won-value/--lost-value are the whole truth: no reading of words
        worded = unread & (says_lost ^ says_won) & ~negated & (not mapping.explicit_values)
        if worded.any():
            out = out.where(~worded, np.where(says_lost, "lost", "won"))
            read = frame.loc[worded, label].astype(str).str.strip()
            shown = ", ".join(
                f"{v!r} as {'lost' if 'lost' in normalise_token(v).split() else 'won'} ({n:,})"
                for v, n in read.value_counts().sort_index().items()
            )
            if notes is not None:
                notes.append(
                    f"stage values that are no stage winloss knows but say lost or won were read "
                    f"so: {shown}; name them with --won-value/--lost-value to say otherwise"
                )
        closed_looking = (
            unread & ~worded & tokens.str.contains(r"\b(?:closed|lost|won|disqualified)\b")
        )
        if closed_looking.any():
            # values named with --lost-value are the whole list of lost stages: the suggestion
            # names the file's other lost stages too
            lost_named = sorted(
                {str(v).strip() for v in frame.loc[out == "lost", label].dropna().unique()}
            )
            for value in sorted(set(frame.loc[closed_looking, label].astype(str).str.strip())):
                flags = " ".join(f"--lost-value {v!r}" for v in [*lost_named, value])
                report(
                    (closed_looking & (frame[label].astype(str).str.strip() == value)).to_numpy(
                        dtype=bool
                    ),
                    frame[label],
                    label,
                    "the stage says the deal is closed but not whether it was won or lost (it "
                    f"would have been read as open): name it, e.g. {flags} (or --won-value)",
                )
        out = out.where(out.notna(), "open")
        return out.astype("string")
    return None


def _from_won_flag(
    frame: pd.DataFrame, mapped: dict[str, str], mapping: Mapping, report: ReportProblem
) -> pd.Series:
    won_label = mapped["is_won"]
    won, bad_w = by_distinct(frame[won_label], parse_bools)
    report(bad_w, frame[won_label], won_label, "not a yes/no value; use yes/no, true/false or 1/0")
    if "is_closed" in mapped:
        closed_label = mapped["is_closed"]
        closed, bad_c = by_distinct(frame[closed_label], parse_bools)
        report(
            bad_c,
            frame[closed_label],
            closed_label,
            "not a yes/no value; use yes/no, true/false or 1/0",
        )
    elif "stage" in mapped:
        explicit = explicit_outcomes(mapping)
        st = frame[mapped["stage"]].astype(object).fillna("").map(normalise_token)
        # closed: the Won flag says won (custom won stages, e.g. "Contract Signed"), or the stage
        # says closed or lost ("Closed Lost", "Lost - No Budget"), or is a given/known outcome
        closed = pd.Series(
            _filled_bools(won, default=False)
            | st.str.contains("closed")
            | st.str.contains(r"\blost\b")
            | st.map(explicit).isin(["won", "lost"])
            | st.map(OUTCOME_SYNONYMS).isin(["won", "lost"]),
            index=frame.index,
        ).astype(object)
    else:
        closed = pd.Series(True, index=frame.index, dtype=object)
    out = np.where(
        _filled_bools(closed, default=True),
        np.where(_filled_bools(won, default=False), "won", "lost"),
        "open",
    )
    return pd.Series(out, index=frame.index, dtype="string")


def _filled_bools(values: pd.Series, *, default: bool) -> np.ndarray:
    """Booleans of an object series with missing values as ``default`` (no pandas downcasting,
    whose behaviour differs between pandas 2 and 3)."""
    raw = values.to_numpy(dtype=object)
    missing = values.isna().to_numpy(dtype=bool)
    return np.array(
        [default if m else bool(v) for v, m in zip(raw, missing, strict=True)], dtype=bool
    )
