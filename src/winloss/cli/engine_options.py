"""``--engine spark`` for the commands that can run where the data lives (issue 16).

``--engine spark --deals PATH [--activities PATH] [--usage PATH] [--subscriptions PATH]`` reads
Parquet files/folders or tables of the Spark catalogue (``db.table``) on the master given by
``--spark-master`` (``local[*]`` by default, ``spark://host:7077``, ``yarn``; env
``WINLOSS_SPARK_MASTER``). Spark is read-only: nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from winloss.errors import UsageError

if TYPE_CHECKING:
    from winloss.store.spark_engine import SparkEngine

_TABLE_OPTIONS = {
    "deals": "deals",
    "activities": "activities",
    "stage_history": "stage_history",
    "subscriptions": "subscriptions",
    "usage": "usage_events",
}


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine``, ``--spark-master``, ``--deals``, ``--activities``, … (``spark`` only)."""
    f = click.option(
        "--fiscal-year-start-month",
        type=click.IntRange(1, 12),
        default=1,
        show_default=True,
        help="--engine spark: first month of the fiscal year (the quarter of a deal).",
    )(f)
    for option, table in reversed(list(_TABLE_OPTIONS.items())):
        f = click.option(
            f"--{option.replace('_', '-')}",
            f"{option}_ref",
            metavar="PATH|TABLE",
            default=None,
            help=f"--engine spark: the {table.replace('_', ' ')} as Parquet (file or folder) "
            "or a table of the Spark catalogue.",
        )(f)
    f = click.option(
        "--spark-master",
        envvar="WINLOSS_SPARK_MASTER",
        default="local[*]",
        show_default=True,
        metavar="URL",
        help="--engine spark: local[*], spark://host:7077 or yarn [env WINLOSS_SPARK_MASTER].",
    )(f)
    return click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark"]),
        default="duckdb",
        show_default=True,
        help="duckdb: the store (or FILE); spark: Parquet files or catalogue tables on Spark.",
    )(f)


def spark_engine(options: dict[str, Any]) -> SparkEngine | None:
    """The Spark engine the options describe, or None for ``--engine duckdb``.

    ``options`` holds the command's keyword arguments of :func:`engine_options`; they are
    removed from it.
    """
    engine = options.pop("engine")
    master = options.pop("spark_master")
    fiscal = options.pop("fiscal_year_start_month")
    tables = {
        table: ref
        for option, table in _TABLE_OPTIONS.items()
        if (ref := options.pop(f"{option}_ref")) is not None
    }
    if engine != "spark":
        if tables:
            raise UsageError(
                "--deals, --activities, --stage-history, --subscriptions and --usage apply to "
                "--engine spark, e.g. `winloss analyze --engine spark --deals deals.parquet`"
            )
        return None
    if "deals" not in tables:
        raise UsageError("--engine spark needs the deals: add --deals PATH.parquet (or a table)")
    from winloss.store.spark_engine import SparkEngine

    return SparkEngine(tables, master=master, fiscal_year_start_month=fiscal)
