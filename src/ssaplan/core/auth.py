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

_hashers: list[PasswordHasher] = []  # built on first use, from the settings
_dummy_hash: list[str] = []  # made on first use: hashing costs time no command should pay at start


def _hasher() -> PasswordHasher:
    """Argon2id at the cost the settings name (``SSAPLAN_ARGON2_*``). A stored hash carries
    its own parameters, so hashes made at another cost still verify."""
    if not _hashers:
        from pydantic import ValidationError

        from ssaplan.core.settings import Settings, get_settings

        fields = Settings.model_fields
        time_cost = fields["argon2_time_cost"].default
        memory = fields["argon2_memory_kib"].default
        try:
            settings = get_settings()
            time_cost, memory = settings.argon2_time_cost, settings.argon2_memory_kib
        except ValidationError:
            pass  # settings refused (the app says why at start): the strong defaults hold
        _hashers.append(PasswordHasher(time_cost=time_cost, memory_cost=memory))
    return _hashers[0]


SESSION_COOKIE = "ssaplan_session"
CSRF_HEADER = "X-CSRF-Token"


# A published password (the demo's accounts) is guarded by nothing a hash could add: it is
# hashed at Argon2id's lowest cost, and refused in production until reset (core/users.py).
_published = PasswordHasher(time_cost=1, memory_cost=1024)


def hash_password(password: str, *, published: bool = False) -> str:
    return (_published if published else _hasher()).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time a real check takes, so a wrong name and a wrong password look alike."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher().hash("not-a-real-password"))
    verify_password(_dummy_hash[0], password)


# -- logins ------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, kind: str, hours: int) -> str:
    """Create a login and return its secret token (shown once, stored only hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user.id,
            kind=kind,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    # Expired logins are removed while we are here, so the table never grows without bound.
    session.execute(delete(AuthSession).where(AuthSession.expires_at < utcnow()))
    return token


def close_session(session: Session, token: str) -> None:
    session.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


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
