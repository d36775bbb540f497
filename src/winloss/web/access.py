"""The web app's access to the store: one short-lived :class:`~winloss.Workspace` per request.

DuckDB lets one process write a file at a time. The app never keeps the file open between
requests: the first use in a request opens the workspace, the end of the request closes it (a
process-wide lock serialises the app's own threads meanwhile). A CLI command that runs
meanwhile holds the file for its run; the app's requests wait for it (``$WINLOSS_LOCK_TIMEOUT``
seconds, default 30), and a CLI command started while a request holds the file waits the same
way (see :class:`winloss.store.duckdb_store.DuckDBStore`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context

from winloss.workspace import Workspace

_LOCK = threading.Lock()


@contextmanager
def workspace(path: str) -> Iterator[Workspace]:
    """The workspace at ``path``: the request's (opened on first use, closed when the request
    ends), or, outside a request, one open for the duration of the block."""
    if has_request_context():
        ws = g.get("_winloss_ws")
        if ws is None:
            _LOCK.acquire()
            try:
                ws = Workspace(path)
            except BaseException:
                _LOCK.release()
                raise
            g._winloss_ws = ws
        yield ws
        return
    with _LOCK:
        ws = Workspace(path)
        try:
            yield ws
        finally:
            ws.close()


def install(app: Flask) -> None:
    """Close the request's workspace (and release the lock) when the request ends."""

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        ws = g.pop("_winloss_ws", None)
        if ws is not None:
            try:
                ws.close()
            finally:
                _LOCK.release()
