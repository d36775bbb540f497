"""Accounts (admin only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from winloss.errors import WinlossError
from winloss.web import access
from winloss.web.auth import hash_password, requires
from winloss.web.form_checks import check_user

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@requires("admin")
def users() -> Any:
    errors: list[str] = []
    status = 200
    db = str(current_app.config["WINLOSS_DB"])
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        role = request.form.get("role", "")
        owner = request.form.get("owner") or None
        errors = check_user(username, password, role, owner)
        if not errors:
            try:
                with access.workspace(db) as ws:
                    ws.add_user(username, hash_password(password), role, owner)
            except WinlossError as exc:
                errors = [str(exc)]
            else:
                flash(f"User {username} saved.")
                return redirect(url_for("admin.users"))
        status = 400
    with access.workspace(db) as ws:
        rows = ws.users().to_dict(orient="records")
        owners = ws.owners()
    return render_template(
        "users.html", user=g.user, users=rows, owners=owners, errors=errors
    ), status
