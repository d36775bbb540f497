"""Login and logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from winloss.web import access
from winloss.web.auth import public, requires, verify_password

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("capture.home")
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("capture.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        limiter = current_app.extensions["winloss_limiter"]
        address = request.remote_addr or "?"
        if limiter.blocked(address, username):
            error, status = "Too many failed sign-ins: wait a few minutes and try again.", 429
        else:
            with access.workspace(current_app.config["WINLOSS_DB"]) as ws:
                row = ws.user(username)
            if row is not None and verify_password(row["password_hash"], password):
                limiter.succeeded(address, username)
                session.clear()
                session.permanent = True
                session["user"] = row["username"]
                session["role"] = row["role"]
                return redirect(_safe_next(request.args.get("next")))
            if row is None:
                verify_password(None, password)  # as slow as a wrong password
            limiter.failed(address, username)
            error, status = "Unknown user name or wrong password.", 401
    return render_template("login.html", error=error, user=g.get("user")), status


@bp.route("/logout", methods=["POST"])
@requires("admin", "manager", "rep")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))
