"""metrics.yaml: loaded by the code, shipped with the package, rendered verbatim in the docs."""

from __future__ import annotations

from pathlib import Path

from winloss.analyze.bowtie.definitions import metric, metric_definitions, metrics_markdown

DOCS = Path(__file__).resolve().parents[3] / "docs" / "bowtie.md"


def test_every_metric_has_every_field() -> None:
    defs = metric_definitions()
    assert {"VM", "CR", "dt", "GRR", "NRR", "LTV", "CAC_payback", "logo_retention"} <= set(defs)
    for m in defs.values():
        assert m.label and m.formula and m.inputs and m.censoring and m.unit
        assert m.side in {"pre", "post", "both", "loop"}
    assert metric("NRR").unit == "ratio"


def test_docs_embed_the_rendered_definitions() -> None:
    text = DOCS.read_text("utf-8")
    start = text.index("<!-- metrics:start -->\n") + len("<!-- metrics:start -->\n")
    end = text.index("<!-- metrics:end -->")
    assert text[start:end] == metrics_markdown(), (
        "docs/bowtie.md is out of date: paste metrics_markdown() between the markers"
    )
