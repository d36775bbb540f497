"""Conditions on deal attributes: ``{field, op, value}``, their masks and their words.

A finding is a conjunction of one or two conditions. ``op`` is one of ``==``, ``!=``, ``<``, ``<=``,
``>``, ``>=``, ``between`` (inclusive ``[low, high]``) or ``is_missing``; ``field`` is the canonical,
derived or imported column name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from winloss.analyze.deal_table import CategoricalColumn, Column, NumericColumn

Op = Literal["==", "!=", "<", "<=", ">", ">=", "between", "is_missing"]
OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=", "between", "is_missing")


@dataclass(frozen=True)
class Condition:
    """One condition of a finding."""

    field: str
    op: Op
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.op, "value": value}

    @property
    def is_threshold(self) -> bool:
        return self.op in ("<", "<=", ">", ">=", "between")

    def key(self) -> str:
        """A key stable across quarters: thresholds move, so their value is left out."""
        if self.is_threshold:
            return f"{self.field} {self.op} #"
        if self.op == "is_missing":
            return f"{self.field} is_missing"
        return f"{self.field} {self.op} {self.value}"

    def mask(self, column: Column) -> NDArray[np.bool_]:
        """Which deals satisfy the condition (missing values satisfy only ``is_missing``)."""
        if self.op == "is_missing":
            return column.missing
        if isinstance(column, CategoricalColumn):
            code = column.code_of(self.value)
            if self.op == "==":
                return column.codes == code if code is not None else np.zeros_like(column.missing)
            if self.op == "!=":
                present = ~column.missing
                return present & (column.codes != code) if code is not None else present
            raise ValueError(f"{self.op} does not apply to the categorical field {self.field}")
        values = column.values
        with np.errstate(invalid="ignore"):
            if self.op == "between":
                low, high = self.value
                return np.asarray((values >= low) & (values <= high), dtype=bool)
            comparisons = {
                "==": np.equal,
                "!=": np.not_equal,
                "<": np.less,
                "<=": np.less_equal,
                ">": np.greater,
                ">=": np.greater_equal,
            }
            result = comparisons[self.op](values, self.value)
        return np.asarray(result & ~np.isnan(values), dtype=bool)

    def phrase(self, *, integer: bool = False) -> str:
        """Words for the condition, completing "Deals …"."""
        template = _NUMERIC_PHRASES.get(self.field)
        label = plain_label(self.field)
        if self.op == "is_missing":
            return f"with no {label} recorded"
        if self.field in _BOOL_PHRASES and isinstance(self.value, bool | np.bool_):
            positive = bool(self.value) == (self.op == "==")
            return _BOOL_PHRASES[self.field][0 if positive else 1]
        if not self.is_threshold and self.op in ("==", "!="):
            value = _value_words(self.value)
            verb = "was" if self.op == "==" else "was not"
            return f"whose {label} {verb} {value}"
        bound = _bound_words(self.op, self.value, integer)
        if template is not None:
            text = template.format(bound=bound)
            if self.op in ("<=", "==") and self.value == 1 and text.endswith("s"):
                text = text[:-1]  # "at most 1 stakeholder"
            return text
        return f"whose {label} was {bound}"


#: Plain labels of canonical and derived fields, for sentences and the report.
PLAIN_LABELS: dict[str, str] = {
    "amount": "deal value",
    "introduced_by": "introducer",
    "champion_title": "champion's title",
    "pain_category": "main pain",
    "pain_consequence": "consequence of the pain",
    "impact_type": "hoped-for impact",
    "impact_value": "size of the hoped-for impact",
    "strategic_importance": "strategic importance",
    "criteria_co_created": "decision criteria shaped with the customer",
    "stakeholders": "stakeholders involved",
    "decision_maker_engaged": "decision maker engaged",
    "cycle_days": "sales cycle (days)",
    "days_to_critical_event": "days from creation to the critical event",
    "champion_tenure_days": "champion's tenure at creation (days)",
}


def plain_label(name: str) -> str:
    """A field's plain label: ``pain_category`` → ``main pain``."""
    return PLAIN_LABELS.get(name, name.replace("_", " "))


_BOOL_PHRASES: dict[str, tuple[str, str]] = {
    "decision_maker_engaged": (
        "where the decision maker was engaged",
        "where the decision maker was not engaged",
    ),
    "criteria_co_created": (
        "whose decision criteria we shaped with the customer",
        "whose decision criteria we did not shape with the customer",
    ),
}

_NUMERIC_PHRASES: dict[str, str] = {
    "days_to_critical_event": "whose critical event was {bound} days away",
    "champion_tenure_days": "whose champion had been in the job {bound} days",
    "stakeholders": "with {bound} stakeholders",
    "cycle_days": "whose sales cycle took {bound} days",
    "amount": "worth {bound}",
}


def format_number(value: float, integer: bool = False) -> str:
    """A number for a sentence: integers plainly, others with at least three significant digits
    and as many more as it takes to print the value exactly as applied (a cut at 59.55 reads
    59.55, not 59.5: the printed rule must select the same deals)."""
    if integer or float(value).is_integer():
        return f"{int(round(value)):,}"
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    decimals = max(0, 2 - magnitude)
    while decimals < 10 and float(f"{value:.{decimals}f}") != float(value):
        decimals += 1
    return f"{value:,.{decimals}f}"


def _bound_words(op: str, value: Any, integer: bool) -> str:
    if op == "between":
        low, high = value
        return f"between {format_number(low, integer)} and {format_number(high, integer)}"
    if integer and op in ("<", "<=", ">", ">=") and np.isfinite(float(value)):
        # whole numbers read as the first or last count the rule keeps: "more than 1
        # stakeholders" is "at least 2 stakeholders" (the same deals, in plain words)
        v = float(value)
        if op in (">", ">="):
            low = math.floor(v) + 1 if op == ">" else math.ceil(v)
            return f"at least {format_number(low, True)}"
        high = math.ceil(v) - 1 if op == "<" else math.floor(v)
        return f"at most {format_number(high, True)}"
    words = {
        "<": "less than",
        "<=": "at most",
        ">": "more than",
        ">=": "at least",
        "==": "exactly",
        "!=": "not",
    }[op]
    return f"{words} {format_number(value, integer)}"


def _value_words(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def describe(conditions: tuple[Condition, ...], integers: frozenset[str] = frozenset()) -> str:
    """Conditions joined into one phrase completing "Deals …"."""
    parts = [c.phrase(integer=c.field in integers) for c in conditions]
    return " and ".join(parts)


def short_text(conditions: tuple[Condition, ...]) -> str:
    """A compact text for tables: ``pain_category == ux & stakeholders <= 1``."""
    parts = []
    for c in conditions:
        if c.op == "is_missing":
            parts.append(f"{c.field} is missing")
        elif c.op == "between":
            parts.append(f"{c.field} in [{_plain(c.value[0])}, {_plain(c.value[1])}]")
        else:
            parts.append(f"{c.field} {c.op} {_plain(c.value)}")
    return " & ".join(parts)


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value)
    return _value_words(value) if isinstance(value, bool | np.bool_) else str(value)


def column_mask(conditions: tuple[Condition, ...], columns: dict[str, Column]) -> NDArray[np.bool_]:
    """Deals satisfying every condition."""
    mask: NDArray[np.bool_] | None = None
    for c in conditions:
        m = c.mask(columns[c.field])
        mask = m if mask is None else mask & m
    assert mask is not None
    return mask


def is_numeric(column: Column) -> bool:
    return isinstance(column, NumericColumn)
