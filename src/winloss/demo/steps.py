"""Demo steps that belong to no single analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winloss.demo.run import DemoOptions
    from winloss.workspace import Workspace


def store_summary(ws: Workspace, options: DemoOptions) -> str:
    """Rows per table, outcomes and quarters of the demo store."""
    data = ws.info()
    closed = data["outcomes"].get("won", 0) + data["outcomes"].get("lost", 0)
    rate = data["outcomes"].get("won", 0) / closed if closed else float("nan")
    return (
        f"{data['tables']['deals']:,} deals ({closed:,} closed, win rate {rate:.0%}, "
        f"{data['outcomes'].get('open', 0):,} open) over quarters "
        f"{data['quarters'][0]}–{data['quarters'][-1]}; "
        + ", ".join(f"{k} {v:,}" for k, v in data["tables"].items() if k != "deals")
    )
