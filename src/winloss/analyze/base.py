"""The one analysis base: settings → ``run(source)`` → a frozen, typed result.

Every analysis (concentrations, scoring, forecast, targeting, audit, and those to come) is a frozen
dataclass of settings whose ``run(source)`` reads deals from a
:class:`~winloss.model.deals.DealSource` and returns a frozen :class:`AnalysisResult`. A result
records the inputs it used (:class:`AnalysisInputs`), offers ``summary`` (a DataFrame) and
``to_dict()``/``to_json()`` through the one shared encoder (:func:`winloss.serialize.dumps`).
Statistical caveats are fields on the result (``warnings``), never prints.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from winloss.serialize import dumps

if TYPE_CHECKING:
    import pandas as pd

    from winloss.model.deals import DealFilter, DealSource


@dataclass(frozen=True)
class AnalysisInputs:
    """What a result was computed from: how many deals, which period and filters, which version.

    ``details`` holds what else an analysis documents about its inputs (e.g. the audit's date
    ranges and weights); the JSON ``inputs`` object is ``details`` plus ``n``, ``period``,
    ``filters`` and ``version``.
    """

    n: int
    period: str
    filters: dict[str, str | None] = field(default_factory=dict)
    version: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, n: int, *, period: str = "all", flt: DealFilter | None = None, **details: Any
    ) -> AnalysisInputs:
        from winloss import __version__

        filters: dict[str, str | None] = (
            {k: v for k, v in flt.describe().items() if v is not None} if flt else {}
        )
        return cls(n=int(n), period=period, filters=filters, version=__version__, details=details)

    def __getitem__(self, key: str) -> Any:
        """A documented JSON key of :meth:`to_dict` (``inputs["deals"]``)."""
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.details,
            "n": self.n,
            "period": self.period,
            "filters": dict(self.filters),
            "version": self.version,
        }


def period_of(flt: DealFilter | None) -> str:
    """The period a filter selects: ``2026Q3``, ``2026-01-01..2026-06-30`` or ``all``."""
    if flt is None:
        return "all"
    if flt.quarter:
        return str(flt.quarter).upper()
    if flt.since or flt.until:
        return f"{flt.since or ''}..{flt.until or ''}"
    return "all"


class AnalysisResult:
    """The base every analysis result follows (subclasses are frozen dataclasses).

    Subclasses declare ``inputs: AnalysisInputs`` as a dataclass field and define ``summary`` and
    ``to_dict``. (Not an ``abc.ABC``: its metaclass method ``register`` would shadow a result
    field of that name.)
    """

    inputs: AnalysisInputs

    @property
    def summary(self) -> pd.DataFrame:
        """The result as one table, for terminals and CSV."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON object of the result."""
        raise NotImplementedError

    def to_json(self, *, indent: int | None = 2) -> str:
        """Strict JSON text of :meth:`to_dict` (NaN and infinities as ``null``)."""
        return dumps(self.to_dict(), indent=indent)


R_co = TypeVar("R_co", bound=AnalysisResult, covariant=True)


class Analysis(abc.ABC, Generic[R_co]):
    """An analysis: its settings are the dataclass fields; :meth:`run` computes the result."""

    @abc.abstractmethod
    def run(self, source: DealSource) -> R_co:
        """Compute the result from the deals of ``source``."""
