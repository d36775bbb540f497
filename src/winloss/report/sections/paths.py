"""Action paths: the engagement graph shaded by outcome, the variants that win and lose, what each
action is worth (removal effects) and the segment micro-actions."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from winloss.report.charts import hbar_chart, path_graph_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.labels import interval, percent

#: Edges drawn in the chart (the most frequent), to keep it readable.
MAX_EDGES = 40


def _nodes(nodes: pd.DataFrame, variants: pd.DataFrame) -> list[tuple[str, float, float]]:
    """Each action at its median position in the variants, with its win rate: the share of the
    closed deals that passed through it (each deal once) that were won."""
    positions: dict[str, list[int]] = {}
    for variant, deals in zip(variants["variant"], variants["deals"], strict=True):
        for i, action in enumerate(str(variant).split(" > ")):
            positions.setdefault(action, []).extend([i + 1] * int(deals))
    rates = nodes.set_index("node")["win_rate"]
    if "(start)" not in rates.index:
        return []
    # a node without closed deals is drawn half-way between lost and won
    out = [("(start)", 0.0, _rate(rates["(start)"]))]
    for action, pos in positions.items():
        if action == "(no activities)" or action not in rates.index:
            continue
        out.append((action, float(np.median(pos)), _rate(rates[action])))
    last = max((p for _, p, _ in out), default=0.0) + 1
    out += [("(won)", last, 1.0), ("(lost)", last, 0.0)]
    return out


def _rate(value: float) -> float:
    return float(value) if value == value else 0.5


def build(ctx: ReportContext) -> Section | None:
    from winloss.analyze.paths.analysis import PathChains
    from winloss.analyze.paths.graph import PathGraph

    store = ctx.store
    graph = ctx.cached("path_graph", lambda: PathGraph(top_variants=10_000).run(store))
    if graph is None:
        return None
    if graph.edges.empty:
        ctx.notes.append(
            "paths: the deals have no activities: import them with `winloss import activities "
            "FILE` (deal_id, type, occurred_at) to see the action paths"
        )
        return None
    chains = ctx.cached(
        "path_chains",
        lambda: PathChains(by="segment" if "segment" in store.deal_columns_present() else None).run(
            store
        ),
    )
    data: dict[str, Any] = {
        "coverage": graph.coverage,
        "nodes": graph.nodes[graph.nodes["group"] == "all"]
        .drop(columns="group")
        .to_dict("records"),
    }
    parts = [
        "<p>Every deal is a walk through its actions, from its creation to won, lost or still "
        "open. A node's percentage is the share of the closed deals that passed through it that "
        "were won, an edge's colour the same for the closed deals that took that step; each deal "
        "counts once however often it repeats an action.</p>"
    ]
    edges = graph.edges
    top_edges = edges.sort_values(["deals", "n"], ascending=False).head(MAX_EDGES)
    parts.append(
        path_graph_chart(
            "path-graph",
            "The engagement graph (edge width: deals; % and colour: share of closed deals won)",
            _nodes(graph.nodes, graph.variants),
            [
                (str(r.source), str(r.target), int(r.deals), _rate(r.win_rate))
                for r in top_edges.itertuples(index=False)
            ],
        )
    )
    charts = ["path-graph"]
    # deals without activities share the variant '(no activities)': not a path anyone took
    variants = graph.variants[
        ((graph.variants["won"] + graph.variants["lost"]) >= 10)
        & (graph.variants["variant"] != "(no activities)")
    ]
    variants = variants.sort_values("win_rate", ascending=False)
    if len(variants):
        shown = pd.concat([variants.head(5), variants.tail(5)]).drop_duplicates("variant")
        data["variants"] = shown.to_dict(orient="records")
        alike = shown["win_rate"].nunique() == 1
        parts.append(
            "<h3>Common paths (10+ closed deals)"
            + ("" if alike else ": the best and the worst")
            + "</h3>"
        )
        if alike:
            parts.append(
                f'<p class="note">Every path shown has the same win rate '
                f"({percent(float(shown['win_rate'].iloc[0]))}): the common paths end alike, and "
                "won deals took paths that differ deal by deal (see the chain below).</p>"
            )
        parts.append(
            table_html(
                [
                    {
                        "variant": r["variant"],
                        "won": r["won"],
                        "lost": r["lost"],
                        "win_rate": percent(r["win_rate"]),
                        "interval": interval(r["ci_low"], r["ci_high"]),
                    }
                    for r in shown.to_dict(orient="records")
                ],
                [
                    ("variant", "path"),
                    ("won", "won"),
                    ("lost", "lost"),
                    ("win_rate", "win rate"),
                    ("interval", "95 % interval"),
                ],
                numeric={"won", "lost", "win_rate"},
            )
        )
    if chains is not None:
        removal = chains.removal_effects[chains.removal_effects["group"] == "all"]
        data["removal_effects"] = removal.to_dict(orient="records")
        data["order"] = chains.order
        parts.append(
            "<h3>What each action is worth</h3><p>Removal effect: the share of wins lost "
            "if every path through the action ended lost instead (exact, from the "
            "Markov chain; 95% bootstrap interval). Association, not causation.</p>"
        )
        parts.append(
            hbar_chart(
                "path-removal",
                "Removal effect of each action",
                removal["action"].tolist(),
                removal["removal_effect"].tolist(),
                lows=removal["ci_low"].tolist(),
                highs=removal["ci_high"].tolist(),
            )
        )
        charts.append("path-removal")
        micro = chains.micro_actions
        data["micro_actions"] = micro.to_dict(orient="records")
        data["micro_action_fdr"] = chains.micro_fdr
        tested = len(chains.micro_action_tests)
        if len(micro):
            items = "".join(
                f"<li><b>{escape(str(r.group))}</b>: {escape(str(r.action))} (removal effect "
                f"{r.removal_effect:.0%}, elsewhere at most {r.others_max:.0%}; "
                f"q = {r.q_value:.2g})</li>"
                for r in micro.itertuples(index=False)
            )
            parts.append(
                f"<h3>Segment micro-actions</h3><p>{len(micro)} of {tested} segment × action "
                "tests survive the Benjamini–Hochberg false-discovery control at "
                f"q &lt; {chains.micro_fdr:g}.</p><ul>{items}</ul>"
            )
        elif tested:
            parts.append(
                f"<p>No segment micro-action: none of {tested} segment × action tests survives "
                f"the Benjamini–Hochberg false-discovery control at q &lt; {chains.micro_fdr:g}."
                "</p>"
            )
    notes = tuple(graph.warnings) + (tuple(chains.warnings) if chains is not None else ())
    return Section(
        key="paths",
        title="Action paths",
        html="".join(parts),
        data=data,
        charts=tuple(charts),
        notes=notes,
    )
