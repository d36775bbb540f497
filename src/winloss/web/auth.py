"""Accounts, passwords, sessions, CSRF and the login rate limit of the web app.

Passwords are hashed with argon2id (argon2-cffi). The session is Flask's signed cookie
(HttpOnly, SameSite=Lax, Secure when served over https). Every POST carries a CSRF token bound
to the session (``csrf_token`` form field); every route needs a signed-in user except ``login``.
Access rules are declared on each view with :func:`requires` and read by the route-security test.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, g, redirect, request, session, url_for

ROLES = ("admin", "manager", "rep")
#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.1 s per check here
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
#: A valid hash of a random password: checked when the user does not exist, so a wrong user name
#: takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

F = TypeVar("F", bound=Callable[..., Any])


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    if len(password) < 8:
        from winloss.errors import UsageError

        raise UsageError("the password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class User:
    username: str
    role: str
    owner_name: str | None

    def can_see_owner(self, owner: str | None) -> bool:
        """Managers and admins see every deal; a rep only the deals they own."""
        return self.role in ("admin", "manager") or (owner is not None and owner == self.owner_name)


def requires(*roles: str, deal_owner: bool = False) -> Callable[[F], F]:
    """Allow signed-in users of ``roles``; ``deal_owner``: the ``deal_id`` of the URL must be a
    deal the user may see (reps: their own). Stored on the view for the route-security test."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            user: User | None = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=request.path))
            if user.role not in roles:
                allowed = " and ".join(f"{r}s" for r in roles)
                abort(
                    403,
                    description=f"This page is for {allowed}; you are signed in as "
                    f"{user.username} ({user.role}). An admin can change your role on the "
                    "Users page.",
                )
            return view(*args, **kwargs)

        inner.required_roles = roles  # type: ignore[attr-defined]
        inner.deal_owner = deal_owner  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap


def public(view: F) -> F:
    view.required_roles = ()  # type: ignore[attr-defined]
    view.public = True  # type: ignore[attr-defined]
    return view


# -- CSRF ---------------------------------------------------------------------------------------
def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    """Abort 400 unless the POST carries the session's token."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="missing or wrong CSRF token: reload the form and submit again")


# -- forms sent once ------------------------------------------------------------------------------
class SentForms:
    """The ids of capture forms already saved: a form sent twice (a double click, a resent
    request) is saved once. ``once(form_id, save)`` runs ``save`` unless that form was saved,
    under one lock so that two requests at the same moment cannot both save."""

    def __init__(self, keep: int = 10_000) -> None:
        self.keep = keep
        self._saved: dict[str, None] = {}  # insertion-ordered: the oldest ids are forgotten
        self._lock = threading.Lock()

    def once(self, form_id: str, save: Callable[[], object]) -> bool:
        """``True`` when ``save`` ran (and returned); ``False`` for a form already saved."""
        with self._lock:
            if form_id and form_id in self._saved:
                return False
            save()  # raises on a refused capture: the id stays unused, the form can be fixed
            if form_id:
                self._saved[form_id] = None
                while len(self._saved) > self.keep:
                    self._saved.pop(next(iter(self._saved)))
            return True


# -- login rate limit ---------------------------------------------------------------------------
class LoginLimiter:
    """At most ``attempts`` failed logins per client address and per user name in ``window``
    seconds; further attempts are refused (429) until the window has passed."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, address: str, username: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(
                len(self._recent(k, now)) >= self.attempts
                for k in (f"ip:{address}", f"user:{username.lower()}")
            )

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in (f"ip:{address}", f"user:{username.lower()}"):
                self._recent(k, now).append(now)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._fails.pop(f"user:{username.lower()}", None)
