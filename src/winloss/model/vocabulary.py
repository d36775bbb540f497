"""Synonyms that normalise the values of controlled vocabularies.

Keys are compared after :func:`normalise_token` (case-folded, separators collapsed), so "Closed Won",
"closed_won" and "CLOSED-WON" are one token.
"""

from __future__ import annotations

import re

_SEP = re.compile(r"[\s_\-/]+")


def normalise_token(value: str) -> str:
    """Case-fold and collapse separators: ``"Closed_Won "`` → ``"closed won"``."""
    return _SEP.sub(" ", value.strip().casefold()).strip()


OUTCOME_SYNONYMS: dict[str, str] = {
    **{
        k: "won"
        for k in (
            "won",
            "win",
            "closed won",
            "closedwon",
            "true",
            "1",
            "yes",
            "y",
            "t",
            "success",
            "booked",
            "signed",
        )
    },
    **{
        k: "lost"
        for k in (
            "lost",
            "loss",
            "lose",
            "closed lost",
            "closedlost",
            "false",
            "0",
            "no",
            "n",
            "f",
            "failed",
            "dead",
            "closed no decision",
            "no decision",
        )
    },
    **{
        k: "open"
        for k in (
            "open",
            "in progress",
            "pipeline",
            "active",
            "engaging",
            "prospecting",
            "qualification",
            "negotiation",
        )
    },
}

#: Values that mean a deal is still open. They read as open even when ``--won-value`` or
#: ``--lost-value`` is given, unless the mapping lists them as won or lost.
OPEN_OUTCOME_VALUES: frozenset[str] = frozenset(
    (
        "open",
        "opened",
        "pending",
        "in progress",
        "ongoing",
        "pipeline",
        "active",
        "engaging",
        "prospecting",
        "qualification",
        "qualifying",
        "qualified",
        "discovery",
        "proposal",
        "negotiation",
        "in negotiation",
        "on hold",
        "working",
        "not closed",
        "not yet closed",
        "undecided",
        "awaiting decision",
        # Salesforce's default opportunity stages
        "needs analysis",
        "value proposition",
        "id. decision makers",
        "id decision makers",
        "perception analysis",
        "proposal price quote",
        "negotiation review",
        # HubSpot's default deal stages (labels and internal names)
        "appointment scheduled",
        "appointmentscheduled",
        "qualified to buy",
        "qualifiedtobuy",
        "presentation scheduled",
        "presentationscheduled",
        "decision maker bought in",
        "decisionmakerboughtin",
        "contract sent",
        "contractsent",
    )
)
OUTCOME_SYNONYMS.update({k: "open" for k in OPEN_OUTCOME_VALUES})

BOOL_SYNONYMS: dict[str, bool] = {
    **{k: True for k in ("true", "t", "yes", "y", "1", "1.0", "x", "checked", "on")},
    **{k: False for k in ("false", "f", "no", "n", "0", "0.0", "unchecked", "off")},
}

#: Per canonical field: raw token → vocabulary value. Values equal to a vocabulary entry map to it.
#: Fields whose multi-select cells ("Decision Maker;Budget Holder": HubSpot exports a contact's
#: buying roles so) store the first of this order among the values named; another field stores the
#: first value written.
MULTI_VALUE_ORDER: dict[str, tuple[str, ...]] = {
    "role": (
        "decision_maker",
        "economic_buyer",
        "champion",
        "blocker",
        "influencer",
        "user",
        "other",
    ),
}

FIELD_SYNONYMS: dict[str, dict[str, str]] = {
    "source": {
        # Salesforce LeadSource defaults
        "web": "inbound",
        "phone inquiry": "inbound",
        "advertisement": "inbound",
        "partner referral": "partner",
        "purchased list": "outbound",
        "trade show": "event",
        "seminar internal": "event",
        "seminar partner": "partner",
        "word of mouth": "referral",
        "employee referral": "referral",
        "external referral": "referral",
        "customer referral": "referral",
        # HubSpot original source types
        "organic search": "inbound",
        "paid search": "inbound",
        "email marketing": "inbound",
        "social media": "inbound",
        "organic social": "inbound",
        "paid social": "inbound",
        "direct traffic": "inbound",
        "referrals": "referral",
        "other campaigns": "inbound",
        "offline": "other",
        "offline sources": "other",
        "ai referrals": "inbound",
        # general
        "product led": "product-led",
        "plg": "product-led",
        "self serve": "product-led",
        "self service": "product-led",
        "free trial": "product-led",
        "freemium": "product-led",
        "cold call": "outbound",
        "cold email": "outbound",
        "sdr": "outbound",
        "bdr": "outbound",
        "outbound prospecting": "outbound",
        "inbound lead": "inbound",
        "website": "inbound",
        "webinar": "event",
        "conference": "event",
        "events": "event",
        "partners": "partner",
        "channel": "partner",
        "reseller": "partner",
        "referral": "referral",
    },
    "pain_category": {
        "tech": "technology",
        "technical": "technology",
        "technolgy": "technology",
        "user experience": "ux",
        "ui": "ux",
        "ui ux": "ux",
        "usability": "ux",
        "price": "cost",
        "budget": "cost",
        "regulatory": "compliance",
        "security": "compliance",
        "processes": "process",
    },
    "pain_consequence": {
        "missed revenue goal": "missed financial goal",
        "financial": "missed financial goal",
        "missed target": "missed financial goal",
        "deadline": "missed deadline",
        "ux complaint": "ux complaints",
        "user complaints": "ux complaints",
        "complaints about ux": "ux complaints",
    },
    "impact_type": {
        "revenue": "increase revenue",
        "more revenue": "increase revenue",
        "grow revenue": "increase revenue",
        "cost": "reduce cost",
        "lower cost": "reduce cost",
        "cost reduction": "reduce cost",
        "save cost": "reduce cost",
        "customer experience": "improve customer experience",
        "cx": "improve customer experience",
        "better customer experience": "improve customer experience",
    },
    "strategic_importance": {
        "l": "low",
        "m": "medium",
        "med": "medium",
        "h": "high",
        "1": "low",
        "2": "medium",
        "3": "high",
    },
    "role": {
        "decision maker": "decision_maker",
        "dm": "decision_maker",
        "economic buyer": "economic_buyer",
        "executive sponsor": "economic_buyer",
        "technical buyer": "influencer",
        "evaluator": "influencer",
        "business user": "user",
        "end user": "user",
        "detractor": "blocker",
        "coach": "champion",
        # HubSpot's default buying roles (Blocker, Budget Holder, Champion, Decision Maker, End
        # User, Executive Sponsor, Influencer, Legal & Compliance, Other)
        "budget holder": "economic_buyer",
        "legal & compliance": "influencer",
        "legal and compliance": "influencer",
    },
    "event": {
        "upgrade": "expansion",
        "upsell": "expansion",
        "downgrade": "contraction",
        "cancel": "churn",
        "cancellation": "churn",
        "cancelled": "churn",
        "renew": "renewal",
    },
    "respondent": {
        "seller": "rep",
        "sales rep": "rep",
        "ae": "rep",
        "customer": "buyer",
        "prospect": "buyer",
    },
}


def vocabulary_lookup(field: str, vocabulary: tuple[str, ...]) -> dict[str, str]:
    """Token → canonical value for one field: the vocabulary itself plus its synonyms."""
    out = {normalise_token(v): v for v in vocabulary}
    for raw, canon in FIELD_SYNONYMS.get(field, {}).items():
        out.setdefault(normalise_token(raw), canon)
    return out
