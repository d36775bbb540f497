"""The web forms' rules, checked before anything is saved and said in the user's words.

The capture form is validated again by :meth:`~winloss.Workspace.record_capture` (the shared
import validation, whose messages speak to someone importing a file: cells, mappings, CLI flags).
The form is checked here first with the same parsers, so a rep reads a message about the field
they filled, next to it, and every problem of a submission at once; the bounds below exist only
here, because an import of old CRM data must not be refused for them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from winloss.errors import CellProblem
from winloss.ingest.capture_checks import reason_counts, reason_key
from winloss.ingest.normalize import parse_bools, parse_dates, parse_numbers, parse_vocabulary
from winloss.model.schema import CAPTURES, Field
from winloss.model.vocabulary import vocabulary_lookup
from winloss.web.auth import ROLES

#: Largest number a capture field takes; a money value beyond a trillion is a typing slip.
NUMBER_LIMITS: dict[str, float] = {"impact_value": 1e12, "stakeholders": 1_000}
DEFAULT_NUMBER_LIMIT = 1e12
#: Date fields that may lie ahead of the close (a deadline); the others describe the past.
FUTURE_DATES = frozenset({"critical_event_date"})
#: A deadline more than this many years from the close is a wrong year.
DEADLINE_YEARS = 10
EARLIEST_DATE = dt.date(1900, 1, 1)

DATE_HELP = "not a date: use the date picker or YYYY-MM-DD"
NUMBER_HELP = "not a number: write digits such as 1200 or 1,200.50"
WHOLE_HELP = "not a number: write a whole number such as 3"
BOOL_HELP = "choose yes or no"


def reason_words(outcome: object) -> str:
    """The primary reason's name for the deal's outcome: ``win reason`` or ``loss reason``."""
    return "win reason" if outcome == "won" else "loss reason"


@dataclass(frozen=True)
class ReasonUse:
    """How many won and lost deals have each reason (resolved from captures and the CRM, as the
    QBR counts them), keyed by the reason in lower case; ``spelled`` keeps its most used
    spelling."""

    deals: Mapping[str, Mapping[str, int]]
    spelled: Mapping[str, str]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ReasonUse:
        """From :meth:`~winloss.Workspace.reason_use` (``reason``, ``outcome``, ``deals``)."""
        spelled: dict[str, tuple[int, str]] = {}
        for reason, n in frame[["reason", "deals"]].itertuples(index=False):
            key = reason_key(reason)
            if int(n) > spelled.get(key, (0, ""))[0]:
                spelled[key] = (int(n), str(reason))
        return cls(reason_counts(frame), {k: v for k, (_n, v) in spelled.items()})

    def for_outcome(self, outcome: object) -> list[str]:
        """The reasons given to deals of this outcome, the most used first: the form's list."""
        used = [(n, self.spelled[k]) for k, c in self.deals.items() if (n := c.get(str(outcome)))]
        return [name for _n, name in sorted(used, key=lambda t: (-t[0], t[1].casefold()))]

    def mismatch(self, outcome: object, reason: str) -> str | None:
        """Why ``reason`` looks like the other outcome's reason, or ``None``: it has been given
        only to deals of the other outcome (the rep may still keep it, after a confirmation)."""
        if outcome not in ("won", "lost"):
            return None
        counts = self.deals.get(reason_key(reason), {})
        other = "lost" if outcome == "won" else "won"
        if counts.get(str(outcome)) or not counts.get(other):
            return None
        n = counts[other]
        return (
            f"“{reason.strip()}” has been the {reason_words(other)} of {n:,} {other} "
            f"deal{'s' if n != 1 else ''} and never a {reason_words(outcome)}, and this deal was "
            f"{outcome}: give why it was {outcome}, or tick “keep this reason”"
        )


def _one(value: str) -> pd.Series:
    return pd.Series([value], dtype=object)


def _choose(f: Field) -> str:
    return "choose one of: " + ", ".join(f.vocabulary or ())


def _day(value: object) -> dt.date | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        day: dt.date = pd.Timestamp(str(value)).date()
    except ValueError:
        return None
    return day


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _number_help(f: Field) -> str:
    """What to write in a number field: a whole-number field is not told to write 1,200.50."""
    return WHOLE_HELP if f.dtype == "int" else NUMBER_HELP


def _check_number(f: Field, text: str) -> str | None:
    values, bad = parse_numbers(_one(text))
    if bad[0]:
        return _number_help(f)
    number = float(values.iloc[0])
    if f.minimum is not None and number < f.minimum:
        return f"must be {f.minimum:g} or more"
    limit = NUMBER_LIMITS.get(f.name, DEFAULT_NUMBER_LIMIT)
    if not number <= limit:  # also infinity
        return f"more than {limit:,.0f}: check the number"
    if f.dtype == "int" and number % 1 != 0:
        return "must be a whole number, such as 3"
    return None


#: What the form's date picker sends (a timestamp field may add a time): the only date text taken.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")


def _check_date(f: Field, text: str, close: dt.date, today: dt.date) -> str | None:
    """Only an ISO date is taken: typed by hand, 03/04/2025 is 3 April to one rep and 4 March to
    another, and a single value cannot tell which (an import decides by the whole column)."""
    if not ISO_DATE.fullmatch(text.strip()):
        readings = {
            pd.Timestamp(v.iloc[0]).date().isoformat()
            for v, _ in (
                parse_dates(_one(text), month_first=True),
                parse_dates(_one(text), day_first=True),
            )
            if not pd.isna(v.iloc[0])
        }
        if len(readings) == 2:
            first, second = sorted(readings)
            return f"reads as {first} or {second}: use the date picker or YYYY-MM-DD"
        return DATE_HELP
    values, bad = parse_dates(_one(text))
    if bad[0] or pd.isna(values.iloc[0]):
        return DATE_HELP
    day = pd.Timestamp(values.iloc[0]).date()
    if f.name in FUTURE_DATES:
        earliest = _years_from(close, -DEADLINE_YEARS)
        latest = _years_from(close, DEADLINE_YEARS)
        if not earliest <= day <= latest:
            return (
                f"more than {DEADLINE_YEARS} years from the close ({close.isoformat()}): "
                "check the year"
            )
        return None
    if day < EARLIEST_DATE:
        return f"before {EARLIEST_DATE.year}: check the year"
    latest = max(close, today)
    if day > latest:
        when = "today" if latest == today else "the close"
        return f"after {latest.isoformat()} ({when}): this date cannot be later, check the year"
    return None


#: The longest answer a text field of the capture form takes (a reason, a pain, a title …);
#: the free notes are capped by the request size only.
MAX_TEXT = 500


def check_capture(
    deal: Mapping[str, Any],
    answers: Mapping[str, str],
    *,
    today: dt.date,
    reasons: ReasonUse | None = None,
    keep_reason: bool = False,
) -> dict[str, str]:
    """The problems of a capture form's answers, by field name (empty when it may be saved).

    Parameters
    ----------
    deal
        The closed deal captured (its ``outcome`` and ``closed_at`` set the rules).
    answers
        The non-blank answers, stripped (:func:`winloss.web.forms.answers`).
    today
        The app's clock: dates that describe the past may not be later than the close or today.
    reasons
        The reasons given so far: a reason only ever given to the other outcome is refused
        unless ``keep_reason`` (the rep ticked "keep this reason").
    """
    close = _day(deal.get("closed_at")) or today
    errors: dict[str, str] = {}
    if not answers.get("primary_reason", "").strip():
        words = reason_words(deal.get("outcome"))
        errors["primary_reason"] = (
            f"a capture needs at least the {words}: say why the deal was {deal.get('outcome')}"
        )
    elif reasons is not None and not keep_reason:
        mismatch = reasons.mismatch(deal.get("outcome"), answers["primary_reason"])
        if mismatch:
            errors["primary_reason"] = mismatch
    for name, text in answers.items():
        if name not in CAPTURES.names or not text:
            continue
        f = CAPTURES.field(name)
        problem: str | None = None
        if f.dtype in ("int", "float"):
            problem = _check_number(f, text)
        elif f.dtype in ("date", "timestamp"):
            problem = _check_date(f, text, close, today)
        elif f.dtype == "bool":
            problem = BOOL_HELP if parse_bools(_one(text))[1][0] else None
        elif f.vocabulary:
            lookup = vocabulary_lookup(f.name, f.vocabulary)
            problem = _choose(f) if parse_vocabulary(_one(text), lookup)[1][0] else None
        elif f.name != "notes" and len(text) > MAX_TEXT:
            # a text answer appears in everyone's lists of reasons and pains: a paragraph, not
            # a pasted document
            problem = f"{len(text):,} characters: keep it to {MAX_TEXT:,} (the notes take more)"
        if problem:
            errors[name] = problem
    return errors


def web_problem(problem: CellProblem) -> str:
    """One problem of the shared import validation, said for a form (no cells, mappings or CLI
    flags): the fallback for a rule :func:`check_capture` does not check itself."""
    try:
        f = CAPTURES.field(problem.column)
    except KeyError:
        return problem.problem.split(";")[0]
    text = problem.problem
    if f.dtype in ("int", "float"):
        if text.startswith("must be at least") and f.minimum is not None:
            return f"must be {f.minimum:g} or more"
        if text.startswith("not a whole number"):
            return "must be a whole number, such as 3"
        if text.startswith("not a number"):
            return _number_help(f)
        return "too large: check the number"
    if f.dtype in ("date", "timestamp"):
        if text.startswith("date out of range"):
            return "the year is out of range: check the year"
        return DATE_HELP
    if f.dtype == "bool":
        return BOOL_HELP
    if f.vocabulary:
        return _choose(f)
    return text.split(";")[0]


def check_user(username: str, password: str, role: str, owner: str | None) -> list[str]:
    """The problems of the add-user form, every one at once (empty when it may be saved)."""
    errors: list[str] = []
    if not username.strip():
        errors.append("a user name is required")
    if len(password) < 8:
        errors.append("the password needs at least 8 characters")
    if role not in ROLES:
        errors.append("choose a role: " + ", ".join(ROLES))
    elif role == "rep" and not (owner or "").strip():
        errors.append("a rep needs an owner (the CRM owner name their deals carry)")
    return errors


def known_spelling(
    given: dict[str, str], reasons: ReasonUse, competitors: list[str]
) -> dict[str, str]:
    """``given`` with a reason or competitor written as one the store already has, in another
    case or spacing ("price", "power  bi"), set to that spelling: counted apart, "Price 60" and
    "price 1" stood side by side in the QBR."""
    out = dict(given)
    reason = out.get("primary_reason")
    if reason:
        reason = " ".join(reason.split())  # a category: one space between words
        out["primary_reason"] = reasons.spelled.get(reason_key(reason), reason)
    competitor = out.get("competitor")
    if competitor:
        competitor = " ".join(competitor.split())
        known = {" ".join(c.split()).casefold(): c for c in reversed(competitors)}
        out["competitor"] = known.get(competitor.casefold(), competitor)
    return out
