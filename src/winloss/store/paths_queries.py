"""Named queries for action paths: window functions over ``activities`` (SQL lives only here).

The heavy counting (ordering tens of millions of events per deal, the directly-follows counts,
the variants, the token stream the Markov chains are fitted on, and the incremental per-deal
transition counts) runs in DuckDB; the analyses in :mod:`winloss.analyze.paths` work on the compact
results.

The *token stream* of a deal is its actions ordered by ``occurred_at`` (ties by ``activity_id``),
with two timing tokens inserted (see docs/paths.md): ``silent`` before an action (or before the
close / the as-of date) that comes more than ``silent_days`` after the previous action (or after the
creation for the first action), and ``aged`` once, before the first step taken more than
``aged_days`` after the creation. A threshold of 0 disables its token.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from winloss.errors import UsageError
from winloss.store.deal_reads import quote_identifier

if TYPE_CHECKING:
    import pyarrow as pa

    from winloss.model.deals import DealFilter
    from winloss.store.duckdb_store import DuckDBStore
    from winloss.store.spark_engine import SparkEngine

SILENT = "silent"
AGED = "aged"


def _group_sql(store: DuckDBStore | SparkEngine, by: str | None) -> str:
    if by is None:
        return "'all'"
    if by not in store.deal_columns_present():
        raise UsageError(
            f"--by {by}: the deals have no column {by!r}; choose a deal column such "
            "as segment or region (see `winloss schema`)"
        )
    return f"coalesce(CAST(d.{quote_identifier(by)} AS VARCHAR), '(blank)')"


def _deals(store: DuckDBStore, flt: DealFilter | None) -> tuple[str, list[Any]]:
    """A subquery of the filtered deals (to join activities onto) and its parameters."""
    where, params = store.filter_sql(flt)
    return f"(SELECT * FROM deals_enriched WHERE {where})", params


def activity_coverage(store: DuckDBStore, flt: DealFilter | None = None) -> dict[str, int]:
    """Deals of ``flt``, how many have activities, and the activity count (nothing silently lost)."""
    where, params = store.filter_sql(flt)
    row = store.row(
        "SELECT count(*), count(*) FILTER (WHERE n > 0), coalesce(sum(n), 0), "
        "count(*) FILTER (WHERE outcome = 'won'), count(*) FILTER (WHERE outcome = 'lost') "
        "FROM (SELECT d.deal_id, d.outcome, (SELECT count(*) FROM activities a "
        f"WHERE a.deal_id = d.deal_id) AS n FROM deals_enriched d WHERE {where})",
        params,
    )
    orphans = store.scalar(
        "SELECT count(*) FROM activities a WHERE NOT EXISTS "
        "(SELECT 1 FROM deals d WHERE d.deal_id = a.deal_id)"
    )
    return {
        "deals": int(row[0]),
        "deals_with_activities": int(row[1]),
        "activities": int(row[2]),
        "won": int(row[3]),
        "lost": int(row[4]),
        "activities_without_deal": int(orphans),
    }


def activity_type_counts(store: DuckDBStore) -> pd.DataFrame:
    """Activities per stored type (``type, n``): the spellings a new file's types are read as."""
    return store.query("SELECT type, count(*) AS n FROM activities GROUP BY type ORDER BY type")


def directly_follows(
    store: DuckDBStore | SparkEngine, flt: DealFilter | None = None, *, by: str | None = None
) -> pd.DataFrame:
    """Directly-follows edges by group and deal outcome: ``n`` and the median days between.

    Columns ``grp, outcome, source, target, n, median_days``. Edges from ``(start)`` (the deal's
    creation) into the first action and from the last action into ``(won)``/``(lost)`` (the close)
    or ``(open)`` are included, so every deal with activities is one walk through the graph.
    """
    from winloss.store.heavy_queries import transition_counts

    where, params = store.filter_sql(flt)
    # the portable query (store/heavy_queries.py): the same text runs on PostgreSQL and Spark
    return transition_counts(store, _group_sql(store, by), where, params).to_pandas()


def directly_follows_counts(store: DuckDBStore) -> pd.DataFrame:
    """Plain directly-follows counts over all activities (``source, target, n``), as process-mining
    tools count them: consecutive activities of a case, no start/end edges (the benchmark's
    reference query)."""
    from winloss.store.heavy_queries import directly_follows_sql

    return store.query(directly_follows_sql())


def variants(
    store: DuckDBStore, flt: DealFilter | None = None, *, by: str | None = None
) -> pd.DataFrame:
    """Path variants (the ordered action types of a deal joined by `` > ``) with outcome counts.

    Columns ``grp, variant, n_actions, deals, won, lost, open``. Deals without activities form the
    variant ``(no activities)``.
    """
    deals, params = _deals(store, flt)
    group = _group_sql(store, by)
    sql = f"""
    WITH p AS (SELECT deal_id, count(*) AS n_actions,
                      string_agg(type, ' > ' ORDER BY occurred_at, activity_id) AS variant
               FROM activities GROUP BY deal_id)
    SELECT {group} AS grp, coalesce(p.variant, '(no activities)') AS variant,
           coalesce(p.n_actions, 0) AS n_actions, count(*) AS deals,
           count(*) FILTER (WHERE d.outcome = 'won') AS won,
           count(*) FILTER (WHERE d.outcome = 'lost') AS lost,
           count(*) FILTER (WHERE d.outcome = 'open') AS open
    FROM {deals} d LEFT JOIN p ON p.deal_id = d.deal_id
    GROUP BY ALL ORDER BY grp, deals DESC, variant
    """
    return store.query(sql, params)


def _token_sql(
    store: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> tuple[str, list[Any]]:
    """The token-stream SQL (see :func:`token_stream`), unordered, and its parameters."""
    deals, params = _deals(store, flt)
    group = _group_sql(store, by)
    as_of = as_of or data_as_of(store)
    silent = float(silent_days) if silent_days and silent_days > 0 else None
    aged = float(aged_days) if aged_days and aged_days > 0 else None
    sec = 86400.0
    # every event, plus one virtual "end" event per deal at its close (or as_of when open)
    sql = f"""
    WITH ev AS (
      SELECT a.deal_id, a.type AS action, a.occurred_at AS ts, d.created_at, d.outcome,
             {group} AS grp, d.closed_at,
             row_number() OVER w AS step, count(*) OVER (PARTITION BY a.deal_id) AS n_actions
      FROM activities a JOIN {deals} d ON a.deal_id = d.deal_id
      WINDOW w AS (PARTITION BY a.deal_id ORDER BY a.occurred_at, a.activity_id)),
    ends AS (
      SELECT deal_id, NULL::VARCHAR AS action,
             CASE WHEN any_value(outcome) = 'open' THEN ?::TIMESTAMP
                  ELSE greatest(max(ts), any_value(closed_at)) END AS ts,
             any_value(created_at) AS created_at, any_value(outcome) AS outcome,
             any_value(grp) AS grp, NULL::TIMESTAMP AS closed_at, max(step) + 1 AS step,
             any_value(n_actions) AS n_actions
      FROM ev GROUP BY deal_id),
    steps AS (
      SELECT *, coalesce(lag(ts) OVER s, created_at) AS prev_at,
             last_value(ts) OVER (s ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
               AS end_ts
      FROM (SELECT * FROM ev UNION ALL SELECT * FROM ends)
      WINDOW s AS (PARTITION BY deal_id ORDER BY step)),
    toks AS (
      SELECT deal_id, step * 3 AS pos, action AS token, step AS action_number, outcome,
             created_at, grp, n_actions, ts, end_ts
      FROM steps WHERE action IS NOT NULL
      UNION ALL
      SELECT deal_id, step * 3 - 1, '{SILENT}', step, outcome, created_at, grp, n_actions, ts,
             end_ts
      FROM steps
      WHERE ?::DOUBLE IS NOT NULL
        AND date_diff('second', prev_at, ts) / {sec} > ?::DOUBLE
      UNION ALL
      SELECT deal_id, step * 3 - 2, '{AGED}', step, outcome, created_at, grp, n_actions, ts,
             end_ts
      FROM steps
      WHERE ?::DOUBLE IS NOT NULL
        AND date_diff('second', created_at, ts) / {sec} > ?::DOUBLE
        AND date_diff('second', created_at, prev_at) / {sec} <= ?::DOUBLE)
    SELECT deal_id, token, CAST(pos AS INTEGER) AS pos,
           CAST(action_number AS INTEGER) AS action_number, outcome, created_at,
           grp, CAST(n_actions AS INTEGER) AS n_actions,
           date_diff('second', created_at, ts) / {sec} AS age_days,
           date_diff('second', created_at, end_ts) / {sec} AS cycle_days
    FROM toks
    """
    return sql, params + [as_of, silent, silent, aged, aged, aged]


def token_stream(
    store: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> pa.Table:
    """The token stream of every deal of ``flt`` that has activities, ordered by deal and position.

    Columns: ``deal_id``, ``token``, ``action_number`` (the raw action the token is or precedes,
    1-based; trailing tokens after the last action get ``n_actions + 1``), and per deal
    ``outcome``, ``created_at``, ``grp``, ``n_actions``; ``age_days`` is the days from the creation
    to the step the token is or precedes; ``cycle_days`` the days from the creation to the close
    (open deals: to ``as_of``). Trailing timing tokens look at the gap from
    the last action to the close (closed deals) or to ``as_of`` (open deals; default:
    :func:`data_as_of`).
    """
    sql, args = _token_sql(
        store, flt, by=by, silent_days=silent_days, aged_days=aged_days, as_of=as_of
    )
    return store.arrow(f"{sql} ORDER BY created_at NULLS FIRST, deal_id, pos", args)


def first_order_counts(
    store: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> pd.DataFrame:
    """First-order transition counts of the token paths, counted in DuckDB: ``source, target, n``.

    ``(start)`` → first token, token → token, and the last token → ``(won)``/``(lost)`` of closed
    deals: exactly the transitions :class:`winloss.analyze.paths.markov.Transitions` counts at
    order 1, without moving the tokens out of the database.
    """
    sql, args = _token_sql(store, flt, silent_days=silent_days, aged_days=aged_days, as_of=as_of)
    return store.query(
        f"""
        WITH t AS ({sql}),
        w AS (SELECT token, outcome,
                     lag(token) OVER (PARTITION BY deal_id ORDER BY pos) AS prev,
                     lead(token) OVER (PARTITION BY deal_id ORDER BY pos) AS nxt FROM t)
        SELECT coalesce(prev, '(start)') AS source, token AS target, count(*) AS n
        FROM w GROUP BY ALL
        UNION ALL
        SELECT token, '(' || outcome || ')', count(*) FROM w
        WHERE nxt IS NULL AND outcome IN ('won', 'lost') GROUP BY ALL
        ORDER BY source, target""",
        args,
    )


def data_as_of(store: DuckDBStore) -> dt.datetime:
    """The moment the data describes: the latest activity (a CRM export is a snapshot; judging its
    open deals' silence against today's clock would call every deal of an old export silent)."""
    latest = store.query("SELECT max(occurred_at) AS latest FROM activities")["latest"].iloc[0]
    return latest.to_pydatetime() if not pd.isna(latest) else dt.datetime.now()


def open_deal_ids(store: DuckDBStore, flt: DealFilter | None = None) -> list[str]:
    """Ids of the open deals of ``flt`` (with or without activities), in creation order."""
    where, params = store.filter_sql(flt)
    frame = store.query(
        f"SELECT deal_id FROM deals_enriched WHERE outcome = 'open' AND {where} "
        "ORDER BY created_at NULLS FIRST, deal_id",
        params,
    )
    return [str(x) for x in frame["deal_id"]]


def deal_exists(store: DuckDBStore, deal_id: str) -> str | None:
    """The outcome of ``deal_id`` or ``None`` when the store has no such deal."""
    value = store.scalar("SELECT outcome FROM deals WHERE deal_id = ?", [deal_id])
    return None if value is None else str(value)


# -- incremental first-order counts ----------------------------------------------------------
def refresh_transition_counts(
    store: DuckDBStore,
    *,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> dict[str, int]:
    """Bring the stored per-deal first-order transition counts up to date, incrementally.

    A deal is recounted only when its fingerprint (activity count, latest activity time, outcome,
    close time, timing thresholds) changed since the last refresh; the others keep their rows. Returns
    ``{"recounted": deals recounted, "removed": deals gone, "unchanged": deals kept}``.
    """
    params_key = f"{float(silent_days)}|{float(aged_days)}"
    fp = """
      SELECT d.deal_id, d.outcome || '|' || coalesce(CAST(d.closed_at AS VARCHAR), '') || '|' ||
             CAST(count(a.activity_id) AS VARCHAR) || '|' ||
             coalesce(CAST(max(a.occurred_at) AS VARCHAR), '') || '|' || ? AS fingerprint
      FROM deals d JOIN activities a ON a.deal_id = d.deal_id GROUP BY d.deal_id, d.outcome,
           d.closed_at"""
    with store.transaction():
        store.execute(f"CREATE OR REPLACE TEMP TABLE _path_fp AS {fp}", [params_key])
        # open deals are always recounted: their trailing silence grows with the calendar
        store.execute("""CREATE OR REPLACE TEMP TABLE _path_stale AS
            SELECT f.deal_id, f.fingerprint FROM _path_fp f
            LEFT JOIN path_deal_fingerprints p USING (deal_id)
            WHERE p.fingerprint IS DISTINCT FROM f.fingerprint
               OR f.fingerprint LIKE 'open|%'""")
        removed = int(
            store.scalar(
                "SELECT count(*) FROM path_deal_fingerprints p WHERE NOT EXISTS "
                "(SELECT 1 FROM _path_fp f WHERE f.deal_id = p.deal_id)"
            )
        )
        recounted = int(store.scalar("SELECT count(*) FROM _path_stale"))
        store.execute(
            "DELETE FROM path_deal_transitions WHERE deal_id IN "
            "(SELECT deal_id FROM _path_stale) OR deal_id NOT IN "
            "(SELECT deal_id FROM _path_fp)"
        )
        store.execute(
            "DELETE FROM path_deal_fingerprints WHERE deal_id IN "
            "(SELECT deal_id FROM _path_stale) OR deal_id NOT IN "
            "(SELECT deal_id FROM _path_fp)"
        )
        if recounted:
            stream = token_stream(
                store, None, by="segment", silent_days=silent_days, aged_days=aged_days, as_of=as_of
            )
            with store.register_frame("_path_stream", stream):
                store.execute(
                    """
                    INSERT INTO path_deal_transitions
                    SELECT deal_id, any_value(grp), source, target, count(*) FROM (
                      SELECT deal_id, grp,
                             coalesce(lag(token) OVER w, '(start)') AS source, token AS target
                      FROM _path_stream WHERE deal_id IN (SELECT deal_id FROM _path_stale)
                      WINDOW w AS (PARTITION BY deal_id ORDER BY pos))
                    GROUP BY deal_id, source, target
                    UNION ALL
                    SELECT deal_id, any_value(grp), last(token ORDER BY pos),
                           '(' || any_value(outcome) || ')', 1
                    FROM _path_stream WHERE deal_id IN (SELECT deal_id FROM _path_stale)
                      AND outcome IN ('won', 'lost')
                    GROUP BY deal_id"""
                )
            store.execute(
                "INSERT INTO path_deal_fingerprints SELECT deal_id, fingerprint, "
                "now() FROM _path_stale"
            )
    total = int(store.scalar("SELECT count(*) FROM path_deal_fingerprints"))
    return {"recounted": recounted, "removed": removed, "unchanged": total - recounted}


def stored_transition_counts(store: DuckDBStore, *, by_segment: bool = False) -> pd.DataFrame:
    """The incremental first-order counts summed over deals: ``[segment,] source, target, n``."""
    cols = "segment, source, target" if by_segment else "source, target"
    return store.query(
        f"SELECT {cols}, sum(n)::BIGINT AS n FROM path_deal_transitions GROUP BY {cols} "
        f"ORDER BY {cols}"
    )


# -- compact paths for the chains: bootstrap and higher orders (issue #14) -----------------------
# The chains of a fixed order need each deal's token path only through the transitions it holds, and
# deals that walked the same path (same group and outcome) hold the same transitions. DuckDB orders
# the events and groups the deals into distinct paths; Python receives one row per distinct path
# with its deal count (a weight) instead of one row per token, and the higher-order contexts and the
# bootstrap replicates are counted over distinct paths.
def chain_path_variants(
    store: DuckDBStore,
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> pa.Table:
    """The distinct token paths of the deals of ``flt`` with activities, with their deal counts.

    Columns ``grp``, ``outcome``, ``tokens`` (the token path, a list), ``n`` (deals on it), ordered
    by the first creation among its deals, then group, outcome and path.
    """
    sql, args = _token_sql(
        store, flt, by=by, silent_days=silent_days, aged_days=aged_days, as_of=as_of
    )
    return store.arrow(
        f"""
        WITH t AS ({sql}),
        per_deal AS (
          SELECT deal_id, any_value(grp) AS grp, any_value(outcome) AS outcome,
                 any_value(created_at) AS created_at, list(token ORDER BY pos) AS tokens
          FROM t GROUP BY deal_id)
        SELECT grp, outcome, tokens, count(*) AS n, min(created_at) AS first_created
        FROM per_deal GROUP BY grp, outcome, tokens
        ORDER BY first_created NULLS FIRST, grp, outcome, tokens""",
        args,
    )


def deal_token_paths(
    store: DuckDBStore,
    deal_ids: list[str],
    flt: DealFilter | None = None,
    *,
    by: str | None = None,
    silent_days: float = 30.0,
    aged_days: float = 180.0,
    as_of: dt.datetime | None = None,
) -> pd.DataFrame:
    """The token paths of the named deals of ``flt`` that have activities: ``deal_id, grp,
    tokens``."""
    sql, args = _token_sql(
        store, flt, by=by, silent_days=silent_days, aged_days=aged_days, as_of=as_of
    )
    return store.query(
        f"""
        WITH t AS ({sql})
        SELECT deal_id, any_value(grp) AS grp, list(token ORDER BY pos) AS tokens
        FROM t WHERE deal_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
        GROUP BY deal_id ORDER BY deal_id""",
        [*args, list(deal_ids)],
    )
