"""The HTML page around the sections: inline CSS (screen and print), no script, no external URL."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winloss.report.document import QuarterlyReport

CSS = """
:root { --ink:#1d2430; --muted:#5b6576; --line:#d9dde3; --win:#1f7a4d; --loss:#b3261e;
        --accent:#3b5b92; --bg:#ffffff; --panel:#f5f7fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); background: var(--bg); margin: 0; }
header.top { background: var(--ink); color: #fff; padding: 24px 40px; }
header.top h1 { margin: 0; font-size: 26px; }
header.top p { margin: 4px 0 0; color: #c9d1dc; }
nav.toc { padding: 10px 40px; border-bottom: 1px solid var(--line); font-size: 14px; }
nav.toc a { margin-right: 16px; color: var(--accent); text-decoration: none; }
main { padding: 8px 40px 40px; max-width: 1100px; }
section { margin: 28px 0; page-break-inside: auto; }
section h2 { font-size: 20px; border-bottom: 2px solid var(--ink); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.kpi { background: var(--panel); border-radius: 6px; padding: 12px 14px; }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 24px; font-weight: 600; }
.kpi .delta { font-size: 13px; color: var(--muted); }
.up { color: var(--win); } .down { color: var(--loss); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.finding { border-left: 4px solid var(--accent); padding: 6px 12px; margin: 10px 0;
           background: var(--panel); page-break-inside: avoid; }
.finding.win { border-color: var(--win); } .finding.loss { border-color: var(--loss); }
.finding .evidence { color: var(--muted); font-size: 13px; }
.tag { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 9px;
       background: #e8ebf0; color: var(--muted); margin-left: 6px; }
.tag.post { background: #fff1d6; color: #8a5a00; }
.note { color: var(--muted); font-size: 13px; }
svg.chart { display: block; margin: 4px 0 16px; }
figure.chart { margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }
figure.chart figcaption { font-weight: 600; font-size: 14px; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
h3 + table, h3 + p, h3 + figure { break-before: avoid; page-break-before: avoid; }
tr, .finding, .kpi { break-inside: avoid; page-break-inside: avoid; }
.related td { font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding: 16px 40px; border-top: 1px solid var(--line); }
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 11pt; }
  header.top { background: none; color: var(--ink); padding: 0 0 8px; border-bottom: 2px solid var(--ink); }
  header.top p { color: var(--muted); }
  nav.toc { display: none; }
  main { padding: 0; max-width: none; }
  section { page-break-before: auto; }
  section h2 { page-break-after: avoid; }
  svg.chart, figure.chart, .finding, .kpis { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_page(report: QuarterlyReport) -> str:
    """The whole report as one HTML string."""
    toc = "".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in report.sections)
    body = []
    for s in report.sections:
        notes = "".join(f'<p class="note">{escape(n)}</p>' for n in s.notes)
        body.append(f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>{s.html}{notes}'
                    "</section>")
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    notes_html = f'<section id="notes"><h2>Notes</h2><ul class="note">{notes}</ul></section>' \
        if notes else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>winloss quarterly review {escape(report.period)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header class="top"><h1>Win/loss quarterly review — {escape(report.period)}</h1>'
        f"<p>Store {escape(report.store)} · generated {escape(report.generated_at)} by winloss"
        "</p></header>"
        f'<nav class="toc">{toc}</nav><main>{"".join(body)}{notes_html}</main>'
        "<footer>Statistics: Wilson 95 % intervals; p-values exact (Fisher); q-values "
        "Benjamini–Hochberg over every hypothesis tried; probabilities calibrated on held-out "
        "deals; fields known only after the outcome are marked and never used to predict."
        "</footer></body></html>\n"
    )
