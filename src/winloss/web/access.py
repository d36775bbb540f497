"""The web app's access to the store: one short-lived :class:`~winloss.Workspace` per request.

DuckDB lets one process write a file at a time. The app never keeps the file open between
requests: the first use in a request opens the workspace, the end of the request closes it (a
process-wide lock serialises the app's own threads meanwhile). A CLI command that runs
meanwhile holds the file for its run; the app's requests wait for it (``$WINLOSS_LOCK_TIMEOUT``
seconds, default 30), and a CLI command started while a request holds the file waits the same
way (see :class:`winloss.store.duckdb_store.DuckDBStore`).

A PostgreSQL team store (``--db postgresql://…``) takes many writers at once: each request opens
its own connection and up to ``WINLOSS_WEB_CONNECTIONS`` (16) requests run side by side — the
server's transactions and the import's advisory lock keep them apart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context

from winloss.store.open import is_server_url
from winloss.workspace import Workspace

_LOCK = threading.Lock()


#: Requests to a PostgreSQL store that hold a connection at once (``WINLOSS_WEB_CONNECTIONS``);
#: the others wait for a slot. PostgreSQL refuses clients beyond its ``max_connections`` (100 by
#: default), so an unbounded burst of 200 submissions failed half of them.
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("WINLOSS_WEB_CONNECTIONS", "16")))


def _lock_for(path: str) -> threading.Lock | threading.BoundedSemaphore:
    return _SLOTS if is_server_url(path) else _LOCK


@contextmanager
def workspace(path: str) -> Iterator[Workspace]:
    """The workspace at ``path``: the request's (opened on first use, closed when the request
    ends), or, outside a request, one open for the duration of the block."""
    if has_request_context():
        ws = g.get("_winloss_ws")
        if ws is None:
            lock = _lock_for(path)
            lock.acquire()
            try:
                ws = Workspace(path)
            except BaseException:
                lock.release()
                raise
            g._winloss_ws = ws
            g._winloss_lock = lock
        yield ws
        return
    with briefly(path) as ws:
        yield ws


def release() -> None:
    """Close the request's workspace now (and release the lock), for a request that goes on
    with work that does not need the store: the next use opens it again."""
    ws = g.pop("_winloss_ws", None)
    lock = g.pop("_winloss_lock", None)
    if ws is not None:
        try:
            ws.close()
        finally:
            if lock is not None:
                lock.release()


@contextmanager
def briefly(path: str) -> Iterator[Workspace]:
    """The workspace at ``path`` for the block only, whether or not in a request (the request's
    own workspace must have been released, see :func:`release`)."""
    lock = _lock_for(path)
    lock.acquire()
    try:
        ws = Workspace(path)
        try:
            yield ws
        finally:
            ws.close()
    finally:
        lock.release()


def install(app: Flask) -> None:
    """Close the request's workspace (and release the lock) when the request ends."""

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        release()
