"""The SPICED capture form: its fields from the schema, the rep's earlier answers and the CRM's hints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from winloss.model.schema import CAPTURES
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
#: The interviewee is asked on the buyer form only, above the groups. The competitor is asked
#: before the reason ("Lost to competitor" then names whom).
_ASKED = [
    f
    for f in CAPTURES.fields
    if f.name not in ("deal_id", "captured_at", "respondent", "captured_by", "interviewee")
]
FORM_FIELDS = tuple(
    [f for f in _ASKED if f.group != "after_outcome"]
    + sorted(
        (f for f in _ASKED if f.group == "after_outcome"), key=lambda f: f.name != "competitor"
    )
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
    hint: str = ""  # the CRM's value, kept when the field is left blank (rep form)
    ask_keep: bool = False  # the reason looks like the other outcome's: offer "keep this reason"


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float):
        # exact: "{:g}" wrote 1,234,567 as 1.23457e+06, and saving the form unchanged stored
        # 1,234,570; an integral value without ".0", any other as Python's shortest repr
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def form_fields(
    deal: dict[str, Any],
    submitted: dict[str, str] | None,
    reasons: list[str],
    errors: dict[str, str] | None = None,
    *,
    respondent: str = "rep",
    crm: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    ask_keep: bool = False,
    competitors: list[str] | None = None,
) -> list[tuple[str, list[FormField]]]:
    """The form's fields by SPICED group, each with its problem from ``errors`` (field name →
    message).

    A submitted form shows what was submitted. Otherwise a rep's form shows the rep's own earlier
    answers (``previous``) and, as a hint beside a field, the CRM's value (``crm``), which stays
    the deal's value when the field is left blank: a value is recorded as the rep's only when
    the rep gives it. A buyer interview starts empty, so the buyer's answers are the buyer's,
    never the rep's saved again under the buyer's name. The competitor field suggests the
    ``competitors`` the deals already name (a new one may be typed).
    """
    out: dict[str, list[FormField]] = {}
    outcome = deal.get("outcome")
    mine = previous or {}
    for f in FORM_FIELDS:
        label = f.description
        crm_name = f.name
        if f.name == "primary_reason":
            label = f"{f.description} (the {reason_words(outcome)})"
            crm_name = "win_reason" if outcome == "won" else "loss_reason"
            kind, options = "reason", tuple(reasons)
        elif f.name == "competitor":
            kind, options = "suggest", tuple(competitors or ())
        elif f.vocabulary:
            kind, options = "select", f.vocabulary
        elif f.dtype == "bool":
            kind, options = "bool", ("yes", "no")
        elif f.dtype in ("int", "float"):
            kind, options = "number", ()
        elif f.dtype == "date":
            kind, options = "date", ()
        elif f.name == "notes":
            kind, options = "textarea", ()
        else:
            kind, options = "text", ()
        hint = ""
        if respondent == "buyer":
            current: Any = None
        else:
            current = mine.get(f.name)
            crm_value = _text((crm or {}).get(crm_name))
            if crm_value and f.name != "notes":
                hint = f"CRM: {crm_value}"
        value = submitted.get(f.name, "") if submitted is not None else _text(current)
        out.setdefault(f.group, []).append(
            FormField(
                f.name,
                label,
                f.group,
                kind,
                options,
                value,
                (errors or {}).get(f.name, ""),
                hint,
                ask_keep and f.name == "primary_reason",
            )
        )
    return [(GROUP_TITLES.get(g, g), fields) for g, fields in out.items()]


def answers(form: dict[str, str], *, respondent: str = "rep") -> dict[str, str]:
    """The submitted answers of the form's fields (blank ones left out); a buyer interview's
    also names whom it was with (``interviewee``)."""
    names = [f.name for f in FORM_FIELDS] + (["interviewee"] if respondent == "buyer" else [])
    return {n: form[n].strip() for n in names if form.get(n, "").strip()}
