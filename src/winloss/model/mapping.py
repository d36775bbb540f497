"""Field mappings: how the columns of a CRM export map onto the canonical schema.

A :class:`Mapping` names, for each canonical role, the source column (matched case-insensitively,
with alternatives so one preset serves the API and report spellings), how outcome values are read,
which values mean "missing", which extra columns are known only after the outcome, and optional
lookup files joined on a key (e.g. Maven's ``accounts.csv``). Presets for real exports live in
:data:`PRESETS`; a YAML/JSON mapping file and ``--column ROLE=SOURCE`` flags build the same object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from winloss.errors import UsageError

#: Pseudo-roles that are not stored but help derive ``outcome``.
OUTCOME_HELPER_ROLES = ("is_won", "is_closed")


@dataclass(frozen=True)
class Lookup:
    """Join a side file on a key to add columns (e.g. account sector from accounts.csv)."""

    file: str  # relative to the imported file's folder, or absolute
    left_on: str  # source column label in the main file
    right_on: str  # key column in the lookup file
    columns: dict[str, str]  # lookup column -> role or custom column name
    reference_for: str | None = None  # canonical field whose reference vocabulary the key is


@dataclass(frozen=True)
class Mapping:
    """How one file maps onto a canonical table.

    ``columns`` maps a canonical role to one or more candidate source labels (first present wins).
    """

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    won_values: tuple[str, ...] = ()
    lost_values: tuple[str, ...] = ()
    open_values: tuple[str, ...] = ()
    missing_values: tuple[str, ...] = ("", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "-")
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    after_outcome: tuple[str, ...] = ()  # extra source columns known only after the outcome
    ignore: tuple[str, ...] = ()  # source labels or regular expressions (prefix "re:")
    no_dates: bool = False  # the file has no dates at all (quarter analyses are skipped)
    day_first: bool = False
    month_first: bool = False  # said explicitly: ambiguous dates are month-first
    lookups: tuple[Lookup, ...] = ()
    preset: str | None = None
    signature: tuple[str, ...] = ()  # labels whose presence identifies the preset
    #: roles the user named (flags, mapping file): their source column must exist in the file
    explicit_columns: tuple[str, ...] = ()
    #: outcome values the user named with --won-value/--lost-value: each must occur in the file
    explicit_values: tuple[str, ...] = ()

    def with_columns(self, overrides: dict[str, str]) -> Mapping:
        cols = dict(self.columns)
        for role, source in overrides.items():
            cols[role] = (source,)
        explicit = self.explicit_columns + tuple(
            r for r in overrides if r not in self.explicit_columns
        )
        return replace(self, columns=cols, explicit_columns=explicit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "columns": {k: list(v) for k, v in self.columns.items()},
            "won_values": list(self.won_values),
            "lost_values": list(self.lost_values),
            "open_values": list(self.open_values),
            "missing_values": list(self.missing_values),
            "value_maps": self.value_maps,
            "after_outcome": list(self.after_outcome),
            "ignore": list(self.ignore),
            "no_dates": self.no_dates,
            "day_first": self.day_first,
            "month_first": self.month_first,
        }

    def is_ignored(self, label: str) -> bool:
        for pattern in self.ignore:
            if pattern.startswith("re:"):
                if re.search(pattern[3:], label, flags=re.IGNORECASE):
                    return True
            elif pattern.casefold() == label.casefold():
                return True
        return False


def _cols(**roles: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {k: (v,) if isinstance(v, str) else v for k, v in roles.items()}


SALESFORCE = Mapping(
    preset="salesforce",
    signature=("Opportunity Name", "Stage"),
    columns=_cols(
        deal_id=("Opportunity ID", "Id", "Opportunity Id"),
        account_id=("Account ID", "AccountId"),
        account_name=("Account Name", "Account.Name"),
        owner=(
            "Opportunity Owner",
            "Owner Full Name",
            "Opportunity Owner: Full Name",
            "Owner Name",
            "Owner.Name",
            "OwnerId",
        ),
        stage=("Stage", "StageName"),
        amount=("Amount", "Amount (converted)"),
        currency=("Opportunity Currency", "CurrencyIsoCode", "Amount Currency"),
        closed_at=("Close Date", "CloseDate"),
        created_at=("Created Date", "CreatedDate"),
        is_won=("Won", "IsWon"),
        is_closed=("Closed", "IsClosed"),
        source=("Lead Source", "LeadSource"),
        loss_reason=("Loss Reason", "Loss_Reason__c", "Closed Lost Reason"),
        competitor=("Competitor", "Competitor__c", "Main Competitor", "Primary Competitor"),
        industry=("Industry", "Account.Industry"),
        region=("Region", "Region__c", "Sales Region", "Billing State/Province", "Billing Country"),
    ),
    after_outcome=(
        "Probability (%)",
        "Probability",
        "Forecast Category",
        "ForecastCategory",
        "Fiscal Period",
        "Age",
        "Stage Duration",
        "Last Stage Change Date",
        "Last Modified Date",
        "Next Step",
        "NextStep",
    ),
    ignore=("Opportunity Name", "Name", "Fiscal Period"),
)

HUBSPOT = Mapping(
    preset="hubspot",
    signature=("Deal Name", "Deal Stage"),
    columns=_cols(
        deal_id=("Record ID", "hs_object_id", "Deal ID"),
        account_name=("Associated Company", "Company name", "Associated Company (Primary)"),
        owner=("Deal owner", "Deal Owner", "hubspot_owner_id"),
        stage=("Deal Stage", "dealstage"),
        amount=("Amount", "amount", "Amount in company currency"),
        currency=("Currency", "deal_currency_code"),
        closed_at=("Close Date", "closedate"),
        created_at=("Create Date", "createdate"),
        is_won=("Is Closed Won", "hs_is_closed_won"),
        is_closed=("Is Deal Closed?", "Is Closed", "hs_is_closed"),
        loss_reason=("Closed Lost Reason", "closed_lost_reason"),
        win_reason=("Closed Won Reason", "closed_won_reason"),
        source=("Original Source Type", "Original Source", "hs_analytics_source"),
        # the contacts associated with the deal: the buying committee as the CRM knows it
        stakeholders=("Number of Associated Contacts", "num_associated_contacts"),
    ),
    ignore=(
        "Deal Name",
        "dealname",
        r"re:^date (entered|exited) ",
        r"re:^hs_date_(entered|exited)_",
        "re:^(last modified date|hs_lastmodifieddate)$",
    ),
    after_outcome=(
        "Deal probability",
        "hs_deal_stage_probability",
        "Forecast category",
        "Days to close",
        "days_to_close",
    ),
)

IBM_SALES_WIN_LOSS = Mapping(
    preset="ibm-win-loss",
    signature=("Opportunity Number", "Opportunity Result"),
    columns=_cols(
        deal_id="Opportunity Number",
        outcome="Opportunity Result",
        amount="Opportunity Amount USD",
        region="Region",
        product="Supplies Subgroup",
    ),
    won_values=("Won",),
    lost_values=("Loss",),
    # The seven columns below are only known once the deal has closed.
    after_outcome=(
        "Elapsed Days In Sales Stage",
        "Sales Stage Change Count",
        "Total Days Identified Through Closing",
        "Total Days Identified Through Qualified",
        "Ratio Days Identified To Total Days",
        "Ratio Days Validated To Total Days",
        "Ratio Days Qualified To Total Days",
    ),
    no_dates=True,
)

MAVEN_CRM = Mapping(
    preset="maven-crm",
    signature=("opportunity_id", "deal_stage", "engage_date"),
    columns=_cols(
        deal_id="opportunity_id",
        owner="sales_agent",
        product="product",
        account_name="account",
        account_id="account",
        stage="deal_stage",
        outcome="deal_stage",
        created_at="engage_date",
        closed_at="close_date",
        amount="close_value",
    ),
    won_values=("Won",),
    lost_values=("Lost",),
    open_values=("Engaging", "Prospecting"),
    lookups=(
        Lookup(
            "accounts.csv",
            "account",
            "account",
            {
                "sector": "industry",
                "revenue": "account_revenue",
                "employees": "employees",
                "year_established": "year_established",
                "office_location": "office_location",
                "subsidiary_of": "subsidiary_of",
            },
            reference_for="account_name",
        ),
        Lookup(
            "sales_teams.csv",
            "sales_agent",
            "sales_agent",
            {"manager": "manager", "regional_office": "region"},
            reference_for="owner",
        ),
        Lookup(
            "products.csv",
            "product",
            "product",
            {"series": "product_series"},
            reference_for="product",
        ),
    ),
)

#: Column aliases for the tables other than deals: Salesforce API/report names and common labels.
TABLE_ALIASES: dict[str, Mapping] = {
    "stakeholders": Mapping(
        preset="salesforce-contact-roles",
        columns=_cols(
            deal_id=("OpportunityId", "Opportunity ID", "Deal ID"),
            contact_id=("ContactId", "Contact ID", "Id"),
            name=("Contact.Name", "Contact Name", "Name"),
            title=("Contact.Title", "Title", "Job Title"),
            role=("Role", "Contact Role", "Buying Role"),
        ),
    ),
    "activities": Mapping(
        preset="salesforce-activities",
        columns=_cols(
            activity_id=("Id", "Activity ID", "Task ID"),
            deal_id=("WhatId", "Opportunity ID", "OpportunityId", "Deal ID"),
            contact_id=("WhoId", "Contact ID"),
            type=("Type", "TaskSubtype", "Activity Type", "Subject"),
            occurred_at=("ActivityDate", "Activity Date", "Date", "CreatedDate", "Created Date"),
            outcome=("Status", "CallDisposition", "Outcome"),
        ),
    ),
    "stage_history": Mapping(
        preset="salesforce-opportunity-history",
        columns=_cols(
            deal_id=("OpportunityId", "Opportunity ID", "Deal ID"),
            stage=("StageName", "Stage", "To Stage", "Deal Stage"),
            entered_at=("CreatedDate", "Created Date", "Last Modified", "Date", "Changed At"),
            close_date=("CloseDate", "Close Date"),
            amount=("Amount",),
        ),
    ),
    "subscriptions": Mapping(
        preset="subscriptions",
        columns=_cols(
            account_id=("AccountId", "Account ID", "customerID", "Customer ID"),
            period_start=("Period Start", "Start Date", "StartDate"),
            period_end=("Period End", "End Date", "EndDate"),
            mrr=("MRR", "Monthly Recurring Revenue", "MonthlyCharges"),
            event=("Event", "Type", "Change Type"),
        ),
    ),
    "usage_events": Mapping(
        preset="usage",
        columns=_cols(
            account_id=("AccountId", "Account ID", "company_id", "org_id"),
            user_id=("UserId", "User ID", "user", "distinct_id"),
            event=("Event", "event_name", "Event Name"),
            occurred_at=("Timestamp", "time", "occurred", "Event Time", "created_at"),
        ),
    ),
}

#: Common labels of deal exports from any CRM or spreadsheet, used when no preset fits.
GENERIC_DEALS = Mapping(
    preset=None,
    columns=_cols(
        deal_id=(
            "Deal ID",
            "Opportunity ID",
            "Opportunity Id",
            "Record ID",
            "ID",
            "Id",
            "Deal Id",
            "Deal Number",
            "Opportunity Number",
        ),
        account_id=("Account ID", "Company ID", "Customer ID"),
        account_name=(
            "Account",
            "Account Name",
            "Company",
            "Company Name",
            "Customer",
            "Organization",
        ),
        owner=(
            "Owner",
            "Deal Owner",
            "Opportunity Owner",
            "Owner Full Name",
            "Opportunity Owner: Full Name",
            "Owner Name",
            "Sales Rep",
            "Rep",
            "Account Executive",
            "Salesperson",
        ),
        created_at=(
            "Created",
            "Created Date",
            "Create Date",
            "Created At",
            "Creation Date",
            "Open Date",
            "Opened",
            "Add Time",
        ),
        closed_at=(
            "Close Date",
            "Closed Date",
            "Closed At",
            "Closing Date",
            "Won Time",
            "Date Closed",
        ),
        outcome=("Outcome", "Result", "Won/Lost", "Win/Loss", "Status", "Deal Status"),
        stage=("Stage", "Deal Stage", "Pipeline Stage"),
        amount=("Amount", "Value", "Deal Value", "Deal Size", "Deal Amount", "Revenue"),
        source=("Source", "Lead Source", "Deal Source"),
        loss_reason=("Lost Reason", "Loss Reason", "Closed Lost Reason"),
        win_reason=("Win Reason", "Closed Won Reason"),
        competitor=("Competitor", "Primary Competitor", "Main Competitor", "Competitor Name"),
    ),
)

PRESETS: dict[str, Mapping] = {
    m.preset: m for m in (SALESFORCE, HUBSPOT, IBM_SALES_WIN_LOSS, MAVEN_CRM) if m.preset
}


def detect_preset(labels: list[str]) -> Mapping | None:
    """The preset that best fits a file's column labels (case-insensitive), if any fits.

    A preset fits when its id column is present and at least three of its roles match; the one
    with the most matching roles wins.
    """
    have = {label.casefold() for label in labels}
    best: tuple[int, Mapping] | None = None
    for m in PRESETS.values():
        hits = sum(any(c.casefold() in have for c in cands) for cands in m.columns.values())
        id_ok = any(c.casefold() in have for c in m.columns.get("deal_id", ()))
        if id_ok and hits >= 3 and (best is None or hits > best[0]):
            best = (hits, m)
    return best[1] if best else None


def preset_mismatch(preset: str | None, labels: list[str]) -> str:
    """When ``--preset`` names another CRM than the file's labels fit, which preset they fit
    (a Salesforce file read with the IBM preset lost its dates and accounts without a word)."""
    if not preset or preset == "auto" or preset not in PRESETS:
        return ""
    fits = detect_preset(labels)
    if fits is None or fits is PRESETS[preset]:
        return ""
    name = next(k for k, v in PRESETS.items() if v is fits)
    have = {label.casefold(): label for label in labels}
    shown = [
        have[c.casefold()] for cands in fits.columns.values() for c in cands if c.casefold() in have
    ]
    found = list(dict.fromkeys(shown))
    listed = ", ".join(repr(x) for x in found[:4]) + (" …" if len(found) > 4 else "")
    return (
        f"the file's columns ({listed}) are those of a {name} export, not of the {preset} "
        f"preset: import it with --preset {name} (or without --preset: it is recognised)"
    )


def parse_column_flags(flags: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Parse ``ROLE=SOURCE_COLUMN`` flags."""
    out: dict[str, str] = {}
    for flag in flags:
        if "=" not in flag:
            raise UsageError(
                f"--column {flag!r}: write it as ROLE=SOURCE_COLUMN, e.g. "
                "--column deal_id='Opportunity ID'"
            )
        role, source = flag.split("=", 1)
        out[role.strip()] = source.strip()
    return out


def load_mapping_file(path: str | Path, *, preset: str | None = None) -> Mapping:
    """Read a YAML or JSON mapping file (see README: "Mapping files"); ``preset`` (from
    ``--preset``) is the base of a file that names none, so the file adds to the preset."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"mapping file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"mapping file {p} is not UTF-8 text ({exc.reason}); save it as UTF-8"
        ) from None
    data: Any
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"mapping file {p}, line {exc.lineno}, column {exc.colno}: not valid JSON "
                f"({exc.msg}); fix it (or write the mapping as YAML, .yaml)"
            ) from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise UsageError(
                f"mapping file {p}{where}: not valid YAML ({problem}); see the README's "
                '"Mapping files" for the form (columns:, won_values:, …)'
            ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{p}: a mapping file is a mapping of keys such as columns:, won_values:")
    if preset and not data.get("preset"):
        data = {**data, "preset": preset}
    elif preset and str(data["preset"]) != preset:
        raise UsageError(
            f"--preset {preset} and the mapping file {p} (preset: {data['preset']}) disagree; "
            "drop one of them"
        )
    return mapping_from_dict(data, origin=str(p))


def mapping_from_dict(data: dict[str, Any], *, origin: str = "mapping") -> Mapping:
    known = {
        "preset",
        "columns",
        "won_values",
        "lost_values",
        "open_values",
        "missing_values",
        "value_maps",
        "after_outcome",
        "ignore",
        "no_dates",
        "day_first",
        "month_first",
    }
    unknown = set(data) - known
    if unknown:
        raise UsageError(f"{origin}: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
    base = PRESETS.get(str(data["preset"])) if data.get("preset") else None
    if data.get("preset") and base is None:
        raise UsageError(
            f"{origin}: unknown preset {data['preset']!r}; choose one of {sorted(PRESETS)}"
        )
    m = base or Mapping()
    cols = dict(m.columns)
    given = data.get("columns") or {}
    if not isinstance(given, dict):
        raise UsageError(f"{origin}: columns: is a mapping of role: source column")
    for role, src in given.items():
        cols[str(role)] = tuple(str(x) for x in src) if isinstance(src, list) else (str(src),)

    def tup(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        v = data.get(key)
        return default if v is None else tuple(str(x) for x in v)

    return replace(
        m,
        columns=cols,
        won_values=tup("won_values", m.won_values),
        lost_values=tup("lost_values", m.lost_values),
        open_values=tup("open_values", m.open_values),
        missing_values=tup("missing_values", m.missing_values),
        value_maps={**m.value_maps, **(data.get("value_maps") or {})},
        after_outcome=m.after_outcome + tup("after_outcome", ()),
        ignore=m.ignore + tup("ignore", ()),
        no_dates=bool(data.get("no_dates", m.no_dates)),
        day_first=bool(data.get("day_first", m.day_first)),
        month_first=bool(data.get("month_first", m.month_first)),
        explicit_columns=m.explicit_columns + tuple(str(r) for r in given),
    )


def resolve_mapping(
    *,
    preset: str | None = None,
    mapping_file: str | Path | None = None,
    columns: dict[str, str] | None = None,
    won_values: tuple[str, ...] = (),
    lost_values: tuple[str, ...] = (),
    no_dates: bool | None = None,
    day_first: bool | None = None,
    month_first: bool | None = None,
    labels: list[str] | None = None,
) -> Mapping:
    """Build the mapping for an import from a preset name, a mapping file and CLI flags.

    Without a preset or file, a preset is detected from the file's column labels when one fits.
    """
    if preset and preset != "auto":
        if preset not in PRESETS:
            raise UsageError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        m = PRESETS[preset]
    elif mapping_file:
        m = load_mapping_file(mapping_file)
    else:
        m = (detect_preset(labels) if labels else None) or GENERIC_DEALS
    if mapping_file and preset and preset != "auto":
        # the file adds to the preset (its value_maps beside the preset's columns): loaded on
        # top of it, the Maven preset's outcome column was lost ("no outcome column found")
        m = load_mapping_file(mapping_file, preset=preset)
    if columns:
        m = m.with_columns(columns)
    # the values named on the command line are the whole truth beside a preset: its values for
    # the other side go (IBM's preset with --won-value Loss said "neither a won value (Loss) nor
    # a lost value (Loss)"); a mapping file's own values are the user's and stay
    keep_other = bool(mapping_file)
    if won_values:
        m = replace(
            m,
            won_values=tuple(won_values),
            lost_values=tuple(lost_values) or (m.lost_values if keep_other else ()),
        )
    elif lost_values:
        m = replace(
            m, lost_values=tuple(lost_values), won_values=m.won_values if keep_other else ()
        )
    if won_values or lost_values:
        m = replace(m, explicit_values=(*won_values, *lost_values))
    if no_dates is not None and no_dates:
        m = replace(m, no_dates=True)
    if day_first:
        m = replace(m, day_first=True)
    if month_first:
        m = replace(m, month_first=True)
    if m.day_first and m.month_first:
        raise UsageError("dates cannot be both day-first and month-first; choose one")
    return m
