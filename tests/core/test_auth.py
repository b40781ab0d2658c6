"""Passwords, users and logins."""

from __future__ import annotations

import pytest

from ssaplan.core.auth import hash_password, verify_password
from ssaplan.core.errors import Conflict, Forbidden, Invalid, Unauthenticated
from ssaplan.core.models import User
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import add_user, authenticate
from tests.conftest import OPERATOR


def test_passwords_are_hashed_and_checked() -> None:
    digest = hash_password("correct horse battery")
    assert "correct" not in digest
    assert verify_password(digest, "correct horse battery")
    assert not verify_password(digest, "wrong horse battery")
    assert not verify_password("not-a-hash", "anything")


def test_add_user_reports_every_problem_at_once(store: Store) -> None:
    with store.transaction() as session, pytest.raises(Invalid) as info:
        add_user(
            session, OPERATOR, username="Bad Name", password="short", role="czar", agency="Nowhere"
        )
    fields = {d.loc[0] for d in info.value.details}
    assert fields == {"username", "password", "role", "agency"}


def test_duplicate_user_is_a_conflict_and_login_is_generic(store: Store) -> None:
    with store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username="carol",
            password="long-enough-pw",
            role="viewer",
            agency="usaid",
        )
    with store.transaction() as session, pytest.raises(Conflict):
        add_user(
            session,
            OPERATOR,
            username="carol",
            password="long-enough-pw",
            role="viewer",
            agency="USAID",
        )
    with store.session() as session:
        user = authenticate(session, "carol", "long-enough-pw")
        assert isinstance(user, User) and user.agency_id == "USAID"
        with pytest.raises(Unauthenticated) as wrong_pw:
            authenticate(session, "carol", "nope-nope-nope")
        with pytest.raises(Unauthenticated) as no_user:
            authenticate(session, "nobody", "nope-nope-nope")
    assert wrong_pw.value.message == no_user.value.message


def test_only_admins_add_users(store: Store) -> None:
    with store.transaction() as session, pytest.raises(Forbidden):
        add_user(
            session,
            Actor("p", "planner", "State"),
            username="dave",
            password="long-enough-pw",
            role="admin",
            agency="State",
        )


def test_the_production_cost_is_rfc_9106_and_its_floor_is_owasps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from ssaplan.core.settings import Settings

    for name in ("SSAPLAN_ARGON2_TIME_COST", "SSAPLAN_ARGON2_MEMORY_KIB"):
        monkeypatch.delenv(name, raising=False)
    default = Settings()
    assert (default.argon2_time_cost, default.argon2_memory_kib) == (3, 65536)
    production = {
        "environment": "production",
        "secret_key": "k" * 40,
        "cookie_secure": True,
    }
    Settings(**production)  # the defaults pass
    with pytest.raises(ValidationError, match="SSAPLAN_ARGON2_MEMORY_KIB must be at least"):
        Settings(**production, argon2_memory_kib=1024)
    with pytest.raises(ValidationError, match="SSAPLAN_ARGON2_TIME_COST at least 2"):
        Settings(**production, argon2_time_cost=1)


def test_a_hash_keeps_its_own_cost_so_a_changed_setting_still_verifies() -> None:
    from argon2 import PasswordHasher

    strong = PasswordHasher(time_cost=3, memory_cost=65536).hash("correct horse battery")
    assert "m=65536,t=3" in strong
    assert verify_password(strong, "correct horse battery")  # verified at the tests' low cost
    assert "m=1024,t=1" in hash_password("correct horse battery")  # what conftest asked for
    # The demo's published passwords are hashed cheaply whatever the settings say.
    assert "m=1024,t=1" in hash_password("admin-demo-pass", published=True)


def test_a_token_gives_its_user_s_actor_with_every_grant_until_it_ends(store: Store) -> None:
    """The per-request look-up (one statement) gives what the user's record gives: every
    role assignment in order, the ceiling and audience; nothing once the user is
    deactivated or the login has expired."""
    from datetime import timedelta

    from sqlalchemy import delete, update

    from ssaplan.core.models import AuthSession, RoleAssignment
    from ssaplan.core.store import utcnow
    from ssaplan.core.users import (
        actor_for,
        actor_for_token,
        get_user,
        login,
        set_active,
        set_roles,
        update_user,
    )

    with store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username="dana",
            password="long-enough-pw",
            role="viewer",
            agency="DOS",
        )
        set_roles(
            session,
            OPERATOR,
            "dana",
            [
                {"role": "planner", "scope_kind": "agency", "scope": "DOS"},
                {"role": "reviewer", "scope_kind": "country", "scope": "KEN"},
            ],
        )
        update_user(
            session,
            OPERATOR,
            "dana",
            version=get_user(session, "dana").version,
            marking_ceiling="SBU",
            audience="GBR",
        )
    _, token = login(store, "dana", "long-enough-pw", kind="api", hours=1)
    with store.session() as session:
        got = actor_for_token(session, token)
        assert got == actor_for(get_user(session, "dana"))
        assert got is not None and got.ceiling == "SBU" and got.audience == "GBR"
        assert [(g.role, g.scope) for g in got.grants] == [
            ("planner", "State"),
            ("reviewer", "KEN"),
        ]
        assert actor_for_token(session, "not-a-token") is None
        assert actor_for_token(session, None) is None
    with store.transaction() as session:  # not possible through the service: defensive
        session.execute(delete(RoleAssignment))
    with store.session() as session:
        bare = actor_for_token(session, token)
        assert bare is not None and bare.grants == () and bare.username == "dana"
    with store.transaction() as session:
        session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    with store.session() as session:
        assert actor_for_token(session, token) is None
    _, fresh = login(store, "dana", "long-enough-pw", kind="api", hours=1)
    with store.transaction() as session:
        set_active(session, OPERATOR, "dana", False)
    with store.session() as session:
        assert actor_for_token(session, fresh) is None
