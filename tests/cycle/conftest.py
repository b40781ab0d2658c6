"""Builders for the planning-cycle tests: actors of every role, a proposal, a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ssaplan.core.permissions import Actor, Grant
from ssaplan.core.store import Store
from ssaplan.core.users import add_user, get_user, set_roles
from ssaplan.cycle.schemas import ProposalCreate
from ssaplan.cycle.service import CycleService
from tests.conftest import OPERATOR, PASSWORD

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    """``days`` after T0."""
    return T0 + timedelta(days=days)


def actor(
    name: str, role: str, agency: str, kind: str = "agency", scope: str | None = None
) -> Actor:
    grant = Grant(role, kind, agency if scope is None and kind == "agency" else (scope or ""))  # type: ignore[arg-type]
    if role in ("admin", "coordinator", "legal") and kind == "agency":
        grant = Grant(role, "all", "")
    # Reviewers, chiefs of mission, legal and coordinators also read (as viewers).
    extra = (Grant("viewer", "all", ""),) if role not in ("viewer", "planner", "admin") else ()
    return Actor(name, role, agency, None, (grant, *extra))


DOD_PLANNER = actor("dod-planner", "planner", "DoD/DSCA")
INL_PLANNER = actor("inl-planner", "planner", "State/INL")
STATE_REVIEWER = actor("state-reviewer", "reviewer", "State/PM")
DOD_REVIEWER = actor("dod-reviewer", "reviewer", "DoD")
DOJ_REVIEWER = actor("doj-reviewer", "reviewer", "DOJ")
COM_KEN = actor("com-ken", "chief_of_mission", "State", "country", "KEN")
COM_GHA = actor("com-gha", "chief_of_mission", "State", "country", "GHA")
LEGAL = actor("legal", "legal", "State")
COORDINATOR = actor("coordinator", "coordinator", "State/F")
VIEWER = actor("viewer", "viewer", "DOJ", "all", "")


def proposal_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Maritime border security for the Kenya Navy",
        "description": "Boarding teams and patrol-boat maintenance.",
        "agency": "DoD/DSCA",
        "account": "10USC333",
        "country": "KEN",
        "fiscal_year": 2027,
        "institution_type": "border_management",
        "level": "national",
        "purpose": "build_capacity",
        "dac_code": "15210",
        "start": "2026-10-01",
        "end": "2028-09-30",
        "objectives": ["G1.5"],
        "justification": "Piracy and trafficking off the coast; the navy asked for help.",
        "sustainment_plan": "Kenya budgets maintenance from FY2029; U.S. trains trainers.",
        "levels": [{"annual": 2_000_000, "value": 3.0}, {"annual": 4_000_000, "value": 5.0}],
        "fiscal_years": [2027, 2028],
    }
    data.update(overrides)
    return data


def create(store: Store, who: Actor = DOD_PLANNER, when: float = 0, **overrides: Any) -> str:
    with store.transaction() as session:
        body = ProposalCreate.model_validate(proposal_data(**overrides))
        return CycleService(session, who, now=at(when)).create(body).id


def step(store: Store, who: Actor, when: float, method: str, *args: Any, **kw: Any) -> Any:
    """Run one service step as ``who`` at T0 + ``when`` days, in its own transaction."""
    with store.transaction() as session:
        return getattr(CycleService(session, who, now=at(when)), method)(*args, **kw)


def read(store: Store, code: str, when: float = 0) -> Any:
    with store.session() as session:
        return CycleService(session, VIEWER, now=at(when)).get(code)


def db_user(
    store: Store,
    username: str,
    role: str,
    agency: str,
    scope_kind: str | None = None,
    scope: str | None = None,
) -> None:
    with store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username=username,
            password=PASSWORD,
            role=role,
            agency=agency,
            scope_kind=scope_kind,
            scope=scope,
        )
        if role not in ("viewer", "planner", "admin"):
            user = set_roles_of(session, username)
            assert user


def set_roles_of(session: Any, username: str) -> Any:
    """Add a viewer assignment next to the user's own role (to read what they review)."""
    user = get_user(session, username)
    roles = [
        {"role": a.role, "scope_kind": a.scope_kind, "scope": a.scope_id} for a in user.assignments
    ]
    return set_roles(
        session, OPERATOR, username, [*roles, {"role": "viewer", "scope_kind": "all", "scope": ""}]
    )
