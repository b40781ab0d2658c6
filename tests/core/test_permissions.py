"""Roles held within scopes, actions declared by domains, default-deny everywhere."""

from __future__ import annotations

import pytest

from ssaplan import domains
from ssaplan.core.errors import Forbidden, Invalid, StaleVersion
from ssaplan.core.permissions import (
    Actor,
    Grant,
    PermissionTable,
    Scope,
    can,
    permissions_of,
    require,
    restrict,
)
from ssaplan.core.spec import Action, Role
from ssaplan.core.store import Store
from ssaplan.core.users import actor_for, add_user, get_user, set_roles
from tests.conftest import OPERATOR


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        ("viewer", {"read", "data:export"}, {"program:write", "analysis:run", "user:manage"}),
        (
            "planner",
            {"read", "program:write", "data:import", "data:export"},
            {"analysis:run", "user:manage"},
        ),
        ("analyst", {"read", "analysis:run", "data:export"}, {"program:write", "user:manage"}),
        (
            "admin",
            {"read", "program:write", "analysis:run", "user:manage", "assessment:policy"},
            set(),
        ),
    ],
)
def test_roles_grant_exactly_their_declared_actions(
    role: str, allowed: set[str], denied: set[str]
) -> None:
    actor = Actor("u", role, "State")
    assert all(can(actor, a) for a in allowed)
    assert not any(can(actor, a) for a in denied)


def test_every_action_is_declared_by_a_registered_domain() -> None:
    declared = {a.name for d in domains.domains() for a in d.actions}
    assert {"read", "program:write", "data:import", "analysis:run"} <= declared
    admin = {a.name for d in domains.domains() for a in d.actions if "admin" in a.roles}
    assert set(permissions_of(Actor("a", "admin"))) == admin
    # Only duties that must stay with their office are kept from admins: a chief of
    # mission's concurrence and legal review (the interagency cycle's separation of duties).
    assert declared - admin == {"proposal:concur_mission", "proposal:legal"}


def test_unknown_role_unknown_action_and_no_role_are_denied() -> None:
    assert not can(Actor("u", "superuser", "State"), "read")
    assert not can(Actor("u", "admin", "State"), "launch:missiles")
    assert restrict(Actor("u", "admin"), "launch:missiles").nothing
    with pytest.raises(Forbidden, match="inactive"):
        require(Actor("u", "", "State"), "read")


def test_a_table_rejects_actions_for_undeclared_roles_and_duplicates() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        PermissionTable([Role("viewer", "")], [Action("x", ("czar",), "")])
    with pytest.raises(ValueError, match="twice"):
        PermissionTable([Role("viewer", ""), Role("viewer", "")])


def test_a_planner_writes_within_their_agency_and_its_offices_only() -> None:
    state = restrict(Actor("p", "planner", "State"), "program:write")
    assert {"State", "State/INL", "State/PM"} <= state.agencies
    assert not state.allows("DoD") and not state.allows("DoD/DSCA")
    inl = restrict(Actor("p", "planner", "State/INL"), "program:write")
    assert inl.allows("State/INL") and not inl.allows("State/PM") and not inl.allows("State")
    assert restrict(Actor("a", "admin", "DoD"), "program:write").everything
    assert restrict(Actor("v", "viewer", "State"), "program:write").nothing


def test_assignments_combine_a_planner_for_one_office_and_a_viewer_elsewhere() -> None:
    actor = Actor(
        "mixed",
        assignments=(Grant("planner", "agency", "State/INL"), Grant("viewer", "all", "")),
    )
    assert actor.role == "planner"  # the highest role held, for display
    assert can(actor, "read") and can(actor, "program:write")
    scope = restrict(actor, "program:write")
    assert scope.allows("State/INL") and not scope.allows("DoD")
    assert restrict(actor, "read").everything


def test_bureau_and_country_scopes_cover_records_whose_partners_are_all_inside() -> None:
    africa = restrict(Actor("d", assignments=(Grant("planner", "bureau", "AF"),)), "program:write")
    assert africa.allows("DoD", {"KEN", "NGA"})
    assert not africa.allows("DoD", {"KEN", "IND"})  # also covers South Asia
    assert not africa.allows("DoD", set())
    kenya = restrict(
        Actor("com", assignments=(Grant("planner", "country", "KEN"),)), "program:write"
    )
    assert kenya.allows("State", {"KEN"}) and not kenya.allows("State", {"KEN", "UGA"})
    assert Scope().nothing and not Scope().allows("State", {"KEN"})


def test_roles_are_stored_per_scope_and_replaced_with_a_version_check(store: Store) -> None:
    with store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username="ines",
            password="long-enough-pw",
            role="planner",
            agency="State/INL",
        )
    with store.session() as session:
        user = get_user(session, "ines")
        assert [(a.role, a.scope_kind, a.scope_id) for a in user.assignments] == [
            ("planner", "agency", "State/INL")
        ]
        version = user.version
    with store.transaction() as session:
        set_roles(
            session,
            OPERATOR,
            "ines",
            [
                {"role": "planner", "scope_kind": "agency", "scope": "State/INL"},
                {"role": "viewer", "scope_kind": "all", "scope": ""},
                {"role": "planner", "scope_kind": "country", "scope": "Kenya"},
            ],
            version=version,
        )
    with store.session() as session:
        actor = actor_for(get_user(session, "ines"))
    assert Grant("planner", "country", "KEN") in actor.grants
    assert restrict(actor, "program:write").allows("DoD", {"KEN"})
    with store.transaction() as session, pytest.raises(StaleVersion):
        set_roles(session, OPERATOR, "ines", [{"role": "viewer"}], version=version)


def test_bad_role_assignments_name_every_problem(store: Store) -> None:
    with store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username="jon",
            password="long-enough-pw",
            role="viewer",
            agency="DOJ",
        )
    with store.transaction() as session, pytest.raises(Invalid) as info:
        set_roles(
            session,
            OPERATOR,
            "jon",
            [
                {"role": "czar", "scope_kind": "all"},
                {"role": "planner", "scope_kind": "galaxy", "scope": "x"},
                {"role": "planner", "scope_kind": "country", "scope": "Atlantis"},
            ],
        )
    locs = {(d.loc[1], d.loc[2]) for d in info.value.details}
    assert locs == {("0", "role"), ("1", "scope_kind"), ("2", "scope")}


def test_an_inactive_user_holds_no_role(store: Store) -> None:
    with store.transaction() as session:
        user = add_user(
            session, OPERATOR, username="kim", password="long-enough-pw", role="admin", agency="DoD"
        )
        user.active = False
        session.flush()
        assert not can(actor_for(user), "read")
