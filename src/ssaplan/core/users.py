"""Users: adding them, logging them in and out."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.auth import (
    Actor,
    close_session,
    dummy_verify,
    find_user,
    hash_password,
    open_session,
    require,
    verify_password,
)
from ssaplan.core.errors import Conflict, Detail, Invalid, Unauthenticated
from ssaplan.core.models import ROLES, User
from ssaplan.reference.catalog import UnknownCode, get_catalog

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


def public(user: User) -> dict[str, object]:
    """A user as shown to others: never the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "agency": user.agency_id,
        "role": user.role,
        "active": user.active,
    }


def add_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    agency: str,
    full_name: str = "",
) -> User:
    """Create a user; admins only. Every problem is reported at once."""
    require(actor, "user:manage")
    problems: list[Detail] = []
    if not USERNAME.match(username):
        problems.append(
            Detail(("username",), "use 2-64 lowercase letters, digits, '.', '_' or '-'")
        )
    if len(password) < MIN_PASSWORD:
        problems.append(Detail(("password",), f"must be at least {MIN_PASSWORD} characters"))
    if role not in ROLES:
        problems.append(Detail(("role",), f"must be one of {', '.join(ROLES)}"))
    agency_id = ""
    try:
        agency_id = get_catalog().resolve("agency", agency)
    except UnknownCode as exc:
        problems.append(Detail(("agency",), str(exc)))
    if problems:
        raise Invalid("cannot add user", problems)
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        full_name=full_name,
        agency_id=agency_id,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        audit.Entry(actor.username, "create", "user", username, None, public(user)),
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user for these credentials; the same error whichever part is wrong."""
    user = find_user(session, username.strip().lower())
    if user is None:
        dummy_verify(password)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise Unauthenticated("wrong username or password")
    return user


def login(
    session: Session, username: str, password: str, *, kind: str, hours: int
) -> tuple[User, str]:
    """Check credentials and open a login; returns the user and the secret token."""
    user = authenticate(session, username, password)
    token = open_session(session, user, kind, hours)
    audit.record(session, audit.Entry(user.username, "login", "user", user.username, summary=kind))
    return user, token


def logout(session: Session, token: str) -> None:
    close_session(session, token)


def list_users(session: Session, actor: Actor) -> list[User]:
    require(actor, "user:manage")
    return list(session.execute(select(User).order_by(User.username)).scalars())
