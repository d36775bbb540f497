"""winloss: why deals are won or lost, and what to do about it."""

from winloss.errors import (
    DuplicateKeyError,
    InputError,
    InsufficientDataError,
    StoreError,
    UsageError,
    ValidationError,
    WinlossError,
)
from winloss.workspace import DealField, DealFilter, Workspace

__version__ = "0.1.0"

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
