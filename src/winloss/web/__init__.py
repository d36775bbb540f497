"""``winloss serve``: the local web app — capture, coverage, buyer interviews, dashboards.

Build it with :func:`create_app`; it reads and writes only through :class:`winloss.Workspace`.
"""

from __future__ import annotations

from winloss.web.app import create_app

__all__ = ["create_app"]
