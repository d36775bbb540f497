"""The hand-off between ingest and the store: a validated import, ready for one transaction.

Ingest builds a :class:`PreparedImport`; the store writes it. Both import this module, so the
store never imports ingest (layers: cli/web → report/plan → analyze → store/ingest → model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from winloss.model.schema import Table

DuplicatePolicy = Literal["error", "keep-last", "keep-first"]
UnknownValuePolicy = Literal["error", "other", "keep"]
#: Rows of a related table (stakeholders, activities, stages, captures) naming an unknown deal.
OrphanPolicy = Literal["error", "keep", "skip"]


@dataclass(frozen=True)
class CustomField:
    """A column kept from the file beyond the canonical schema."""

    name: str  # snake_case name in the store
    label: str  # label in the source file
    dtype: str
    known: str  # before / after the outcome
    analyse: bool


@dataclass
class PreparedImport:
    """A validated canonical frame and what was learnt while preparing it.

    ``row_numbers`` holds, for each row of ``frame``, its line in the source file (header = 1),
    so a later check (orphans in the store) can still name rows.
    """

    table: Table
    frame: pd.DataFrame
    file: str
    rows_read: int
    custom_fields: list[CustomField] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)  # role -> source label
    references: dict[str, list[str]] = field(default_factory=dict)  # field -> reference values
    unmatched: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> value -> count
    duplicates_dropped: int = 0
    row_numbers: list[int] = field(default_factory=list)
    orphans_dropped: int = 0
    #: custom fields of earlier imports that this file maps onto a winloss field (custom name →
    #: field): the import clears them on its deals, so the fact is held once
    superseded_custom: dict[str, str] = field(default_factory=dict)
    #: the file holds *all* rows of this table for the deals it names (an event log holds each
    #: case's whole path): the deals' stored rows that it does not have are deleted
    whole_deals: bool = False

    def outcome_counts(self) -> dict[str, int]:
        """Deals per outcome (won, lost, open) in the prepared frame; empty for other tables."""
        if "outcome" not in self.frame.columns or self.table.name != "deals":
            return {}
        counts = self.frame["outcome"].value_counts()
        return {k: int(counts.get(k, 0)) for k in ("won", "lost", "open")}
