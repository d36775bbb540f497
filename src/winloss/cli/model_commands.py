"""Model commands: ``model evaluate``, ``score``, ``forecast``, ``leads`` and ``accounts``.

Each works on the store, and the FILE-taking ones also directly on a CSV/Excel/Parquet file with
the import mapping options (an in-memory workspace; nothing is written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click

from winloss.cli.file_input import file_options, workspace_for
from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message


def model_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--exclude", multiple=True, metavar="FIELD", help="Never use this field (repeatable)."
    )(f)
    f = click.option(
        "--seed", type=int, default=0, show_default=True, help="Seed of every random choice."
    )(f)
    return f


train_on_store_option = click.option(
    "--train-on-store",
    is_flag=True,
    help="FILE: score its deals with a model trained on the store's closed deals.",
)
save_scores_option = click.option(
    "--save", is_flag=True, help="Store the scores (table `scores`) under a run id."
)


def _trainer(state: State, file: str | None, train_on_store: bool) -> Any:
    """The store to train on when scoring a FILE with ``--train-on-store``; else None."""
    return state.workspace().store if (file is not None and train_on_store) else None


def busy(text: str) -> Any:
    from rich.console import Console

    return Console(stderr=True).status(text)


def _caveats(result: Any) -> None:
    for caveat in getattr(result, "caveats", ()):
        message(f"note: {caveat}")


# -- model evaluate -------------------------------------------------------------------------------
@click.group("model")
def model() -> None:
    """The win-probability model: evaluate it out of sample, beside its baselines."""


@model.command("evaluate")
@file_options
@click.option(
    "--method",
    type=click.Choice(["auto", "cv", "time-split"]),
    default="auto",
    show_default=True,
    help="time-split (train on earlier quarters, test on the next) "
    "when deals have dates; cv (stratified k-fold) otherwise.",
)
@click.option(
    "--folds",
    type=click.IntRange(2, 20),
    default=5,
    show_default=True,
    help="Folds of the cross-validation.",
)
@click.option(
    "--include-post-outcome",
    is_flag=True,
    help="Explanatory fit: also use fields known only at or after the close. The "
    "output is labelled 'explanatory, not predictive'.",
)
@click.option(
    "--no-value-companions",
    is_flag=True,
    help="Do not derive how round an amount is and how common its exact value is "
    "(use when the CRM rewrites won deals' amounts at close).",
)
@model_options
@click.option("--save", is_flag=True, help="Record the evaluation in the store's analysis runs.")
@format_option
@pass_state
def evaluate(
    state: State,
    /,
    file: str | None,
    method: str,
    folds: int,
    include_post_outcome: bool,
    no_value_companions: bool,
    exclude: tuple[str, ...],
    seed: int,
    save: bool,
    fmt: str,
    **opts: Any,
) -> None:
    """Evaluate the win model on closed deals: AUC, Brier, log loss, ECE, beside the baselines.

    Fields known only after the outcome, and fields that leak it, are excluded with the reason.
    """
    from winloss.analyze.scoring.analysis import ModelSettings

    settings = ModelSettings(
        purpose="explanatory" if include_post_outcome else "win",
        exclude=exclude,
        seed=seed,
        n_bootstrap=0,
        value_companions=not no_value_companions,
    )
    with workspace_for(state, file, opts) as ws, busy("evaluating the win model…"):
        result = ws.evaluate_model(settings=settings, method=method, folds=folds)
        if save and file is None:
            from winloss.analyze.scoring.model_runs import record_run

            message(f"recorded run {record_run(ws.store, 'model-evaluate', result)}")
    _caveats(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    emit_frame(
        result.summary,
        fmt,
        title=f"win model ({result.label}), {result.method}, {result.n_test:,} test deals",
    )
    if fmt == "table":
        if result.excluded_fields:
            import pandas as pd

            emit_frame(
                pd.DataFrame(list(result.excluded_fields))[["field", "reason"]],
                fmt,
                title="excluded fields",
            )
        emit_frame(result.reliability, fmt, title="reliability (observed vs predicted)")


# -- score ------------------------------------------------------------------------------------------
@click.command("score")
@file_options
@click.option(
    "--all", "include_closed", is_flag=True, help="Score closed deals too (in-sample: optimistic)."
)
@train_on_store_option
@click.option(
    "--top",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Factors for and against per deal.",
)
@click.option("--no-explain", is_flag=True, help="Skip the per-deal factors (faster).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Table: at most this many deals (0 = all); JSON and CSV hold all.",
)
@model_options
@save_scores_option
@format_option
@pass_state
def score(
    state: State,
    /,
    file: str | None,
    include_closed: bool,
    train_on_store: bool,
    top: int,
    no_explain: bool,
    limit: int,
    exclude: tuple[str, ...],
    seed: int,
    save: bool,
    fmt: str,
    **opts: Any,
) -> None:
    """Score open deals: calibrated win probability, its interval and the top factors."""
    from winloss.analyze.scoring.analysis import ModelSettings, Scoring

    analysis = Scoring(
        ModelSettings(exclude=exclude, seed=seed),
        include_closed=include_closed,
        explain=not no_explain,
        top=top,
    )
    with workspace_for(state, file, opts) as ws, busy("fitting and scoring…"):
        result = analysis.run(ws.store, train_on=_trainer(state, file, train_on_store))
        if save and file is None:
            message(f"stored {len(result.scores):,} scores as run {ws.save_scores(result)}")
        elif save:
            message("note: --save applies to the store, not to a FILE (nothing is written)")
    _emit_scores(
        result,
        fmt,
        limit,
        title="win probability of open deals",
        table_columns=(
            "deal_id",
            "account_name",
            "owner",
            "probability",
            "ci_low",
            "ci_high",
            "factors_for",
            "factors_against",
        ),
    )


def _emit_scores(
    result: Any,
    fmt: str,
    limit: int,
    *,
    title: str,
    columns: tuple[str, ...] = (),
    table_columns: tuple[str, ...] = (),
) -> None:
    _caveats(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    frame = result.scores.drop(columns=["factors"], errors="ignore")
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    if fmt == "csv":
        emit_frame(frame, fmt)
        return
    if table_columns:
        frame = frame[[c for c in table_columns if c in frame.columns]]
    if frame.empty:
        # the caveat above has said why; an empty table would only repeat it
        if not any("no deals to score" in c for c in result.caveats):
            message("no deals to score (no open deals; use --all to score closed deals)")
        if not result.importances.empty:
            emit_frame(result.importances, fmt, title="what matters (permutation importance)")
        return
    from winloss.analyze.stats.calibration import checked_calibration_words

    shown = frame.head(limit) if limit else frame
    emit_frame(
        shown,
        fmt,
        title=f"{title} (model: {result.model['model']}, calibration: "
        f"{checked_calibration_words(result.model['calibration']['method'], result.model.get('calibration_check') or {})}"
        + (
            f"; ci_low–ci_high: {result.model.get('interval', 0.8):.0%} bootstrap interval"
            if "ci_low" in shown.columns
            else ""
        )
        + ")",
        max_rows=len(shown) or 1,
    )
    if len(frame) > len(shown):
        message(f"… {len(frame) - len(shown)} more deals (use --limit 0, or --format csv)")
    if "factors_for" in shown.columns:
        # a trial read "Source is other (+2 pts)" as a reason to win although that source wins
        # less often than most: the points are the deal's own what-if, not the value's win rate
        message(
            "factors: the points of P(win) a field adds or takes for this deal, against the same "
            "deal with that field as in typical closed deals (its other fields kept); not the "
            "value's own win rate"
        )
    if not result.importances.empty:
        emit_frame(result.importances, fmt, title="what matters (permutation importance)")


# -- leads ------------------------------------------------------------------------------------------
@click.command("leads")
@file_options
@click.option("--all", "include_closed", is_flag=True, help="Score closed deals too.")
@train_on_store_option
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Table: at most this many leads (0 = all).",
)
@model_options
@save_scores_option
@format_option
@pass_state
def leads(
    state: State,
    /,
    file: str | None,
    include_closed: bool,
    train_on_store: bool,
    limit: int,
    exclude: tuple[str, ...],
    seed: int,
    save: bool,
    fmt: str,
    **opts: Any,
) -> None:
    """Lead scores from fields known at creation, graded A–D; `--format csv` for the CRM."""
    from winloss.analyze.scoring.analysis import ModelSettings
    from winloss.analyze.scoring.leads import EXPORT_COLUMNS, LeadScoring

    analysis = LeadScoring(
        ModelSettings(purpose="lead", exclude=exclude, seed=seed), include_closed=include_closed
    )
    with workspace_for(state, file, opts) as ws, busy("scoring leads…"):
        result = analysis.run(ws.store, train_on=_trainer(state, file, train_on_store))
        if save and file is None:
            message(f"stored {len(result.scores):,} lead scores as run {ws.save_scores(result)}")
    _emit_scores(result, fmt, limit, title="lead scores", columns=EXPORT_COLUMNS)


# -- forecast ----------------------------------------------------------------------------------------
@click.command("forecast")
@click.option(
    "--quarter",
    help="The fiscal quarter to forecast, e.g. 2026Q4 (default: the one the report forecasts: "
    "the quarter still running, or the one after the latest quarter with closed deals).",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Snapshot date [default: the later of the quarter start and the store's last date].",
)
@click.option(
    "--by", default="segment,owner", show_default=True, help="Comma-separated breakdown dimensions."
)
@click.option(
    "--draws",
    type=click.IntRange(100, 1_000_000),
    default=10_000,
    show_default=True,
    help="Simulated quarters.",
)
@click.option(
    "--backtest",
    is_flag=True,
    help="Replay past quarters: forecast at each start vs actual, interval coverage.",
)
@click.option(
    "--no-widen",
    is_flag=True,
    help="Give the simulated P10–P90 as is, without correcting it by the errors of "
    "the replayed past quarters.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation.")
@format_option
@pass_state
def forecast(
    state: State,
    quarter: str | None,
    as_of: dt.datetime | None,
    by: str,
    draws: int,
    backtest: bool,
    no_widen: bool,
    seed: int,
    fmt: str,
) -> None:
    """Expected bookings of the open deals due in a quarter, with P10/P50/P90."""
    from winloss.analyze.scoring.analysis import ModelSettings
    from winloss.errors import UsageError

    ws = state.workspace()
    settings = ModelSettings(n_bootstrap=0, seed=seed)
    if backtest:
        if quarter:
            from winloss.analyze.forecast.analysis import data_end

            last = data_end(ws.deals())
            if last is not None and ws.quarter(quarter).end > last:
                raise UsageError(
                    f"{quarter} has not ended in the data (last date {last}): the "
                    "backtest replays past quarters; drop --quarter to replay all"
                )
        with busy("replaying past quarters…"):
            result = ws.forecast_backtest(settings=settings, quarters=(quarter,) if quarter else ())
        _caveats(result)
        if fmt == "json":
            click.echo(result.to_json())
            return
        frame = result.quarters
        if fmt == "table":
            frame = frame[
                [
                    c
                    for c in (
                        "quarter",
                        "n_open",
                        "expected",
                        "p10",
                        "p90",
                        "actual",
                        "in_interval",
                        "adj_p10",
                        "adj_p90",
                        "adj_in_interval",
                        "expected_wins",
                        "actual_wins",
                        "win_rate_method",
                        "stage_method",
                    )
                    if c in frame.columns and frame[c].notna().any()
                ]
            ].rename(
                columns={
                    "n_open": "open deals",
                    "p10": "P10",
                    "p90": "P90",
                    "in_interval": "inside",
                    "adj_p10": "corrected P10",
                    "adj_p90": "corrected P90",
                    "adj_in_interval": "inside corrected",
                    "expected_wins": "expected wins",
                    "actual_wins": "actual wins",
                    "win_rate_method": "by win rate",
                    "stage_method": "by stage rates",
                }
            )
        emit_frame(
            frame,
            fmt,
            title=f"forecast backtest: {result.coverage:.0%} of quarters "
            f"inside the simulated P10–P90, {result.adjusted_coverage:.0%} inside the "
            f"error-corrected one (nominal {result.interval:.0%}; wins "
            f"{result.wins_coverage:.0%}); bias {result.bias:+.0%}",
        )
        message(result.actual_note())
        return
    if not quarter:
        # the quarter the report forecasts: the one after the quarter it reviews
        from winloss.report.document import latest_closed_quarter

        reviewed = latest_closed_quarter(ws.store)
        if reviewed is None:
            raise UsageError(
                "no closed deal with a close date to forecast from: give --quarter, e.g. "
                "--quarter 2026Q4, after importing closed deals"
            )
        from winloss.analyze.forecast.analysis import forecast_quarter_after

        chosen = forecast_quarter_after(reviewed, ws.deals())
        quarter = str(chosen)
        why = (
            "the quarter still running (its closes so far are reviewed)"
            if chosen == reviewed
            else f"the quarter after the latest reviewed one ({reviewed})"
        )
        message(f"forecasting {quarter}, {why}, as the report does; --quarter chooses another")
    with busy(f"forecasting {quarter}…"):
        result = ws.forecast(
            quarter,
            as_of=as_of.date() if as_of else None,
            by=tuple(b.strip() for b in by.split(",") if b.strip()),
            draws=draws,
            settings=settings,
            widen=not no_widen,
        )
    _caveats(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    frame = result.summary
    if fmt == "table":  # short headers on screen; CSV keeps the JSON keys
        frame = frame.rename(
            columns={
                "dimension": "by",
                "n_deals": "open",
                "n_in_window": "due",
                "pipeline_in_window": "due value",
            }
        )
        if result.corrected:  # the headline's corrected figures differ from this row's
            frame.loc[frame["by"] == "total", "group"] = "all, before the correction"
    emit_frame(
        frame,
        fmt,
        title=f"{result.quarter} bookings forecast as of {result.as_of}: {result.headline()}",
        max_rows=500,
    )
    if fmt == "table":
        emit_frame(result.comparison, fmt, title="the same deals by other methods")


# -- accounts ----------------------------------------------------------------------------------------
@click.command("accounts")
@file_options
@click.option(
    "--rank-by",
    type=click.Choice(["fit", "expansion"]),
    default="fit",
    show_default=True,
    help="Ideal-customer fit, or expansion potential of customers.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Table: at most this many accounts (0 = all).",
)
@model_options
@format_option
@pass_state
def accounts(
    state: State,
    /,
    file: str | None,
    rank_by: str,
    limit: int,
    exclude: tuple[str, ...],
    seed: int,
    fmt: str,
    **opts: Any,
) -> None:
    """Rank accounts by fit to the deals we win (ICP) and by expansion potential."""
    from winloss.analyze.scoring.analysis import ModelSettings
    from winloss.analyze.targeting.analysis import AccountTargeting

    analysis = AccountTargeting(
        rank_by=rank_by,  # type: ignore[arg-type]
        settings=ModelSettings(purpose="account", exclude=exclude, seed=seed),
    )
    with workspace_for(state, file, opts) as ws, busy("ranking accounts…"):
        result = analysis.run(ws.store)
    _caveats(result)
    if fmt == "json":
        click.echo(result.to_json())
        return
    frame = result.accounts
    if fmt == "table":
        if limit:
            frame = frame.head(limit)
        # a terminal shows the columns that rank; CSV and JSON carry all of them
        frame = frame[
            [
                c
                for c in (
                    "rank",
                    "account_name",
                    "won",
                    "lost",
                    "open",
                    "tier",
                    "icp_fit",
                    "expansion_potential",
                    "next_products",
                    "fit_reasons",
                )
                if c in frame.columns
            ]
        ]
    emit_frame(
        frame,
        fmt,
        title=f"accounts by {rank_by} (win rate of their closed deals {result.base_rate:.0%})",
        max_rows=max(len(frame), 1),
    )
