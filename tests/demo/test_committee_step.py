"""The demo's committee paragraph when nothing is significant."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from winloss.demo.committee_steps import committees


def test_no_significant_finding_is_said_rather_than_an_empty_list() -> None:
    # "261 closed deals, 161 hypotheses:" was followed by nothing at all
    finding = SimpleNamespace(significant=False)
    result = SimpleNamespace(
        inputs=SimpleNamespace(n=261),
        hypotheses_tested=161,
        findings=[finding],
        best_routes=[],
        risks=pd.DataFrame({"risk_count": [0, 2]}),
    )
    ws: Any = SimpleNamespace(committee=lambda: result)
    lines = committees(ws, None).splitlines()  # type: ignore[arg-type]
    assert lines == [
        "261 closed deals, 161 hypotheses:",
        "  none is significant after the correction for 161 tests (winloss committee lists them all)",
        "1 of 2 open deals flagged (winloss committee --open)",
    ]
