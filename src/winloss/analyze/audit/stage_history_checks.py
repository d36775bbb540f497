"""Audit checks on the stage history: stage skips, stage regressions and pushed close dates.

The usual stage order is inferred from the data, not typed in:

1. each deal's stage entries are numbered in time order (position 1, 2, …); a stage's place in the
   order is the **median position** at which it is entered, and stages with equal medians share a
   level (e.g. "Closed Won" and "Closed Lost");
2. a **lost stage** — where at least 90 % of its entries end their deal, and at least 90 % of
   those deals are lost — can be reached from anywhere: a deal may be lost at any point, so moving
   into it is never a skip;
3. a stage is **usual** when at least ``usual_share`` of the deals that get further (to a higher
   level, lost stages aside) pass through it; optional stages that most deals bypass are left out
   of the path before transitions are judged, so bypassing them is no skip;
4. on the remaining path, a move up by more than one level is a **skip** (the stages in between are
   the ones skipped), a move down is a **regression**.

A **pushed close date** is a stage-history entry whose close date is later than the previous
entry's; a deal pushed ``min_pushes`` times or more is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from winloss.analyze.audit.checks import AuditIssue, CheckOutput, Scope

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

_TEMP = "_winloss_audit_stage_path"
_VISITS = "_winloss_audit_stage_visits"
_MOVES = "_winloss_audit_stage_moves"
_PUSHES = "_winloss_audit_close_date_pushes"
#: A stage is a lost stage when this share of its entries end a deal and this share of those deals
#: is lost.
LOST_STAGE_SHARE = 0.9
#: At most this many stages (the most entered) are placed on the path.
MAX_STAGES = 63


def _levels_values(levels: pd.DataFrame) -> tuple[str, list[object]]:
    rows = ", ".join("(?, ?, ?)" for _ in range(len(levels)))
    params: list[object] = []
    for rec in levels.to_dict(orient="records"):
        params += [rec["stage"], int(rec["level"]), bool(rec["lost_stage"])]
    return f"lv(stage, level, lost_stage) AS (VALUES {rows})", params


def stage_order(store: DuckDBStore, *, usual_share: float) -> pd.DataFrame:
    """Every stage with its median entry position, level, and whether it is lost or usual.

    Reads the sorted history temp table; stages beyond the :data:`MAX_STAGES` most entered are
    left out of the path.
    """
    stats = store.query(
        "SELECT stage, count(*) AS entries, median(pos) AS median_position, "
        "avg(CASE WHEN pos = last_pos THEN 1.0 ELSE 0.0 END) AS final_share, "
        "avg(CASE WHEN pos = last_pos AND outcome = 'lost' THEN 1.0 "
        "WHEN pos = last_pos AND outcome = 'won' THEN 0.0 END) AS lost_share "
        f"FROM {_TEMP} GROUP BY stage ORDER BY entries DESC, stage")
    if stats.empty:
        return stats
    stats = stats.head(MAX_STAGES).copy()
    stats["bit"] = range(len(stats))
    stats["lost_stage"] = ((stats["final_share"] >= LOST_STAGE_SHARE)
                           & (stats["lost_share"].fillna(0) >= LOST_STAGE_SHARE))
    stats["level"] = stats["median_position"].rank(method="dense").astype(int)
    # one row per deal with the set of stages it entered as a bit mask: every "how many deals
    # entered S" and "how many that got further passed through S" is then a filtered count
    bits = ", ".join("(?, ?)" for _ in range(len(stats)))
    params: list[object] = []
    for stage, bit in zip(stats["stage"], stats["bit"], strict=True):
        params += [stage, int(bit)]
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_VISITS} AS WITH b(stage, bit) AS (VALUES {bits}) "
        "SELECT p.deal_id, bit_or(CAST(1 AS UBIGINT) << CAST(b.bit AS UBIGINT)) AS visited "
        f"FROM {_TEMP} p JOIN b USING (stage) GROUP BY p.deal_id", params)
    counts = []
    for rec in stats.to_dict(orient="records"):
        mask = 1 << int(rec["bit"])
        beyond = sum(1 << int(b) for b, lvl, lost in zip(stats["bit"], stats["level"],
                                                         stats["lost_stage"], strict=True)
                     if lvl > rec["level"] and not lost)
        counts += [f"count(*) FILTER (WHERE visited & {mask}::UBIGINT <> 0)",
                   f"count(*) FILTER (WHERE visited & {beyond}::UBIGINT <> 0)",
                   f"count(*) FILTER (WHERE visited & {beyond}::UBIGINT <> 0 "
                   f"AND visited & {mask}::UBIGINT <> 0)"]
    row = store.con.execute(f"SELECT {', '.join(counts)} FROM {_VISITS}").fetchone()
    values = list(row) if row else [0] * len(counts)
    stats["deals"] = [int(v) for v in values[0::3]]
    stats["deals_beyond"] = [int(v) for v in values[1::3]]
    stats["passed_through"] = [int(v) for v in values[2::3]]
    share = stats["passed_through"] / stats["deals_beyond"].where(stats["deals_beyond"] > 0)
    stats["usual"] = stats["lost_stage"] | share.isna() | (share >= usual_share)
    stats.loc[stats["lost_stage"], ["deals_beyond", "passed_through"]] = 0
    # the level on the path of usual stages, on which skips and regressions are judged; lost
    # stages come after every other stage (entering one is no skip, leaving one is a regression)
    on_path = stats["usual"] & ~stats["lost_stage"]
    stats["path_level"] = stats["median_position"].where(on_path).rank(
        method="dense").astype("Int64")
    top = int(stats["path_level"].max()) if on_path.any() else 0
    stats.loc[stats["lost_stage"], "path_level"] = top + 1
    stats = stats.sort_values(["median_position", "stage"])
    return stats[["stage", "median_position", "level", "path_level", "deals", "lost_stage",
                  "usual", "deals_beyond", "passed_through"]].reset_index(drop=True)


def stage_checks(store: DuckDBStore, scope: Scope, *, usual_share: float,
                 min_pushes: int, max_rows: int) -> CheckOutput:
    """Stage skips, regressions and pushed close dates of the deals in scope."""
    out = CheckOutput()
    deals_with_history = scope.query(
        store, "SELECT count(DISTINCT h.deal_id) AS n FROM stage_history h "
        "JOIN scope USING (deal_id)")["n"].iloc[0]
    if int(deals_with_history) == 0:
        out.notes.append("stage skips, regressions and close-date pushes: no stage history for "
                         "these deals (import it with `winloss import stages`)")
        return out
    sql = (f"WITH scope AS (SELECT * FROM deals_enriched WHERE {scope.condition}) "
           f"SELECT h.deal_id, h.stage, h.close_date, s.outcome, "
           "coalesce(s.owner, '(no owner)') AS owner, "
           "row_number() OVER w AS pos, count(*) OVER (PARTITION BY h.deal_id) AS last_pos, "
           "lag(h.stage) OVER w AS previous_stage, "
           "lag(h.close_date IGNORE NULLS) OVER w AS previous_close_date "
           "FROM stage_history h JOIN scope s USING (deal_id) "
           "WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.entered_at, h.stage)")
    # the history is sorted once into temp tables; insertion order is irrelevant here and not
    # keeping it makes the window and the aggregations markedly faster on millions of rows
    store.con.execute("SET preserve_insertion_order = false")
    try:
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE {_TEMP} AS {sql}", list(scope.params))
        order = stage_order(store, usual_share=usual_share)
        out.tables["stage_order"] = order
        _skips_and_regressions(store, order, int(deals_with_history), out)
        _pushes(store, int(deals_with_history), min_pushes, max_rows, out)
    finally:
        for table in (_TEMP, _VISITS, _MOVES, _PUSHES):
            store.con.execute(f"DROP TABLE IF EXISTS {table}")
        store.con.execute("RESET preserve_insertion_order")
    return out


def _skips_and_regressions(store: DuckDBStore, order: pd.DataFrame, n_deals: int,
                           out: CheckOutput) -> None:
    kept = order[order["usual"]].assign(level=lambda f: f["path_level"].astype(int))
    values, params = _levels_values(kept)
    # each move to the next usual stage, kept only when flagged; when every stage is usual the
    # previous stage is already on each row and no second sort is needed
    if bool(order["usual"].all()):
        path = (f"SELECT p.deal_id, p.stage AS to_stage, t.level AS to_level, "
                "t.lost_stage AS to_lost, p.previous_stage AS from_stage, f.level AS from_level "
                f"FROM {_TEMP} p JOIN lv t ON t.stage = p.stage "
                "JOIN lv f ON f.stage = p.previous_stage")
    else:
        path = ("SELECT p.deal_id, p.stage AS to_stage, lv.level AS to_level, "
                "lv.lost_stage AS to_lost, lag(p.stage) OVER w AS from_stage, "
                f"lag(lv.level) OVER w AS from_level FROM {_TEMP} p JOIN lv USING (stage) "
                "WINDOW w AS (PARTITION BY p.deal_id ORDER BY p.pos)")
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_MOVES} AS WITH {values}, path AS ({path}) "
        "SELECT *, CASE WHEN to_level - from_level > 1 AND NOT to_lost THEN 'skip' "
        "ELSE 'regression' END AS kind FROM path "
        "WHERE (to_level - from_level > 1 AND NOT to_lost) OR to_level < from_level", params)
    transitions = store.query(
        "SELECT kind, from_stage, to_stage, count(DISTINCT deal_id) AS deals, "
        f"min(from_level) AS from_level, min(to_level) AS to_level FROM {_MOVES} "
        "GROUP BY ALL ORDER BY kind, deals DESC, from_stage, to_stage")
    names_by_level = kept[~kept["lost_stage"]].groupby("level")["stage"].agg(
        lambda s: " / ".join(sorted(s)))
    transitions["skipped"] = [
        ", ".join(names_by_level[lvl] for lvl in range(int(a) + 1, int(b)) if lvl in
                  names_by_level.index) if k == "skip" else ""
        for k, a, b in zip(transitions["kind"], transitions["from_level"],
                           transitions["to_level"], strict=True)]
    out.tables["stage_transitions"] = transitions.drop(columns=["from_level", "to_level"])
    per_stage = store.query(
        f"WITH {values} SELECT s.stage, count(DISTINCT f.deal_id) AS deals_skipping "
        f"FROM {_MOVES} f JOIN lv s ON s.level > f.from_level AND s.level < f.to_level "
        "AND NOT s.lost_stage WHERE f.kind = 'skip' GROUP BY 1 ORDER BY 2 DESC, 1", params)
    deals = store.query(f"SELECT kind, count(DISTINCT deal_id) AS deals, "
                        "list(DISTINCT deal_id ORDER BY deal_id)[1:5] AS examples "
                        f"FROM {_MOVES} GROUP BY kind").set_index("kind")
    for kind, label, action, unblocks in (
        ("skip", "skipped stages",
         "Require each usual stage before the next (a CRM validation rule), or remove stages "
         "nobody uses from the process.",
         "stage conversion rates, Bowtie metrics and action paths"),
        ("regression", "moved back to an earlier stage",
         "Check these deals: a move back usually means a stage was set too early; agree exit "
         "criteria per stage.",
         "stage durations and conversion rates"),
    ):
        if kind not in deals.index:
            continue
        n = int(deals.loc[kind, "deals"])
        detail = ""
        if kind == "skip" and not per_stage.empty:
            top = per_stage.head(3)
            detail = " (most often " + ", ".join(
                f"{r.stage}: {int(r.deals_skipping):,}" for r in top.itertuples()) + ")"
        out.issues.append(AuditIssue(
            key=f"stages:{kind}", check=f"stage {kind}s",
            title=f"{n:,} deals {label}{detail}",
            deals=n, of=n_deals, universe="deals with stage history", importance="path",
            action=action, unblocks=(unblocks,), field="stage",
            examples=tuple(str(v) for v in deals.loc[kind, "examples"])))
    out.tables["stage_skips_by_stage"] = per_stage


def _pushes(store: DuckDBStore, n_deals: int, min_pushes: int, max_rows: int,
            out: CheckOutput) -> None:
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_PUSHES} AS SELECT deal_id, owner, "
        "count(*) FILTER (WHERE close_date > previous_close_date) AS pushes, "
        "arg_min(close_date, pos) FILTER (WHERE close_date IS NOT NULL) AS first_close_date, "
        "arg_max(close_date, pos) FILTER (WHERE close_date IS NOT NULL) AS last_close_date, "
        "coalesce(sum(date_diff('day', previous_close_date, close_date)) FILTER "
        "(WHERE close_date > previous_close_date), 0) AS days_pushed "
        f"FROM {_TEMP} WHERE close_date IS NOT NULL GROUP BY deal_id, owner")
    summary = store.query(f"SELECT count(*) AS deals, median(days_pushed) AS median_days "
                          f"FROM {_PUSHES} WHERE pushes >= ?", [min_pushes]).iloc[0]
    detail = store.query(f"SELECT * FROM {_PUSHES} WHERE pushes >= ? "
                         "ORDER BY pushes DESC, days_pushed DESC, deal_id LIMIT ?",
                         [min_pushes, max_rows])
    by_owner = store.query("SELECT owner, count(*) AS deals_with_close_date, "
                           "count(*) FILTER (WHERE pushes >= ?) AS pushed_deals, "
                           f"avg(pushes) AS mean_pushes FROM {_PUSHES} GROUP BY owner "
                           "ORDER BY owner", [min_pushes])
    out.tables["close_date_pushes"] = detail
    out.tables["close_date_pushes_by_owner"] = by_owner
    n = int(summary["deals"])
    if n:
        out.issues.append(AuditIssue(
            key="stages:close-date-pushes", check="close-date pushes",
            title=(f"{n:,} deals had their close date pushed {min_pushes} or more times "
                   f"(median {float(summary['median_days']):.0f} days in total)"),
            deals=n, of=n_deals, universe="deals with stage history", importance="process",
            action=("Review deals at their second push in the pipeline meeting: re-qualify "
                    "(critical event, decision date) or close them as lost."),
            unblocks=("forecast accuracy and a slipped-deal signal for scoring",),
            field="closed_at", examples=tuple(str(v) for v in detail["deal_id"].head(5))))
