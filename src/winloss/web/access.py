"""The web app's access to the store: one short-lived :class:`~winloss.Workspace` per request.

DuckDB lets one process write a file at a time. The app never keeps the file open: each request
opens the workspace, reads or writes, and closes it (a process-wide lock serialises the app's own
threads). A CLI command that runs meanwhile holds the file for its run; the app's requests wait
for it (``$WINLOSS_LOCK_WAIT`` seconds, default 30), and a CLI command started while a request
holds the file waits the same way (see :class:`winloss.store.duckdb_store.DuckDBStore`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from winloss.workspace import Workspace

_LOCK = threading.Lock()


@contextmanager
def workspace(path: str) -> Iterator[Workspace]:
    """The workspace at ``path``, open for the duration of the block."""
    with _LOCK:
        ws = Workspace(path)
        try:
            yield ws
        finally:
            ws.close()
