"""``winloss demo``: generate the demo company, import every table, run every analysis.

Each analysis adds itself to :data:`DEMO_STEPS`; the demo runs them in order on the imported store,
so the demo always shows everything the product can do.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from winloss.demo.generator import AS_OF, DemoData, generate_demo
from winloss.errors import InsufficientDataError
from winloss.model.schema import TABLES
from winloss.workspace import Workspace

#: A step takes the workspace and the demo options and returns a short text summary.
DemoStep = Callable[[Workspace, "DemoOptions"], str]

#: (title, "module:function") in run order; each analysis adds its own line here.
DEMO_STEPS: list[tuple[str, str]] = [
    ("The store", "winloss.demo.steps:store_summary"),
    (
        "Capture, buyer interviews and the web app",
        "winloss.demo.capture_step:capture_and_interviews",
    ),
    ("Data integrity", "winloss.demo.steps:data_integrity"),
    ("Where wins and losses concentrate", "winloss.demo.steps:concentrations"),
    ("Win probability and forecast", "winloss.demo.steps:win_model"),
    ("Action paths and next best actions", "winloss.demo.steps:action_paths"),
    ("Buying committees", "winloss.demo.committee_steps:committees"),
    ("Product-led growth", "winloss.demo.committee_steps:product_led_growth"),
    ("The Bowtie", "winloss.demo.steps:bowtie"),
    ("Action plan and quarterly report", "winloss.demo.steps:plan_and_report"),
]


@dataclass(frozen=True)
class DemoOptions:
    deals: int = 3000
    seed: int = 7
    as_of: dt.date = AS_OF
    report_path: str | None = None


@dataclass
class DemoResult:
    """What the demo did: the finished store's rows per table and a summary per step."""

    store: str
    rows: dict[str, int]
    steps: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "rows": self.rows,
            "steps": [{"step": s, "summary": t} for s, t in self.steps],
            "outputs": self.outputs,
        }


def import_demo(
    ws: Workspace, data: DemoData, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Import every table of a generated demo company; rows stored per table."""
    rows: dict[str, int] = {}
    for name, frame in data.tables().items():
        if progress is not None:
            progress(f"importing {name} ({len(frame):,} rows)")
        result = ws.import_file(TABLES[name], frame, on_duplicate="keep-last")
        rows[name] = result.inserted + result.updated
    return rows


def run_demo(
    ws: Workspace, options: DemoOptions, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """Generate, import and analyse the demo company in ``ws``.

    ``rows`` of the result are the finished store's rows per table (the figures `winloss info`
    shows), not the rows imported from the generated tables: the buyer interviews add captures.
    """
    from winloss.demo.capture_step import import_buyer_interviews

    say = progress or (lambda _msg: None)
    say(f"generating {options.deals:,} deals (seed {options.seed})")
    data = generate_demo(options.deals, seed=options.seed, as_of=options.as_of)
    import_demo(ws, data, progress=say)
    # buyer interviews change the store (more captures; buyer answers take precedence): imported
    # before every step, so the store summary counts them and what the demo prints and its report
    # file are what `winloss info`, `winloss analyze`, `winloss report` … show afterwards
    say("importing buyer interviews")
    import_buyer_interviews(ws, options.seed)
    out = DemoResult(store=ws.path, rows={})
    for name, target in DEMO_STEPS:
        say(f"running {name}")
        module_name, attr = target.split(":")
        step: DemoStep = getattr(importlib.import_module(module_name), attr)
        try:
            out.steps.append((name, step(ws, options)))
        except InsufficientDataError as exc:
            # a small demo company (the --deals minimum) is too small for some analyses: say
            # which and why, and run the others, as `winloss report` does with its sections
            out.steps.append((name, f"skipped: {exc}"))
    out.rows = dict(ws.info()["tables"])
    return out
