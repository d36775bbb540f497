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

from winloss.analyze.audit.checks import AuditIssue, CheckOutput, Scope, agree, counted
from winloss.store import audit_queries as aq

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore
#: A stage is a lost stage when this share of its entries end a deal and this share of those deals
#: is lost.
LOST_STAGE_SHARE = 0.9
#: At most this many stages (the most entered) are placed on the path.
MAX_STAGES = 63


def _levels(levels: pd.DataFrame) -> list[tuple[str, int, bool]]:
    return [
        (rec["stage"], int(rec["level"]), bool(rec["lost_stage"]))
        for rec in levels.to_dict(orient="records")
    ]


def stage_order(store: DuckDBStore, *, usual_share: float) -> pd.DataFrame:
    """Every stage with its median entry position, level, and whether it is lost or usual.

    Reads the sorted history temp table; stages beyond the :data:`MAX_STAGES` most entered are
    left out of the path.
    """
    stats = aq.stage_entry_stats(store)
    if stats.empty:
        return stats
    stats = stats.head(MAX_STAGES).copy()
    stats["bit"] = range(len(stats))
    stats["lost_stage"] = (stats["final_share"] >= LOST_STAGE_SHARE) & (
        stats["lost_share"].fillna(0) >= LOST_STAGE_SHARE
    )
    stats["level"] = stats["median_position"].rank(method="dense").astype(int)
    # one row per deal with the set of stages it entered as a bit mask: every "how many deals
    # entered S" and "how many that got further passed through S" is then a filtered count
    masks = []
    for rec in stats.to_dict(orient="records"):
        mask = 1 << int(rec["bit"])
        beyond = sum(
            1 << int(b)
            for b, lvl, lost in zip(stats["bit"], stats["level"], stats["lost_stage"], strict=True)
            if lvl > rec["level"] and not lost
        )
        masks.append((mask, beyond))
    values = aq.stage_visit_counts(
        store, [(str(s), int(b)) for s, b in zip(stats["stage"], stats["bit"], strict=True)], masks
    )
    stats["deals"] = [int(v) for v in values[0::3]]
    stats["deals_beyond"] = [int(v) for v in values[1::3]]
    stats["passed_through"] = [int(v) for v in values[2::3]]
    share = stats["passed_through"] / stats["deals_beyond"].where(stats["deals_beyond"] > 0)
    stats["usual"] = stats["lost_stage"] | share.isna() | (share >= usual_share)
    stats.loc[stats["lost_stage"], ["deals_beyond", "passed_through"]] = 0
    # the level on the path of usual stages, on which skips and regressions are judged; lost
    # stages come after every other stage (entering one is no skip, leaving one is a regression)
    on_path = stats["usual"] & ~stats["lost_stage"]
    stats["path_level"] = (
        stats["median_position"].where(on_path).rank(method="dense").astype("Int64")
    )
    top = int(stats["path_level"].max()) if on_path.any() else 0
    stats.loc[stats["lost_stage"], "path_level"] = top + 1
    stats = stats.sort_values(["median_position", "stage"])
    return stats[
        [
            "stage",
            "median_position",
            "level",
            "path_level",
            "deals",
            "lost_stage",
            "usual",
            "deals_beyond",
            "passed_through",
        ]
    ].reset_index(drop=True)


def stage_checks(
    store: DuckDBStore, scope: Scope, *, usual_share: float, min_pushes: int, max_rows: int
) -> CheckOutput:
    """Stage skips, regressions and pushed close dates of the deals in scope."""
    out = CheckOutput()
    deals_with_history = aq.deals_with_stage_history(store, scope)
    if int(deals_with_history) == 0:
        out.notes.append(
            "stage skips, regressions and close-date pushes: no stage history for "
            "these deals (import it with `winloss import stages`)"
        )
        return out
    with aq.sorted_stage_history(store, scope):
        order = stage_order(store, usual_share=usual_share)
        out.tables["stage_order"] = order
        _skips_and_regressions(store, order, int(deals_with_history), out)
        _pushes(store, int(deals_with_history), min_pushes, max_rows, out)
    return out


def _skips_and_regressions(
    store: DuckDBStore, order: pd.DataFrame, n_deals: int, out: CheckOutput
) -> None:
    kept = order[order["usual"]].assign(level=lambda f: f["path_level"].astype(int))
    transitions, per_stage, deals = aq.stage_moves(
        store, _levels(kept), all_usual=bool(order["usual"].all())
    )
    deals = deals.set_index("kind")
    names_by_level = (
        kept[~kept["lost_stage"]].groupby("level")["stage"].agg(lambda s: " / ".join(sorted(s)))
    )
    transitions["skipped"] = [
        ", ".join(
            names_by_level[lvl] for lvl in range(int(a) + 1, int(b)) if lvl in names_by_level.index
        )
        if k == "skip"
        else ""
        for k, a, b in zip(
            transitions["kind"], transitions["from_level"], transitions["to_level"], strict=True
        )
    ]
    out.tables["stage_transitions"] = transitions.drop(columns=["from_level", "to_level"])
    for kind, label, action, unblocks in (
        (
            "skip",
            "skipped stages",
            "Require each usual stage before the next (a CRM validation rule), or remove stages "
            "nobody uses from the process.",
            "stage conversion rates, Bowtie metrics and action paths",
        ),
        (
            "regression",
            "moved back to an earlier stage",
            "Check these deals: a move back usually means a stage was set too early; agree exit "
            "criteria per stage.",
            "stage durations and conversion rates",
        ),
    ):
        if kind not in deals.index:
            continue
        n = int(deals.loc[kind, "deals"])
        detail = ""
        if kind == "skip" and not per_stage.empty:
            top = per_stage.head(3)
            detail = (
                " (most often "
                + ", ".join(f"{r.stage}: {int(r.deals_skipping):,}" for r in top.itertuples())
                + ")"
            )
        out.issues.append(
            AuditIssue(
                key=f"stages:{kind}",
                check=f"stage {kind}s",
                title=f"{counted(n, 'deal')} {label}{detail}",
                deals=n,
                of=n_deals,
                universe="deals with stage history",
                importance="path",
                action=action,
                unblocks=(unblocks,),
                field="stage",
                examples=tuple(str(v) for v in deals.loc[kind, "examples"]),
            )
        )
    out.tables["stage_skips_by_stage"] = per_stage


def _pushes(
    store: DuckDBStore, n_deals: int, min_pushes: int, max_rows: int, out: CheckOutput
) -> None:
    summary, detail, by_owner = aq.close_date_pushes(store, min_pushes, max_rows)
    out.tables["close_date_pushes"] = detail
    out.tables["close_date_pushes_by_owner"] = by_owner
    n = int(summary["deals"])
    if n:
        out.issues.append(
            AuditIssue(
                key="stages:close-date-pushes",
                check="close-date pushes",
                title=(
                    f"{counted(n, 'deal')} had {agree(n, 'its', 'their')} close date pushed "
                    f"{min_pushes} or more times "
                    f"(median {float(summary['median_days']):.0f} days in total)"
                ),
                deals=n,
                of=n_deals,
                universe="deals with stage history",
                importance="process",
                action=(
                    "Review deals at their second push in the pipeline meeting: re-qualify "
                    "(critical event, decision date) or close them as lost."
                ),
                unblocks=("forecast accuracy and a slipped-deal signal for scoring",),
                field="closed_at",
                examples=tuple(str(v) for v in detail["deal_id"].head(5)),
            )
        )
