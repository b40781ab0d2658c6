"""Passwords, roles and permissions, logins (web sessions and API tokens), CSRF.

Permissions are default-deny: a role can do exactly what :data:`PERMISSIONS` lists.
Routes declare the permission they need once (see ``ssaplan.core.deps``); services
scope writes to the rows a user may touch with :func:`agency_scope`.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ssaplan.core.errors import Forbidden
from ssaplan.core.models import AppSetting, AuthSession, User
from ssaplan.core.store import utcnow
from ssaplan.reference.catalog import get_catalog

# What each role may do. Anything not listed is denied.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "planner": frozenset({"read", "program:write", "data:import", "data:export"}),
    "analyst": frozenset({"read", "analysis:run", "data:export"}),
    "admin": frozenset(
        {
            "read",
            "program:write",
            "data:import",
            "data:export",
            "analysis:run",
            "user:manage",
            "reference:manage",
            "audit:read",
        }
    ),
}
ACTIONS = frozenset().union(*PERMISSIONS.values())

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name and a wrong password
# take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

SESSION_COOKIE = "ssaplan_session"
CSRF_HEADER = "X-CSRF-Token"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the local operator at the command line."""

    username: str
    role: str
    agency_id: str | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.role if user.active else "", user.agency_id, user.id)

    @classmethod
    def operator(cls) -> Actor:
        """Whoever runs the CLI on the database's machine: full rights, named in the audit."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(f"cli:{who}", "admin")


def can(actor: Actor, action: str) -> bool:
    return action in PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor, action: str) -> None:
    """Raise :class:`Forbidden` unless the actor's role grants ``action``."""
    if not can(actor, action):
        raise Forbidden(f"your role ({actor.role or 'inactive'}) does not allow {action}")


def agency_scope(actor: Actor, action: str = "program:write") -> frozenset[str] | None:
    """The agencies whose records ``actor`` may write: ``None`` for all (admins),
    the actor's agency and its bureaus for planners, nothing otherwise."""
    if not can(actor, action):
        return frozenset()
    if actor.role == "admin":
        return None
    if actor.agency_id is None:
        return frozenset()
    return frozenset(get_catalog().agency_family(actor.agency_id))


# -- logins ------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, kind: str, hours: int) -> str:
    """Create a login and return its secret token (shown once, stored only hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            kind=kind,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    # Expired logins are removed while we are here, so the table never grows without bound.
    session.execute(delete(AuthSession).where(AuthSession.expires_at < utcnow()))
    return token


def user_for_token(session: Session, token: str | None) -> User | None:
    if not token:
        return None
    row = session.get(AuthSession, _token_hash(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user


def close_session(session: Session, token: str) -> None:
    session.execute(delete(AuthSession).where(AuthSession.token_hash == _token_hash(token)))


# -- CSRF --------------------------------------------------------------------------
def local_secret(session: Session) -> str:
    """The installation's generated secret (used when SSAPLAN_SECRET_KEY is not set)."""
    row = session.get(AppSetting, "secret_key")
    if row is None:
        row = AppSetting(key="secret_key", value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    return row.value


def csrf_token(secret: str, session_token: str) -> str:
    """A token bound to one login: forms and cookie-authenticated API writes carry it."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(
        csrf_token(secret, session_token), presented or ""
    )


def find_user(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()
