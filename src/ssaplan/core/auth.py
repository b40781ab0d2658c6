"""Passwords, logins (web sessions and API tokens) and CSRF tokens.

Who may do what is decided in :mod:`ssaplan.core.permissions`; routes declare the
action they need once (``ssaplan.core.deps.requires``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ssaplan.core.models import AppSetting, AuthSession, User
from ssaplan.core.store import utcnow

_hasher = PasswordHasher()
_dummy_hash: list[str] = []  # made on first use: hashing costs time no command should pay at start

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
    """Spend the time a real check takes, so a wrong name and a wrong password look alike."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash("not-a-real-password"))
    verify_password(_dummy_hash[0], password)


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
