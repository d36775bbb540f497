"""The canonical data model of winloss, defined once.

Every table, column, type, role and controlled vocabulary lives here, together with *when* a field
becomes known: before the outcome (usable to predict it) or only after (usable to explain, never to
predict). DDL (``winloss.store``), validation (``winloss.ingest``), the README's data-model table and
the CSV templates are all derived from these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["string", "category", "int", "float", "bool", "date", "timestamp"]
Known = Literal["before", "after", "derived"]

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "category": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Field:
    """One column of a canonical table.

    Parameters
    ----------
    name
        Canonical snake_case name, used in the store, the JSON outputs and mappings.
    dtype
        Logical type; ``category`` is a string analysed as a categorical attribute.
    description
        One line for the docs and the CSV template.
    known
        ``before`` the outcome (may be used to predict it), ``after`` (explains only), or
        ``derived`` (computed by the store; see :data:`DERIVED_DEAL_FIELDS`).
    required
        The column must be mapped and every value present.
    vocabulary
        Allowed values of a controlled vocabulary (after synonym normalisation).
    group
        SPICED group or other documentation group.
    minimum
        Smallest allowed value of a numeric field.
    analyse
        Whether the field is a candidate attribute for the analyses (ids and free text are not).
    """

    name: str
    dtype: DType
    description: str
    known: Known = "before"
    required: bool = False
    vocabulary: tuple[str, ...] | None = None
    group: str = "deal"
    minimum: float | None = None
    analyse: bool = True

    @property
    def sql_type(self) -> str:
        return DUCKDB_TYPES[self.dtype]


@dataclass(frozen=True)
class Table:
    """A canonical table: its fields, key and the CLI name used by ``winloss import``."""

    name: str
    cli_name: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    extensible: bool = False  # unknown columns are kept as custom attributes

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


OUTCOMES = ("won", "lost", "open")
SOURCES = ("inbound", "outbound", "referral", "partner", "product-led", "event", "other")
PAIN_CATEGORIES = ("technology", "process", "ux", "cost", "compliance", "other")
PAIN_CONSEQUENCES = ("missed financial goal", "missed deadline", "ux complaints", "other")
IMPACT_TYPES = ("increase revenue", "reduce cost", "improve customer experience")
IMPORTANCE = ("low", "medium", "high")
STAKEHOLDER_ROLES = (
    "champion",
    "decision_maker",
    "economic_buyer",
    "influencer",
    "user",
    "blocker",
    "other",
)
SUBSCRIPTION_EVENTS = ("new", "expansion", "contraction", "churn", "renewal")
RESPONDENTS = ("rep", "buyer")

_S = "situation"
_P = "pain"
_I = "impact"
_C = "critical_event"
_D = "decision"
_A = "after_outcome"

DEALS = Table(
    name="deals",
    cli_name="deals",
    description="One row per opportunity, open or closed, with its SPICED capture.",
    key=("deal_id",),
    extensible=True,
    fields=(
        Field("deal_id", "string", "CRM id of the opportunity", required=True, analyse=False),
        Field("account_id", "string", "CRM id of the account", analyse=False),
        Field("account_name", "string", "Account (customer) name", analyse=False),
        Field("owner", "category", "Opportunity owner (rep)"),
        Field("created_at", "date", "When the opportunity was created", required=True),
        Field(
            "closed_at",
            "date",
            "When it was won or lost; for an open deal, its expected "
            "close date (the CRM's Close Date)",
            known="after",
        ),
        Field(
            "outcome",
            "category",
            "won, lost or open",
            required=True,
            vocabulary=OUTCOMES,
            known="after",
            analyse=False,
        ),
        Field("stage", "category", "Current or final pipeline stage", known="after"),
        Field("amount", "float", "Deal value", minimum=0),
        Field("currency", "category", "ISO currency code of amount"),
        Field("segment", "category", "Market segment (e.g. SMB, Mid-Market, Enterprise)"),
        Field("region", "category", "Sales region"),
        Field("industry", "category", "Customer industry"),
        Field("product", "category", "Main product of the deal"),
        Field("source", "category", "How the deal started", vocabulary=SOURCES, group=_S),
        Field(
            "introduced_by", "category", "Who introduced us (customer, partner, event, …)", group=_S
        ),
        Field("champion_title", "category", "Title of our closest contact (champion)", group=_S),
        Field("champion_start_date", "date", "When the champion joined the customer", group=_S),
        Field("pain_category", "category", "Main pain", vocabulary=PAIN_CATEGORIES, group=_P),
        Field(
            "pain_consequence",
            "category",
            "Consequence of the pain",
            vocabulary=PAIN_CONSEQUENCES,
            group=_P,
        ),
        Field(
            "impact_type",
            "category",
            "What the customer hoped to achieve",
            vocabulary=IMPACT_TYPES,
            group=_I,
        ),
        Field("impact_value", "float", "Size of the hoped-for impact", minimum=0, group=_I),
        Field(
            "strategic_importance",
            "category",
            "Strategic importance to the customer",
            vocabulary=IMPORTANCE,
            group=_I,
        ),
        Field(
            "critical_event",
            "string",
            "The deadline the customer had to meet",
            group=_C,
            analyse=False,
        ),
        Field("critical_event_date", "date", "Date of the critical event", group=_C),
        Field(
            "decision_criteria", "string", "Criteria the customer chose by", group=_D, analyse=False
        ),
        Field(
            "criteria_co_created", "bool", "Did we shape the decision criteria with them", group=_D
        ),
        Field(
            "stakeholders", "int", "Number of customer stakeholders involved", minimum=0, group=_D
        ),
        Field("decision_maker_engaged", "bool", "Was the decision maker engaged", group=_D),
        Field("loss_reason", "category", "Closed-lost reason", known="after", group=_A),
        Field("win_reason", "category", "Closed-won reason", known="after", group=_A),
        Field("competitor", "category", "Main competitor in the deal", known="after", group=_A),
        Field(
            "captured_at",
            "date",
            "When the win/loss capture was made",
            known="after",
            group=_A,
            analyse=False,
        ),
        Field("notes", "string", "Free-text notes", known="after", group=_A, analyse=False),
    ),
)

#: Fields the store derives for deals (see ``winloss.store``): name, dtype, known, description.
DERIVED_DEAL_FIELDS: tuple[Field, ...] = (
    Field(
        "quarter",
        "category",
        "Fiscal quarter of closed_at, e.g. 2026Q3 (fiscal start set by fiscal_year_start_month)",
        known="after",
        analyse=False,
    ),
    Field("cycle_days", "int", "closed_at − created_at in days", known="after"),
    Field("days_to_critical_event", "int", "critical_event_date − created_at in days"),
    Field("champion_tenure_days", "int", "created_at − champion_start_date in days"),
)

STAKEHOLDERS = Table(
    name="stakeholders",
    cli_name="stakeholders",
    description="People on the buying committee of a deal (e.g. Salesforce OpportunityContactRole).",
    key=("deal_id", "contact_id"),
    fields=(
        Field("deal_id", "string", "Deal the person was involved in", required=True),
        Field("contact_id", "string", "CRM contact id", required=True),
        Field("name", "string", "Name"),
        Field("title", "string", "Job title"),
        Field("role", "category", "Role on the buying committee", vocabulary=STAKEHOLDER_ROLES),
        Field("seniority", "category", "Seniority (e.g. c-level, vp, director, manager, staff)"),
        Field("start_date", "date", "When the person joined the customer"),
        Field("engaged_at", "date", "When we first engaged the person"),
        Field(
            "reached_via",
            "category",
            "Route by which we reached the person: direct (top-down), champion, customer "
            "introduction, partner introduction, consensus (several threads), other; blank "
            "values are derived from introduced_by, engagement dates and activities",
        ),
        Field(
            "introduced_by",
            "string",
            "Who introduced the person: the contact_id of another stakeholder of the deal, or "
            "customer / partner for an introduction from outside the buying committee",
            analyse=False,
        ),
        Field(
            "left_at",
            "date",
            "When the person left the customer or the buying committee (a champion leaving "
            "mid-deal)",
        ),
    ),
)

ACTIVITIES = Table(
    name="activities",
    cli_name="activities",
    description="Sales activities on deals (e.g. Salesforce Task/Event).",
    key=("activity_id",),
    fields=(
        Field("activity_id", "string", "Activity id", required=True),
        Field("deal_id", "string", "Deal the activity belongs to", required=True),
        Field("contact_id", "string", "Contact involved"),
        Field(
            "type",
            "category",
            "email, call, discovery call, demo, proposal, trial, meeting…",
            required=True,
        ),
        Field("occurred_at", "timestamp", "When it happened", required=True),
        Field("direction", "category", "inbound or outbound"),
        Field("outcome", "category", "Result of the activity (e.g. completed, no answer)"),
    ),
)

STAGE_HISTORY = Table(
    name="stage_history",
    cli_name="stages",
    description="Stage changes of deals (e.g. Salesforce OpportunityHistory).",
    key=("deal_id", "stage", "entered_at"),
    fields=(
        Field("deal_id", "string", "Deal", required=True),
        Field("stage", "category", "Stage entered", required=True),
        Field("entered_at", "timestamp", "When the stage was entered", required=True),
        Field("close_date", "date", "The close date the deal showed at that moment"),
        Field("amount", "float", "The amount the deal showed at that moment", minimum=0),
    ),
)

SUBSCRIPTIONS = Table(
    name="subscriptions",
    cli_name="subscriptions",
    description="Recurring-revenue periods and events per account (Bowtie right side).",
    key=("account_id", "period_start", "event"),
    fields=(
        Field("account_id", "string", "Account", required=True),
        Field("period_start", "date", "Start of the period", required=True),
        Field("period_end", "date", "End of the period"),
        Field("mrr", "float", "Monthly recurring revenue in the period", required=True, minimum=0),
        Field(
            "event",
            "category",
            "new, expansion, contraction, churn or renewal",
            required=True,
            vocabulary=SUBSCRIPTION_EVENTS,
        ),
    ),
)

USAGE_EVENTS = Table(
    name="usage_events",
    cli_name="usage",
    description="Product-usage events (sign-up, activation, milestones) for PLG signals.",
    key=("account_id", "user_id", "event", "occurred_at"),
    fields=(
        Field("account_id", "string", "Account", required=True),
        Field("user_id", "string", "User", required=True),
        Field(
            "event", "category", "Event name (signup, activated, invited_user, …)", required=True
        ),
        Field("occurred_at", "timestamp", "When it happened", required=True),
    ),
)

CAPTURES = Table(
    name="captures",
    cli_name="captures",
    description="Win/loss interviews: SPICED answers by the rep or the buyer after the close.",
    key=("deal_id", "captured_at", "respondent"),
    fields=(
        Field("deal_id", "string", "Deal captured", required=True),
        Field("captured_at", "timestamp", "When the capture was made", required=True),
        Field("respondent", "category", "rep or buyer", required=True, vocabulary=RESPONDENTS),
        Field("source", "category", "How the deal started", vocabulary=SOURCES, group=_S),
        Field("introduced_by", "category", "Who introduced us", group=_S),
        Field("champion_title", "category", "Champion's title", group=_S),
        Field("champion_start_date", "date", "When the champion joined the customer", group=_S),
        Field("pain_category", "category", "Main pain", vocabulary=PAIN_CATEGORIES, group=_P),
        Field(
            "pain_consequence",
            "category",
            "Consequence of the pain",
            vocabulary=PAIN_CONSEQUENCES,
            group=_P,
        ),
        Field("impact_type", "category", "Hoped-for impact", vocabulary=IMPACT_TYPES, group=_I),
        Field("impact_value", "float", "Size of the impact", minimum=0, group=_I),
        Field(
            "strategic_importance",
            "category",
            "Strategic importance",
            vocabulary=IMPORTANCE,
            group=_I,
        ),
        Field("critical_event", "string", "The deadline", group=_C),
        Field("critical_event_date", "date", "Date of the critical event", group=_C),
        Field("decision_criteria", "string", "Decision criteria", group=_D),
        Field("criteria_co_created", "bool", "Criteria shaped with us", group=_D),
        Field("stakeholders", "int", "Stakeholders involved", minimum=0, group=_D),
        Field("decision_maker_engaged", "bool", "Decision maker engaged", group=_D),
        Field("primary_reason", "category", "Main reason for the outcome", known="after", group=_A),
        Field("notes", "string", "Free text", known="after", group=_A, analyse=False),
        Field(
            "captured_by",
            "string",
            "Who answered (web-app user or interviewer)",
            known="after",
            group=_A,
            analyse=False,
        ),
        # added by a migration (appended, so that new and migrated stores list the same order)
        Field(
            "competitor",
            "category",
            "Main competitor (the one chosen instead of us, or beaten)",
            known="after",
            group=_A,
        ),
        Field(
            "interviewee",
            "string",
            "Whom a buyer interview was with (name, title)",
            known="after",
            group=_A,
            analyse=False,
        ),
    ),
)

#: Web-app accounts (``winloss user add``); not importable. A rep sees the deals whose ``owner``
#: equals ``owner_name``.
USERS = Table(
    name="users",
    cli_name="users",
    description="Accounts of the web app: admin, manager (all deals) or rep (own deals).",
    key=("username",),
    fields=(
        Field("username", "string", "Login name", required=True),
        Field("password_hash", "string", "argon2id hash of the password", required=True),
        Field(
            "role",
            "category",
            "admin, manager or rep",
            required=True,
            vocabulary=("admin", "manager", "rep"),
        ),
        Field("owner_name", "string", "The CRM owner name of a rep's deals"),
        Field("created_at", "timestamp", "When the account was created or last changed"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (DEALS, STAKEHOLDERS, ACTIVITIES, STAGE_HISTORY, SUBSCRIPTIONS, USAGE_EVENTS, CAPTURES)
}
CLI_TABLES: dict[str, Table] = {t.cli_name: t for t in TABLES.values()}

#: The SPICED fields of a deal, by group, in capture order.
SPICED_GROUPS: dict[str, tuple[str, ...]] = {
    g: tuple(f.name for f in DEALS.fields if f.group == g) for g in (_S, _P, _I, _C, _D)
}

#: Fields that exist for one outcome only: never conditions, never predictors.
ONE_OUTCOME_FIELDS = frozenset({"loss_reason", "win_reason"})


def table_for(name: str) -> Table:
    """Return a table by its canonical or CLI name, with a helpful error otherwise."""
    from winloss.errors import UsageError

    if name in TABLES:
        return TABLES[name]
    if name in CLI_TABLES:
        return CLI_TABLES[name]
    raise UsageError(f"unknown table {name!r}; choose one of: {', '.join(sorted(CLI_TABLES))}")


def deal_field_known(name: str, custom_known: dict[str, str] | None = None) -> str:
    """When a deal field (canonical, derived or custom) becomes known: ``before`` or ``after``."""
    for f in DEALS.fields + DERIVED_DEAL_FIELDS:
        if f.name == name:
            return "after" if f.known == "after" else "before"
    if custom_known and name in custom_known:
        return custom_known[name]
    return "before"


def template_header(table: Table) -> list[str]:
    """Column names of the CSV template of a table."""
    return list(table.names)


def data_model_markdown() -> str:
    """The data-model reference (README section), generated from the schema."""
    lines: list[str] = []
    for t in TABLES.values():
        lines.append(f"### `{t.name}` (import as `winloss import {t.cli_name} FILE`)")
        lines.append("")
        lines.append(t.description + f" Key: {', '.join(t.key)}.")
        lines.append("")
        lines.append("| column | type | known | required | values / description |")
        lines.append("|---|---|---|---|---|")
        fields = t.fields + (DERIVED_DEAL_FIELDS if t is DEALS else ())
        for f in fields:
            vocab = f" ({' / '.join(f.vocabulary)})" if f.vocabulary else ""
            lines.append(
                f"| `{f.name}` | {f.dtype} | {f.known} | {'yes' if f.required else ''} | "
                f"{f.description}{vocab} |"
            )
        lines.append("")
    return "\n".join(lines)
