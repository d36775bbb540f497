"""Headline numbers and trends: deals closed, win rate with its interval, won revenue, cycle."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from winloss.analyze.stats.intervals import wilson_interval
from winloss.model.period import PARTIAL_DAYS
from winloss.report.charts import hbar_chart, line_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.store import summary_queries

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore


def quarterly_summary(store: DuckDBStore, until: str) -> pd.DataFrame:
    """Closed deals, wins, win rate (Wilson 95 %), won revenue and median cycle per quarter."""
    frame = summary_queries.quarterly_summary(store, until)
    if frame.empty:
        return frame
    lo, hi = wilson_interval(frame["wins"].to_numpy(float), frame["deals"].to_numpy(float))
    frame["win_rate"] = frame["wins"] / frame["deals"]
    frame["ci_low"], frame["ci_high"] = lo, hi
    frame["partial"] = partial_quarters(store, frame)
    return frame


def partial_quarters(store: DuckDBStore, frame: pd.DataFrame) -> list[str | None]:
    """Why the first and last quarters are partial (their closes cover only part of them), e.g.
    Maven's first quarter holds only March closes; ``None`` for whole quarters."""
    out: list[str | None] = [None] * len(frame)
    if frame.empty:
        return out
    first = store.quarter(str(frame["quarter"].iloc[0]))
    start = pd.Timestamp(frame["first_close"].iloc[0]).date()
    if (start - first.start).days > PARTIAL_DAYS:
        out[0] = f"partial: closes from {start.isoformat()}"
    last = store.quarter(str(frame["quarter"].iloc[-1]))
    end = pd.Timestamp(frame["last_close"].iloc[-1]).date()
    if (last.end - end).days > PARTIAL_DAYS:
        note = f"partial: closes up to {end.isoformat()}"
        out[-1] = note if out[-1] is None else f"{out[-1]}; {note}"
    return out


def _kpi(label: str, value: str, delta: str = "", cls: str = "") -> str:
    return (
        f'<div class="kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>'
        f'<div class="delta {cls}">{escape(delta)}</div></div>'
    )


def _delta(
    now: float, before: float | None, *, pct_points: bool = False, money: bool = False
) -> tuple[str, str]:
    if before is None or before != before or now != now:
        return "no earlier quarter", ""
    diff = now - before
    cls = "up" if diff > 0 else "down" if diff < 0 else ""
    if pct_points:
        return f"{diff * 100:+.1f} pts vs last quarter", cls
    if money:
        return f"{diff:+,.0f} vs last quarter", cls
    return f"{diff:+,.0f} vs last quarter", cls


def _undated(ctx: ReportContext) -> Section | None:
    """The headline of a store without close dates: every closed deal at once, no trend."""
    closed = ctx.source.closed_deals()
    if closed.empty:
        return None
    won = closed["outcome"] == "won"
    deals, wins = len(closed), int(won.sum())
    lo, hi = (float(v[0]) for v in wilson_interval([wins], [deals]))
    revenue = (
        float(closed.loc[won, "amount"].fillna(0).sum())
        if "amount" in closed and closed["amount"].notna().any()
        else None
    )
    kpis = [
        _kpi("closed deals", f"{deals:,}", "all of them (no close dates)"),
        _kpi("win rate", f"{wins / deals:.0%}"),
        _kpi("95 % interval", f"{lo:.0%}–{hi:.0%}"),
    ]
    if revenue is not None:
        kpis.append(_kpi("won revenue", f"{revenue:,.0f}"))
    html = (
        f'<div class="kpis">{"".join(kpis)}</div><p class="note">The deals have no close '
        "dates: the trend by quarter is skipped.</p>"
    )
    data = {
        "quarter": None,
        "closed_deals": deals,
        "wins": wins,
        "win_rate": wins / deals,
        "win_rate_ci": [lo, hi],
        "won_revenue": revenue,
        "trend": [],
        "skipped": ["trend by quarter: the deals have no close dates"],
    }
    return Section("headline", "Headline numbers", html, data)


def build(ctx: ReportContext) -> Section | None:
    if ctx.quarter is None:
        return _undated(ctx)
    q = str(ctx.quarter)
    summary = quarterly_summary(ctx.store, q)
    if summary.empty or q not in set(summary["quarter"]):
        ctx.notes.append(f"no closed deals in {q}")
        return None
    now = summary.set_index("quarter").loc[q]
    prev_q = str(ctx.quarter.previous())
    prev = summary.set_index("quarter").loc[prev_q] if prev_q in set(summary["quarter"]) else None
    get = (lambda k: float(prev[k])) if prev is not None else (lambda k: None)
    partial = now["partial"] if isinstance(now["partial"], str) else None
    # a running (or cut-off) quarter holds fewer closes than a whole one: its counts and revenue
    # are not compared with the previous quarter's (rates and medians still are)
    kpis = [
        _kpi(
            "closed deals",
            f"{int(now['deals']):,}",
            *(("partial quarter", "") if partial else _delta(now["deals"], get("deals"))),
        ),
        _kpi(
            "win rate",
            f"{now['win_rate']:.0%}",
            *_delta(now["win_rate"], get("win_rate"), pct_points=True),
        ),
        _kpi("95 % interval", f"{now['ci_low']:.0%}–{now['ci_high']:.0%}"),
        _kpi(
            "won revenue",
            f"{now['won_revenue']:,.0f}",
            *(
                ("partial quarter", "")
                if partial
                else _delta(now["won_revenue"], get("won_revenue"), money=True)
            ),
        ),
        _kpi(
            "median cycle (days)",
            f"{now['median_cycle_days']:.0f}",
            *_delta(now["median_cycle_days"], get("median_cycle_days")),
        ),
    ]
    charts = [
        line_chart(
            "win-rate-trend",
            "Win rate per quarter with 95 % interval (* partial quarter)",
            [
                q + ("*" if isinstance(p, str) else "")
                for q, p in zip(summary["quarter"], summary["partial"], strict=True)
            ],
            {"win rate": summary["win_rate"].tolist()},
            bands={"95 % interval": (summary["ci_low"].tolist(), summary["ci_high"].tolist())},
        )
    ]
    names = ["win-rate-trend"]
    closed = ctx.source.closed_deals()
    closed = closed[closed["quarter"] == q]
    by_segment: list[dict[str, Any]] = []
    if "segment" in closed and closed["segment"].notna().any():
        g = (
            closed.groupby("segment")["outcome"]
            .agg(deals="size", wins=lambda s: int((s == "won").sum()))
            .reset_index()
        )
        lo, hi = wilson_interval(g["wins"].to_numpy(float), g["deals"].to_numpy(float))
        g["win_rate"] = g["wins"] / g["deals"]
        g["ci_low"], g["ci_high"] = lo, hi
        g = g.sort_values("win_rate", ascending=False)
        by_segment = g.to_dict(orient="records")
        charts.append(
            hbar_chart(
                "win-rate-by-segment",
                f"Win rate by segment in {q} (95 % interval)",
                g["segment"].astype(str).tolist(),
                g["win_rate"].tolist(),
                lows=g["ci_low"].tolist(),
                highs=g["ci_high"].tolist(),
                reference=float(now["win_rate"]),
            )
        )
        names.append("win-rate-by-segment")
    trend = summary.assign(
        win_rate=summary["win_rate"].round(4),
        ci_low=summary["ci_low"].round(4),
        ci_high=summary["ci_high"].round(4),
    ).drop(columns=["first_close", "last_close"])
    caution = (
        f'<p class="note">{escape(q)} is a partial quarter ({escape(partial)}): its closed deals '
        "and won revenue are not compared with the previous quarter's.</p>"
        if partial
        else ""
    )
    html = (
        caution
        + f'<div class="kpis">{"".join(kpis)}</div>'
        + "".join(charts)
        + "<h3>Quarter by quarter</h3>"
        + table_html(
            [
                {
                    **r,
                    "quarter": r["quarter"]
                    + (f" ({r['partial']})" if isinstance(r["partial"], str) else ""),
                    "win_rate": f"{r['win_rate']:.1%}",
                    "interval": f"{r['ci_low']:.0%}–{r['ci_high']:.0%}",
                    "won_revenue": f"{r['won_revenue']:,.0f}",
                    # whole days, as the headline shows it (82.5 here beside 82 above)
                    "median_cycle_days": (
                        f"{r['median_cycle_days']:.0f}"
                        if r["median_cycle_days"] == r["median_cycle_days"]
                        else ""
                    ),
                }
                for r in trend.to_dict(orient="records")
            ],
            [
                ("quarter", "quarter"),
                ("deals", "closed"),
                ("wins", "won"),
                ("win_rate", "win rate"),
                ("interval", "95 % interval"),
                ("won_revenue", "won revenue"),
                ("median_cycle_days", "median cycle days"),
            ],
            numeric={"deals", "wins", "win_rate", "won_revenue", "median_cycle_days"},
        )
    )
    data = {
        "quarter": q,
        "closed_deals": int(now["deals"]),
        "wins": int(now["wins"]),
        "win_rate": float(now["win_rate"]),
        "win_rate_ci": [float(now["ci_low"]), float(now["ci_high"])],
        "won_revenue": float(now["won_revenue"]),
        "median_cycle_days": (
            float(now["median_cycle_days"]) if not np.isnan(now["median_cycle_days"]) else None
        ),
        "previous_quarter": prev_q if prev is not None else None,
        "partial": partial,
        "trend": trend.to_dict(orient="records"),
        "by_segment": by_segment,
    }
    return Section("headline", "Headline numbers and trends", html, data, tuple(names))
