"""Forecast and scores: next quarter's bookings with P10/P50/P90, the backtest of past forecasts,
the win model's calibration beside its baselines, top open deals and target accounts."""

from __future__ import annotations

from html import escape
from typing import Any

from winloss.analyze.forecast.analysis import SUMMARY_FIGURES
from winloss.report import shared
from winloss.report.charts import line_chart, reliability_chart
from winloss.report.document import ReportContext, Section, table_html
from winloss.report.labels import model_name, percent


def _kpi(label: str, value: str, sub: str = "") -> str:
    return (
        f'<div class="kpi"><div class="label">{escape(label)}</div><div class="value">'
        f'{escape(value)}</div><div class="delta">{escape(sub)}</div></div>'
    )


def build(ctx: ReportContext) -> Section | None:
    if ctx.quarter is None:
        return None
    nxt = str(shared.forecast_quarter(ctx))
    backtest = shared.backtest(ctx)
    forecast = shared.forecast(ctx)
    evaluation = shared.evaluation(ctx)
    scores = shared.open_deal_scores(ctx)
    if forecast is None and backtest is None and evaluation is None:
        return None
    parts: list[str] = []
    charts: list[str] = []
    data: dict[str, Any] = {"forecast_quarter": nxt}
    if forecast is not None:
        f = forecast
        data["forecast"] = f.to_dict()
        parts.append(f"<h3>Forecast for {escape(nxt)}</h3>")
        parts.append(
            '<div class="kpis">'
            + "".join(
                [
                    _kpi(
                        "expected bookings",
                        f"{f.expected:,.0f}",
                        f"{f.n_deals:,} open deals"
                        + (
                            f"; {f.model_expected:,.0f} before the correction by past forecasts"
                            if f.corrected
                            else ""
                        ),
                    ),
                    _kpi("P10 – P90", f"{f.p10:,.0f} – {f.p90:,.0f}", f"P50 {f.p50:,.0f}"),
                    _kpi(
                        "expected wins",
                        f"{f.expected_wins:.0f}",
                        f"P10 {f.wins_p10:.0f} · P90 {f.wins_p90:.0f}"
                        + ("; simulated, not corrected by past forecasts" if f.corrected else ""),
                    ),
                ]
            )
            + "</div>"
        )
        parts.append(f"<p>{escape(nxt)}: {escape(f.headline())}.</p>")
        seg = forecast.summary
        seg = seg[seg["dimension"] == "segment"]
        if len(seg):
            parts.append(
                table_html(
                    seg.to_dict(orient="records"),
                    [
                        ("group", "segment"),
                        ("n_deals", "open deals"),
                        ("pipeline", "pipeline"),
                        ("n_in_window", "due in quarter"),
                        ("pipeline_in_window", "pipeline due"),
                        ("expected", "expected"),
                        ("p10", "P10"),
                        ("p50", "P50"),
                        ("p90", "P90"),
                    ],
                    numeric=set(SUMMARY_FIGURES),
                )
            )
    if backtest is not None and len(backtest.summary):
        data["backtest"] = backtest.to_dict()
        bt = backtest.summary
        charts.append("forecast-backtest")
        parts.append("<h3>How good were past forecasts?</h3>")
        parts.append(
            line_chart(
                "forecast-backtest",
                "Forecast at quarter start (P10–P90) against what those deals booked",
                bt["quarter"].astype(str).tolist(),
                {"forecast (expected)": bt["expected"].tolist(), "actual": bt["actual"].tolist()},
                bands={"P10–P90": (bt["p10"].tolist(), bt["p90"].tolist())},
                pct=False,
            )
        )
        errors = backtest.errors or {}
        parts.append(
            f"<p>{escape(backtest.actual_note(), quote=False)} "
            f"The actual fell inside the P10–P90 interval in {backtest.coverage:.0%} "
            f"of {len(bt)} quarters (nominal {backtest.interval:.0%}). Mean absolute "
            "error: " + ", ".join(f"{escape(k)} {v:.0%}" for k, v in errors.items()) + ".</p>"
        )
    if evaluation is not None:
        e = evaluation
        data["evaluation"] = {
            "method": e.method,
            "auc": e.auc,
            "brier": e.brier,
            "log_loss": e.log_loss,
            "ece": e.ece,
            "n_train": e.n_train,
            "n_test": e.n_test,
            "baselines": e.baselines,
            "excluded_fields": list(e.excluded_fields),
        }
        # each field with its own reason (an id, a leak, a field known after the outcome): the
        # text said "known only after the outcome" of every one
        by_reason: dict[str, list[str]] = {}
        for x in e.excluded_fields:
            by_reason.setdefault(str(x.get("reason") or "left out"), []).append(str(x["field"]))
        excluded = (
            " · ".join(f"{', '.join(fields)} — {reason}" for reason, fields in by_reason.items())
            or "none"
        )
        parts.append("<h3>Win-probability model</h3>")
        n_splits = len(e.splits)
        if e.method == "time-split":
            trained = (
                f"in {n_splits} time-ordered splits, each scored by a model trained only on "
                f"deals closed before it (the last on {e.n_train:,})"
            )
        else:
            trained = f"in {n_splits} folds (about {e.n_train:,} training deals each)"
        # the held-out deals of all splits are pooled; the training sets overlap, so the two
        # counts do not add up to the closed deals (a reader added 1,368 + 2,312 > 2,643)
        parts.append(
            f"<p>Validated on {e.n_test:,} held-out deals {trained}. Fields left out of the "
            "model: " + escape(excluded) + ".</p>"
        )
        parts.append(
            "<p>How well each model ranks and predicts held-out deals: AUC (how often a won "
            "deal outranks a lost one held out in the same split: 0.5 is chance, 1 is perfect "
            "ranking), Brier score (lower is better) and "
            "calibration error (the average gap between predicted and observed win "
            "rates, lower is better).</p>"
        )
        parts.append(
            table_html(
                [
                    {
                        "model": model_name(str(r["model"])),
                        "auc": f"{r['auc']:.2f}",
                        "brier": f"{r['brier']:.3f}",
                        "ece": percent(r["ece"], 1),
                    }
                    for r in evaluation.summary.to_dict(orient="records")
                ],
                [
                    ("model", "model"),
                    ("auc", "AUC"),
                    ("brier", "Brier score"),
                    ("ece", "calibration error"),
                ],
                numeric={"auc", "brier", "ece"},
            )
        )
        rel = evaluation.reliability
        if len(rel):
            charts.append("reliability")
            parts.append(
                reliability_chart(
                    "reliability",
                    "Reliability: predicted against observed win rate",
                    rel["mean_predicted"].astype(float).tolist(),
                    rel["observed"].astype(float).tolist(),
                    rel["n"].astype(int).tolist(),
                )
            )
    alike = (
        scores is not None
        and len(scores.summary) > 1
        and scores.summary["probability"].round(3).nunique() == 1
    )
    if scores is not None and len(scores.summary) and alike:
        # one probability for every open deal (the win rate: no field predicts): no ranking
        parts.append(
            f'<p class="note">The model gives every open deal the same chance '
            f"({scores.summary['probability'].iloc[0]:.0%}): no field separates them, so there "
            "is no list of deals most likely to win.</p>"
        )
    elif scores is not None and len(scores.summary):
        top = scores.summary.head(10)
        data["top_open_deals"] = top[["deal_id", "probability", "ci_low", "ci_high"]].to_dict(
            orient="records"
        )
        parts.append("<h3>Open deals most likely to win</h3>")
        parts.append(
            table_html(
                [
                    {**r, "p": f"{r['probability']:.0%} ({r['ci_low']:.0%}–{r['ci_high']:.0%})"}
                    for r in top.to_dict(orient="records")
                ],
                [
                    ("deal_id", "deal"),
                    ("account_name", "account"),
                    ("owner", "owner"),
                    ("p", "P(win)"),
                    ("factors_for", "for"),
                    ("factors_against", "against"),
                ],
            )
        )
    # target accounts are listed once, in the action plan (lists.target_accounts)
    # the live forecast's notes, then the backtest's (its replayed quarters' notes say so)
    # and, under a table of deals with their reasons, the scores' own (what the reasons leave out)
    listed = scores.caveats if "top_open_deals" in data and scores is not None else ()
    live = list(forecast.caveats if forecast is not None else ())
    replayed = []
    prefix = "in replayed quarters: "
    for c in backtest.caveats if backtest is not None else ():
        # a note that holds for the live forecast and the replayed quarters alike is said once
        if c.startswith(prefix) and c[len(prefix) :] in live:
            i = live.index(c[len(prefix) :])
            live[i] = f"{live[i]} (in the replayed quarters too)"
        else:
            replayed.append(c)
    said = set(forecast.caveats if forecast is not None else ())
    notes = tuple(dict.fromkeys((*live, *replayed, *(c for c in listed if c not in said))))
    return Section("forecast", "Forecast and scores", "".join(parts), data, tuple(charts), notes)
