"""``winloss bowtie`` and ``winloss simulate``: the Bowtie and the compounding simulator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from winloss.cli.main import State, pass_state
from winloss.cli.render import emit_frame, format_option, message
from winloss.serialize import dumps

DETAILS = ("stages", "cohorts", "cycle", "retention", "windows", "ltv", "unmapped")


def _period(
    state: State, period: str | None, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[dt.date | None, dt.date | None]:
    if period is None:
        from winloss.model.deals import DealFilter

        start, end = (since.date() if since else None, until.date() if until else None)
        DealFilter(since=start, until=end)  # refuses --since after --until, as everywhere
        return start, end
    if since or until:
        raise click.UsageError("give --period or --since/--until, not both")
    q = state.workspace().quarter(period)
    return q.start, q.end


def bowtie_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--cohort",
                type=click.Choice(["month", "quarter"]),
                default="quarter",
                show_default=True,
                help="Entry cohorts by month or fiscal quarter.",
            ),
            click.option(
                "--period",
                metavar="QUARTER",
                help="Only stage entries in this fiscal quarter, e.g. 2026Q3.",
            ),
            click.option(
                "--since",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Only stage entries from this date (YYYY-MM-DD).",
            ),
            click.option(
                "--until",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Only stage entries up to this date.",
            ),
            click.option(
                "--as-of",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Censor open deals and active customers at this date [default: the "
                "latest date in the store].",
            ),
            click.option(
                "--horizon-days",
                type=click.FloatRange(min=1),
                default=None,
                help="Conversion = chance to advance within this many days [default: the "
                "longest follow-up of each stage].",
            ),
            click.option(
                "--mapping",
                type=click.Path(dir_okay=False),
                default=None,
                help="Stage-mapping file (YAML/JSON): CRM stage names → Bowtie stages.",
            ),
            click.option(
                "--gross-margin",
                type=click.FloatRange(0, 1, min_open=True),
                default=1.0,
                show_default=True,
                help="Gross margin for LTV and CAC payback.",
            ),
            click.option(
                "--discount-rate",
                type=click.FloatRange(min=0),
                default=0.0,
                show_default=True,
                help="Annual discount rate of the LTV (0 = undiscounted).",
            ),
            click.option(
                "--acquisition-cost",
                type=click.FloatRange(min=0),
                default=None,
                help="Sales and marketing cost of the period: CAC and its payback.",
            ),
        ]
    ):
        f = option(f)
    return f


def _settings(
    state: State,
    *,
    cohort: str,
    period: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    as_of: dt.datetime | None,
    horizon_days: float | None,
    mapping: str | None,
    gross_margin: float,
    discount_rate: float,
    acquisition_cost: float | None,
) -> dict[str, Any]:
    """The Bowtie settings from the values of :func:`bowtie_options` (by flag name)."""
    start, end = _period(state, period, since, until)
    return {
        "cohort": cohort,
        "since": start,
        "until": end,
        "as_of": as_of.date() if as_of else None,
        "horizon_days": horizon_days,
        "mapping": mapping,
        "gross_margin": gross_margin,
        "annual_discount_rate": discount_rate,
        "acquisition_cost": acquisition_cost,
    }


@click.command()
@bowtie_options
@click.option(
    "--churn-table",
    type=click.Path(dir_okay=False),
    default=None,
    help="Retention, churn and LTV from a churn table (one row per customer) instead of the store.",
)
@click.option("--tenure-column", default=None, help="Churn table: the tenure (months) column.")
@click.option("--churn-column", default=None, help="Churn table: the churned yes/no column.")
@click.option("--charge-column", default=None, help="Churn table: the monthly charge column.")
@click.option("--group-column", default=None, help="Churn table: the group column (contract).")
@click.option(
    "--detail",
    type=click.Choice(DETAILS),
    default=None,
    help="Show one table instead of the stage table.",
)
@format_option
@pass_state
def bowtie(
    state: State,
    /,
    churn_table: str | None,
    tenure_column: str | None,
    churn_column: str | None,
    charge_column: str | None,
    group_column: str | None,
    detail: str | None,
    fmt: str,
    **bowtie_opts: Any,
) -> None:
    """The Bowtie: volume, conversion and time per stage on both sides of the sale (open deals
    censored, not lost), retention, GRR/NRR, lifetime value and the two loops.

    JSON holds everything (stages, cohorts, cycle, retention, ltv, loops); the table and CSV show
    the stage table (or the --detail table).
    """
    if churn_table is not None:
        from winloss.workspace import Workspace

        # a churn table is read on its own: no store is needed, none is opened or created
        with Workspace(":memory:") as scratch:
            result = scratch.bowtie_churn_table(
                churn_table,
                tenure_column=tenure_column,
                churn_column=churn_column,
                charge_column=charge_column,
                group_column=group_column,
                gross_margin=bowtie_opts["gross_margin"],
                annual_discount_rate=bowtie_opts["discount_rate"],
                acquisition_cost=bowtie_opts["acquisition_cost"],
            )
        detail = detail or "ltv"
    else:
        result = state.workspace().bowtie(**_settings(state, **bowtie_opts))
    for warning in result.warnings:
        message(f"note: {warning}")
    if fmt == "json":
        click.echo(dumps(result.to_dict()))
        return
    tables = {
        "stages": result.summary,
        "cohorts": result.cohorts,
        "cycle": result.cycle,
        "retention": result.retention.by_group,
        "windows": result.retention.windows,
        "ltv": result.ltv,
        "unmapped": result.unmapped_stages,
    }
    name = detail or "stages"
    if fmt == "table" and name == "cohorts":
        tables[name] = result.cohorts[
            [
                "stage",
                "cohort",
                "volume",
                "conversion",
                "conversion_ci_low",
                "conversion_ci_high",
                "naive_conversion",
                "median_days",
                "censored",
            ]
        ]
    when = "" if churn_table else f" (as of {result.as_of})"
    emit_frame(tables[name], fmt, title=f"Bowtie — {name}{when}", max_rows=500)
    if fmt == "table" and detail is None:
        ret = result.retention.to_dict()
        if ret["nrr"] is not None:
            message(
                f"NRR {ret['nrr']:.1%}, GRR {ret['grr']:.1%} (trailing 12 months); "
                f"monthly logo churn {ret['monthly_churn']:.2%}"
            )
        if result.cac:
            message(
                f"CAC {result.cac['cac']:,.0f}, payback {result.cac['payback_months']:.1f} months"
            )
        from winloss.analyze.bowtie.loops import describe_loops

        for name, text in describe_loops(result.loops):
            message(f"{name}: {text}")


@click.command()
@bowtie_options
@click.option(
    "--years",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Years to project, quarter by quarter.",
)
@click.option(
    "--lever",
    "levers",
    multiple=True,
    metavar="NAME=CHANGE",
    help="A change to try (repeatable): cr.STAGE=+5%, dt.STAGE=-10%, nrr=+2pt, "
    "grr=+1pt, vm=+10%, acv=+5%; cr.*=+10% changes every stage. A conversion rate stays "
    "within 0-100 %: a named stage pushed outside is refused, cr.* caps it.",
)
@click.option(
    "--target-growth",
    type=float,
    default=None,
    help="Compound annual revenue growth to reach (0.3 = 30 %/year; above -1): its probability.",
)
@click.option(
    "--draws",
    type=click.IntRange(100, 100_000),
    default=2000,
    show_default=True,
    help="Monte Carlo draws.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@format_option
@pass_state
def simulate(
    state: State,
    /,
    years: int,
    levers: tuple[str, ...],
    target_growth: float | None,
    draws: int,
    seed: int,
    fmt: str,
    **bowtie_opts: Any,
) -> None:
    """Project new and recurring revenue per quarter from the measured Bowtie; rank levers by
    their effect on year-3 revenue; the Monte Carlo chance of reaching a growth target.
    """
    from winloss.analyze.bowtie.analysis import Bowtie

    if target_growth is not None and target_growth >= 5:
        # 30 for "30 %" reads as +3,000 % a year: say what was understood
        message(
            f"note: --target-growth {target_growth:g} means {target_growth:+.0%} a year; for "
            f"{target_growth:g} % give --target-growth {target_growth / 100:g}"
        )
    # The projection runs on quarterly cohorts whatever --cohort says.
    bowtie_settings = Bowtie(**_settings(state, **{**bowtie_opts, "cohort": "quarter"}))
    result = state.workspace().simulate(
        years=years,
        levers=levers,
        target_growth=target_growth,
        draws=draws,
        seed=seed,
        bowtie=bowtie_settings,
    )
    for warning in result.warnings:
        message(f"note: {warning}")
    if fmt == "json":
        click.echo(dumps(result.to_dict()))
        return
    emit_frame(result.levers, fmt, title=result.levers_title)
    mc = result.monte_carlo
    headline = [
        f"year-{years} revenue {mc.level:.0%} interval: {mc.revenue_low:,.0f} – "
        f"{mc.revenue_high:,.0f} (median {mc.revenue_median:,.0f}; {mc.draws} draws)"
    ]
    if mc.probability is not None and mc.target_revenue is not None:
        headline.append(
            f"P(year-{years} revenue ≥ {mc.target_revenue:,.0f}, i.e. "
            f"{target_growth:+.0%}/year) = {mc.probability:.1%}"
        )
    if result.zero_revenue_reason:
        headline.append(result.zero_revenue_reason)
    # the headline is part of the result (stdout), except beside CSV, which must stay parseable
    say = message if fmt == "csv" else click.echo
    for line in headline:
        say(line)
