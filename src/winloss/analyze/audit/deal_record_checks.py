"""Audit checks on deal records: impossible dates, back-dated records, duplicates and suspicious
values (zero amounts, deals without an account)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from winloss.analyze.audit.checks import (
    AuditIssue,
    CheckOutput,
    Scope,
    agree,
    counted,
    example_ids,
    fmt_count,
)
from winloss.store import audit_queries as aq

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore


# -- dates ----------------------------------------------------------------------------------------
def deal_dates(store: DuckDBStore, scope: Scope, *, max_rows: int) -> CheckOutput:
    """Deals created already closed (created = closed) and closed before they were created."""
    out = CheckOutput()
    counts = aq.date_problem_counts(store, scope).iloc[0]
    detail = aq.date_problem_deals(store, scope, max_rows)
    out.tables["date_problems"] = detail
    closed = int(counts["closed"])
    n = int(counts["created_closed"])
    if n:
        out.issues.append(
            AuditIssue(
                key="dates:created-closed",
                check="created already closed",
                title=(
                    f"{counted(n, 'closed deal')} {agree(n, 'was', 'were')} created already "
                    "closed (created = closed date)"
                ),
                deals=n,
                of=closed,
                universe="closed deals",
                importance="process",
                action=(
                    "Create the opportunity when the deal starts, not at the close; for these "
                    "deals set created_at to the real start date."
                ),
                unblocks=(
                    "cycle time, stage conversion and days to critical event on these deals",
                ),
                field="created_at",
                examples=example_ids(detail[detail["problem"] == "created already closed"]),
            )
        )
    n = int(counts["closed_before_created"])
    if n:
        out.issues.append(
            AuditIssue(
                key="dates:closed-before-created",
                check="impossible dates",
                title=(
                    f"{counted(n, 'deal')} "
                    f"{agree(n, 'closes before it was', 'close before they were')} created "
                    "(back-dated or swapped dates)"
                ),
                deals=n,
                of=closed,
                universe="closed deals",
                importance="outcome",
                action="Correct created_at or closed_at on these deals; block close dates before the "
                "creation date in the CRM.",
                unblocks=("cycle time, quarters and time-based backtests on these deals",),
                field="closed_at",
                examples=example_ids(detail[detail["problem"] == "closed before created"]),
            )
        )
    open_deals = int(counts["open_deals"])
    for key, column, missing, what, action, unblocks in (
        (
            "dates:open-no-expected-close",
            "closed_at",
            "open_no_close",
            "expected close date",
            "Fill the expected close date of open opportunities (the export's Close Date of an "
            "open deal) and make it required while a deal is open.",
            "pipeline coverage and the forecast's timing (without it each deal is timed by past "
            "deals' time to close)",
        ),
        (
            "dates:open-no-created",
            "created_at",
            "open_no_created",
            "created date",
            "Export the created date of every opportunity (Created Date).",
            "deal age, stale-deal flags and the forecast's timing",
        ),
    ):
        n = int(counts[missing])
        if n:
            out.issues.append(
                AuditIssue(
                    key=key,
                    check="open deal dates",
                    title=(
                        f"{fmt_count(n)} of {counted(open_deals, 'open deal')} "
                        f"{agree(n, 'has', 'have')} no {what}"
                    ),
                    deals=n,
                    of=open_deals,
                    universe="open deals",
                    importance="process",
                    action=action,
                    unblocks=(unblocks,),
                    field=column,
                )
            )
    return out


def orphan_records(store: DuckDBStore, scope: Scope) -> CheckOutput:
    """Stage entries, activities and contacts of deals that are not in the store (imported with
    ``--on-orphan keep``): they count in paths and committees but belong to no deal here."""
    out = CheckOutput()
    if scope.condition != "TRUE":  # a filtered audit looks at its deals only
        return out
    found = aq.orphan_related(store)
    for r in found.to_dict(orient="records"):
        examples = tuple(str(x) for x in (r["examples"] or []))
        out.issues.append(
            AuditIssue(
                key=f"orphans:{r['source']}",
                check="records without a deal",
                title=(
                    f"{counted(int(r['records']), r['source'].replace('_', ' ') + ' row')} "
                    f"{agree(int(r['records']), 'belongs', 'belong')} to "
                    f"{counted(int(r['deals']), 'deal id')} that "
                    f"{agree(int(r['deals']), 'is', 'are')} not in the store"
                ),
                deals=int(r["deals"]),
                of=int(r["deals"]),
                universe="deal ids referred to but not stored",
                importance="process",
                action=(
                    "Import those deals (or correct the deal_id of these rows); until then paths "
                    "and committees count them without a deal or an outcome."
                ),
                unblocks=("paths and committees that match every record to its deal",),
                field="deal_id",
                examples=examples,
            )
        )
    return out


def back_dated(store: DuckDBStore, scope: Scope) -> CheckOutput:
    """Records dated before their deal could have them: stage entries and activities before the
    deal was created, captures before it closed."""
    out = CheckOutput()
    sources = (
        ("stage_history", "stage entries before the deal was created"),
        ("activities", "activities before the deal was created"),
        ("captures", "captures made before the deal closed"),
    )
    total = scope.count(store)
    rows = []
    for table, what in sources:
        found = aq.back_dated_records(store, scope, table)
        n = len(found)
        rows.append(
            {
                "source": table,
                "problem": what,
                "deals": n,
                "records": int(found["records"].sum()) if n else 0,
            }
        )
        if n:
            out.issues.append(
                AuditIssue(
                    key=f"back-dated:{table}",
                    check="back-dated records",
                    title=(
                        f"{counted(n, 'deal')} {agree(n, 'has', 'have')} {what} "
                        f"({counted(int(found['records'].sum()), 'record')})"
                    ),
                    deals=n,
                    of=total,
                    universe="deals",
                    importance="process",
                    action=(
                        f"Find the import or sync that writes {table} dates before the deal's "
                        "own dates and correct them; re-import the fixed records."
                    ),
                    unblocks=(
                        "time-based backtests without leakage, stage timing and action paths",
                    ),
                    examples=example_ids(found),
                )
            )
    out.tables["back_dated"] = pd.DataFrame(rows)
    return out


# -- duplicates and suspicious values -------------------------------------------------------------
def duplicates(
    store: DuckDBStore, scope: Scope, name_columns: list[str], *, max_rows: int
) -> CheckOutput:
    """Deals with the same account, amount and creation date (a zero or missing amount is not
    evidence), or the same deal name at the same account (a custom name column)."""
    out = CheckOutput()
    keys: list[tuple[str, str | None]] = [("account, amount and created date", None)]
    keys += [(f"{col} and account", col) for col in name_columns]
    total = scope.count(store)
    frames = []
    for label, name_column in keys:
        groups = aq.duplicate_groups(store, scope, name_column, max_rows)
        n_groups = int(groups["n_groups"].iloc[0]) if len(groups) else 0
        n_deals = int(groups["n_deals"].iloc[0]) if len(groups) else 0
        groups = groups.drop(columns=["n_groups", "n_deals"])
        groups.insert(0, "match", label)
        groups["deal_ids"] = groups["deal_ids"].map(lambda ids: ", ".join(map(str, ids)))
        frames.append(groups)
        if n_deals:
            out.issues.append(
                AuditIssue(
                    key=f"duplicates:{label}",
                    check="duplicates",
                    title=(
                        f"{counted(n_deals, 'deal')} in {counted(n_groups, 'group')} "
                        f"{agree(n_deals, 'shares', 'share')} the same {label} "
                        f"({counted(n_deals - n_groups, 'likely duplicate')})"
                    ),
                    deals=n_deals,
                    of=total,
                    universe="deals",
                    importance="outcome",
                    action=(
                        "Merge the duplicated opportunities in the CRM (keep the oldest id) and "
                        "re-import; add a duplicate rule on " + label + "."
                    ),
                    unblocks=("win rates and counts that do not count a deal twice",),
                    examples=tuple(groups["deal_ids"].head(3)),
                )
            )
    out.tables["duplicates"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def suspicious_values(store: DuckDBStore, scope: Scope) -> CheckOutput:
    """Lost deals with amount 0, amounts at or below 0 elsewhere, deals without an account."""
    out = CheckOutput()
    frame = aq.value_problems(store, scope)
    out.tables["suspicious_values"] = frame
    by = frame.set_index("outcome")
    total = int(frame["deals"].sum())

    def get(outcome: str, column: str) -> int:
        return int(by.loc[outcome, column]) if outcome in by.index else 0

    lost, lost_zero = get("lost", "deals"), get("lost", "amount_zero")
    if lost_zero:
        blocking = lost_zero >= 0.5 * lost
        out.issues.append(
            AuditIssue(
                key="values:lost-amount-zero",
                check="suspicious values",
                title=(
                    f"{fmt_count(lost_zero)} of {counted(lost, 'lost deal')} "
                    f"{agree(lost_zero, 'has', 'have')} amount 0"
                ),
                deals=lost_zero,
                of=lost,
                universe="lost deals",
                importance="outcome",
                action=(
                    "Keep the deal's expected value when it is lost (do not zero the amount at "
                    "close), or export the last open amount."
                ),
                unblocks=(
                    "lost revenue, deal size of wins vs losses and revenue-weighted findings",
                ),
                blocking=blocking,
                field="amount",
            )
        )
    zero_other = sum(get(o, "amount_zero") for o in by.index if o != "lost")
    negative = int(frame["amount_negative"].sum())
    if zero_other or negative:
        out.issues.append(
            AuditIssue(
                key="values:amount-not-positive",
                check="suspicious values",
                title=(
                    f"{counted(zero_other + negative, 'won or open deal')} "
                    f"{agree(zero_other + negative, 'has', 'have')} an amount of 0 or "
                    f"less ({fmt_count(negative)} negative)"
                ),
                deals=zero_other + negative,
                of=total,
                universe="deals",
                importance="outcome",
                action="Enter the real deal value; make amount required and positive in the CRM.",
                unblocks=("the forecast and revenue-weighted findings",),
                field="amount",
            )
        )
    missing = int(frame["no_account"].sum())
    if missing:
        parts = ", ".join(
            f"{fmt_count(int(r['no_account']))} {r['outcome']}"
            for r in frame.to_dict(orient="records")
            if r["no_account"]
        )
        out.issues.append(
            AuditIssue(
                key="values:no-account",
                check="suspicious values",
                title=(
                    f"{counted(missing, 'deal')} {agree(missing, 'has', 'have')} no account "
                    f"({parts})"
                ),
                deals=missing,
                of=total,
                universe="deals",
                importance="key",
                action=(
                    "Link every opportunity to an account (account id or name) before it enters "
                    "the pipeline."
                ),
                unblocks=(
                    "account targeting, expansion lists and the account attributes joined to "
                    "deals (industry, size)",
                ),
                field="account_name",
            )
        )
    return out
