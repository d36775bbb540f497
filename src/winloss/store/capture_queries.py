"""Captures in the store: how they resolve into the deals' SPICED fields, and the capture queries
of the web app (pending captures, coverage, users).

Resolution (the ``deals_resolved`` view, which ``deals_enriched`` is built on): for each SPICED
field that a capture can answer, and the competitor, the value comes from the first source in the precedence that has
one — by default ``buyer`` (a buyer interview), then ``rep`` (a rep capture), then ``crm`` (the
imported deal field). Within one respondent the latest non-blank answer wins. A capture's
``primary_reason`` fills ``win_reason`` of a won deal and ``loss_reason`` of a lost one under the
same precedence. The precedence is the store setting ``capture_precedence`` (e.g.
``rep,buyer,crm``). The ``deal_field_sources`` view says, per deal and field, where the value came
from and when it was captured.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd

from winloss.errors import UsageError
from winloss.model.schema import CAPTURES, DEALS

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

#: The fields a capture answers that are also deal fields, in capture order: the SPICED fields
#: and the competitor (the buyer's word on whom they chose outranks the CRM's field).
RESOLVED_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in CAPTURES.fields
    if f.name in DEALS.names
    and (f.group not in ("deal", "after_outcome") or f.name == "competitor")
)
#: Deal fields filled from a capture's primary_reason, by outcome.
REASON_FIELDS: dict[str, str] = {"won": "win_reason", "lost": "loss_reason"}
SOURCES = ("buyer", "rep", "crm")
DEFAULT_PRECEDENCE = ("buyer", "rep", "crm")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(store: DuckDBStore, relation: str) -> set[str]:
    """The columns of a table or view, on either engine (no rows read)."""
    return set(store.query(f"SELECT * FROM {_q(relation)} WHERE 1 = 0").columns)


def parse_precedence(text: str | None) -> tuple[str, ...]:
    """``"buyer,rep,crm"`` → ``("buyer", "rep", "crm")``; every source at most once."""
    if not text:
        return DEFAULT_PRECEDENCE
    order = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    bad = [s for s in order if s not in SOURCES]
    if bad or len(set(order)) != len(order) or not order:
        raise UsageError(
            f"capture precedence {text!r}: list each of {', '.join(SOURCES)} at most "
            "once, highest first (e.g. buyer,rep,crm)"
        )
    return order


def _alias(source: str) -> str:
    return {"buyer": "b", "rep": "r", "crm": "d"}[source]


def create_capture_views(
    store: DuckDBStore, precedence: tuple[str, ...], *, deal_columns: list[str] | None = None
) -> None:
    """(Re)create ``capture_values``, ``deals_resolved`` and ``deal_field_sources``.

    ``deal_columns`` (every column of ``deals``, in order) spells ``deals_resolved`` out column by
    column for engines without DuckDB's ``* REPLACE``; without it the view uses ``* REPLACE``.
    """
    con = store
    # a store read before its migrations ran (a read-only open of an older store) lacks the
    # newest capture columns (competitor): resolve the fields it has
    present = _columns(store, "captures")
    resolved = tuple(n for n in RESOLVED_FIELDS if n in present)
    aggs = []
    for name in (*resolved, "primary_reason"):
        aggs.append(
            f"arg_max({_q(name)}, captured_at) FILTER (WHERE {_q(name)} IS NOT NULL) AS {_q(name)}"
        )
        aggs.append(
            f"max(captured_at) FILTER (WHERE {_q(name)} IS NOT NULL) AS {_q(name + '__at')}"
        )
    con.execute(
        "CREATE OR REPLACE VIEW capture_values AS SELECT deal_id, respondent, "
        + ", ".join(aggs)
        + ", max(captured_at) AS last_captured_at "
        "FROM captures GROUP BY deal_id, respondent"
    )
    joins = (
        " LEFT JOIN capture_values b ON b.deal_id = d.deal_id AND b.respondent = 'buyer'"
        " LEFT JOIN capture_values r ON r.deal_id = d.deal_id AND r.respondent = 'rep'"
    )

    def value(col: str, crm_col: str) -> str:
        parts = [f"{_alias(s)}.{_q(col if s != 'crm' else crm_col)}" for s in precedence]
        return f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0]

    replace = [f"{value(n, n)} AS {_q(n)}" for n in resolved]
    for outcome, col in REASON_FIELDS.items():
        replace.append(
            f"CASE WHEN d.outcome = '{outcome}' THEN {value('primary_reason', col)} "
            f"ELSE d.{_q(col)} END AS {_q(col)}"
        )
    captured = ["d.captured_at"] + [
        f"CAST({_alias(s)}.last_captured_at AS DATE)" for s in ("buyer", "rep") if s in precedence
    ]
    replace.append(f"greatest({', '.join(captured)}) AS captured_at")
    if deal_columns is None:
        select = "d.* REPLACE (" + ", ".join(replace) + ")"
    else:
        replaced = dict(
            zip([*resolved, *REASON_FIELDS.values(), "captured_at"], replace, strict=True)
        )
        select = ", ".join(replaced.get(c, f"d.{_q(c)}") for c in deal_columns)
    con.execute(
        "CREATE OR REPLACE VIEW deals_resolved AS SELECT " + select + " FROM deals d" + joins
    )

    selects = []
    for name in (*resolved, *REASON_FIELDS.values()):
        cap_col = name if name in resolved else "primary_reason"
        guard = ""
        if name not in resolved:
            outcome = next(o for o, c in REASON_FIELDS.items() if c == name)
            guard = f"d.outcome = '{outcome}' AND "
        src_cases, at_cases = [], []
        for s in precedence:
            a = _alias(s)
            if s == "crm":
                src_cases.append(f"WHEN d.{_q(name)} IS NOT NULL THEN 'crm'")
            else:
                src_cases.append(f"WHEN {guard}{a}.{_q(cap_col)} IS NOT NULL THEN '{s}'")
                at_cases.append(
                    f"WHEN {guard}{a}.{_q(cap_col)} IS NOT NULL THEN {a}.{_q(cap_col + '__at')}"
                )
        at_sql = f"CASE {' '.join(at_cases)} END" if at_cases else "CAST(NULL AS TIMESTAMP)"
        selects.append(
            f"SELECT d.deal_id, '{name}' AS field, CASE {' '.join(src_cases)} END AS source, "
            f"{at_sql} AS captured_at FROM deals d{joins}"
        )
    con.execute("CREATE OR REPLACE VIEW deal_field_sources AS " + " UNION ALL ".join(selects))


def precedence(store: DuckDBStore) -> tuple[str, ...]:
    return parse_precedence(store.get_setting("capture_precedence"))


def field_sources(store: DuckDBStore, deal_id: str | None = None) -> pd.DataFrame:
    """Where each resolved SPICED field of a deal (or of every deal) came from."""
    sql = "SELECT deal_id, field, source, captured_at FROM deal_field_sources"
    params: list[Any] = []
    if deal_id is not None:
        sql += " WHERE deal_id = ?"
        params.append(deal_id)
    return store.query(sql + " ORDER BY deal_id, field", params)


def source_counts(store: DuckDBStore) -> pd.DataFrame:
    """Closed deals per resolved field and source (buyer, rep, crm, blank); win_reason counts
    won deals only, loss_reason lost deals only."""
    return store.query(
        "SELECT s.field, coalesce(s.source, 'blank') AS source, count(*) AS deals "
        "FROM deal_field_sources s JOIN deals d USING (deal_id) "
        "WHERE d.outcome IN ('won', 'lost') "
        "AND NOT (s.field = 'win_reason' AND d.outcome <> 'won') "
        "AND NOT (s.field = 'loss_reason' AND d.outcome <> 'lost') GROUP BY 1, 2 ORDER BY 1, 2"
    )


def deal(store: DuckDBStore, deal_id: str) -> dict[str, Any] | None:
    """One deal as resolved (``deals_enriched``), or ``None``."""
    frame = store.query("SELECT * FROM deals_enriched WHERE deal_id = ?", [deal_id])
    if frame.empty:
        return None
    return {k: (None if _isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def crm_deal(store: DuckDBStore, deal_id: str) -> dict[str, Any] | None:
    """One deal as imported from the CRM (no capture applied), or ``None``."""
    frame = store.query("SELECT * FROM deals WHERE deal_id = ?", [deal_id])
    if frame.empty:
        return None
    return {k: (None if _isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def deal_captures(store: DuckDBStore, deal_id: str) -> pd.DataFrame:
    """Every capture of a deal, latest first."""
    return store.query(
        "SELECT * FROM captures WHERE deal_id = ? ORDER BY captured_at DESC", [deal_id]
    )


def pending_captures(
    store: DuckDBStore,
    owner: str | None,
    *,
    freshness_days: int,
    today: dt.date,
    respondent: str = "rep",
) -> pd.DataFrame:
    """Closed deals without a capture by ``respondent``, oldest close first, with the deadline
    (close + ``freshness_days``) and days left (negative when overdue)."""
    where = "d.outcome IN ('won', 'lost') AND c.deal_id IS NULL"
    params: list[Any] = [respondent]
    if owner is not None:
        where += " AND d.owner = ?"
        params.append(owner)
    frame = store.query(
        "SELECT d.deal_id, d.account_name, d.owner, d.outcome, d.amount, d.segment, d.closed_at "
        "FROM deals d LEFT JOIN (SELECT DISTINCT deal_id FROM captures WHERE respondent = ?) c "
        "ON c.deal_id = d.deal_id WHERE " + where + " ORDER BY d.closed_at NULLS FIRST, d.deal_id",
        params,
    )
    closed = pd.to_datetime(frame["closed_at"])
    frame["deadline"] = (closed + pd.Timedelta(days=freshness_days)).dt.date
    frame["days_left"] = (closed + pd.Timedelta(days=freshness_days) - pd.Timestamp(today)).dt.days
    return frame


def coverage(
    store: DuckDBStore, *, freshness_days: int, since: dt.date | None = None
) -> pd.DataFrame:
    """Capture coverage and freshness per owner on closed deals (closed since ``since``).

    ``captured`` deals have a rep capture; ``fresh`` ones were captured within
    ``freshness_days`` of the close; ``buyer`` ones also have a buyer interview;
    ``median_days`` is the audit's median days from the close to the deal's first capture
    (:func:`winloss.store.audit_queries.freshness_by_owner`): one figure for the coverage page and
    ``winloss audit``, computed once.
    """
    from winloss.store.audit_queries import Scope, freshness_by_owner

    params: list[Any] = [freshness_days]
    where = "d.outcome IN ('won', 'lost')"
    scope = Scope()
    if since is not None:
        where += " AND d.closed_at >= ?"
        params.append(since)
        scope = Scope("closed_at >= ?", (since,))
    frame = store.query(
        "WITH first AS (SELECT deal_id, respondent, min(captured_at) AS first_at FROM captures "
        "GROUP BY 1, 2), per AS (SELECT d.owner, d.deal_id, r.first_at AS rep_at, "
        "b.first_at AS buyer_at, date_diff('day', CAST(d.closed_at AS DATE), "
        "CAST(r.first_at AS DATE)) AS days FROM deals d "
        "LEFT JOIN first r ON r.deal_id = d.deal_id AND r.respondent = 'rep' "
        "LEFT JOIN first b ON b.deal_id = d.deal_id AND b.respondent = 'buyer' "
        f"WHERE {where}) "
        "SELECT coalesce(owner, '(no owner)') AS owner, count(*) AS closed, "
        "count(rep_at) AS captured, count(*) FILTER (WHERE days <= ?) AS fresh, "
        "count(buyer_at) AS buyer, count(*) - count(rep_at) AS missing FROM per "
        "GROUP BY 1 ORDER BY 1",
        [*params[1:], params[0]],
    )
    timing = freshness_by_owner(store, scope, freshness_days).dropna(subset=["owner"])
    medians = dict(zip(timing["owner"], timing["median_days"].astype(float), strict=True))
    frame.insert(5, "median_days", frame["owner"].map(medians).astype(float))
    return frame


def insert_capture(store: DuckDBStore, row: dict[str, Any]) -> None:
    """Insert one validated capture row (upsert on its key) in a transaction."""
    cols = [c for c in row if c in CAPTURES.names or c == "captured_by"]
    key = list(CAPTURES.key)
    updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in cols if c not in key)
    store.execute(
        f"INSERT INTO captures ({', '.join(_q(c) for c in cols)}) VALUES "
        f"({', '.join('?' for _ in cols)}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        [row[c] for c in cols],
    )


def owners(store: DuckDBStore) -> list[str]:
    """Distinct deal owners, sorted."""
    return [
        str(r[0])
        for r in store.fetchall(
            "SELECT DISTINCT owner FROM deals WHERE owner IS NOT NULL ORDER BY 1"
        )
    ]


def both_respondents(store: DuckDBStore) -> pd.DataFrame:
    """Deals with a rep capture and a buyer interview: the latest answers of each, side by side
    (columns ``<field>_rep`` and ``<field>_buyer``), with owner and outcome."""
    present = _columns(store, "capture_values")
    fields = tuple(f for f in (*RESOLVED_FIELDS, "primary_reason") if f in present)
    cols = ", ".join(
        f"r.{_q(f)} AS {_q(f + '_rep')}, b.{_q(f)} AS {_q(f + '_buyer')}" for f in fields
    )
    return store.query(
        f"SELECT d.deal_id, d.owner, d.outcome, d.closed_at, {cols} FROM deals d "
        "JOIN capture_values r ON r.deal_id = d.deal_id AND r.respondent = 'rep' "
        "JOIN capture_values b ON b.deal_id = d.deal_id AND b.respondent = 'buyer' "
        "ORDER BY d.deal_id"
    )


def interview_candidates(store: DuckDBStore, since: dt.date) -> pd.DataFrame:
    """Closed deals since ``since`` with their CRM and rep-captured reason, whether they have a
    buyer interview, and the latest stored model probability (if any)."""
    return store.query(
        "SELECT d.deal_id, d.account_name, d.owner, d.outcome, d.segment, d.amount, d.closed_at, "
        "CASE WHEN d.outcome = 'won' THEN d.win_reason ELSE d.loss_reason END AS crm_reason, "
        "r.primary_reason AS rep_reason, r.pain_category AS rep_pain, "
        "d.pain_category AS crm_pain, b.deal_id IS NOT NULL AS has_buyer, "
        "(SELECT s.probability FROM scores s WHERE s.deal_id = d.deal_id "
        " ORDER BY s.scored_at DESC LIMIT 1) AS probability "
        "FROM deals d "
        "LEFT JOIN capture_values r ON r.deal_id = d.deal_id AND r.respondent = 'rep' "
        "LEFT JOIN capture_values b ON b.deal_id = d.deal_id AND b.respondent = 'buyer' "
        "WHERE d.outcome IN ('won', 'lost') AND d.closed_at >= ? ORDER BY d.deal_id",
        [since],
    )


def interviews_per_segment(store: DuckDBStore) -> pd.DataFrame:
    """Buyer interviews per segment (closed deals)."""
    return store.query(
        "SELECT coalesce(d.segment, '(none)') AS segment, count(DISTINCT c.deal_id) AS interviews, "
        "count(DISTINCT d.deal_id) AS closed FROM deals d LEFT JOIN captures c "
        "ON c.deal_id = d.deal_id AND c.respondent = 'buyer' "
        "WHERE d.outcome IN ('won', 'lost') GROUP BY 1 ORDER BY 1"
    )


# -- users ------------------------------------------------------------------------------------
class UserRecord(TypedDict):
    """A web-app account as stored (the password only as its argon2 hash)."""

    username: str
    password_hash: str
    role: str
    owner_name: str | None


def get_user(store: DuckDBStore, username: str) -> UserRecord | None:
    rows = store.fetchall(
        "SELECT username, password_hash, role, owner_name FROM users WHERE username = ?", [username]
    )
    if not rows:
        return None
    row = rows[0]
    return UserRecord(
        username=str(row[0]),
        password_hash=str(row[1]),
        role=str(row[2]),
        owner_name=None if row[3] is None else str(row[3]),
    )


def upsert_user(
    store: DuckDBStore,
    username: str,
    password_hash: str,
    role: str,
    owner_name: str | None,
    now: dt.datetime,
) -> None:
    store.execute(
        "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)",
        [username, password_hash, role, owner_name, now],
    )


def list_users(store: DuckDBStore) -> pd.DataFrame:
    return store.query("SELECT username, role, owner_name, created_at FROM users ORDER BY 1")


def deal_outcomes(store: DuckDBStore, deal_ids: list[str]) -> dict[str, str]:
    """The outcome of each of ``deal_ids`` the store holds."""
    if not deal_ids:
        return {}
    frame = store.query("SELECT deal_id, outcome FROM deals")
    wanted = set(deal_ids)
    return {
        str(d): str(o)
        for d, o in frame.itertuples(index=False)
        if str(d) in wanted and o is not None
    }


def reason_use(store: DuckDBStore) -> pd.DataFrame:
    """Closed deals per reason and outcome (``reason``, ``outcome``, ``deals``): each deal's
    resolved win reason (won deals) or loss reason (lost deals), the figures the QBR counts."""
    return store.query(
        "SELECT reason, outcome, count(*) AS deals FROM ("
        "SELECT outcome, win_reason AS reason FROM deals_enriched WHERE outcome = 'won' "
        "UNION ALL SELECT outcome, loss_reason FROM deals_enriched WHERE outcome = 'lost'"
        ") AS used WHERE reason IS NOT NULL GROUP BY reason, outcome ORDER BY reason, outcome"
    )


def competitor_names(store: DuckDBStore) -> list[str]:
    """The competitors deals name (resolved), most named first: the capture form's suggestions."""
    return [
        str(r[0])
        for r in store.fetchall(
            "SELECT competitor, count(*) AS n FROM deals_enriched WHERE competitor IS NOT NULL "
            "GROUP BY competitor ORDER BY n DESC, competitor"
        )
    ]


def buyer_interviews_by_outcome(store: DuckDBStore) -> dict[str, int]:
    """Closed deals with a buyer interview, per outcome."""
    rows = store.fetchall(
        "SELECT d.outcome, count(DISTINCT d.deal_id) FROM deals d JOIN captures c "
        "ON c.deal_id = d.deal_id AND c.respondent = 'buyer' "
        "WHERE d.outcome IN ('won', 'lost') GROUP BY 1"
    )
    return {str(r[0]): int(r[1]) for r in rows}
