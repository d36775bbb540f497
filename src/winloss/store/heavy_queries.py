"""The heavy counting, written once: DuckDB-dialect SQL run on any :class:`SqlEngine`.

Every function here builds one SQL statement in DuckDB's dialect and runs it through
``engine.arrow(sql, params)``; the engine transpiles it (:func:`winloss.store.engine.transpile`)
for PostgreSQL or Spark. Only the compact counts come back. The SQL keeps to constructs sqlglot
transpiles faithfully for ``postgres`` and ``spark`` (no ``GROUP BY ALL``, no list functions, no
``QUALIFY``/``ASOF``; day differences are taken between dates, never timestamps, because Spark's
``DATEDIFF(DAY, ts, ts)`` counts whole 24-hour periods where DuckDB counts calendar days).

- concentration counts: win/loss counts per value of categorical attributes
  (:func:`condition_counts`) and the threshold scan of numeric attributes
  (:func:`threshold_scan`: per distinct value, cumulative counts so every ``x <= t`` / ``x > t``
  split comes out of the engine);
- action paths: directly-follows transition counts per group and outcome, ``(start)`` → first
  action → … → ``(won)``/``(lost)``/``(open)`` (:func:`transition_counts`);
- Bowtie: creation-to-close cycle counts per cohort (:func:`deal_cycle_counts`) and MRR at the
  start and end of retention windows (:func:`mrr_windows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winloss.store.deal_reads import quote_identifier

if TYPE_CHECKING:
    import pyarrow as pa

    from winloss.store.engine import SqlEngine


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _closed_base(columns: Sequence[str], where: str) -> str:
    select = ", ".join(
        ["CASE WHEN outcome = 'won' THEN 1 ELSE 0 END AS _won"]
        + [quote_identifier(c) for c in columns]
    )
    return f"SELECT {select} FROM deals_enriched WHERE outcome IN ('won', 'lost') AND ({where})"


# -- concentration counts ----------------------------------------------------------------------
def condition_counts_sql(attributes: Sequence[str], where: str = "TRUE") -> str:
    """SQL of :func:`condition_counts` (DuckDB dialect)."""
    if not attributes:
        raise ValueError("condition_counts needs at least one attribute")
    parts = [
        f"SELECT {_literal(a)} AS attribute, CAST({quote_identifier(a)} AS VARCHAR) AS value, "
        f"CAST(count(*) AS BIGINT) AS n, CAST(sum(_won) AS BIGINT) AS wins "
        f"FROM base GROUP BY CAST({quote_identifier(a)} AS VARCHAR)"
        for a in attributes
    ]
    return (
        f"WITH base AS ({_closed_base(attributes, where)}) "
        + " UNION ALL ".join(parts)
        + " ORDER BY attribute, value NULLS FIRST"
    )


def condition_counts(
    engine: SqlEngine,
    attributes: Sequence[str],
    where: str = "TRUE",
    params: Sequence[Any] = (),
) -> pa.Table:
    """Closed deals and wins per value of each categorical attribute.

    Columns ``attribute, value, n, wins`` (``value`` as text, NULL for the deals missing the
    attribute). ``where``/``params`` restrict ``deals_enriched`` (see ``DealReads.filter_sql``).
    """
    return engine.arrow(condition_counts_sql(attributes, where), params)


def threshold_scan_sql(attributes: Sequence[str], where: str = "TRUE") -> str:
    """SQL of :func:`threshold_scan` (DuckDB dialect)."""
    if not attributes:
        raise ValueError("threshold_scan needs at least one attribute")
    longs = " UNION ALL ".join(
        f"SELECT {_literal(a)} AS attribute, CAST({quote_identifier(a)} AS DOUBLE) AS x, _won "
        f"FROM base WHERE {quote_identifier(a)} IS NOT NULL"
        for a in attributes
    )
    window = "PARTITION BY attribute ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""
    WITH base AS ({_closed_base(attributes, where)}),
    long AS ({longs}),
    v AS (SELECT attribute, x, count(*) AS n, sum(_won) AS wins FROM long GROUP BY attribute, x)
    SELECT attribute, x AS value, CAST(n AS BIGINT) AS n, CAST(wins AS BIGINT) AS wins,
           CAST(sum(n) OVER ({window}) AS BIGINT) AS n_le,
           CAST(sum(wins) OVER ({window}) AS BIGINT) AS wins_le,
           CAST(sum(n) OVER (PARTITION BY attribute) AS BIGINT) AS n_total,
           CAST(sum(wins) OVER (PARTITION BY attribute) AS BIGINT) AS wins_total
    FROM v ORDER BY attribute, value"""


def threshold_scan(
    engine: SqlEngine,
    attributes: Sequence[str],
    where: str = "TRUE",
    params: Sequence[Any] = (),
) -> pa.Table:
    """The threshold scan of numeric attributes over the closed deals.

    One row per attribute and distinct non-missing value ``t``: ``n, wins`` at ``x = t``,
    ``n_le, wins_le`` for ``x <= t`` (cumulative) and ``n_total, wins_total`` of the deals with a
    value, so ``x > t`` has ``n_total - n_le`` deals and ``wins_total - wins_le`` wins.
    """
    return engine.arrow(threshold_scan_sql(attributes, where), params)


# -- action paths ------------------------------------------------------------------------------
def transition_counts_sql(group: str, where: str = "TRUE", *, with_median: bool = True) -> str:
    """SQL of :func:`transition_counts`; ``group`` is an SQL expression over the deals ``d``."""
    order = "PARTITION BY a.deal_id ORDER BY a.occurred_at, a.activity_id"
    med_in = med_out = ""
    if with_median:
        med_in = (
            ", median(date_diff('second', coalesce(prev_at, created_at), occurred_at)) / 86400.0"
            " AS median_days"
        )
        # the close is a day (closed_at is a date): whole days from the last action's day, so
        # an action on the close day is 0 days before it, not a negative fraction
        med_out = (
            ", median(CASE WHEN outcome = 'open' THEN NULL"
            " ELSE date_diff('day', CAST(occurred_at AS DATE), closed_at) END)"
        )
    return f"""
    WITH d AS (SELECT deal_id, outcome, created_at, closed_at, {group} AS grp
               FROM deals_enriched d WHERE {where}),
    ev AS (
      SELECT d.grp, d.outcome, d.created_at, d.closed_at, a.type AS action, a.occurred_at,
             lag(a.type) OVER ({order}) AS prev_action,
             lag(a.occurred_at) OVER ({order}) AS prev_at,
             lead(a.type) OVER ({order}) AS next_action
      FROM activities a JOIN d ON a.deal_id = d.deal_id)
    SELECT grp, outcome, coalesce(prev_action, '(start)') AS source, action AS target,
           count(*) AS n{med_in}
    FROM ev GROUP BY grp, outcome, coalesce(prev_action, '(start)'), action
    UNION ALL
    SELECT grp, outcome, action AS source, '(' || outcome || ')' AS target, count(*) AS n{med_out}
    FROM ev WHERE next_action IS NULL GROUP BY grp, outcome, action
    ORDER BY grp, outcome, n DESC, source, target"""


def transition_counts(
    engine: SqlEngine,
    group: str = "'all'",
    where: str = "TRUE",
    params: Sequence[Any] = (),
    *,
    with_median: bool = True,
) -> pa.Table:
    """First-order (directly-follows) transition counts of the deals' actions per group/outcome.

    Each deal of ``deals_enriched`` matching ``where`` with activities is one walk: ``(start)`` →
    its actions ordered by ``occurred_at`` (ties by ``activity_id``) → ``(won)``/``(lost)``/
    ``(open)``. Columns ``grp, outcome, source, target, n`` and, ``with_median``, the median days
    of the step (``median_days``; into the end state: to the close, NULL for open deals).
    """
    return engine.arrow(transition_counts_sql(group, where, with_median=with_median), params)


def directly_follows_sql() -> str:
    """Plain directly-follows counts over all activities (no start/end edges): the benchmark's
    action-path counting, ``source, target, n``."""
    return """
    SELECT prev AS source, type AS target, count(*) AS n FROM (
      SELECT type, lag(type) OVER (PARTITION BY deal_id ORDER BY occurred_at, activity_id) AS prev
      FROM activities) t
    WHERE prev IS NOT NULL GROUP BY prev, type ORDER BY n DESC, source, target"""


# -- Bowtie ------------------------------------------------------------------------------------
def cohort_label_sql(column: str, cohort: str, fiscal_year_start_month: int = 1) -> str:
    """A portable label of a date column by month (``2026-07``) or fiscal quarter (``2026Q3``)."""
    if cohort == "month":
        return f"strftime({column}, '%Y-%m')"
    shift = (12 - (fiscal_year_start_month - 1)) % 12
    moved = f"({column} + INTERVAL {shift} MONTH)"
    # extract(quarter …): PostgreSQL has no quarter() function
    quarter = f"extract(quarter FROM {moved})"
    return f"(CAST(year({moved}) AS VARCHAR) || 'Q' || CAST({quarter} AS VARCHAR))"


def deal_cycle_counts_sql(cohort: str, fiscal_year_start_month: int = 1) -> str:
    label = cohort_label_sql("created_at", cohort, fiscal_year_start_month)
    days = (
        "greatest(0, date_diff('day', created_at, "
        "CASE WHEN state = 'open' THEN CAST(? AS DATE) ELSE closed_at END))"
    )
    return f"""
    SELECT cohort, days,
           count(*) FILTER (WHERE state = 'won') AS won,
           count(*) FILTER (WHERE state = 'lost') AS lost,
           count(*) FILTER (WHERE state = 'open') AS censored
    FROM (
      SELECT {label} AS cohort, {days} AS days, state
      FROM (SELECT CAST(created_at AS DATE) AS created_at, CAST(closed_at AS DATE) AS closed_at,
                   CASE WHEN outcome <> 'open' AND closed_at > CAST(? AS DATE) THEN 'open'
                        ELSE outcome END AS state
            FROM deals) AS d
      WHERE created_at IS NOT NULL AND created_at <= CAST(? AS DATE)
        AND (state = 'open' OR closed_at IS NOT NULL)
        AND (CAST(? AS DATE) IS NULL OR created_at >= CAST(? AS DATE))
        AND (CAST(? AS DATE) IS NULL OR created_at <= CAST(? AS DATE))) AS c
    GROUP BY cohort, days
    ORDER BY cohort, days"""


def deal_cycle_counts(
    engine: SqlEngine,
    *,
    as_of: dt.date,
    cohort: str,
    fiscal_year_start_month: int = 1,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pa.Table:
    """Days from creation to close per creation cohort: ``cohort, days, won, lost, censored``.

    Deals closed after ``as_of`` are open at ``as_of`` (censored); ``since``/``until`` bound the
    creation date (inclusive).
    """
    sql = deal_cycle_counts_sql(cohort, fiscal_year_start_month)
    return engine.arrow(sql, deal_cycle_counts_params(as_of, since, until))


def deal_cycle_counts_params(
    as_of: dt.date, since: dt.date | None, until: dt.date | None
) -> list[Any]:
    """The parameters of :func:`deal_cycle_counts_sql`: as_of for the censoring days, the state
    and the creation bound; the period bounds."""
    return [as_of, as_of, as_of, since, since, until, until]


def mrr_windows_sql(n_windows: int) -> str:
    if n_windows < 1:
        raise ValueError("mrr_windows needs at least one window")
    windows = " UNION ALL ".join(
        "SELECT CAST(? AS VARCHAR) AS label, CAST(? AS DATE) AS start_at, CAST(? AS DATE) AS end_at"
        for _ in range(n_windows)
    )
    return f"""
    WITH r AS (
      SELECT account_id, CAST(period_start AS DATE) AS period_start,
             CASE WHEN bool_or(event = 'churn') THEN 0.0 ELSE CAST(max(mrr) AS DOUBLE) END AS mrr
      FROM subscriptions GROUP BY account_id, CAST(period_start AS DATE)),
    w AS ({windows}),
    grid AS (SELECT w.label, a.account_id, w.start_at, w.end_at
             FROM w CROSS JOIN (SELECT DISTINCT account_id FROM r) a),
    at_start AS (
      SELECT g.label, g.account_id, g.end_at, max(r.period_start) AS start_row
      FROM grid g JOIN r ON r.account_id = g.account_id AND r.period_start <= g.start_at
      GROUP BY g.label, g.account_id, g.end_at),
    at_end AS (
      SELECT s.label, s.account_id, s.start_row, max(r.period_start) AS end_row
      FROM at_start s JOIN r ON r.account_id = s.account_id AND r.period_start <= s.end_at
      GROUP BY s.label, s.account_id, s.start_row)
    SELECT e.label AS "window", e.account_id, rs.mrr AS mrr_start, re.mrr AS mrr_end
    FROM at_end e
    JOIN r rs ON rs.account_id = e.account_id AND rs.period_start = e.start_row
    JOIN r re ON re.account_id = e.account_id AND re.period_start = e.end_row
    WHERE rs.mrr > 0
    ORDER BY "window", e.account_id"""


def mrr_windows(engine: SqlEngine, windows: Sequence[tuple[str, dt.date, dt.date]]) -> pa.Table:
    """MRR at the start and end of each retention window, for customers with MRR > 0 at its start.

    ``windows`` are (label, start, end). The MRR of an account at a date is that of its latest
    subscription row starting on or before the date (0 after a churn). Columns ``window,
    account_id, mrr_start, mrr_end``.
    """
    if not windows:
        import pyarrow as pa

        return pa.table(
            {
                "window": pa.array([], pa.string()),
                "account_id": pa.array([], pa.string()),
                "mrr_start": pa.array([], pa.float64()),
                "mrr_end": pa.array([], pa.float64()),
            }
        )
    params: list[Any] = [x for w in windows for x in w]
    return engine.arrow(mrr_windows_sql(len(windows)), params)


def _least(columns: list[str]) -> str:
    """``least`` of the columns (NULLs ignored), or NULL for none (Spark's takes two or more)."""
    if not columns:
        return "NULL"
    return columns[0] if len(columns) == 1 else f"least({', '.join(columns)})"


def presale_spell_counts_sql(n_stages: int, cohort: str, fiscal_year_start_month: int = 1) -> str:
    """SQL of :func:`presale_spell_counts` (DuckDB dialect) for ``n_stages`` mapped stage names."""
    stage_map = " UNION ALL ".join(
        "SELECT CAST(? AS VARCHAR) AS raw, CAST(? AS INTEGER) AS ord" for _ in range(n_stages)
    )
    label = cohort_label_sql("CAST(entered AS DATE)", cohort, fiscal_year_start_month)
    firsts = ", ".join(
        f"min(CASE WHEN m.ord = {k} THEN h.entered_at END) AS h{k}" for k in range(4)
    )
    entries = []
    for k in range(4):
        own = f"h.h{k}"
        if k == 3:
            own = "least(h.h3, CASE WHEN d.outcome = 'won' THEN CAST(d.closed_at AS TIMESTAMP) END)"
        plain = (
            f"CASE WHEN coalesce(CASE WHEN d.outcome = 'open' THEN m.ord END, "
            f"CAST(? AS INTEGER)) = {k} THEN CAST(d.created_at AS TIMESTAMP) END"
        )
        if k == 3:
            plain = "CASE WHEN d.outcome = 'won' THEN CAST(d.closed_at AS TIMESTAMP) END"
        entries.append(f"CASE WHEN h.deal_id IS NULL THEN {plain} ELSE {own} END AS r{k}")
    known = ", ".join(
        f"CASE WHEN r{k} <= CAST(? AS TIMESTAMP) THEN r{k} END AS e{k}" for k in range(4)
    )
    spells = " UNION ALL ".join(
        f"SELECT {k} AS ord, e{k} AS entered, "
        + _least([f"e{j}" for j in range(k + 1, 4)])
        + f" AS next_at, lost_at FROM known WHERE e{k} IS NOT NULL"
        for k in range(4)
    )
    days = (
        "greatest(0, date_diff('day', CAST(entered AS DATE), "
        "CAST(coalesce(next_at, lost_at, CAST(? AS TIMESTAMP)) AS DATE)))"
    )
    return f"""
    WITH m AS ({stage_map}),
    hist AS (
      SELECT h.deal_id, {firsts},
             min(CASE WHEN m.ord < 0 THEN h.entered_at END) AS lost_stage_at
      FROM stage_history h JOIN m ON h.stage = m.raw
      GROUP BY h.deal_id),
    wide AS (
      SELECT d.outcome, d.closed_at, h.lost_stage_at, {", ".join(entries)}
      FROM deals d LEFT JOIN hist h ON h.deal_id = d.deal_id
      LEFT JOIN m ON d.stage = m.raw AND m.ord >= 0
      WHERE h.deal_id IS NOT NULL OR d.created_at IS NOT NULL),
    known AS (
      SELECT {known},
             CASE WHEN outcome = 'lost'
                   AND coalesce(CAST(closed_at AS TIMESTAMP), lost_stage_at)
                       <= CAST(? AS TIMESTAMP)
                  THEN coalesce(CAST(closed_at AS TIMESTAMP), lost_stage_at) END AS lost_at
      FROM wide),
    spells AS ({spells}),
    ended AS (
      SELECT ord, {label} AS cohort, {days} AS days, next_at,
             CASE WHEN next_at IS NULL THEN lost_at END AS lost_at
      FROM spells
      WHERE (CAST(? AS DATE) IS NULL OR CAST(entered AS DATE) >= CAST(? AS DATE))
        AND (CAST(? AS DATE) IS NULL OR CAST(entered AS DATE) <= CAST(? AS DATE)))
    SELECT ord, cohort, days,
           count(*) FILTER (WHERE next_at IS NOT NULL) AS advanced,
           count(*) FILTER (WHERE next_at IS NULL AND lost_at IS NOT NULL) AS lost,
           count(*) FILTER (WHERE next_at IS NULL AND lost_at IS NULL) AS censored
    FROM ended GROUP BY ord, cohort, days ORDER BY ord, cohort, days"""


def presale_spell_counts(
    engine: SqlEngine,
    stage_orders: Sequence[tuple[str, int]],
    *,
    as_of: dt.date,
    cohort: str,
    entry_stage_order: int,
    fiscal_year_start_month: int = 1,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pa.Table:
    """The Bowtie's pre-sale funnel: counts of stage spells per stage order, cohort and days.

    Columns ``ord, cohort, days, advanced, lost, censored``; the definitions are those of
    :func:`winloss.store.bowtie_queries.presale_spell_counts` (``stage_orders`` maps raw CRM stage
    names to Bowtie stage orders 0–3, −1 for losing stages).
    """
    # no mapped stage: one NULL name, which no stage equals
    pairs: list[tuple[str | None, int]] = list(stage_orders) or [(None, 0)]
    mapping: list[Any] = [x for pair in pairs for x in (pair[0], int(pair[1]))]
    sql = presale_spell_counts_sql(len(pairs), cohort, fiscal_year_start_month)
    # the map, the entry stage once per pre-commit stage, as_of for the four entries and the
    # loss, as_of for the censoring days, the period bounds
    params = [*mapping, *[entry_stage_order] * 3, *[as_of] * 6, since, since, until, until]
    return engine.arrow(sql, params)
