"""The SPICED capture form: its fields from the schema, pre-filled from the deal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from winloss.model.schema import CAPTURES, SPICED_GROUPS
from winloss.web.form_checks import reason_words

GROUP_TITLES = {
    "situation": "Situation",
    "pain": "Pain",
    "impact": "Impact",
    "critical_event": "Critical event",
    "decision": "Decision",
    "after_outcome": "Outcome",
}
#: The capture's fields shown on the form (deal_id, captured_at, respondent, captured_by are set
#: by the app).
FORM_FIELDS = tuple(
    f
    for f in CAPTURES.fields
    if f.name not in ("deal_id", "captured_at", "respondent", "captured_by")
)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    group: str
    kind: str  # select, text, number, date, bool, textarea, reason
    options: tuple[str, ...]
    value: str
    error: str = ""  # what is wrong with the submitted value, shown next to the field


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def form_fields(
    deal: dict[str, Any],
    submitted: dict[str, str] | None,
    reasons: list[str],
    errors: dict[str, str] | None = None,
) -> list[tuple[str, list[FormField]]]:
    """The form's fields by SPICED group, pre-filled from ``submitted`` or else the deal, each
    with its problem from ``errors`` (field name → message)."""
    spiced = {name for names in SPICED_GROUPS.values() for name in names}
    out: dict[str, list[FormField]] = {}
    for f in FORM_FIELDS:
        label = f.description
        if f.name == "primary_reason":
            label = f"{f.description} (the {reason_words(deal.get('outcome'))})"
            current: Any = deal.get("win_reason" if deal.get("outcome") == "won" else "loss_reason")
            kind, options = "reason", tuple(reasons)
        elif f.vocabulary:
            current, kind, options = deal.get(f.name), "select", f.vocabulary
        elif f.dtype == "bool":
            current, kind, options = deal.get(f.name), "bool", ("yes", "no")
        elif f.dtype in ("int", "float"):
            current, kind, options = deal.get(f.name), "number", ()
        elif f.dtype == "date":
            current, kind, options = deal.get(f.name), "date", ()
        elif f.name == "notes":
            current, kind, options = None, "textarea", ()
        else:
            current, kind, options = (deal.get(f.name) if f.name in spiced else None), "text", ()
        value = submitted.get(f.name, "") if submitted is not None else _text(current)
        out.setdefault(f.group, []).append(
            FormField(f.name, label, f.group, kind, options, value, (errors or {}).get(f.name, ""))
        )
    return [(GROUP_TITLES.get(g, g), fields) for g, fields in out.items()]


def answers(form: dict[str, str]) -> dict[str, str]:
    """The submitted answers of the form's fields (blank ones left out)."""
    return {f.name: form[f.name].strip() for f in FORM_FIELDS if form.get(f.name, "").strip()}
