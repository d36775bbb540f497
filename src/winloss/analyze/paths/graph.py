"""The engagement graph: directly-follows edges split by outcome, and path variants with win rates.

``winloss paths`` — every deal with activities is one walk ``(start) → action → … → (won|lost|open)``.
An edge counts how often one action type directly followed another (ordered by ``occurred_at``,
ties by ``activity_id``), separately for won, lost and open deals, with the median days between.
A variant is a deal's whole ordered sequence of action types; its win rate is won / (won + lost)
with a 95 % Wilson interval (open deals are counted but not in the rate).

Win rates on the graph count **deals**, not activities: a node's ``win_rate`` is the share of the
closed deals that passed through it (each deal once, however often it took the action) that were
won, and an edge's ``win_rate`` the same over the closed deals that took that step at least once.
The edge columns ``n``/``won``/``lost``/``open`` stay transition counts (a deal that goes
email → call twice counts twice there), and ``win_share`` is their share of closed-deal transitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import Analysis, AnalysisInputs, AnalysisResult
from winloss.analyze.paths.data import as_store
from winloss.analyze.stats.exact_tests import wilson_interval
from winloss.store import paths_queries

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter, DealSource
    from winloss.store.duckdb_store import DuckDBStore


#: Columns of :attr:`GraphResult.nodes`.
NODE_COLUMNS = ["group", "node", "deals", "won", "lost", "open", "win_rate"]
_OUTCOMES = ("won", "lost", "open")


@dataclass(frozen=True)
class GraphResult(AnalysisResult):
    """Edges (``group, source, target, n, won, lost, open, win_share, deals, deals_won,
    deals_lost, deals_open, win_rate, median_days_won, median_days_lost``: ``n``…``win_share``
    count transitions, ``deals``…``win_rate`` count each deal once), nodes (``group, node, deals,
    won, lost, open, win_rate``: deals that passed through the node) and variants (``group,
    variant, n_actions, deals, won, lost, open, win_rate, ci_low, ci_high``)."""

    inputs: AnalysisInputs
    by: str | None
    edges: pd.DataFrame
    variants: pd.DataFrame
    coverage: dict[str, int]
    warnings: tuple[str, ...] = field(default=())
    nodes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NODE_COLUMNS))

    @property
    def summary(self) -> pd.DataFrame:
        return self.variants

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "by": self.by,
            "coverage": dict(self.coverage),
            "nodes": self.nodes.to_dict(orient="records"),
            "edges": self.edges.to_dict(orient="records"),
            "variants": self.variants.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


class PathGraphOptions(TypedDict, total=False):
    """Keyword settings of :class:`PathGraph` besides the filter."""

    by: str | None
    top_variants: int
    min_edge: int


@dataclass(frozen=True)
class PathGraph(Analysis[GraphResult]):
    """Settings of ``winloss paths``: filter, grouping column, variants kept per group."""

    deal_filter: DealFilter | None = None
    by: str | None = None
    top_variants: int = 20
    min_edge: int = 1

    def run(self, source: DealSource) -> GraphResult:
        store = as_store(source)
        coverage = paths_queries.activity_coverage(store, self.deal_filter)
        raw = paths_queries.directly_follows(store, self.deal_filter, by=self.by)
        nodes, deal_edges = _deal_counts(store, self.deal_filter, self.by)
        edges = _with_deal_counts(_pivot_edges(raw, self.min_edge), deal_edges)
        var = paths_queries.variants(store, self.deal_filter, by=self.by)
        var = var.groupby("grp", sort=True, group_keys=False).head(self.top_variants)
        low, high = wilson_interval(var["won"].to_numpy(), (var["won"] + var["lost"]).to_numpy())
        closed = (var["won"] + var["lost"]).to_numpy()
        # the Wilson bounds are exactly 0 and 1 at 0 and all wins (no rounding residue)
        low = np.where((var["won"].to_numpy() == 0) & (closed > 0), 0.0, low)
        high = np.where((var["lost"].to_numpy() == 0) & (closed > 0), 1.0, high)
        var = (
            var.rename(columns={"grp": "group"})
            .assign(
                win_rate=np.where(closed > 0, var["won"] / np.maximum(closed, 1), np.nan),
                ci_low=low,
                ci_high=high,
            )
            .reset_index(drop=True)
        )
        warnings: list[str] = []
        missing = coverage["deals"] - coverage["deals_with_activities"]
        if missing:
            warnings.append(
                f"{missing} of {coverage['deals']} deals have no activities; they "
                "appear as the variant '(no activities)' and in no edge"
            )
        if coverage["activities_without_deal"]:
            warnings.append(
                f"{coverage['activities_without_deal']} activities name a deal the "
                "store does not have; they are not in the graph"
            )
        inputs = AnalysisInputs.of(coverage["deals"], flt=self.deal_filter)
        return GraphResult(inputs, self.by, edges, var, coverage, tuple(warnings), nodes)


def _outcome_counts(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows of ``frame`` (one per deal and key) counted per key and outcome: ``keys``, ``deals``,
    ``won``, ``lost``, ``open`` and ``win_rate`` = won / (won + lost) (NaN without closed deals)."""
    counts = frame.groupby([*keys, "outcome"], sort=False).size().unstack("outcome", fill_value=0)
    out = pd.DataFrame(index=counts.index)
    for outcome in _OUTCOMES:
        out[outcome] = counts[outcome].astype(int) if outcome in counts else 0
    out["deals"] = out[list(_OUTCOMES)].sum(axis=1)
    closed = out["won"] + out["lost"]
    out["win_rate"] = np.where(closed > 0, out["won"] / closed.where(closed > 0, 1), np.nan)
    return out.reset_index()


def _deal_counts(
    store: DuckDBStore, flt: DealFilter | None, by: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges of the graph counted once per deal: a deal passes through ``(start)`` and
    each action type it has, and takes each distinct step (``(start)`` → first action, action →
    next action, last action → its outcome) once, however often it repeats them."""
    stream = paths_queries.token_stream(store, flt, by=by, silent_days=0, aged_days=0)
    steps = stream.select(["grp", "deal_id", "outcome", "token"]).to_pandas()
    if steps.empty:
        edge_cols = ["group", "source", "target", "deals", "won", "lost", "open", "win_rate"]
        return pd.DataFrame(columns=NODE_COLUMNS), pd.DataFrame(columns=edge_cols)
    # the stream is ordered by deal, then position: a deal's steps are consecutive and in order
    first = ~steps["deal_id"].duplicated(keep="first")
    last = ~steps["deal_id"].duplicated(keep="last")
    visits = pd.concat([steps[first].assign(token="(start)"), steps])
    visits = visits.drop_duplicates(["deal_id", "token"])
    nodes = _outcome_counts(visits, ["grp", "token"]).rename(
        columns={"grp": "group", "token": "node"}
    )
    nodes = nodes.sort_values(["group", "deals", "node"], ascending=[True, False, True])
    source = steps["token"].shift().where(~first, "(start)")
    moves = pd.concat(
        [
            steps.assign(source=source, target=steps["token"]),
            steps[last].assign(source=steps["token"], target="(" + steps["outcome"] + ")"),
        ]
    ).drop_duplicates(["deal_id", "source", "target"])
    edges = _outcome_counts(moves, ["grp", "source", "target"]).rename(columns={"grp": "group"})
    return nodes[NODE_COLUMNS].reset_index(drop=True), edges


def _with_deal_counts(edges: pd.DataFrame, deal_edges: pd.DataFrame) -> pd.DataFrame:
    """The transition edges of :func:`_pivot_edges` with the deal counts of :func:`_deal_counts`
    (``deals``, ``deals_won``, ``deals_lost``, ``deals_open``, ``win_rate``)."""
    renamed = deal_edges.rename(columns={o: f"deals_{o}" for o in _OUTCOMES})
    keys = ["group", "source", "target"]
    added = ["deals", "deals_won", "deals_lost", "deals_open", "win_rate"]
    merged = edges.merge(renamed[keys + added], on=keys, how="left", validate="one_to_one")
    for column in added[:-1]:
        merged[column] = merged[column].fillna(0).astype(int)
    merged["win_rate"] = merged["win_rate"].astype(float)
    order = [c for c in edges.columns if not c.startswith("median_days")]
    return merged[order + added + ["median_days_won", "median_days_lost"]]


def _pivot_edges(raw: pd.DataFrame, min_edge: int) -> pd.DataFrame:
    cols = [
        "group",
        "source",
        "target",
        "n",
        "won",
        "lost",
        "open",
        "win_share",
        "median_days_won",
        "median_days_lost",
    ]
    if raw.empty:
        return pd.DataFrame(columns=cols)
    counts = raw.pivot_table(
        index=["grp", "source", "target"],
        columns="outcome",
        values="n",
        aggfunc="sum",
        fill_value=0,
    )
    days = raw.pivot_table(
        index=["grp", "source", "target"], columns="outcome", values="median_days", aggfunc="first"
    )
    out = pd.DataFrame(index=counts.index)
    for o in ("won", "lost", "open"):
        out[o] = counts[o].astype(int) if o in counts else 0
    out["n"] = out[["won", "lost", "open"]].sum(axis=1)
    closed = out["won"] + out["lost"]
    out["win_share"] = np.where(closed > 0, out["won"] / closed.where(closed > 0, 1), np.nan)
    for o in ("won", "lost"):
        out[f"median_days_{o}"] = days.get(o, np.nan)
    out = out.reset_index().rename(columns={"grp": "group"})
    out = out[out["n"] >= min_edge].sort_values(
        ["group", "n", "source", "target"], ascending=[True, False, True, True]
    )
    return out[cols].reset_index(drop=True)
