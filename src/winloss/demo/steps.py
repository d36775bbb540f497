"""Demo steps that belong to no single analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winloss.demo.run import DemoOptions
    from winloss.workspace import Workspace


def store_summary(ws: Workspace, options: DemoOptions) -> str:
    """Rows per table, outcomes and quarters of the demo store."""
    data = ws.info()
    closed = data["outcomes"].get("won", 0) + data["outcomes"].get("lost", 0)
    rate = data["outcomes"].get("won", 0) / closed if closed else float("nan")
    return (
        f"{data['tables']['deals']:,} deals ({closed:,} closed, win rate {rate:.0%}, "
        f"{data['outcomes'].get('open', 0):,} open) over quarters "
        f"{data['quarters'][0]}–{data['quarters'][-1]}; "
        + ", ".join(f"{k} {v:,}" for k, v in data["tables"].items() if k != "deals")
    )


def concentrations(ws: Workspace, options: DemoOptions) -> str:
    """Findings of the latest quarter (recorded in the register) and of all quarters."""
    from winloss.model.deals import DealFilter

    quarters = ws.info()["quarters"]
    if len(quarters) > 1:  # the previous quarter first, so the register has a comparison
        ws.analyze(DealFilter(quarter=quarters[-2]))
    latest = ws.analyze(DealFilter(quarter=quarters[-1])) if quarters else None
    result = ws.analyze()
    lines = [
        f"{result.scope_text()}: {result.deals:,} closed deals, "
        f"{result.hypotheses_tested:,} hypotheses tested; {len(result.findings)} drivers "
        f"and {len(result.related)} related findings at q ≤ {result.alpha}:"
    ]
    lines += [f"  {f.id}. {f.statement}" for f in result.predictive_findings]
    if result.post_outcome_findings:
        lines.append("  known only after the outcome (they explain, they do not predict):")
        lines += [f"  {f.id}. {f.statement}" for f in result.post_outcome_findings]
    if latest is not None:
        register = latest.register or ()
        lines.append(
            f"{quarters[-1]} against {quarters[-2] if len(quarters) > 1 else '—'}: "
            f"{len(register) or 'no'} change(s)"
        )
        from winloss.analyze.concentrations.findings_register import status_words

        lines += [f"  {status_words(e.status)}: {e.statement}" for e in register[:6]]
    return "\n".join(lines)


def plan_and_report(ws: Workspace, options: DemoOptions) -> str:
    """The previous quarter's plan (so this one re-measures it), then the quarterly report, whose
    plan section is the latest quarter's plan: it is computed once, for both."""
    from pathlib import Path

    quarters = ws.info()["quarters"]
    if len(quarters) > 1:
        ws.plan(quarter=quarters[-2])
    report = ws.report()
    path = report.save(options.report_path or "winloss-report.html")
    actions = report.plan.actions if report.plan is not None else ()
    lines = [f"{a.kind} #{a.priority} [{a.status}] {a.title}" for a in actions]
    lines.append(
        f"report: {len(report.sections)} sections for {report.period}: {Path(path).resolve()}"
    )
    return "\n".join(lines)


def data_integrity(ws: Workspace, options: DemoOptions) -> str:
    """The demo's data-integrity step: the top of the fix list."""
    result = ws.audit()
    high = sum(1 for i in result.issues if i.severity == "high")
    lines = [f"{len(result.issues)} data-integrity issues ({high} high severity); top fixes:"]
    for i in result.issues[:5]:
        lines.append(f"  {i.rank}. [{i.severity}] {i.title}")
    return "\n".join(lines)


def win_model(ws: Workspace, options: DemoOptions) -> str:
    """One paragraph: out-of-sample quality beside plain boosting, scores, the next quarter."""
    # the defaults of `model evaluate` and the report: one figure for one fact (with two
    # splits the demo printed AUC 0.655 on 62 deals beside the CLI's 0.63 on 129)
    evaluation = ws.evaluate_model()
    scores = ws.score_deals(explain=False)
    from winloss.analyze.forecast.analysis import forecast_quarter_after
    from winloss.report.document import latest_closed_quarter

    reviewed = latest_closed_quarter(ws.store)
    assert reviewed is not None  # the demo company has closed deals
    quarter = forecast_quarter_after(reviewed, ws.deals())
    forecast = ws.forecast(str(quarter))  # the report's and the CLI's defaults: one figure
    plain = evaluation.baselines["gradient_boosting_plain"]
    f = forecast
    return (
        f"win model ({evaluation.method}, {evaluation.n_test:,} test deals): AUC "
        f"{evaluation.auc:.3f}, Brier {evaluation.brier:.3f} (plain "
        f"boosting {plain['auc']:.3f} / {plain['brier']:.3f}); {len(scores.scores):,} open deals "
        f"scored; {quarter} forecast from {f.n_deals:,} open deals: {f.headline()}"
    )


def bowtie(ws: Workspace, options: DemoOptions) -> str:
    """The Bowtie in two lines, and the simulator's best lever."""
    result = ws.bowtie()
    stages = ", ".join(
        f"{r.stage} {r.volume:,}"
        + (f" ({r.conversion:.0%})" if r.conversion == r.conversion else "")
        for r in result.stages.itertuples()
    )
    ret = result.retention.to_dict()
    sim = ws.simulate(levers=("cr.selection=+5%", "dt.selection=-10%", "nrr=+2pt"), draws=500)
    best = sim.levers.dropna(subset=["rank"]).sort_values("rank").iloc[0]
    return (
        f"stages (VM, censored CR): {stages}; NRR {ret['nrr']:.0%}, GRR {ret['grr']:.0%}, "
        f"monthly churn {ret['monthly_churn']:.1%}; best lever {best['lever']} "
        f"(+{best['effect_pct']:.1%} year-3 revenue)"
    )


def action_paths(ws: Workspace, options: DemoOptions) -> str:
    """Removal effects of the actions, segment micro-actions and next actions of open deals."""
    chains = ws.path_chains(by="segment")  # the CLI's, report's and web app's defaults
    pooled = chains.removal_effects[chains.removal_effects["group"] == "all"]
    top = ", ".join(f"{r.action} {r.removal_effect:.0%}" for r in pooled.head(3).itertuples())
    lines = [
        f"Markov chain of order {chains.order}: P(win) from the start "
        f"{chains.p_win_start['all']:.0%}; removal effects {top}"
    ]
    for r in chains.micro_actions.itertuples():
        lines.append(
            f"  micro-action in {r.group}: {r.action} (removal effect "
            f"{r.removal_effect:.0%}, elsewhere at most {r.others_max:.0%}; "
            f"q = {r.q_value:.2g})"
        )
    nxt = ws.next_action(by="segment", top=1)
    lines.append(
        f"next best action ranked for {nxt.candidates['deal_id'].nunique():,} open deals "
        "(`winloss next-action --all --format csv`); association, not causation"
    )
    return "\n".join(lines)
