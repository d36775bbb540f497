"""Dashboards: the report's own sections (findings and trends, forecast, data quality, the Bowtie,
action paths, buying committees and PLG), rendered with the report's section partial. No SQL here: the sections read through the facade."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
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


#: Report contexts kept per snapshot (one per quarter browsed; each holds a deals frame and
#: its model fits): the oldest is dropped beyond this.
MAX_CONTEXTS = 4

Built = tuple[str, tuple[Any, ...], tuple[str, ...]]  # quarter, sections, notes


@dataclass
class _Snapshot:
    """A private copy of a store file at one version, open for the dashboards' builds: one
    report context per quarter (the dashboards of a quarter share its analyses), the quarter
    each ``?quarter=`` asked for resolves to, and the dashboards built."""

    version: tuple[int, int]
    folder: tempfile.TemporaryDirectory[str]
    ws: Workspace
    taken_at: dt.datetime = field(default_factory=dt.datetime.now)
    contexts: dict[str, Any] = field(default_factory=dict)
    periods: dict[str, Built | str] = field(default_factory=dict)  # asked -> quarter or error
    built: dict[tuple[str, str], Built] = field(default_factory=dict)  # (dashboard, quarter)
    #: the builds of the snapshot this one replaced (its periods, builds and time): shown, with
    #: a note, while this one builds them again — a dashboard not yet rebuilt kept a visitor
    #: waiting for the other dashboards' rebuild
    earlier: tuple[dict[str, Built | str], dict[tuple[str, str], Built], dt.datetime] | None = None

    def lookup(self, name: str, wanted: str) -> Built | None:
        period = self.periods.get(wanted)
        if isinstance(period, tuple):  # the quarter asked for could not be resolved
            return period
        return self.built.get((name, period)) if period is not None else None

    def stale(self, name: str, wanted: str) -> tuple[Built, dt.datetime] | None:
        """A build of this snapshot, else of the one it replaced, with the time of its copy."""
        found = self.lookup(name, wanted)
        if found is not None:
            return found, self.taken_at
        if self.earlier is None:
            return None
        periods, built, taken_at = self.earlier
        period = periods.get(wanted)
        if isinstance(period, tuple):
            return period, taken_at
        old = built.get((name, period)) if period is not None else None
        return (old, taken_at) if old is not None else None

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.folder.cleanup()
            with contextlib.suppress(ValueError):
                _FOLDERS.remove(self.folder)


#: The snapshot each store file's dashboards are built from (one version at a time): the
#: forecast dashboard fits models for a minute on a few thousand deals, so a dashboard is built
#: again only when the store file changes (an import, a capture).
_SNAPSHOTS: dict[str, _Snapshot] = {}
#: Builds run one at a time (they are CPU-bound; a second visitor waits for the first build
#: and then reads what it built instead of building it again).
_BUILD_LOCK = threading.Lock()
#: The temporary folders of the store copies: ``winloss-dashboards-<pid>-<random>``.
COPY_PREFIX = "winloss-dashboards-"
#: Every copy's folder made by this process (a TemporaryDirectory is removed twice harmlessly).
_FOLDERS: list[tempfile.TemporaryDirectory[str]] = []
#: Background rebuilds of a changed store's dashboards, by (store, dashboard, quarter asked).
_REBUILDS: dict[tuple[str, str, str], threading.Thread] = {}
_REBUILDS_LOCK = threading.Lock()


def _rebuild_later(db: str, name: str, wanted: str) -> None:
    """Build dashboard ``name`` of the changed store in a background thread (once at a time)."""
    key = (db, name, wanted)
    with _REBUILDS_LOCK:
        running = _REBUILDS.get(key)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(
            target=_quietly,
            args=(db, name, wanted),
            name=f"winloss-rebuild-{name}",
            daemon=True,
        )
        _REBUILDS[key] = thread
        thread.start()


def _quietly(db: str, name: str, wanted: str) -> None:
    try:
        dashboard(db, name, wanted, wait=True)
    except Exception:  # noqa: BLE001 - the next visit builds it in the foreground, with the error
        return


def wait_for_rebuilds(timeout: float | None = None) -> None:
    """Wait for the background rebuilds started so far (tests, and an app shutting down)."""
    with _REBUILDS_LOCK:
        threads = list(_REBUILDS.values())
    for thread in threads:
        thread.join(timeout)


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


def _quarter(ws: Workspace, wanted: str) -> Any:
    """The quarter ``wanted`` names (the latest with closed deals if empty), or ``None``."""
    from winloss.plan.action_plan import check_review_quarter, closed_quarters
    from winloss.report.document import latest_closed_quarter

    if not wanted:
        return latest_closed_quarter(ws.store)
    q = ws.quarter(wanted)
    # a quarter beyond the data is refused as the CLI refuses it (it showed another period's
    # findings under its own title, and "nan%" bars)
    check_review_quarter(ws.store, q, closed_quarters(ws.store), ask="?quarter=")
    return q


def _build(ctx: Any, name: str) -> Built:
    """Build dashboard ``name`` with report context ``ctx``: the sections and their notes."""
    sections = []
    with ctx.noting() as notes:
        for key in DASHBOARDS[name][1]:
            build = importlib.import_module(f"winloss.report.sections.{key}").build
            section = build(ctx)
            if section is not None:
                sections.append(section)
    return str(ctx.quarter), tuple(sections), tuple(notes)


def _context(snap: _Snapshot, period: str) -> Any:
    """The snapshot's report context of quarter ``period`` (created, or reused)."""
    from winloss.report.document import ReportContext

    ctx = snap.contexts.pop(period, None)
    if ctx is None:
        # a copy of the store: nothing is recorded in the findings register from a visit
        ctx = ReportContext(snap.ws.store, snap.ws.quarter(period), dt.datetime.now(), record=False)
    snap.contexts[period] = ctx  # most recently used last
    while len(snap.contexts) > MAX_CONTEXTS:
        snap.contexts.pop(next(iter(snap.contexts)))
    return ctx


def _snapshot(db: str, version: tuple[int, int]) -> _Snapshot:
    """The snapshot of ``db`` at ``version``, copied now if the kept one is older."""
    snap = _SNAPSHOTS.get(db)
    if snap is not None and snap.version == version:
        return snap
    earlier = None
    if snap is not None:
        del _SNAPSHOTS[db]
        # what it built stays on show (with a note) until this snapshot has built it again
        earlier = (dict(snap.periods), dict(snap.built), snap.taken_at)
        if not snap.built and snap.earlier is not None:
            earlier = snap.earlier
        snap.close()
    folder = tempfile.TemporaryDirectory(prefix=f"{COPY_PREFIX}{os.getpid()}-")
    _FOLDERS.append(folder)  # removed by shutdown() even if stopped while copying
    copy = Path(folder.name) / "store.duckdb"
    with access.briefly(db) as live:
        live.copy_to(copy)
        version = _store_version(db) or version  # the copy's (a checkpoint may touch it)
    snap = _SNAPSHOTS[db] = _Snapshot(version, folder, Workspace(copy), earlier=earlier)
    return snap


def dashboard(db: str, name: str, wanted: str = "", *, wait: bool = False) -> Built:
    """Dashboard ``name`` of the store ``db`` for quarter ``wanted``: (quarter, sections, notes).

    A store file is built from a private copy taken at its current version (the store is held
    only for the copy, so captures and CLI commands are not kept waiting by a build), and kept
    until the file changes. When the file has changed since (an import, a capture) and the
    dashboard was built before, the previous build is returned at once with a note saying so,
    and the new one is built in the background (``wait``: build it now instead). A server store
    is built in place on every visit.
    """
    from winloss.report.document import ReportContext

    version = _store_version(db)
    if version is None:
        with access.briefly(db) as ws:
            try:
                q = _quarter(ws, wanted)
            except WinlossError as exc:
                return "", (), (str(exc),)
            if q is None:
                return "", (), ()
            return _build(ReportContext(ws.store, q, dt.datetime.now(), record=False), name)
    snap = _SNAPSHOTS.get(db)
    found = snap.lookup(name, wanted) if snap is not None and snap.version == version else None
    if found is not None:
        return found
    if not wait and snap is not None:
        stale = snap.stale(name, wanted)
        if stale is not None:
            (quarter, sections, notes), taken_at = stale
            _rebuild_later(db, name, wanted)
            note = (
                f"Built from the store as it was at {taken_at:%Y-%m-%d %H:%M}; it has "
                "changed since (an import or a capture). The dashboard is being rebuilt from "
                "the new data: reload the page in a minute or two."
            )
            return quarter, sections, (note, *notes)
    with _BUILD_LOCK:
        snap = _snapshot(db, _store_version(db) or version)
        found = snap.lookup(name, wanted)
        if found is not None:
            return found
        period = snap.periods.get(wanted)
        if period is None:
            failure: Built = ("", (), ())
            try:
                q = _quarter(snap.ws, wanted)
            except WinlossError as exc:
                q, failure = None, ("", (), (str(exc),))
            if q is None:
                snap.periods[wanted] = failure
                return failure
            period = snap.periods[wanted] = snap.periods.setdefault(str(q), str(q))
        assert isinstance(period, str)
        result = snap.built[(name, period)] = _build(_context(snap, period), name)
        return result


def reset() -> None:
    """Close every snapshot (tests, and an app shutting down), after the running rebuilds."""
    wait_for_rebuilds()
    with _BUILD_LOCK:
        while _SNAPSHOTS:
            _SNAPSHOTS.popitem()[1].close()


def shutdown() -> None:
    """Remove every snapshot's copy now, without waiting for a build (the app is stopping).
    A snapshot is closed first when no build is using it; one in use by a running build is
    only removed from disk (closing a store under a running query would abort the process)."""
    idle = _BUILD_LOCK.acquire(blocking=False)
    try:
        while _SNAPSHOTS:
            _db, snap = _SNAPSHOTS.popitem()
            if idle:
                with contextlib.suppress(Exception):  # the copy is removed below all the same
                    snap.ws.close()
            snap.folder.cleanup()
        while _FOLDERS:
            _FOLDERS.pop().cleanup()
    finally:
        if idle:
            _BUILD_LOCK.release()


def sweep_left_copies(folder: str | None = None) -> list[str]:
    """Remove the store copies that stopped servers left in the temporary folder (a server
    killed outright cannot remove its own): those whose process, named in the folder's name,
    is gone. Returns the folders removed."""
    import shutil

    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{COPY_PREFIX}*-*"):
        pid_text = path.name[len(COPY_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or not path.is_dir():
            continue  # not ours, or made before the folders carried their process id
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
        except (PermissionError, OverflowError):
            continue  # someone else's live process, or not a process id
    return removed


def warm(db: str) -> None:
    """Build every dashboard for the latest closed quarter (run in the background when the app
    starts, so that the first visit does not wait for the model fits); a server store is not
    cached, so it is not warmed either."""
    if _store_version(db) is None:
        return
    for name in DASHBOARDS:
        try:
            dashboard(db, name, wait=True)
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
