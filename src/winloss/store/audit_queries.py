"""Named queries of the data-integrity audit (:mod:`winloss.analyze.audit`).

Every query runs over the ``scope`` CTE: the deals the audit looks at (:class:`Scope`, a condition
on ``deals_enriched`` from :meth:`~winloss.store.deal_reads.DealReads.filter_sql`). The audit's
checks call these functions and turn their compact results into issues; the SQL lives here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from winloss.store.duckdb_store import DuckDBStore

CLOSED = "outcome IN ('won', 'lost')"
NO_OWNER = "(no owner)"
NO_QUARTER = "(no close date)"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Scope:
    """The deals an audit looks at: a condition on ``deals_enriched`` and its parameters."""

    condition: str = "TRUE"
    params: tuple[Any, ...] = ()

    def query(
        self, store: DuckDBStore, body: str, params: Sequence[Any] = (), *, ctes: str = ""
    ) -> pd.DataFrame:
        """Run ``body`` with the CTE ``scope`` (and any further ``ctes``) defined."""
        sql = f"WITH scope AS (SELECT * FROM deals_enriched WHERE {self.condition})"
        if ctes:
            sql += ", " + ctes
        return store.query(f"{sql} {body}", [*self.params, *params])

    def count(self, store: DuckDBStore) -> int:
        """Deals in scope."""
        return int(self.query(store, "SELECT count(*) AS n FROM scope")["n"].iloc[0])


# -- the audit itself ------------------------------------------------------------------------------
@contextlib.contextmanager
def progress_bar_off(store: DuckDBStore) -> Iterator[None]:
    """DuckDB draws a progress bar on the terminal for long queries: never from a library."""
    if store.dialect != "duckdb":  # a server draws nothing on this terminal
        yield
        return
    progress = store.scalar("SELECT current_setting('enable_progress_bar')")
    store.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        if progress:
            store.execute("SET enable_progress_bar = true")


def scope_facts(store: DuckDBStore, scope: Scope) -> pd.Series:
    """Deals and closed deals in scope, and their first and last creation and close dates."""
    return scope.query(
        store,
        (
            "SELECT count(*) AS deals, count(*) FILTER (WHERE outcome IN ('won', 'lost')) "
            "AS closed, min(created_at) AS created_from, max(created_at) AS created_to, "
            "min(closed_at) AS closed_from, max(closed_at) AS closed_to FROM scope"
        ),
    ).iloc[0]


def deal_table_columns(store: DuckDBStore) -> set[str]:
    """Columns of the ``deals`` table (canonical and custom, without derived fields)."""
    return set(
        store.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'deals'"
        )["column_name"]
    )


# -- completeness ---------------------------------------------------------------------------------
def filled_count(name: str, *, textual: bool, applies_to: str | None) -> str:
    """The SQL aggregate counting filled values of a column (blank text counts as empty), on the
    deals of one outcome when ``applies_to`` is set."""
    value = f"nullif(trim({q(name)}), '')" if textual else q(name)
    if applies_to:
        return f"count(CASE WHEN outcome = '{applies_to}' THEN {value} END)"
    return f"count({value})"


def completeness_counts(store: DuckDBStore, scope: Scope, filled: Sequence[str]) -> pd.DataFrame:
    """Closed, won, lost and filled counts (``c0``, ``c1``, … for ``filled``) of closed deals: the
    whole team, per owner and per quarter in one scan (grouping sets)."""
    columns = ", ".join(f"{expr} AS c{i}" for i, expr in enumerate(filled))
    base = (
        "count(*) AS closed, count(*) FILTER (WHERE outcome = 'won') AS won, "
        "count(*) FILTER (WHERE outcome = 'lost') AS lost, " + columns
    )
    return scope.query(
        store,
        (
            f"SELECT coalesce(owner, '{NO_OWNER}') AS owner, "
            f"coalesce(quarter, '{NO_QUARTER}') AS quarter, grouping(owner) AS by_all_owners, "
            f"grouping(quarter) AS by_all_quarters, {base} FROM scope WHERE {CLOSED} "
            "GROUP BY GROUPING SETS ((), (owner), (quarter)) ORDER BY owner, quarter"
        ),
    )


def blank_by_owner(
    store: DuckDBStore, scope: Scope, fields: Sequence[tuple[str, bool]]
) -> pd.DataFrame:
    """Closed deals per owner and how many have any of ``fields`` (name, textual) blank."""
    blank = " OR ".join(
        f"nullif(trim({q(n)}), '') IS NULL" if textual else f"{q(n)} IS NULL"
        for n, textual in fields
    )
    return scope.query(
        store,
        (
            f"SELECT coalesce(owner, '{NO_OWNER}') AS owner, count(*) AS closed, "
            f"count(*) FILTER (WHERE {blank}) AS blank FROM scope WHERE {CLOSED} "
            "GROUP BY 1 ORDER BY blank DESC, owner"
        ),
    )


# -- capture freshness ----------------------------------------------------------------------------
_CAPTURE_CTES = (
    "cap AS (SELECT deal_id, CAST(min(captured_at) AS DATE) AS first_capture FROM captures "
    "GROUP BY deal_id), "
    "fresh AS (SELECT s.deal_id, coalesce(s.owner, '" + NO_OWNER + "') AS owner, s.closed_at, "
    "least(CAST(s.captured_at AS DATE), cap.first_capture) AS captured, "
    "date_diff('day', s.closed_at, least(CAST(s.captured_at AS DATE), cap.first_capture)) AS days "
    "FROM scope s LEFT JOIN cap USING (deal_id) WHERE s." + CLOSED + " AND s.closed_at IS NOT NULL)"
)


def freshness_by_owner(store: DuckDBStore, scope: Scope, fresh_days: int) -> pd.DataFrame:
    """Per owner (and the team, owner NULL): closed, captured, captured before the close, median
    and 90th percentile of days to capture, captured within ``fresh_days`` and later."""
    return scope.query(
        store,
        (
            "SELECT owner, count(*) AS closed, count(captured) AS captured, "
            "count(*) FILTER (WHERE days < 0) AS before_close, "
            "median(days) FILTER (WHERE days >= 0) AS median_days, "
            "quantile_cont(days, 0.9) FILTER (WHERE days >= 0) AS p90_days, "
            "count(*) FILTER (WHERE days BETWEEN 0 AND ?) AS within_window, "
            "count(*) FILTER (WHERE days > ?) AS late "
            "FROM fresh GROUP BY ROLLUP (owner) ORDER BY owner NULLS LAST"
        ),
        [fresh_days, fresh_days],
        ctes=_CAPTURE_CTES,
    )


def freshness_distribution(
    store: DuckDBStore, scope: Scope, bins: Sequence[tuple[int, int | None]]
) -> pd.Series:
    """Closed deals captured before the close (``before``), in each day range ``b0``, ``b1``, …
    (``(low, high)``, high ``None`` = open-ended), and never (``never``)."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE days BETWEEN {lo} AND {hi if hi is not None else 10**9}) AS b{i}"
        for i, (lo, hi) in enumerate(bins)
    )
    return scope.query(
        store,
        f"SELECT count(*) FILTER (WHERE days < 0) AS before, {counts}, "
        "count(*) FILTER (WHERE captured IS NULL) AS never FROM fresh",
        ctes=_CAPTURE_CTES,
    ).iloc[0]


def rest_median_days(store: DuckDBStore, scope: Scope, owner: str) -> Any:
    """Median days to capture of everyone but ``owner`` (NaN/None when there is none)."""
    frame = scope.query(
        store,
        "SELECT median(days) AS m FROM fresh WHERE days >= 0 AND owner <> ?",
        [owner],
        ctes=_CAPTURE_CTES,
    )
    return frame["m"].iloc[0]


# -- deal records -----------------------------------------------------------------------------------
def orphan_related(store: DuckDBStore) -> pd.DataFrame:
    """Rows of the related tables whose deal_id is not a stored deal (kept with ``--on-orphan
    keep``): per table, the rows, the distinct missing deal ids and a few of them."""
    parts = [
        f"SELECT '{t}' AS source, count(*) AS records, count(DISTINCT deal_id) AS deals, "
        f"list(DISTINCT deal_id ORDER BY deal_id)[1:5] AS examples FROM {t} r "
        "WHERE NOT EXISTS (SELECT 1 FROM deals d WHERE d.deal_id = r.deal_id)"
        for t in ("stage_history", "activities", "stakeholders")
    ]
    frame = store.query(" UNION ALL ".join(parts))
    return frame[frame["records"] > 0].reset_index(drop=True)


def closed_with_stakeholders(store: DuckDBStore, scope: Scope) -> int:
    """Closed deals in scope that have at least one stakeholder row."""
    frame = scope.query(
        store,
        (
            f"SELECT count(*) AS n FROM scope WHERE {CLOSED} AND EXISTS "
            "(SELECT 1 FROM stakeholders s WHERE s.deal_id = scope.deal_id)"
        ),
    )
    return int(frame["n"].iloc[0])


def date_problem_counts(store: DuckDBStore, scope: Scope) -> pd.DataFrame:
    """Closed deals, deals created already closed, deals closed before they were created; open
    deals, and those without an expected close or a created date."""
    return scope.query(
        store,
        (
            f"SELECT count(*) FILTER (WHERE {CLOSED}) AS closed, "
            f"count(*) FILTER (WHERE {CLOSED} AND created_at = closed_at) AS created_closed, "
            "count(*) FILTER (WHERE closed_at < created_at) AS closed_before_created, "
            "count(*) FILTER (WHERE outcome = 'open') AS open_deals, "
            "count(*) FILTER (WHERE outcome = 'open' AND closed_at IS NULL) AS open_no_close, "
            "count(*) FILTER (WHERE outcome = 'open' AND created_at IS NULL) AS open_no_created "
            "FROM scope"
        ),
    )


def date_problem_deals(store: DuckDBStore, scope: Scope, max_rows: int) -> pd.DataFrame:
    """The deals with those date problems (at most ``max_rows``)."""
    return scope.query(
        store,
        (
            "SELECT deal_id, owner, outcome, created_at, closed_at, CASE WHEN closed_at < created_at "
            "THEN 'closed before created' ELSE 'created already closed' END AS problem FROM scope "
            f"WHERE ({CLOSED} AND created_at = closed_at) OR closed_at < created_at "
            "ORDER BY problem, deal_id LIMIT ?"
        ),
        [max_rows],
    )


#: Records dated before their deal allows, per table: the deal id of each such record.
BACK_DATED = {
    "stage_history": (
        "SELECT h.deal_id FROM stage_history h JOIN scope s USING (deal_id) "
        "WHERE CAST(h.entered_at AS DATE) < s.created_at"
    ),
    "activities": (
        "SELECT a.deal_id FROM activities a JOIN scope s USING (deal_id) "
        "WHERE CAST(a.occurred_at AS DATE) < s.created_at"
    ),
    "captures": (
        "SELECT c.deal_id FROM captures c JOIN scope s USING (deal_id) "
        "WHERE CAST(c.captured_at AS DATE) < s.closed_at UNION ALL "
        "SELECT deal_id FROM scope WHERE captured_at < closed_at"
    ),
}


def back_dated_records(store: DuckDBStore, scope: Scope, table: str) -> pd.DataFrame:
    """Deals with back-dated records in ``table`` (a key of :data:`BACK_DATED`) and how many."""
    return scope.query(
        store,
        f"SELECT deal_id, count(*) AS records FROM ({BACK_DATED[table]}) "
        "GROUP BY deal_id ORDER BY deal_id",
    )


def _norm_sql(expr: str) -> str:
    return f"regexp_replace(lower(trim({expr})), '[^0-9a-z]', '', 'g')"


def duplicate_groups(
    store: DuckDBStore, scope: Scope, name_column: str | None, max_rows: int
) -> pd.DataFrame:
    """Groups of deals sharing the same account, amount and creation date (``name_column``
    ``None``; a zero or missing amount is no evidence), or the same value of a deal-name column at
    the same account; per group the key, deals, their ids and the totals over all groups (largest
    first, at most ``max_rows``). Text is compared lower-cased, letters and digits only."""
    account = _norm_sql("coalesce(account_name, account_id)")
    if name_column is None:
        key = f"{account} || '|' || CAST(amount AS VARCHAR) || '|' || CAST(created_at AS VARCHAR)"
        condition = "amount > 0 AND created_at IS NOT NULL"
    else:
        key = f"{_norm_sql(q(name_column))} || '|' || {account}"
        condition = f"nullif(trim({q(name_column)}), '') IS NOT NULL"
    return scope.query(
        store,
        (
            f"SELECT {key} AS dup_key, count(*) AS deals, "
            "list(deal_id ORDER BY deal_id) AS deal_ids, count(*) OVER () AS n_groups, "
            "sum(count(*)) OVER () AS n_deals FROM scope "
            f"WHERE {condition} AND coalesce(account_name, account_id) IS NOT NULL "
            "GROUP BY 1 HAVING count(*) > 1 ORDER BY deals DESC, dup_key LIMIT ?"
        ),
        [max_rows],
    )


def value_problems(store: DuckDBStore, scope: Scope) -> pd.DataFrame:
    """Per outcome: deals, amount zero, amount negative, no account (neither name nor id)."""
    no_account = "nullif(trim(account_name), '') IS NULL AND nullif(trim(account_id), '') IS NULL"
    return scope.query(
        store,
        (
            "SELECT coalesce(outcome, '(none)') AS outcome, count(*) AS deals, "
            "count(*) FILTER (WHERE amount = 0) AS amount_zero, "
            "count(*) FILTER (WHERE amount < 0) AS amount_negative, "
            f"count(*) FILTER (WHERE {no_account}) AS no_account "
            "FROM scope GROUP BY 1 ORDER BY 1"
        ),
    )


# -- vocabulary -------------------------------------------------------------------------------------
def value_counts(
    store: DuckDBStore, scope: Scope, column: str, distinct_deals_of: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows per value of ``column`` (a deal column, or ``table.column`` of a related table) on the
    deals in scope; with ``distinct_deals_of``, the distinct deals per value for those values."""
    if "." not in column:
        return scope.query(
            store,
            f"SELECT {q(column)} AS value, count(*) AS deals FROM scope "
            f"WHERE {q(column)} IS NOT NULL GROUP BY 1",
        )
    table, name = column.split(".", 1)
    distinct = distinct_deals_of is not None
    count = "count(DISTINCT t.deal_id)" if distinct else "count(*)"
    where = f"t.{q(name)} IN (SELECT unnest(?))" if distinct else "TRUE"
    return scope.query(
        store,
        (
            f"SELECT t.{q(name)} AS value, {count} AS deals FROM {q(table)} t "
            f"JOIN scope USING (deal_id) WHERE t.{q(name)} IS NOT NULL AND {where} GROUP BY 1"
        ),
        [list(distinct_deals_of)] if distinct_deals_of is not None else [],
    )


def reference_values(store: DuckDBStore) -> pd.DataFrame:
    """Values of the reference files joined at import (field, value, source)."""
    return store.query("SELECT field, value, source FROM reference_values")


def unmatched_values(store: DuckDBStore) -> pd.DataFrame:
    """Values of the export missing from its reference files (field, value)."""
    return store.query("SELECT field, value FROM unmatched_values")


def reference_sources(store: DuckDBStore) -> pd.DataFrame:
    """Each field's reference source file and the preset of the import that read it."""
    return store.query(
        "SELECT DISTINCT r.field, r.source, i.preset FROM reference_values r "
        "LEFT JOIN imports i ON i.file = r.source ORDER BY r.field, r.source"
    )


# -- stage history ----------------------------------------------------------------------------------
_TEMP = "_winloss_audit_stage_path"
_VISITS = "_winloss_audit_stage_visits"
_MOVES = "_winloss_audit_stage_moves"
_PUSHES = "_winloss_audit_close_date_pushes"


def deals_with_stage_history(store: DuckDBStore, scope: Scope) -> int:
    return int(
        scope.query(
            store,
            "SELECT count(DISTINCT h.deal_id) AS n FROM stage_history h JOIN scope USING (deal_id)",
        )["n"].iloc[0]
    )


@contextlib.contextmanager
def sorted_stage_history(store: DuckDBStore, scope: Scope) -> Iterator[None]:
    """The stage history of the deals in scope, numbered per deal in time order, as a temp table
    for the stage queries below (dropped on exit with every table they made)."""
    previous_close = (
        "lag(h.close_date IGNORE NULLS) OVER w"
        if store.dialect == "duckdb"
        # PostgreSQL has no IGNORE NULLS: the store's last-non-null aggregate over earlier rows
        else "winloss_last_value(h.close_date) OVER (PARTITION BY h.deal_id ORDER BY "
        "h.entered_at, h.stage ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )
    sql = (
        f"WITH scope AS (SELECT * FROM deals_enriched WHERE {scope.condition}) "
        f"SELECT h.deal_id, h.stage, h.close_date, s.outcome, "
        "coalesce(s.owner, '(no owner)') AS owner, "
        "row_number() OVER w AS pos, count(*) OVER (PARTITION BY h.deal_id) AS last_pos, "
        "lag(h.stage) OVER w AS previous_stage, "
        f"{previous_close} AS previous_close_date "
        "FROM stage_history h JOIN scope s USING (deal_id) "
        "WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.entered_at, h.stage)"
    )
    # the history is sorted once into temp tables; insertion order is irrelevant here and not
    # keeping it makes the window and the aggregations markedly faster on millions of rows
    with store.engine_settings(preserve_insertion_order=False):
        try:
            store.execute(f"CREATE OR REPLACE TEMP TABLE {_TEMP} AS {sql}", list(scope.params))
            yield
        finally:
            for table in (_TEMP, _VISITS, _MOVES, _PUSHES):
                store.execute(f"DROP TABLE IF EXISTS {table}")


def stage_entry_stats(store: DuckDBStore) -> pd.DataFrame:
    """Per stage: entries, median entry position, share of entries that end their deal, and
    the share of those deals lost (most entered first)."""
    return store.query(
        "SELECT stage, count(*) AS entries, median(pos) AS median_position, "
        "avg(CASE WHEN pos = last_pos THEN 1.0 ELSE 0.0 END) AS final_share, "
        "avg(CASE WHEN pos = last_pos AND outcome = 'lost' THEN 1.0 "
        "WHEN pos = last_pos AND outcome = 'won' THEN 0.0 END) AS lost_share "
        f"FROM {_TEMP} GROUP BY stage ORDER BY entries DESC, stage"
    )


def stage_visit_counts(
    store: DuckDBStore, stage_bits: Sequence[tuple[str, int]], masks: Sequence[tuple[int, int]]
) -> list[int]:
    """Each deal's entered stages as a bit mask (``stage_bits``: stage → bit); then, for each
    (stage mask, beyond mask) of ``masks``: deals that entered the stage, deals that got beyond
    it, and deals that got beyond it and passed through it (three counts per mask)."""
    bits = ", ".join("(?, ?)" for _ in range(len(stage_bits)))
    params: list[object] = []
    for stage, bit in stage_bits:
        params += [stage, int(bit)]
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {_VISITS} AS WITH b(stage, bit) AS (VALUES {bits}) "
        "SELECT p.deal_id, bit_or(CAST(1 AS UBIGINT) << CAST(b.bit AS UBIGINT)) AS visited "
        f"FROM {_TEMP} p JOIN b USING (stage) GROUP BY p.deal_id",
        params,
    )
    counts = []
    for mask, beyond in masks:
        counts += [
            f"count(*) FILTER (WHERE visited & {mask}::UBIGINT <> 0)",
            f"count(*) FILTER (WHERE visited & {beyond}::UBIGINT <> 0)",
            f"count(*) FILTER (WHERE visited & {beyond}::UBIGINT <> 0 "
            f"AND visited & {mask}::UBIGINT <> 0)",
        ]
    rows = store.fetchall(f"SELECT {', '.join(counts)} FROM {_VISITS}")
    return [int(v) for v in rows[0]] if rows else [0] * len(counts)


def _levels_values(levels: Sequence[tuple[str, int, bool]]) -> tuple[str, list[object]]:
    rows = ", ".join("(?, ?, ?)" for _ in range(len(levels)))
    params: list[object] = []
    for stage, level, lost in levels:
        params += [stage, int(level), bool(lost)]
    return f"lv(stage, level, lost_stage) AS (VALUES {rows})", params


def stage_moves(
    store: DuckDBStore, levels: Sequence[tuple[str, int, bool]], *, all_usual: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Skips and regressions on the path of usual stages (``levels``: stage, level, lost):
    transitions (kind, from, to, deals), deals skipping each stage, and per kind the deals and up
    to five example ids."""
    values, params = _levels_values(levels)
    # each move to the next usual stage, kept only when flagged; when every stage is usual the
    # previous stage is already on each row and no second sort is needed
    if all_usual:
        path = (
            f"SELECT p.deal_id, p.stage AS to_stage, t.level AS to_level, "
            "t.lost_stage AS to_lost, p.previous_stage AS from_stage, f.level AS from_level "
            f"FROM {_TEMP} p JOIN lv t ON t.stage = p.stage "
            "JOIN lv f ON f.stage = p.previous_stage"
        )
    else:
        path = (
            "SELECT p.deal_id, p.stage AS to_stage, lv.level AS to_level, "
            "lv.lost_stage AS to_lost, lag(p.stage) OVER w AS from_stage, "
            f"lag(lv.level) OVER w AS from_level FROM {_TEMP} p JOIN lv USING (stage) "
            "WINDOW w AS (PARTITION BY p.deal_id ORDER BY p.pos)"
        )
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {_MOVES} AS WITH {values}, path AS ({path}) "
        "SELECT *, CASE WHEN to_level - from_level > 1 AND NOT to_lost THEN 'skip' "
        "ELSE 'regression' END AS kind FROM path "
        "WHERE (to_level - from_level > 1 AND NOT to_lost) OR to_level < from_level",
        params,
    )
    transitions = store.query(
        "SELECT kind, from_stage, to_stage, count(DISTINCT deal_id) AS deals, "
        f"min(from_level) AS from_level, min(to_level) AS to_level FROM {_MOVES} "
        "GROUP BY ALL ORDER BY kind, deals DESC, from_stage, to_stage"
    )
    per_stage = store.query(
        f"WITH {values} SELECT s.stage, count(DISTINCT f.deal_id) AS deals_skipping "
        f"FROM {_MOVES} f JOIN lv s ON s.level > f.from_level AND s.level < f.to_level "
        "AND NOT s.lost_stage WHERE f.kind = 'skip' GROUP BY 1 ORDER BY 2 DESC, 1",
        params,
    )
    deals = store.query(
        f"SELECT kind, count(DISTINCT deal_id) AS deals, "
        "list(DISTINCT deal_id ORDER BY deal_id)[1:5] AS examples "
        f"FROM {_MOVES} GROUP BY kind"
    )
    return transitions, per_stage, deals


def close_date_pushes(
    store: DuckDBStore, min_pushes: int, max_rows: int
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Deals whose close date moved later ``min_pushes`` times or more: (count and median days
    pushed, the deals (at most ``max_rows``), per owner)."""
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE {_PUSHES} AS SELECT deal_id, owner, "
        "count(*) FILTER (WHERE close_date > previous_close_date) AS pushes, "
        "arg_min(close_date, pos) FILTER (WHERE close_date IS NOT NULL) AS first_close_date, "
        "arg_max(close_date, pos) FILTER (WHERE close_date IS NOT NULL) AS last_close_date, "
        "coalesce(sum(date_diff('day', previous_close_date, close_date)) FILTER "
        "(WHERE close_date > previous_close_date), 0) AS days_pushed "
        f"FROM {_TEMP} WHERE close_date IS NOT NULL GROUP BY deal_id, owner"
    )
    summary = store.query(
        f"SELECT count(*) AS deals, median(days_pushed) AS median_days "
        f"FROM {_PUSHES} WHERE pushes >= ?",
        [min_pushes],
    ).iloc[0]
    detail = store.query(
        f"SELECT * FROM {_PUSHES} WHERE pushes >= ? "
        "ORDER BY pushes DESC, days_pushed DESC, deal_id LIMIT ?",
        [min_pushes, max_rows],
    )
    by_owner = store.query(
        "SELECT owner, count(*) AS deals_with_close_date, "
        "count(*) FILTER (WHERE pushes >= ?) AS pushed_deals, "
        f"avg(pushes) AS mean_pushes FROM {_PUSHES} GROUP BY owner "
        "ORDER BY owner",
        [min_pushes],
    )
    return summary, detail, by_owner
