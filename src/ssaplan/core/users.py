"""Users: adding them, their role assignments, logging them in and out."""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.auth import (
    close_session,
    dummy_verify,
    find_user,
    hash_password,
    open_session,
    token_hash,
    verify_password,
)
from ssaplan.core.errors import (
    Conflict,
    Detail,
    Invalid,
    NotFound,
    StaleVersion,
    Unauthenticated,
)
from ssaplan.core.logins import LoginGuard
from ssaplan.core.models import AppSetting, AuthSession, RoleAssignment, User
from ssaplan.core.passwords import password_problems
from ssaplan.core.permissions import (
    SCOPE_KINDS,
    Actor,
    Grant,
    default_grant,
    directory,
    primary_role,
    require,
    table,
)
from ssaplan.core.store import Store, utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DEMO_USERS_KEY = "demo_users"  # the demo's accounts: known passwords, refused in production


def grants_of(user: User) -> tuple[Grant, ...]:
    """The user's role assignments as grants (none when the user is inactive)."""
    if not user.active:
        return ()
    return tuple(Grant(a.role, a.scope_kind, a.scope_id) for a in user.assignments)  # type: ignore[arg-type]


def actor_for(user: User) -> Actor:
    """The actor a logged-in user acts as."""
    grants = grants_of(user)
    return Actor(
        user.username,
        primary_role(grants),
        user.agency_id,
        user.id,
        grants,
        ceiling=user.marking_ceiling or None,
        audience=user.audience or None,
    )


_U = User.__table__.c
_S = AuthSession.__table__.c
_R = RoleAssignment.__table__.c
# One statement per request: the login, its active user and their role assignments
# (a row per assignment; one row with NULL role for a user without any).
_ACTOR_FOR_TOKEN = (
    select(
        _U.id,
        _U.username,
        _U.agency_id,
        _U.marking_ceiling,
        _U.audience,
        _R.role,
        _R.scope_kind,
        _R.scope_id,
    )
    .select_from(
        AuthSession.__table__.join(User.__table__, _U.id == _S.user_id).outerjoin(
            RoleAssignment.__table__, _R.user_id == _U.id
        )
    )
    .where(_S.token_hash == bindparam("token_hash"), _S.expires_at >= bindparam("now"))
    .where(_U.active.is_(True))
    .order_by(_R.id)
)


def actor_for_token(session: Session, token: str | None) -> Actor | None:
    """The actor behind a login token (``None``: no such login, expired, or its user is
    inactive): what :func:`actor_for` gives for the login's user, in one Core statement
    instead of ORM loads of the login, the user and their assignments (it runs on every
    request)."""
    if not token:
        return None
    rows = (
        session.connection()
        .execute(_ACTOR_FOR_TOKEN, {"token_hash": token_hash(token), "now": utcnow()})
        .all()
    )
    if not rows:
        return None
    uid, username, agency, ceiling, audience = rows[0][:5]
    grants = tuple(Grant(r[5], r[6], r[7]) for r in rows if r[5] is not None)
    return Actor(
        username,
        primary_role(grants),
        agency,
        uid,
        grants,
        ceiling=ceiling or None,
        audience=audience or None,
    )


def public(user: User) -> dict[str, Any]:
    """A user as shown to others: never the password hash.

    ``role`` is the highest role the user holds (for lists); ``roles`` every assignment.
    """
    grants = tuple(Grant(a.role, a.scope_kind, a.scope_id) for a in user.assignments)  # type: ignore[arg-type]
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "agency": user.agency_id,
        "role": primary_role(grants),
        "roles": [{"role": g.role, "scope_kind": g.kind, "scope": g.scope} for g in grants],
        "active": user.active,
        "version": user.version,
        "marking_ceiling": user.marking_ceiling or None,
        "audience": user.audience or None,
    }


US_GOVERNMENT = "us-government"  # the audience of U.S. Government staff (no foreign limit)


def check_clearance(
    marking_ceiling: str | None, audience: str | None, problems: list[Detail]
) -> tuple[str | None, str | None]:
    """A ceiling and an audience as stored (ids, ``None`` for none), adding what is wrong
    to ``problems``. ``""`` lifts the ceiling (every marking); ``""`` or
    ``us-government`` as the audience means U.S. Government staff."""
    ceiling: str | None = None
    if marking_ceiling not in (None, ""):
        try:
            ceiling = directory().resolve("marking", marking_ceiling or "")
        except LookupError as exc:
            problems.append(Detail(("marking_ceiling",), str(exc).strip("'\"")))
    who: str | None = None
    if audience not in (None, "") and (audience or "").lower() != US_GOVERNMENT:
        for kind in ("country", "region"):
            try:
                who = directory().resolve(kind, audience or "")
                break
            except LookupError:
                continue
        else:
            problems.append(
                Detail(
                    ("audience",),
                    f"unknown audience {audience!r}: give a country (ISO3, e.g. GBR), an "
                    f"organization (e.g. NATO, EU) or {US_GOVERNMENT}",
                )
            )
    return ceiling, who


def _check_grant(
    role: str, kind: str, scope: str, loc: tuple[str, ...]
) -> tuple[Grant, list[Detail]]:
    """A validated grant (scope resolved to its id) and the problems found."""
    problems: list[Detail] = []
    if role not in table().roles:
        problems.append(Detail((*loc, "role"), f"must be one of {', '.join(table().roles)}"))
    if kind not in SCOPE_KINDS:
        problems.append(Detail((*loc, "scope_kind"), f"must be one of {', '.join(SCOPE_KINDS)}"))
        return Grant(role, "all", ""), problems
    scope_id = ""
    if kind != "all":
        lookup = {"agency": "agency", "bureau": "region", "country": "country"}[kind]
        try:
            scope_id = directory().resolve(lookup, scope)
        except LookupError as exc:
            problems.append(Detail((*loc, "scope"), str(exc).strip("'\"")))
    return Grant(role, kind, scope_id), problems


def add_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    agency: str,
    full_name: str = "",
    scope_kind: str | None = None,
    scope: str | None = None,
    demo: bool = False,
) -> User:
    """Create a user with one role assignment; admins only. Every problem is reported at once.

    Without ``scope_kind`` the role gets its default scope (planners: their agency).
    ``demo`` marks one of the demo world's accounts: its published password skips the
    policy, and it cannot log in in production mode until its password is reset.
    """
    require(actor, "user:manage")
    problems: list[Detail] = []
    if not USERNAME.match(username):
        problems.append(
            Detail(("username",), "use 2-64 lowercase letters, digits, '.', '_' or '-'")
        )
    if not demo:
        problems.extend(Detail(("password",), p) for p in password_problems(password, username))
    agency_id = ""
    try:
        agency_id = directory().resolve("agency", agency)
    except LookupError as exc:
        problems.append(Detail(("agency",), str(exc).strip("'\"")))
    if scope_kind is None:
        default = default_grant(role, agency_id)
        scope_kind, scope = default.kind, default.scope
    grant, grant_problems = _check_grant(role, scope_kind, scope or "", ())
    problems.extend(grant_problems)
    if problems:
        raise Invalid("cannot add user", problems)
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        full_name=full_name,
        agency_id=agency_id,
        password_hash=hash_password(password, published=demo),
    )
    user.assignments.append(
        RoleAssignment(
            role=grant.role, scope_kind=grant.kind, scope_id=grant.scope, granted_by=actor.username
        )
    )
    session.add(user)
    session.flush()
    if demo:
        _set_demo_users(session, demo_users(session) | {username})
    audit.record(
        session,
        audit.Entry(
            actor.username, "create", "user", username, None, public(user), "demo" if demo else ""
        ),
    )
    return user


def demo_users(session: Session) -> set[str]:
    """The accounts the demo created whose published passwords were never changed."""
    row = session.get(AppSetting, DEMO_USERS_KEY)
    return set(json.loads(row.value)) if row is not None else set()


def _set_demo_users(session: Session, names: set[str]) -> None:
    row = session.get(AppSetting, DEMO_USERS_KEY)
    if row is None:
        row = AppSetting(key=DEMO_USERS_KEY, value="[]")
        session.add(row)
    row.value = json.dumps(sorted(names))
    session.flush()


def reset_password(session: Session, actor: Actor, username: str, password: str) -> User:
    """Set a new password (admins only), checked against the policy; ends the user's logins."""
    require(actor, "user:manage")
    user = get_user(session, username, lock=True)
    problems = [Detail(("password",), p) for p in password_problems(password, username)]
    if problems:
        raise Invalid("cannot set this password", problems)
    user.password_hash = hash_password(password)
    user.version += 1
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    names = demo_users(session)
    if username in names:
        _set_demo_users(session, names - {username})
    session.flush()
    audit.record(
        session,
        audit.Entry(actor.username, "update", "user", username, summary="password reset"),
    )
    return user


def get_user(session: Session, username: str, *, lock: bool = False) -> User:
    stmt = select(User).where(User.username == username)
    if lock:
        stmt = stmt.with_for_update()
    user = session.execute(stmt).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _check_version(user: User, version: int | None) -> None:
    if version is not None and version != user.version:
        raise StaleVersion(
            f"user {user.username!r} was changed by someone else (you sent version {version}, "
            f"it is now at version {user.version}): reload and try again"
        )


def set_roles(
    session: Session,
    actor: Actor,
    username: str,
    roles: list[dict[str, str]],
    *,
    version: int | None = None,
) -> User:
    """Replace a user's role assignments (admins only); ``version`` guards against races."""
    require(actor, "user:manage")
    user = get_user(session, username, lock=True)
    _check_version(user, version)
    before = public(user)
    if not _replace_roles(user, actor, roles):
        return user
    user.version += 1
    session.flush()
    audit.record(
        session,
        audit.Entry(actor.username, "update", "user", username, before, public(user), "roles"),
    )
    return user


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    version: int,
    full_name: str | None = None,
    active: bool | None = None,
    roles: list[dict[str, str]] | None = None,
    marking_ceiling: str | None = None,
    audience: str | None = None,
) -> User:
    """Change a user's name, whether they may log in, their role assignments and what
    they may see (admins only), as one change: one new version, one audit record.
    ``None`` leaves a field as it is; ``roles`` replaces every assignment (as
    :func:`set_roles`); ``marking_ceiling`` ``""`` lifts the ceiling, ``audience`` ``""``
    (or ``us-government``) makes the user U.S. Government staff again."""
    require(actor, "user:manage")
    user = get_user(session, username, lock=True)
    _check_version(user, version)
    problems: list[Detail] = []
    if full_name is not None and len(full_name) > 200:
        problems.append(Detail(("full_name",), "is longer than 200 characters"))
    ceiling, who = check_clearance(marking_ceiling, audience, problems)
    if problems:
        raise Invalid("cannot change user", problems)
    before = public(user)
    changed = _replace_roles(user, actor, roles) if roles is not None else False
    if marking_ceiling is not None and ceiling != (user.marking_ceiling or None):
        user.marking_ceiling, changed = ceiling, True
    if audience is not None and who != (user.audience or None):
        user.audience, changed = who, True
    if full_name is not None and full_name != user.full_name:
        user.full_name, changed = full_name, True
    if active is not None and active != user.active:
        user.active, changed = active, True
    if not changed:
        return user
    user.version += 1
    session.flush()
    fields = [
        k
        for k in ("full_name", "active", "roles", "marking_ceiling", "audience")
        if public(user)[k] != before[k]
    ]
    audit.record(
        session,
        audit.Entry(
            actor.username, "update", "user", username, before, public(user), ", ".join(fields)
        ),
    )
    return user


def _replace_roles(user: User, actor: Actor, roles: list[dict[str, str]]) -> bool:
    """Validate ``roles`` (every problem at once) and make them the user's assignments;
    whether anything changed."""
    problems: list[Detail] = []
    grants: list[Grant] = []
    for i, item in enumerate(roles):
        grant, found = _check_grant(
            item.get("role", ""),
            item.get("scope_kind", "all"),
            item.get("scope", ""),
            ("roles", str(i)),
        )
        problems.extend(found)
        if grant in grants:
            problems.append(Detail(("roles", str(i)), f"{grant.label()} is listed twice"))
        grants.append(grant)
    if not roles:
        problems.append(Detail(("roles",), "give at least one role (deactivate the user instead)"))
    if problems:
        raise Invalid("cannot set roles", problems)
    before = public(user)["roles"]
    wanted = {(g.role, g.kind, g.scope) for g in grants}
    for a in list(user.assignments):
        if (a.role, a.scope_kind, a.scope_id) not in wanted:
            user.assignments.remove(a)
    have = {(a.role, a.scope_kind, a.scope_id) for a in user.assignments}
    for g in grants:
        if (g.role, g.kind, g.scope) not in have:
            user.assignments.append(
                RoleAssignment(
                    role=g.role, scope_kind=g.kind, scope_id=g.scope, granted_by=actor.username
                )
            )
    return bool(public(user)["roles"] != before)


def set_active(
    session: Session,
    actor: Actor,
    username: str,
    active: bool,
    *,
    version: int | None = None,
) -> User:
    """Deactivate a user (locked out at once: their open logins are ended) or
    reactivate them (admins only); ``version`` guards against races."""
    require(actor, "user:manage")
    user = get_user(session, username, lock=True)
    if version is not None and version != user.version:
        from ssaplan.core.errors import StaleVersion

        raise StaleVersion(
            f"user {username!r} was changed by someone else (you sent version {version}, "
            f"it is now at version {user.version}): reload and try again"
        )
    if not active and username == actor.username:
        raise Invalid(
            "cannot deactivate yourself",
            [Detail(("active",), "another admin must deactivate your account")],
        )
    if user.active == active:
        return user
    before = public(user)
    user.active = active
    user.version += 1
    if not active:
        session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.flush()
    audit.record(
        session,
        audit.Entry(
            actor.username,
            "update",
            "user",
            username,
            before,
            public(user),
            "reactivated" if active else "deactivated",
        ),
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
    store: Store,
    username: str,
    password: str,
    *,
    kind: str,
    hours: int,
    address: str | None = None,
    guard: LoginGuard | None = None,
) -> tuple[dict[str, Any], str]:
    """Check credentials and open a login; returns the user (public) and the secret token.

    The password is checked in a read-only session: hashing takes tens of milliseconds
    and must not hold the database's write lock, or concurrent logins queue behind it.
    With a ``guard`` (the app's), repeated failures are refused with 429 before any
    hashing and at most a few hashes run at once (:mod:`ssaplan.core.logins`); the
    counts are in the database, one budget for every worker. Every failure is audited
    (``login_failed``, with the client address).
    """
    name = username.strip().lower()[:64]
    if guard is not None:
        guard.check(name, address)
    try:
        with guard.hashing() if guard is not None else nullcontext(), store.session() as session:
            user_id = authenticate(session, username, password).id
            if guard is not None and guard.production and name in demo_users(session):
                raise Unauthenticated(
                    "demo accounts cannot log in in production mode: reset the password "
                    "(ssaplan user reset-password) or deactivate the account"
                )
    except Unauthenticated:
        _record_failure(store, name, kind, address, guard)
        raise
    with store.transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:  # removed or deactivated in between
            raise Unauthenticated("wrong username or password")
        token = open_session(session, user, kind, hours)
        if guard is not None:
            guard.succeeded(session, name)
        audit.record(
            session, audit.Entry(user.username, "login", "user", user.username, summary=kind)
        )
        return public(user), token


def _record_failure(
    store: Store, name: str, kind: str, address: str | None, guard: LoginGuard | None
) -> None:
    """Count and audit a failed login in a transaction of its own, committed before the
    401 goes out (the failed request has nothing to roll back)."""
    with store.transaction() as session:
        if guard is not None:
            guard.failed(session, name, address)
        audit.record(
            session,
            audit.Entry(
                name or "(empty)",
                "login_failed",
                "user",
                name or "(empty)",
                summary=f"{kind} login from {address or 'an unknown address'}",
            ),
        )


def logout(session: Session, token: str) -> None:
    close_session(session, token)


def list_users(session: Session, actor: Actor) -> list[User]:
    require(actor, "user:manage")
    return list(session.execute(select(User).order_by(User.username)).scalars())
