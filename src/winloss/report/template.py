"""The HTML page around the sections: Jinja2 templates in report/templates (base layout, stylesheet
and section partial, shared with the web app); inline CSS, no script, no external URL."""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import markupsafe

if TYPE_CHECKING:
    from winloss.report.document import QuarterlyReport


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of report/templates (autoescaping on), shared with the web app."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("winloss.report", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_escape,
    )


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
