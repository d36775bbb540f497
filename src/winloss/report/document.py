"""The quarterly report: sections assembled into one self-contained HTML file and its JSON twin.

A section is one small module under :mod:`winloss.report.sections` with a ``build(ctx)`` function
returning a :class:`Section` (or ``None`` when it has nothing to say); :data:`SECTIONS` lists them in
order. Adding a section (Bowtie, action paths, buying committee, PLG …) is one module and one line.
Analyses are computed once per report through :class:`ReportContext` and shared between sections.
The clock is injected (``now``): the same store and the same ``now`` give the same HTML and JSON,
byte for byte, which the golden tests rely on.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from winloss.plan.action_plan import ActionPlan
from winloss.store.cached_source import CachedDealSource
from winloss.store.summary_queries import closed_quarters_and_data_end, outcome_counts

if TYPE_CHECKING:
    from winloss.model.period import Quarter
    from winloss.store.duckdb_store import DuckDBStore

T = TypeVar("T")

#: Report sections in order, as "module:function".
SECTIONS: list[str] = [
    "winloss.report.sections.headline:build",
    "winloss.report.sections.changes:build",
    "winloss.report.sections.findings:build",
    "winloss.report.sections.qbr:build",
    "winloss.report.sections.plan:build",
    "winloss.report.sections.forecast:build",
    "winloss.report.sections.quality:build",
    "winloss.report.sections.bowtie:build",
    "winloss.report.sections.paths:build",
    "winloss.report.sections.committee:build",
    "winloss.report.sections.plg:build",
]


#: Sections that also work without close dates (a store of undated deals, e.g. the IBM file);
#: the others need quarters and are skipped with the reason.
UNDATED_SECTIONS: list[str] = [
    "winloss.report.sections.headline:build",
    "winloss.report.sections.findings:build",
    "winloss.report.sections.qbr:build",
    "winloss.report.sections.plan:build",
    "winloss.report.sections.quality:build",
]


@dataclass(frozen=True)
class Section:
    """One section of the report: its HTML body, the same content as data, its charts."""

    key: str
    title: str
    html: str
    data: dict[str, Any]
    charts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class ReportContext:
    """What sections share: the store, the quarter, the clock, and analyses computed once on
    demand.

    ``source`` is a :class:`~winloss.store.cached_source.CachedDealSource` over the store: the
    deals frame, the field catalog and the related tables are read once per report, and a win
    model fitted by one analysis (e.g. the evaluation's time split) is reused by another that
    fits the same model on the same deals (the forecast backtest). ``quarter`` is ``None`` for a
    store whose deals have no close dates: only :data:`UNDATED_SECTIONS` are built then.
    """

    def __init__(
        self,
        store: DuckDBStore,
        quarter: Quarter | None,
        now: dt.datetime | None = None,
        *,
        record: bool = True,
    ) -> None:
        self.store = store
        self.source = CachedDealSource(store)
        self.quarter = quarter
        self.now = (now if now is not None else dt.datetime.now()).replace(microsecond=0)
        #: whether the quarter's findings and plan are recorded in the store's register (the
        #: web dashboards build on a copy of the store and do not record)
        self.record = record
        self._cache: dict[str, Any] = {}
        self._failures: dict[str, str] = {}  # key -> its note
        self._reads: list[str] | None = None  # keys read while collecting (see noting)
        self.notes: list[str] = []

    @contextmanager
    def noting(self) -> Iterator[list[str]]:
        """The notes that concern what is built inside the block: those added in it, and those
        of failed analyses it reads that an earlier block computed (a context shared by several
        dashboards notes a failure once, where it first happened)."""
        before, self._reads = len(self.notes), []
        found: list[str] = []
        try:
            yield found
        finally:
            reads, self._reads = self._reads, None
            notes = self.notes[before:] + [self._failures[k] for k in reads if k in self._failures]
            found.extend(dict.fromkeys(notes))

    @property
    def plan(self) -> ActionPlan | None:
        """The action plan, if a section built it."""
        value = self._cache.get("plan")
        return value if isinstance(value, ActionPlan) else None

    def cached(self, key: str, compute: Callable[[], T], /) -> T | None:
        """Compute ``key`` once; a failure becomes a note, and ``None``, rather than no report."""
        if self._reads is not None:
            self._reads.append(key)
        if key not in self._cache:
            from winloss.errors import WinlossError

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._cache[key] = compute()
            except WinlossError as exc:
                self._failures[key] = f"{key}: {exc}"
                self.notes.append(self._failures[key])
                self._cache[key] = None
        value: T | None = self._cache[key]
        return value


@dataclass(frozen=True)
class QuarterlyReport:
    """A rendered quarterly review: sections plus metadata; saves as HTML or JSON."""

    period: str
    store: str
    generated_at: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = field(default=())
    #: The action plan of the plan section (``None`` when it could not be built).
    plan: ActionPlan | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "store": self.store,
            "generated_at": self.generated_at,
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "data": s.data,
                    "charts": list(s.charts),
                    "notes": list(s.notes),
                }
                for s in self.sections
            ],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        from winloss.serialize import dumps

        return dumps(self.to_dict())

    def to_html(self) -> str:
        from winloss.report.template import render_page

        return render_page(self)

    def save(self, path: str | Path) -> Path:
        """Write HTML (``.html``) or JSON (``.json``), chosen by the file's suffix."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        text = self.to_json() if p.suffix.lower() == ".json" else self.to_html()
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(p)  # never a half-written report
        return p


#: Below this many deals the report's linear algebra runs on one BLAS thread (see
#: :func:`_blas_threads`).
BLAS_PARALLEL_MIN = 200_000


def _blas_threads(n_deals: int) -> AbstractContextManager[Any]:
    """One BLAS thread for a store below :data:`BLAS_PARALLEL_MIN` deals.

    The report fits a few hundred small models (Platt maps, logistic penalties, the forecast's
    and the evaluation's refits); each BLAS call there is tiny, and a second OpenBLAS thread only
    spins and synchronises: on the 2-core machine a Platt fit of 450 deals took 10x the CPU time
    with two threads as with one (30 ms vs 3 ms), with the same result. Large stores keep every
    thread.
    """
    from threadpoolctl import threadpool_limits

    limit = 1 if n_deals < BLAS_PARALLEL_MIN else None
    limiter: AbstractContextManager[Any] = threadpool_limits(limits=limit, user_api="blas")
    return limiter


#: A quarter the data covers less of than this (by its last date) is not the default review: the
#: one before it is (a report about one deal closed two weeks into a quarter says little).
MIN_COVERED = 0.5


def latest_closed_quarter(store: DuckDBStore) -> Quarter | None:
    """The quarter to review by default: the most recent with closed deals, unless the data ends
    before half of it has passed and an earlier quarter has closed deals."""
    names, end = closed_quarters_and_data_end(store)
    if not names:
        return None
    q = store.quarter(names[0])
    if end is not None and len(names) > 1 and q.end > end:
        covered = ((end - q.start).days + 1) / ((q.end - q.start).days + 1)
        if covered < MIN_COVERED:
            return store.quarter(names[1])
    return q


def build_report(
    store: DuckDBStore, quarter: str | Quarter | None = None, *, now: dt.datetime | None = None
) -> QuarterlyReport:
    """Build the quarterly report for ``quarter`` (default: the latest quarter with closes).

    ``now`` is the report's clock (its ``generated_at`` and the time the plan is recorded);
    default: the current local time.
    """
    from winloss.errors import InsufficientDataError

    q = store.quarter(quarter) if isinstance(quarter, str) else quarter
    if q is None:
        q = latest_closed_quarter(store)
    else:
        from winloss.plan.action_plan import check_review_quarter
        from winloss.store.summary_queries import closed_quarters

        check_review_quarter(store, q, closed_quarters(store))
    targets = SECTIONS
    now = (now if now is not None else dt.datetime.now()).replace(microsecond=0)
    ctx = ReportContext(store, q, now)
    if q is None:
        counts = outcome_counts(store)
        if not counts.get("won", 0) + counts.get("lost", 0):
            raise InsufficientDataError(
                "the store has no closed deals; import won and lost deals (or run `winloss demo`)"
            )
        targets = [t for t in SECTIONS if t in UNDATED_SECTIONS]
        ctx.notes.append(
            "the deals have no close dates: the report covers every closed deal; "
            "trends by quarter, what changed since last quarter and the forecast need close "
            "dates and are skipped, and the plan's rules are judged in sample on every closed "
            "deal (not backtested on earlier quarters)"
        )
    sections: list[Section] = []
    with _blas_threads(sum(outcome_counts(store).values())):
        for target in targets:
            module_name, attr = target.split(":")
            build = getattr(importlib.import_module(module_name), attr)
            section = build(ctx)
            if section is not None:
                sections.append(section)
    return QuarterlyReport(
        period=str(q) if q is not None else "all closed deals",
        store=store.path,
        generated_at=now.isoformat(),
        sections=tuple(sections),
        notes=tuple(ctx.notes),
        plan=ctx.plan,
    )


def table_html(
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str]],
    *,
    numeric: set[str] | None = None,
    css_class: str = "",
    prose: set[str] | None = None,
) -> str:
    """A plain HTML table; ``columns`` is (key, header). The ``prose`` columns are sentences
    written for the console (an action's text): shown as the report shows a note, `commands` as
    code rather than between backticks."""
    from winloss.report.template import note_html

    numeric = numeric or set()
    prose = prose or set()

    def cls(key: str) -> str:
        # an id ("D-000094") never breaks at its hyphen
        return " class=num" if key in numeric else " class=id" if key.endswith("_id") else ""

    head = "".join(f"<th{cls(k)}>{escape(h)}</th>" for k, h in columns)
    body = []
    for r in rows:
        cells = "".join(
            f"<td{cls(k)}>"
            f"{note_html(_text(r.get(k))) if k in prose else escape(_cell(r.get(k), k in numeric))}"
            "</td>"
            for k, _ in columns
        )
        body.append(f"<tr>{cells}</tr>")
    table_class = f' class="{css_class}"' if css_class else ""
    return (
        f"<table{table_class}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _cell(value: Any, numeric: bool) -> str:
    """A cell's text; a whole number in a numeric column with its thousands separated (closed
    2032 sat beside won 1,254)."""
    if numeric and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)
