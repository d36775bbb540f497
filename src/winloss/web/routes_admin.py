"""Accounts (admin only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from winloss.errors import WinlossError
from winloss.web import access
from winloss.web.auth import hash_password, requires

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@requires("admin")
def users() -> Any:
    errors: list[str] = []
    status = 200
    db = str(current_app.config["WINLOSS_DB"])
    if request.method == "POST":
        try:
            hashed = hash_password(request.form.get("password", ""))
            with access.workspace(db) as ws:
                ws.add_user(
                    request.form.get("username", ""),
                    hashed,
                    request.form.get("role", ""),
                    request.form.get("owner") or None,
                )
        except WinlossError as exc:
            errors, status = [str(exc)], 400
        else:
            flash(f"User {request.form.get('username', '').strip()} saved.")
            return redirect(url_for("admin.users"))
    with access.workspace(db) as ws:
        rows = ws.users().to_dict(orient="records")
        owners = ws.owners()
    return render_template(
        "users.html", user=g.user, users=rows, owners=owners, errors=errors
    ), status
