"""The map stage: which source column plays which role, validated against the file's header.

A role the user names (``--column ROLE=SOURCE`` or ``columns:`` in a mapping file) must be a role
of the table, and its source column must be in the file; otherwise the import stops with the
roles, or the closest header, so a typo never falls back silently to a preset's guess.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from winloss.errors import UsageError
from winloss.model.mapping import OUTCOME_HELPER_ROLES, Mapping
from winloss.model.schema import DEALS, Table


def snake_case(label: str) -> str:
    """A store column name for a source label: ``"Deal Size ($)"`` → ``deal_size``."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", label.strip()).strip("_").lower()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    if not s:
        s = "column"
    if s[0].isdigit():
        s = "c_" + s
    return s


def find_label(candidates: tuple[str, ...], labels: list[str]) -> str | None:
    """The first candidate present among ``labels`` (case-insensitive), as the file spells it."""
    lower = {label.casefold(): label for label in labels}
    for cand in candidates:
        hit = lower.get(cand.casefold())
        if hit is not None:
            return hit
    return None


def closest_label(source: str, labels: list[str]) -> str | None:
    """The header closest to a mistyped ``source`` (difflib), if any is reasonably close."""
    folded = {label.casefold(): label for label in labels}
    hits = difflib.get_close_matches(source.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[hits[0]] if hits else None


def valid_roles(table: Table) -> set[str]:
    """Roles ``--column`` may name for ``table``."""
    return set(table.names) | (set(OUTCOME_HELPER_ROLES) if table is DEALS else set())


def _missing_source(file: str, role: str, source: str, labels: list[str]) -> UsageError:
    near = closest_label(source, labels)
    hint = f"did you mean {near!r}? " if near else ""
    shown = ", ".join(repr(label) for label in labels[:15]) + (" …" if len(labels) > 15 else "")
    return UsageError(
        f"{file}: --column {role}={source!r}: the file has no column {source!r}; {hint}"
        f"its columns are {shown}. Nothing was imported."
    )


def map_columns(
    frame: pd.DataFrame,
    table: Table,
    mapping: Mapping,
    file: str,
    file_labels: list[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Resolve every role to a source label: (frame, role → label).

    ``file_labels`` are the file's own header (without columns joined from lookup files), shown
    when a named source column is missing. Raises :class:`UsageError` for an unknown role or a
    named source column missing from the file.
    """
    labels = list(frame.columns)
    header = file_labels if file_labels is not None else labels
    roles = valid_roles(table)
    explicit = set(mapping.explicit_columns)
    mapped: dict[str, str] = {}
    for role, candidates in mapping.columns.items():
        if role not in roles:
            if role in explicit or not table.extensible:
                raise UsageError(
                    f"unknown column role {role!r} for {table.name}; roles are: "
                    f"{', '.join(sorted(roles))} (other columns are kept as they are)"
                )
            hit = find_label(candidates, labels)  # a preset's custom attribute, renamed
            if hit is not None:
                frame = frame.rename(columns={hit: role})
                labels = list(frame.columns)
            continue
        hit = find_label(candidates, labels)
        if hit is None and role in explicit:
            raise _missing_source(file, role, candidates[0], header)
        if hit is not None:
            mapped[role] = hit
    # canonical names present verbatim are mapped to themselves, and so are labels that are the
    # canonical name written for people ("Critical event date" = critical_event_date): beside a
    # preset that does not list them they were kept as a custom x_critical_event_date, and the
    # analysis never derived the days to the critical event
    by_snake: dict[str, str] = {}
    for label in labels:
        if not mapping.is_ignored(str(label)):
            by_snake.setdefault(snake_case(str(label)), label)
    for f in table.fields:
        if f.name not in mapped:
            hit = find_label((f.name,), labels) or by_snake.get(f.name)
            if hit is not None and hit not in mapped.values():
                mapped[f.name] = hit
    return frame, mapped
