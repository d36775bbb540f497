"""Dashboards: the report's own sections (findings and trends, forecast, data quality, the Bowtie,
action paths, buying committees and PLG), rendered with the report's section partial. No SQL here: the sections read through the facade."""

from __future__ import annotations

import datetime as dt
import importlib
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from winloss.errors import WinlossError
from winloss.web import access
from winloss.web.auth import requires
from winloss.workspace import Workspace

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

DASHBOARDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "findings": ("Findings and trends", ("headline", "changes", "findings")),
    "forecast": ("Forecast", ("forecast",)),
    "quality": ("Data quality", ("quality",)),
    "bowtie": ("The Bowtie", ("bowtie",)),
    "paths": ("Action paths and next actions", ("paths",)),
    "committees": ("Buying committees and product-led growth", ("committee", "plg")),
}


@dataclass
class _Snapshot:
    """A private copy of a store file at one version, open for the dashboards' builds, with one
    report context per quarter (so that the dashboards share their model fits)."""

    version: tuple[int, int]
    folder: tempfile.TemporaryDirectory[str]
    ws: Workspace
    contexts: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.folder.cleanup()


#: Built dashboards, by (store file, dashboard, quarter asked for): (the file's version, the
#: quarter, sections, notes). The forecast dashboard fits models for a minute on a few thousand
#: deals; it is built again only when the store file changes (an import, a capture).
_CACHE: dict[
    tuple[str, str, str], tuple[tuple[int, int], str, tuple[Any, ...], tuple[str, ...]]
] = {}
#: The snapshot each store file's dashboards are built from (one version at a time).
_SNAPSHOTS: dict[str, _Snapshot] = {}
#: Builds run one at a time (they are CPU-bound; a second visitor waits for the first build
#: and then reads it from the cache instead of building it again).
_BUILD_LOCK = threading.Lock()


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


def _build(
    ws: Workspace, contexts: dict[str, Any], name: str, wanted: str
) -> tuple[str, tuple[Any, ...], tuple[str, ...]]:
    """Build dashboard ``name`` for quarter ``wanted`` (latest closed if empty) on ``ws``."""
    from winloss.report.document import ReportContext, latest_closed_quarter

    try:
        q = ws.quarter(wanted) if wanted else latest_closed_quarter(ws.store)
    except WinlossError as exc:
        return "", (), (str(exc),)
    if q is None:
        return "", (), ()
    period = str(q)
    ctx = contexts.get(period)
    if ctx is None:
        ctx = contexts[period] = ReportContext(ws.store, q, dt.datetime.now())
    before = len(ctx.notes)
    sections = []
    for key in DASHBOARDS[name][1]:
        build = importlib.import_module(f"winloss.report.sections.{key}").build
        section = build(ctx)
        if section is not None:
            sections.append(section)
    # the notes this build added; a dashboard left empty by an analysis another dashboard
    # already tried (and noted) shows every note, so that it still says why
    notes = ctx.notes[before:] if sections else ctx.notes
    return period, tuple(sections), tuple(notes)


def dashboard(db: str, name: str, wanted: str = "") -> tuple[str, tuple[Any, ...], tuple[str, ...]]:
    """Dashboard ``name`` of the store ``db`` for quarter ``wanted``: (quarter, sections, notes).

    A store file is built from a private copy taken at its current version (the store is held
    only for the copy, so captures and CLI commands are not kept waiting by a build), and kept
    until the file changes; a server store is built in place on every visit.
    """
    version = _store_version(db)
    if version is None:
        with access.briefly(db) as ws:
            return _build(ws, {}, name, wanted)
    cached = _CACHE.get((db, name, wanted))
    if cached is not None and cached[0] == version:
        return cached[1], cached[2], cached[3]
    with _BUILD_LOCK:
        version = _store_version(db) or version
        cached = _CACHE.get((db, name, wanted))
        if cached is not None and cached[0] == version:
            return cached[1], cached[2], cached[3]
        snap = _SNAPSHOTS.get(db)
        if snap is None or snap.version != version:
            if snap is not None:
                del _SNAPSHOTS[db]
                snap.close()
            folder = tempfile.TemporaryDirectory(prefix="winloss-dashboards-")
            copy = Path(folder.name) / "store.duckdb"
            with access.briefly(db) as live:
                live.copy_to(copy)
                version = _store_version(db) or version  # the copy's (a checkpoint may touch it)
            snap = _Snapshot(version, folder, Workspace(copy))
            _SNAPSHOTS[db] = snap
        period, sections, notes = _build(snap.ws, snap.contexts, name, wanted)
        _CACHE[(db, name, wanted)] = (snap.version, period, sections, notes)
        return period, sections, notes


def warm(db: str) -> None:
    """Build every dashboard for the latest closed quarter (run in the background when the app
    starts, so that the first visit does not wait for the model fits); a server store is not
    cached, so it is not warmed either."""
    if _store_version(db) is None:
        return
    for name in DASHBOARDS:
        try:
            dashboard(db, name)
        except Exception:  # noqa: BLE001 - a visit will build it again and show the error
            return


def _render(name: str) -> Any:
    title = DASHBOARDS[name][0]
    db = str(current_app.config["WINLOSS_DB"])
    access.release()  # the build does not hold the store: captures go on meanwhile
    period, sections, notes = dashboard(db, name, request.args.get("quarter") or "")
    return render_template(
        "dashboard.html",
        user=g.user,
        title=title,
        period=period,
        sections=list(sections),
        notes=list(notes),
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
