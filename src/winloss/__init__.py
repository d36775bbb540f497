"""winloss: why deals are won or lost, and what to do about it.

The public API is :class:`Workspace` and the names in ``__all__``; they are imported on first use
so that ``winloss --help`` does not pay for pandas and DuckDB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Workspace": "winloss.workspace",
    "DealField": "winloss.model.deals",
    "DealFilter": "winloss.model.deals",
    "WinlossError": "winloss.errors",
    "UsageError": "winloss.errors",
    "InputError": "winloss.errors",
    "ValidationError": "winloss.errors",
    "DuplicateKeyError": "winloss.errors",
    "StoreError": "winloss.errors",
    "InsufficientDataError": "winloss.errors",
}

__all__ = [
    "DealField",
    "DealFilter",
    "DuplicateKeyError",
    "InputError",
    "InsufficientDataError",
    "StoreError",
    "UsageError",
    "ValidationError",
    "WinlossError",
    "Workspace",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from winloss.errors import (
        DuplicateKeyError,
        InputError,
        InsufficientDataError,
        StoreError,
        UsageError,
        ValidationError,
        WinlossError,
    )
    from winloss.model.deals import DealField, DealFilter
    from winloss.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'winloss' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
