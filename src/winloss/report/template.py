"""The HTML page around the sections: Jinja2 templates in report/templates (base layout, stylesheet
and section partial, shared with the web app); inline CSS, no script, no external URL."""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import markupsafe

if TYPE_CHECKING:
    from winloss.report.document import QuarterlyReport


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of report/templates (autoescaping on), shared with the web app."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("winloss.report", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_escape,
    )
    env.filters["note"] = note_html
    return env


#: The plan's lists as the report titles them (a note written for the CLI and JSON names
#: ``lists.rules_not_proposed``; the report's reader sees the table's heading instead).
_LIST_WORDS = {
    "rules_not_proposed": "the rules marked “not proposed” in the backtest table",
    "findings_outside_window": "the table “Findings over all quarters that the discovery "
    "window does not confirm”",
    "target_accounts": "the table “Target accounts”",
    "expansion": "the table “Customers to expand”",
    "segment_calibration": "the table “Win-probability calibration by segment and owner”",
    "remeasured": "“Did last quarter's changes work?”",
}
_LIST_REF = re.compile(r"\blists\.([a-z_]+)")
_CODE = re.compile(r"`([^`]+)`")


def note_html(text: object) -> markupsafe.Markup:
    """A note as the report shows it: escaped, `commands` as code, and a plan list named by the
    heading the reader sees rather than by its JSON key (``lists.expansion``)."""
    escaped = html.escape(str(text))
    escaped = _LIST_REF.sub(
        lambda m: _LIST_WORDS.get(m.group(1), m.group(1).replace("_", " ")), escaped
    )
    return markupsafe.Markup(_CODE.sub(r"<code>\1</code>", escaped))


def _escape(value: object) -> object:
    """Escape like :func:`html.escape` (``'`` → ``&#x27;``), so the report's bytes stay those of
    the earlier string-built page; markup (``|safe``, partials) passes unchanged."""
    if isinstance(value, markupsafe.Markup):
        return value
    return markupsafe.Markup(html.escape(str(value)))


#: The report's stylesheet (report/templates/style.css), inlined in every page.
CSS = "\n" + (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")


def render_page(report: QuarterlyReport) -> str:
    """The whole report as one HTML string (templates report.html → base.html)."""
    return environment().get_template("report.html").render(report=report) + "\n"
