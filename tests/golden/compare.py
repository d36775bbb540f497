"""Comparisons for golden files: JSON values with a stated float tolerance, text byte for byte."""

from __future__ import annotations

import difflib
import math
from typing import Any

#: Relative tolerance for floats in golden JSON: library versions may move the last digits.
REL_TOL = 1e-9


def assert_json_close(a: Any, b: Any, path: str = "$") -> None:
    """Assert two parsed JSON values are equal, floats within :data:`REL_TOL`; names the path."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), path
        assert math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12), f"{path}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for k in a:
            assert_json_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_json_close(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def assert_same_text(actual: str, expected: str, name: str) -> None:
    """Assert two texts are identical; on a difference, show the first changed lines."""
    if actual == expected:
        return
    # the report is a few long lines: split at tags so the diff points at the change
    diff = difflib.unified_diff(
        expected.replace("><", ">\n<").splitlines(),
        actual.replace("><", ">\n<").splitlines(),
        f"{name} (golden)",
        f"{name} (now)",
        n=2,
        lineterm="",
    )
    raise AssertionError("\n".join(list(diff)[:60]))
