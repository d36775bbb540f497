"""The Flask application factory of the web app."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from flask import Flask, g, render_template, request, session
from werkzeug.exceptions import HTTPException

from winloss.web import access
from winloss.web.auth import LoginLimiter, SentForms, User, check_csrf, csrf_token

_SECRET_SETTING = "web_secret_key"


def create_app(
    workspace_path: str | Path,
    *,
    freshness_days: int = 7,
    secure_cookies: bool = False,
    today: Callable[[], dt.date] | None = None,
    login_attempts: int = 5,
    login_window: float = 300.0,
    testing: bool = False,
) -> Flask:
    """The web app on the store at ``workspace_path``.

    Parameters
    ----------
    freshness_days
        A closed deal should be captured within this many days of its close (the deadline shown).
    secure_cookies
        Mark the session cookie ``Secure`` (set when served over https).
    today
        The app's clock for deadlines (tests inject one).
    login_attempts, login_window
        Failed logins allowed per address and per user name within ``login_window`` seconds.
    """
    app = Flask(__name__, template_folder="templates", static_folder=None)
    path = str(workspace_path)
    with access.workspace(path) as ws:
        secret = ws.store.get_setting(_SECRET_SETTING)
        if not secret:
            secret = secrets.token_hex(32)
            ws.store.set_setting(_SECRET_SETTING, secret)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        MAX_CONTENT_LENGTH=1 << 20,
        TESTING=testing,
        WINLOSS_DB=path,
        FRESHNESS_DAYS=freshness_days,
    )
    access.install(app)
    app.extensions["winloss_today"] = today or dt.date.today
    app.extensions["winloss_limiter"] = LoginLimiter(login_attempts, login_window)
    app.extensions["winloss_sent_forms"] = SentForms()
    # the web pages and the report share base.html, style.css and the section partial
    from winloss.analyze.audit.checks import days_text
    from winloss.report.template import environment as report_environment
    from winloss.report.template import note_html

    report_loader = report_environment().loader
    assert report_loader is not None
    app.jinja_loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")), report_loader]
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["note"] = note_html  # the section partial's notes
    app.jinja_env.filters["days"] = days_text  # a median of days as the audit prints it

    @app.before_request
    def _load_user() -> None:
        g.user = None
        name = session.get("user")
        if name:
            with access.workspace(path) as w:
                row = w.user(str(name))
            if row is not None and session.get("role") == row["role"]:
                g.user = User(row["username"], row["role"], row["owner_name"])
            else:
                session.clear()
        if request.method == "POST":
            check_csrf()

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
            "data:; form-action 'self'; frame-ancestors 'none'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> Any:
        return render_template(
            "error.html", code=exc.code, name=exc.name, description=exc.description
        ), exc.code or 500

    from winloss.web import routes_admin, routes_auth, routes_capture, routes_dashboards

    app.register_blueprint(routes_auth.bp)
    app.register_blueprint(routes_capture.bp)
    app.register_blueprint(routes_dashboards.bp)
    app.register_blueprint(routes_admin.bp)
    from winloss.web import routes_next

    app.register_blueprint(routes_next.bp)
    return app
