"""The winloss exception tree.

::

    WinlossError                 every error winloss raises on purpose; the CLI prints its message
    ├── UsageError               a bad option, table name, period or setting
    ├── InputError               a file that cannot be read or mapped (names the file)
    │   ├── ValidationError      bad values: names file, row, column and what to do
    │   └── DuplicateKeyError    the same id more than once in one file
    ├── StoreError               the store cannot be opened, migrated or written
    │   └── ImportInterrupted    Ctrl-C during an import; says whether anything was stored
    └── InsufficientDataError    too few deals for the analysis asked for

Every message says what to do next; the CLI shows it on one line (``--debug`` for the traceback).
"""

from __future__ import annotations

from dataclasses import dataclass


class WinlossError(Exception):
    """Base of every error winloss raises on purpose."""

    exit_code = 1


class UsageError(WinlossError):
    """A bad option, table name, period or setting."""

    exit_code = 2


class InputError(WinlossError):
    """A file that cannot be read or mapped."""


@dataclass(frozen=True)
class CellProblem:
    """One bad cell: where it is, what is wrong and what to do."""

    row: int  # 1-based line/row in the source file, header = 1
    column: str  # column label in the source file
    value: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.problem} (value {self.value!r})"


class ValidationError(InputError):
    """Bad values in an input file; ``problems`` lists every bad cell found."""

    def __init__(
        self,
        file: str,
        problems: list[CellProblem],
        *,
        hint: str = "",
        duplicates: dict[str, list[int]] | None = None,
        total: int | None = None,
        key_column: str | None = None,
    ) -> None:
        self.file = file
        #: the file's own column of the duplicated key ("Record ID" for deal_id)
        self.column = key_column
        #: every bad cell found; ``problems`` keeps the first ones (ingest.convert.MAX_PROBLEMS)
        self.total = max(total or 0, len(problems))
        # in file order (a lookup column's problems were found later and listed after)
        self.problems = sorted(problems, key=lambda p: p.row)
        problems = self.problems
        #: ids found on more than one row (with their rows), checked in the same pass
        self.duplicates = dict(duplicates or {})
        #: the deal each row names (file row → deal_id), for a related table whose rows were
        #: read that far: ``--check`` also lists the rows naming no known deal
        self.deal_ids: dict[int, str] = {}
        #: how other values were read before the problems stopped it (a multi-role cell kept as
        #: one role, day-first dates …): ``--check`` shows them beside the problems
        self.notes: list[str] = []
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        listed = (
            f" (the first {len(problems):,} kept: fix those, or the mapping, and run --check again)"
            if self.total > len(problems)
            else ""
        )
        message = f"{file}: {self.total:,} invalid value(s){listed}: {shown}{more}."
        if hint:
            message += " " + hint
        if self.duplicates:
            message += (
                f" Also {len(self.duplicates)} id(s) on more than one row"
                + (f" in column {key_column!r}" if key_column else "")
                + " (list them all with --check, or choose --on-duplicate keep-last|keep-first)."
            )
        message += " Nothing was imported."
        super().__init__(message)


class DuplicateKeyError(InputError):
    """The same key more than once in one file."""

    def __init__(
        self, file: str, key: str, duplicates: dict[str, list[int]], *, column: str | None = None
    ) -> None:
        self.file = file
        self.duplicates = duplicates
        #: the file's own column of the key ("Record ID" for deal_id), when it has another name
        self.column = column if column and column != key else None
        if self.column:
            key = f"{key} (column {self.column!r})"
        shown = "; ".join(
            f"{k!r} on rows {', '.join(map(str, rows))}" for k, rows in list(duplicates.items())[:5]
        )
        more = f" (and {len(duplicates) - 5} more)" if len(duplicates) > 5 else ""
        self.surplus_rows = sum(len(rows) - 1 for rows in duplicates.values())
        super().__init__(
            f"{file}: {self.surplus_rows} duplicate row(s): {len(duplicates)} {key} value(s) "
            f"occur more than once: {shown}{more}. "
            "List them all with --check; fix the file, or choose a policy with "
            "--on-duplicate keep-last|keep-first. "
            "Nothing was imported."
        )


class StoreError(WinlossError):
    """The store cannot be opened, migrated or written."""


class ImportInterrupted(StoreError):
    """An import interrupted (Ctrl-C) before it was committed: the store is unchanged."""

    exit_code = 130


class InsufficientDataError(WinlossError):
    """Too few deals (or outcomes) for the analysis asked for."""
