"""Named store queries of the product-led-growth analysis (SQL lives only in store/).

An account's *first event* is its earliest usage event (its sign-up). Usage counts are taken within
``W`` days of the first event (``occurred_at < first + W days``), per event name and for any event
(``event = '*'``), as distinct users and as events, for several windows in one pass. An account is
*known* when it appears in ``deals`` or ``subscriptions``; usage of other accounts is reported by
:func:`orphan_usage`, never joined to a wrong account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from winloss.store.duckdb_store import DuckDBStore


def usage_window_counts(store: DuckDBStore, windows: Sequence[int]) -> pd.DataFrame:
    """Per account and event (``*`` = any): distinct users and events within each window.

    Columns: ``account_id``, ``event``, then ``users_<W>`` and ``events_<W>`` per window.
    """
    days = sorted({int(w) for w in windows})
    if not days or days[0] <= 0:
        raise ValueError("windows must be positive numbers of days")
    aggregates = ", ".join(
        f"count(DISTINCT user_id) FILTER (WHERE age_seconds < {w * 86400}) AS users_{w}, "
        f"count(*) FILTER (WHERE age_seconds < {w * 86400}) AS events_{w}"
        for w in days
    )
    return store.query(f"""
        WITH first AS (SELECT account_id, min(occurred_at) AS first_at FROM usage_events
                       GROUP BY account_id),
        ev AS (SELECT u.account_id, u.user_id, u.event,
                      date_diff('second', f.first_at, u.occurred_at) AS age_seconds
               FROM usage_events u JOIN first f ON f.account_id = u.account_id
               WHERE u.occurred_at < f.first_at + INTERVAL {days[-1]} DAY)
        SELECT account_id, coalesce(event, '*') AS event, {aggregates}
        FROM ev GROUP BY GROUPING SETS ((account_id, event), (account_id))
        ORDER BY account_id, event""")


def usage_accounts(store: DuckDBStore, horizon_days: int) -> pd.DataFrame:
    """One row per account with usage: first and last event, users, whether it is known, whether
    it was already a customer at its first event (a won deal closed before it), its conversion
    (the first won deal created on or after the first event's day and closed within
    ``horizon_days`` of it) and whether any deal was created since the first event."""
    return store.query(
        """
        WITH first AS (SELECT account_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
                              count(DISTINCT user_id) AS users, count(*) AS events
                       FROM usage_events GROUP BY account_id),
        known AS (SELECT DISTINCT account_id FROM deals WHERE account_id IS NOT NULL
                  UNION SELECT DISTINCT account_id FROM subscriptions),
        conv AS (SELECT f.account_id, min(d.closed_at) AS converted_at
                 FROM first f JOIN deals d ON d.account_id = f.account_id
                 WHERE d.outcome = 'won' AND d.created_at >= CAST(f.first_at AS DATE)
                   AND d.closed_at <= f.first_at + to_days(CAST(? AS INTEGER))
                 GROUP BY f.account_id),
        since AS (SELECT f.account_id, count(*) AS deals_since_first,
                         bool_or(d.outcome = 'open') AS open_deal
                  FROM first f JOIN deals d ON d.account_id = f.account_id
                  WHERE d.created_at >= CAST(f.first_at AS DATE) GROUP BY f.account_id),
        segs AS (SELECT account_id, mode(segment) AS segment FROM deals GROUP BY account_id),
        customers AS (SELECT DISTINCT f.account_id FROM first f JOIN deals d
                      ON d.account_id = f.account_id
                      WHERE d.outcome = 'won' AND d.closed_at < CAST(f.first_at AS DATE))
        SELECT f.account_id, f.first_at, f.last_at, f.users, f.events,
               k.account_id IS NOT NULL AS known, segs.segment, conv.converted_at,
               customers.account_id IS NOT NULL AS customer_at_first,
               coalesce(since.deals_since_first, 0) AS deals_since_first,
               coalesce(since.open_deal, false) AS open_deal
        FROM first f
        LEFT JOIN known k ON k.account_id = f.account_id
        LEFT JOIN conv ON conv.account_id = f.account_id
        LEFT JOIN since ON since.account_id = f.account_id
        LEFT JOIN segs ON segs.account_id = f.account_id
        LEFT JOIN customers ON customers.account_id = f.account_id
        ORDER BY f.first_at, f.account_id""",
        [int(horizon_days)],
    )


def orphan_usage(store: DuckDBStore, *, limit: int = 20) -> tuple[int, int, list[str]]:
    """Usage of accounts in neither deals nor subscriptions: (rows, accounts, up to ``limit`` ids)."""
    where = (
        "FROM usage_events u WHERE NOT EXISTS (SELECT 1 FROM deals d WHERE d.account_id = "
        "u.account_id) AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = "
        "u.account_id)"
    )
    rows, accounts = store.row(f"SELECT count(*), count(DISTINCT account_id) {where}")
    ids = [
        str(r[0])
        for r in store.fetchall(f"SELECT DISTINCT account_id {where} ORDER BY 1 LIMIT {int(limit)}")
    ]
    return int(rows), int(accounts), ids


def motion_deals(store: DuckDBStore, prior_days: int) -> pd.DataFrame:
    """Deals with their motion (product-led or not), whether their account used the product in
    the ``prior_days`` days before the deal was created, and whether the deal is new business
    (``new_logo``: no won deal at the account closed before it was created)."""
    return store.query(
        """
        WITH used AS (
            SELECT DISTINCT d.deal_id FROM deals d JOIN usage_events u
                ON u.account_id = d.account_id
               AND u.occurred_at < CAST(d.created_at AS TIMESTAMP)
               AND u.occurred_at >= CAST(d.created_at AS TIMESTAMP) - to_days(CAST(? AS INTEGER))),
        customer AS (
            SELECT DISTINCT d.deal_id FROM deals d JOIN deals w ON w.account_id = d.account_id
            WHERE w.outcome = 'won' AND w.closed_at < d.created_at)
        SELECT d.deal_id, d.account_id, d.outcome, d.segment, d.source, d.amount, d.cycle_days,
               d.created_at, d.closed_at,
               coalesce(d.source = 'product-led', false) AS product_led,
               used.deal_id IS NOT NULL AS used_before,
               customer.deal_id IS NULL AS new_logo
        FROM deals_enriched d LEFT JOIN used ON used.deal_id = d.deal_id
        LEFT JOIN customer ON customer.deal_id = d.deal_id
        ORDER BY d.created_at, d.deal_id""",
        [int(prior_days)],
    )


def subscription_cohorts(store: DuckDBStore) -> pd.DataFrame:
    """Subscription rows of accounts with a won deal, with the source of their first won deal."""
    return store.query("""
        WITH first_won AS (
            SELECT * FROM (SELECT account_id, source, closed_at, row_number() OVER (
                PARTITION BY account_id ORDER BY closed_at, deal_id) AS k
                FROM deals WHERE outcome = 'won' AND account_id IS NOT NULL) WHERE k = 1)
        SELECT s.account_id, s.period_start, s.mrr, s.event,
               coalesce(w.source = 'product-led', false) AS product_led
        FROM subscriptions s JOIN first_won w ON w.account_id = s.account_id
        ORDER BY s.account_id, s.period_start""")


def data_as_of(store: DuckDBStore) -> dt.date | None:
    """The latest date of deals and usage."""
    value = store.scalar(
        "SELECT max(x) FROM (SELECT max(CAST(created_at AS DATE)) AS x FROM deals "
        "UNION ALL SELECT max(CAST(closed_at AS DATE)) FROM deals WHERE outcome <> 'open' "
        "UNION ALL SELECT max(CAST(occurred_at AS DATE)) FROM usage_events)"
    )
    return value if isinstance(value, dt.date) else None
