"""The Bowtie metric definitions, read from ``metrics.yaml`` shipped beside this module.

The file is the one place a metric is defined (name, label, side, unit, formula, inputs, censoring
rule): results take their labels and units from it, ``docs/bowtie.md`` embeds its rendering
(:func:`metrics_markdown`), and other tools may read the file itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class MetricDefinition:
    """One metric as ``metrics.yaml`` defines it."""

    name: str
    label: str
    side: str  # pre, post, both, loop
    unit: str
    formula: str
    inputs: tuple[str, ...]
    censoring: str


@cache
def metric_definitions() -> dict[str, MetricDefinition]:
    """Every metric of ``metrics.yaml`` by name, in file order."""
    text = resources.files("winloss.analyze.bowtie").joinpath("metrics.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    out: dict[str, MetricDefinition] = {}
    for entry in data["metrics"]:
        out[str(entry["name"])] = MetricDefinition(
            name=str(entry["name"]),
            label=str(entry["label"]),
            side=str(entry["side"]),
            unit=str(entry["unit"]),
            formula=str(entry["formula"]),
            inputs=tuple(str(i) for i in entry["inputs"]),
            censoring=str(entry["censoring"]),
        )
    return out


def metric(name: str) -> MetricDefinition:
    """The definition of one metric (``KeyError`` names the unknown metric)."""
    found = metric_definitions().get(name)
    if found is None:
        raise KeyError(f"no Bowtie metric named {name!r} in metrics.yaml")
    return found


def metrics_markdown() -> str:
    """The definitions as a Markdown table (embedded verbatim in docs/bowtie.md)."""
    lines = [
        "| metric | label | side | unit | formula | censoring |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in metric_definitions().values():
        cells = [f"`{m.name}`", m.label, m.side, m.unit, m.formula, m.censoring]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
