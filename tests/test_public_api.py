"""The public API is curated: this list changes only on purpose."""

import winloss


def test_all_is_pinned() -> None:
    assert winloss.__all__ == [
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
    for name in winloss.__all__:
        assert getattr(winloss, name) is not None


def test_error_tree() -> None:
    assert issubclass(winloss.ValidationError, winloss.InputError)
    assert issubclass(winloss.DuplicateKeyError, winloss.InputError)
    for name in ("UsageError", "InputError", "StoreError", "InsufficientDataError"):
        assert issubclass(getattr(winloss, name), winloss.WinlossError)
