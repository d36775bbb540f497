"""Plain words for the report: field labels, conditions and model names a sales leader reads
without help ("decision criteria not shaped with the customer", not ``criteria_co_created ==
False``; "overall win rate, no model", not ``base_rate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from winloss.analyze.concentrations.conditions import PLAIN_LABELS
from winloss.analyze.scoring.model_names import MODEL_NAMES

#: Short labels of the canonical and derived deal fields (shared with the finding sentences).
FIELD_LABELS = PLAIN_LABELS


def field_label(name: str) -> str:
    """A field's plain label."""
    return FIELD_LABELS.get(name, name.replace("_", " "))


def model_name(name: str) -> str:
    """A model's plain name (``winloss (…)`` labels keep their words in brackets)."""
    if name.startswith("winloss (") and name.endswith(")"):
        inner = name[len("winloss (") : -1]
        return f"winloss model ({MODEL_NAMES.get(inner, inner.replace('_', ' '))})"
    return MODEL_NAMES.get(name, name.replace("_", " "))


def condition_label(conditions: Sequence[Mapping[str, Any]]) -> str:
    """Conditions as plain words ("at most 1 stakeholder and main pain ux")."""
    from winloss.analyze.concentrations.conditions import Condition

    parts = []
    for c in conditions:
        value = c.get("value")
        cond = Condition(
            str(c["field"]), c["op"], tuple(value) if isinstance(value, list) else value
        )
        text = cond.phrase(integer=isinstance(value, int) and not isinstance(value, bool))
        for lead in ("whose ", "where ", "with "):
            if text.startswith(lead):
                text = text[len(lead) :]
                break
        parts.append(text)
    return " and ".join(parts)


def percent(value: float | None, digits: int = 0) -> str:
    """``0.358`` → ``36 %``; empty for a missing value."""
    if value is None or value != value:
        return ""
    return f"{100 * value:.{digits}f}\u00a0%"  # never "36" and "%" on two lines


def interval(low: float | None, high: float | None) -> str:
    """``0.29, 0.40`` → ``29–40 %``."""
    if low is None or high is None or low != low or high != high:
        return ""
    return f"{100 * low:.0f}–{100 * high:.0f}\u00a0%"
