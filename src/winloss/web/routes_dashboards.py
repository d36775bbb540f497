"""Dashboards: the report's own sections (findings and trends, forecast, data quality, the Bowtie,
action paths, buying committees and PLG), rendered with the report's section partial. No SQL here: the sections read through the facade."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from winloss.errors import WinlossError
from winloss.web import access
from winloss.web.auth import requires

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

DASHBOARDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "findings": ("Findings and trends", ("headline", "changes", "findings")),
    "forecast": ("Forecast", ("forecast",)),
    "quality": ("Data quality", ("quality",)),
    "bowtie": ("The Bowtie", ("bowtie",)),
    "paths": ("Action paths and next actions", ("paths",)),
    "committees": ("Buying committees and product-led growth", ("committee", "plg")),
}


#: Built dashboards, by (store file, dashboard, quarter): (the file's version, sections,
#: notes). The forecast dashboard fits models for a minute on a few thousand deals; it is built
#: again only when the store file changes (an import, a capture).
_CACHE: dict[tuple[str, str, str], tuple[tuple[int, int], tuple[Any, ...], tuple[str, ...]]] = {}


def _store_version(db: str) -> tuple[int, int] | None:
    """The store file's modification time and size; ``None`` for a server store (not cached)."""
    import os

    try:
        st = os.stat(db)
    except (OSError, ValueError):
        return None
    wal = db + ".wal"
    wal_time = os.stat(wal).st_mtime_ns if os.path.exists(wal) else 0
    return (max(st.st_mtime_ns, wal_time), st.st_size)


def _render(name: str) -> Any:
    from winloss.report.document import ReportContext, latest_closed_quarter

    title, keys = DASHBOARDS[name]
    sections: list[Any] = []
    notes: list[str] = []
    period = ""
    with access.workspace(str(current_app.config["WINLOSS_DB"])) as ws:
        try:
            wanted = request.args.get("quarter")
            q = ws.quarter(wanted) if wanted else latest_closed_quarter(ws.store)
        except WinlossError as exc:
            notes.append(str(exc))
            q = None
        if q is not None:
            period = str(q)
            db = str(current_app.config["WINLOSS_DB"])
            version = _store_version(db)
            cached = _CACHE.get((db, name, period))
            if version is not None and cached is not None and cached[0] == version:
                sections, built_notes = list(cached[1]), list(cached[2])
            else:
                ctx = ReportContext(ws.store, q, dt.datetime.now().replace(microsecond=0))
                for key in keys:
                    build = importlib.import_module(f"winloss.report.sections.{key}").build
                    section = build(ctx)
                    if section is not None:
                        sections.append(section)
                built_notes = list(ctx.notes)
                if version is not None:
                    _CACHE[(db, name, period)] = (version, tuple(sections), tuple(built_notes))
            notes += built_notes
    return render_template(
        "dashboard.html", user=g.user, title=title, period=period, sections=sections, notes=notes
    )


@bp.route("/findings")
@requires("admin", "manager")
def findings() -> Any:
    return _render("findings")


@bp.route("/forecast")
@requires("admin", "manager")
def forecast() -> Any:
    return _render("forecast")


@bp.route("/quality")
@requires("admin", "manager")
def quality() -> Any:
    return _render("quality")


@bp.route("/bowtie")
@requires("admin", "manager")
def bowtie() -> Any:
    return _render("bowtie")


@bp.route("/paths")
@requires("admin", "manager")
def paths() -> Any:
    return _render("paths")


@bp.route("/committees")
@requires("admin", "manager")
def committees() -> Any:
    return _render("committees")
