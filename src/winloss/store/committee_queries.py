"""Named store queries of the buying-committee analysis (SQL lives only in store/).

A person is *engaged* on a deal when we engaged them (``engaged_at``) or had an activity with them;
they were *reached* at the earlier of the two. Decision makers are the roles ``decision_maker`` and
``economic_buyer``. Rows of ``stakeholders`` or ``activities`` whose deal is not in ``deals`` are
never joined: :func:`orphan_rows` reports them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from winloss.store.duckdb_store import DuckDBStore

#: Roles that count as the decision maker.
DECISION_ROLES = ("decision_maker", "economic_buyer")

_PEOPLE = """
WITH touch AS (
    SELECT deal_id, contact_id, min(occurred_at) AS first_activity, count(*) AS activities
    FROM activities WHERE contact_id IS NOT NULL GROUP BY deal_id, contact_id
), people AS (
    SELECT s.deal_id, s.contact_id, lower(trim(s.role)) AS role, lower(trim(s.seniority))
           AS seniority, s.start_date, s.left_at, s.introduced_by, s.reached_via,
           least(CAST(s.engaged_at AS TIMESTAMP), t.first_activity) AS reached_at,
           coalesce(t.activities, 0) AS activities
    FROM stakeholders s
    JOIN deals d ON d.deal_id = s.deal_id
    LEFT JOIN touch t ON t.deal_id = s.deal_id AND t.contact_id = s.contact_id
)
"""

_FEATURES = (
    _PEOPLE
    + """
, engaged AS (SELECT * FROM people WHERE reached_at IS NOT NULL)
, champion AS (
    SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY deal_id ORDER BY reached_at, contact_id)
                   AS k FROM engaged WHERE role = 'champion') WHERE k = 1
), dm AS (
    SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY deal_id ORDER BY reached_at, contact_id)
                   AS k FROM engaged WHERE role IN ('decision_maker', 'economic_buyer')) WHERE k = 1
), before_dm AS (
    SELECT dm.deal_id, count(e.contact_id) AS threads_before_dm,
           bool_or(e.contact_id = champion.contact_id) AS champion_before_dm
    FROM dm
    LEFT JOIN engaged e ON e.deal_id = dm.deal_id AND e.reached_at < dm.reached_at
         AND e.contact_id <> dm.contact_id
    LEFT JOIN champion ON champion.deal_id = dm.deal_id
    GROUP BY dm.deal_id
), roles AS (
    SELECT deal_id, count(*) AS engaged_stakeholders,
           count(DISTINCT seniority) AS seniority_levels,
           bool_or(role = 'champion') AS has_champion,
           bool_or(role IN ('decision_maker', 'economic_buyer')) AS has_decision_maker,
           bool_or(role = 'influencer') AS has_influencer,
           bool_or(role = 'user') AS has_user,
           bool_or(role = 'blocker') AS has_blocker
    FROM engaged GROUP BY deal_id
), listed AS (
    SELECT deal_id, count(*) AS listed_stakeholders FROM people GROUP BY deal_id
)
SELECT d.deal_id, d.account_id, d.outcome, d.segment, d.amount, d.source, d.created_at,
       d.closed_at, d.cycle_days, d.decision_maker_engaged AS captured_dm_engaged,
       coalesce(listed.listed_stakeholders, 0) AS listed_stakeholders,
       coalesce(roles.engaged_stakeholders, 0) AS engaged_stakeholders,
       coalesce(roles.seniority_levels, 0) AS seniority_levels,
       coalesce(roles.has_champion, false) AS has_champion,
       coalesce(roles.has_decision_maker, false) AS has_decision_maker,
       coalesce(roles.has_influencer, false) AS has_influencer,
       coalesce(roles.has_user, false) AS has_user,
       coalesce(roles.has_blocker, false) AS has_blocker,
       champion.contact_id AS champion_id,
       CAST(date_diff('day', champion.start_date, d.created_at) AS BIGINT)
           AS champion_tenure_days,
       champion.left_at AS champion_left_at,
       champion.left_at IS NOT NULL AND champion.left_at >= CAST(d.created_at AS DATE)
           AND champion.left_at <= CASE WHEN d.outcome = 'open' THEN CAST(? AS DATE)
                                         ELSE CAST(d.closed_at AS DATE) END
           AS champion_left,
       dm.contact_id AS dm_id, dm.reached_at AS dm_reached_at,
       CAST(date_diff('day', CAST(d.created_at AS TIMESTAMP), dm.reached_at) AS BIGINT)
           AS days_to_dm,
       dm.reached_via AS dm_recorded_route, dm.introduced_by AS dm_introduced_by,
       intro.role AS dm_introducer_role,
       coalesce(before_dm.threads_before_dm, 0) AS threads_before_dm,
       coalesce(before_dm.champion_before_dm, false) AS champion_before_dm
FROM deals_enriched d
LEFT JOIN listed ON listed.deal_id = d.deal_id
LEFT JOIN roles ON roles.deal_id = d.deal_id
LEFT JOIN champion ON champion.deal_id = d.deal_id
LEFT JOIN dm ON dm.deal_id = d.deal_id
LEFT JOIN before_dm ON before_dm.deal_id = d.deal_id
LEFT JOIN people intro ON intro.deal_id = d.deal_id AND intro.contact_id = dm.introduced_by
ORDER BY d.created_at, d.deal_id
"""
)


def committee_features(store: DuckDBStore, as_of: dt.date) -> pd.DataFrame:
    """One row per deal: engaged people, roles, champion and decision-maker facts.

    ``as_of`` closes the window of open deals (a champion who left before it has left them).
    """
    return store.query(_FEATURES, [as_of])


def data_as_of(store: DuckDBStore) -> dt.date | None:
    """The latest date the committee data speak of (deals, stakeholders, activities)."""
    value = store.scalar(
        "SELECT max(x) FROM (SELECT max(CAST(created_at AS DATE)) AS x FROM deals "
        "UNION ALL SELECT max(CAST(closed_at AS DATE)) FROM deals WHERE outcome <> 'open' "
        "UNION ALL SELECT max(CAST(engaged_at AS DATE)) FROM stakeholders "
        "UNION ALL SELECT max(CAST(occurred_at AS DATE)) FROM activities)"
    )
    return value if isinstance(value, dt.date) else None


def orphan_rows(store: DuckDBStore, *, limit: int = 20) -> dict[str, tuple[int, list[str]]]:
    """Rows of stakeholders and activities whose deal_id is not a stored deal.

    Returns, per table, the number of such rows and up to ``limit`` of their keys
    (``deal_id/contact_id`` or ``activity_id``).
    """
    out: dict[str, tuple[int, list[str]]] = {}
    for table, key in (
        ("stakeholders", "deal_id || '/' || contact_id"),
        ("activities", "activity_id || ' (deal ' || deal_id || ')'"),
    ):
        where = (
            f"FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM deals d WHERE d.deal_id = t.deal_id)"
        )
        count = int(store.scalar(f"SELECT count(*) {where}"))
        keys = (
            [
                str(r[0])
                for r in store.fetchall(f"SELECT {key} {where} ORDER BY 1 LIMIT {int(limit)}")
            ]
            if count
            else []
        )
        out[table] = (count, keys)
    return out


def committee_people(store: DuckDBStore, deal_id: str) -> pd.DataFrame:
    """The people of one deal's committee with when they were reached and their activity count."""
    return store.query(
        _PEOPLE
        + """
        SELECT p.contact_id, s.name, s.title, p.role, p.seniority, p.reached_at, p.activities,
               p.reached_via, p.introduced_by, p.left_at, p.start_date
        FROM people p JOIN stakeholders s ON s.deal_id = p.deal_id AND s.contact_id = p.contact_id
        WHERE p.deal_id = ? ORDER BY p.reached_at NULLS LAST, p.contact_id""",
        [deal_id],
    )


def committee_activities(store: DuckDBStore, deal_id: str) -> pd.DataFrame:
    """Activities of one deal in time order (engagement over time)."""
    return store.query(
        "SELECT activity_id, contact_id, type, occurred_at FROM activities WHERE deal_id = ? "
        "ORDER BY occurred_at, activity_id",
        [deal_id],
    )


def deal_exists(store: DuckDBStore, deal_id: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM deals WHERE deal_id = ?", [deal_id]))
