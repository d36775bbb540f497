"""Forecast and scores: next quarter's bookings with P10/P50/P90, the backtest of past forecasts,
the win model's calibration beside its baselines, top open deals and target accounts."""

from __future__ import annotations

from html import escape
from typing import Any

from winloss.report.charts import line_chart, reliability_chart
from winloss.report.document import ReportContext, Section, table_html


def _kpi(label: str, value: str, sub: str = "") -> str:
    return (f'<div class="kpi"><div class="label">{escape(label)}</div><div class="value">'
            f'{escape(value)}</div><div class="delta">{escape(sub)}</div></div>')


def build(ctx: ReportContext) -> Section | None:
    ws = ctx.ws
    nxt = str(ctx.quarter.next())
    backtest = ctx.cached("forecast_backtest", lambda: ws.forecast_backtest())
    forecast = ctx.cached("forecast", lambda: ws.forecast(nxt, backtest=backtest))
    evaluation = ctx.cached("evaluation", lambda: ws.evaluate_model())
    scores = ctx.cached("scores", lambda: ws.score_deals())
    accounts = ctx.cached("accounts", lambda: ws.target_accounts())
    if all(x is None for x in (forecast, backtest, evaluation)):
        return None
    parts: list[str] = []
    charts: list[str] = []
    data: dict[str, Any] = {"forecast_quarter": nxt}
    if forecast is not None:
        f = forecast.to_dict()
        data["forecast"] = f
        parts.append(f"<h3>Forecast for {escape(nxt)}</h3>")
        parts.append('<div class="kpis">' + "".join([
            _kpi("expected bookings", f"{f['expected']:,.0f}", f"{f['n_deals']:,} open deals"),
            _kpi("P10 – P90", f"{f['p10']:,.0f} – {f['p90']:,.0f}", f"P50 {f['p50']:,.0f}"),
            _kpi("expected wins", f"{f['expected_wins']:.0f}",
                 f"P10 {f['wins_p10']:.0f} · P90 {f['wins_p90']:.0f}"),
        ]) + "</div>")
        seg = forecast.summary
        seg = seg[seg["dimension"] == "segment"]
        if len(seg):
            parts.append(table_html(
                seg.to_dict(orient="records"),
                [("group", "segment"), ("n_deals", "open deals"), ("pipeline", "pipeline"),
                 ("expected", "expected"), ("p10", "P10"), ("p50", "P50"), ("p90", "P90")],
                numeric={"n_deals", "pipeline", "expected", "p10", "p50", "p90"}))
    if backtest is not None and len(backtest.summary):
        b = backtest.to_dict()
        data["backtest"] = b
        bt = backtest.summary
        charts.append("forecast-backtest")
        parts.append("<h3>How good were past forecasts?</h3>")
        parts.append(line_chart(
            "forecast-backtest", "Forecast at quarter start (P10–P90) against actual bookings",
            bt["quarter"].astype(str).tolist(),
            {"forecast (expected)": bt["expected"].tolist(), "actual": bt["actual"].tolist()},
            bands={"P10–P90": (bt["p10"].tolist(), bt["p90"].tolist())}, pct=False))
        errors = b.get("mean_abs_pct_error") or {}
        parts.append(f"<p>The actual fell inside the P10–P90 interval in {b['coverage']:.0%} of "
                     f"{len(bt)} quarters (nominal {b['nominal_coverage']:.0%}). Mean absolute "
                     "error: " + ", ".join(f"{escape(k)} {v:.0%}" for k, v in errors.items())
                     + ".</p>")
    if evaluation is not None:
        e = evaluation.to_dict()
        data["evaluation"] = {k: e[k] for k in ("method", "auc", "brier", "log_loss", "ece",
                                                "n_train", "n_test", "baselines",
                                                "excluded_fields")}
        parts.append("<h3>Win-probability model</h3>")
        parts.append(f"<p>Validated {escape(e['method'])} on {e['n_test']:,} held-out deals "
                     f"({e['n_train']:,} for training); fields known only after the outcome are "
                     "excluded: " + escape(", ".join(x["field"] for x in e["excluded_fields"])
                                          or "none") + ".</p>")
        parts.append(table_html(evaluation.summary.to_dict(orient="records"),
                                [("model", "model"), ("auc", "AUC"), ("brier", "Brier"),
                                 ("log_loss", "log loss"), ("ece", "ECE")],
                                numeric={"auc", "brier", "log_loss", "ece"}))
        rel = evaluation.reliability
        if len(rel):
            charts.append("reliability")
            parts.append(reliability_chart(
                "reliability", "Reliability: predicted against observed win rate",
                rel["mean_predicted"].astype(float).tolist(),
                rel["observed"].astype(float).tolist(), rel["n"].astype(int).tolist()))
    if scores is not None and len(scores.summary):
        top = scores.summary.head(10)
        data["top_open_deals"] = top[["deal_id", "probability", "ci_low", "ci_high"]].to_dict(
            orient="records")
        parts.append("<h3>Open deals most likely to win</h3>")
        parts.append(table_html(
            [{**r, "p": f"{r['probability']:.0%} ({r['ci_low']:.0%}–{r['ci_high']:.0%})"}
             for r in top.to_dict(orient="records")],
            [("deal_id", "deal"), ("account_name", "account"), ("owner", "owner"),
             ("p", "P(win)"), ("factors_for", "for"), ("factors_against", "against")]))
    if accounts is not None and len(accounts.summary):
        top = accounts.summary.head(10)
        data["target_accounts"] = top.to_dict(orient="records")
        parts.append("<h3>Target accounts</h3>")
        cols = [c for c in ("rank", "account_name", "tier", "icp_fit", "expansion_potential",
                            "fit_reasons") if c in top.columns]
        parts.append(table_html(top.to_dict(orient="records"), [(c, c.replace("_", " "))
                                                                  for c in cols],
                                numeric={"rank", "icp_fit", "expansion_potential"}))
    notes = tuple((backtest.to_dict().get("caveats") or []) if backtest is not None else [])
    return Section("forecast", "Forecast and scores", "".join(parts), data, tuple(charts), notes)
