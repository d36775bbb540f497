"""The Bowtie stages and the mapping of a CRM's stage and event names onto them.

Pre-sale: awareness → education → selection → commit (the knot: a won deal). Post-sale: onboarding
(the subscription starts) → impact (a first-impact usage milestone) → growth (a first expansion).
Losing is the competing exit: a closed-lost stage before the sale, a churn after it.

The defaults cover the default stage names of Salesforce and HubSpot (labels and internal ids), the
Maven CRM sample and the winloss demo; a mapping file (YAML or JSON) overrides or extends them::

    stages:
      awareness: [Prospecting, Lead In]
      selection: [Demo Given]
      lost: [Closed Lost, Disqualified]
      ignore: [Closed Duplicate]
    onboarding_events: [onboarded]
    impact_events: [first_value]

Names compare case- and space-insensitively. Stage names found in the data but in no list are
reported by the analysis (``unmapped_stages``), never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from winloss.errors import UsageError

PRE_SALE = ("awareness", "education", "selection", "commit")
POST_SALE = ("onboarding", "impact", "growth")
BOWTIE_STAGES = PRE_SALE + POST_SALE
#: not Bowtie stages but mapping targets: the losing exit, and names to skip on purpose
SPECIAL_TARGETS = ("lost", "ignore")

DEFAULT_STAGE_NAMES: dict[str, tuple[str, ...]] = {
    "awareness": (
        "Prospecting",  # Salesforce, demo, Maven
        "Appointment Scheduled",
        "appointmentscheduled",  # HubSpot
        "Lead",
        "New",
    ),
    "education": (
        "Qualification",
        "Needs Analysis",  # Salesforce
        "Qualified To Buy",
        "qualifiedtobuy",  # HubSpot
        "Discovery",  # demo
    ),
    "selection": (
        "Value Proposition",
        "Id. Decision Makers",
        "Perception Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",  # Salesforce
        "Presentation Scheduled",
        "presentationscheduled",
        "Decision Maker Bought-In",
        "decisionmakerboughtin",
        "Contract Sent",
        "contractsent",  # HubSpot
        "Demo",
        "Proposal",
        "Negotiation",  # demo
        "Engaging",  # Maven
    ),
    "commit": ("Closed Won", "closedwon", "Won"),
    "lost": ("Closed Lost", "closedlost", "Lost"),
}
DEFAULT_ONBOARDING_EVENTS = (
    "onboarded",
    "onboarding_complete",
    "onboarding_completed",
    "activated",
)
DEFAULT_IMPACT_EVENTS = ("first_value", "first_impact", "impact", "value_realized", "report_shared")


def normalize_name(name: object) -> str:
    """A stage or event name as compared: lower case, inner whitespace collapsed."""
    return " ".join(str(name).split()).lower()


@dataclass(frozen=True)
class StageMapping:
    """CRM stage name → Bowtie stage (or ``lost`` / ``ignore``), and the post-sale event names."""

    stages: dict[str, str] = field(default_factory=dict)  # normalized CRM name -> target
    onboarding_events: tuple[str, ...] = DEFAULT_ONBOARDING_EVENTS
    impact_events: tuple[str, ...] = DEFAULT_IMPACT_EVENTS
    #: where a deal without stage history enters the funnel (at its creation date)
    deal_entry_stage: str = "selection"

    @classmethod
    def default(cls) -> StageMapping:
        return cls(stages=_flatten(DEFAULT_STAGE_NAMES))

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        source: str = "the stage mapping",
        extend_defaults: bool = True,
    ) -> StageMapping:
        """A mapping from a parsed configuration (see the module docstring)."""
        known = {"stages", "onboarding_events", "impact_events", "deal_entry_stage"}
        unknown = set(config) - known
        if unknown:
            raise UsageError(f"{source}: unknown key(s) {sorted(unknown)}; use {sorted(known)}")
        base = _flatten(DEFAULT_STAGE_NAMES) if extend_defaults else {}
        raw = config.get("stages") or {}
        if not isinstance(raw, Mapping):
            raise UsageError(f"{source}: 'stages' must map a Bowtie stage to a list of names")
        for target, names in raw.items():
            if target not in BOWTIE_STAGES + SPECIAL_TARGETS:
                raise UsageError(
                    f"{source}: {target!r} is not a Bowtie stage; use one of "
                    f"{', '.join(BOWTIE_STAGES + SPECIAL_TARGETS)}"
                )
            listed = [names] if isinstance(names, str) else list(names or [])
            for name in listed:
                base[normalize_name(name)] = str(target)
        entry = str(config.get("deal_entry_stage", "selection"))
        if entry not in PRE_SALE[:-1]:
            raise UsageError(f"{source}: deal_entry_stage must be one of {PRE_SALE[:-1]}")
        return cls(
            stages=base,
            onboarding_events=_names(config.get("onboarding_events"), DEFAULT_ONBOARDING_EVENTS),
            impact_events=_names(config.get("impact_events"), DEFAULT_IMPACT_EVENTS),
            deal_entry_stage=entry,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> StageMapping:
        p = Path(path)
        if not p.exists():
            raise UsageError(f"stage mapping file {p} not found; pass an existing YAML/JSON file")
        text = p.read_text("utf-8")
        try:
            data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise UsageError(f"{p}: not valid YAML/JSON ({exc}); fix the file") from exc
        if not isinstance(data, Mapping):
            raise UsageError(f"{p}: expected a mapping with a 'stages' key")
        return cls.from_config(data, source=str(p))

    def target(self, name: object) -> str | None:
        """The Bowtie stage (or ``lost``/``ignore``) of a CRM name; ``None`` when unmapped."""
        return self.stages.get(normalize_name(name))

    def orders(self, raw_names: Iterable[object]) -> list[tuple[str, int]]:
        """(raw name as stored, Bowtie order 0–3 or −1 for lost) of the mapped pre-sale names."""
        order = {s: i for i, s in enumerate(PRE_SALE)}
        out: list[tuple[str, int]] = []
        for raw in sorted({str(n) for n in raw_names}):
            target = self.target(raw)
            if target in order:
                out.append((raw, order[target]))
            elif target == "lost":
                out.append((raw, -1))
        return out

    def unmapped(self, names: Iterable[object]) -> list[str]:
        """Names of ``names`` that map to nothing (``ignore`` counts as mapped)."""
        return sorted({str(n) for n in names if self.target(n) is None})


def _flatten(names: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {normalize_name(n): target for target, listed in names.items() for n in listed}


def _names(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    listed = [value] if isinstance(value, str) else list(value)
    return tuple(normalize_name(v) for v in listed)
