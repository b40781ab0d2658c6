"""Administration over the API: health, logins and tokens, the current user, users and
their roles, the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ssaplan import __version__
from ssaplan.admin import trail
from ssaplan.admin.schemas import (
    AuditList,
    Health,
    Me,
    RoleAssignmentPublic,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from ssaplan.core import audit
from ssaplan.core.deps import Admin, StoreDep, get_settings, requires, unit_of_work
from ssaplan.core.permissions import Actor, permissions_of
from ssaplan.core.schemas import AuditVerification, Page, audit_public
from ssaplan.core.settings import Settings
from ssaplan.core.store import current_revisions, head_revisions, utcnow
from ssaplan.core.users import (
    add_user,
    get_user,
    list_users,
    login,
    logout,
    public,
    update_user,
)

router = APIRouter(prefix="/api")


@router.get("/health", tags=["admin"])
def health(store: StoreDep) -> Health:
    """Liveness and readiness (database reachable, schema current); needs no login."""
    try:
        store.ping()
        current = head_revisions() <= current_revisions(store)
        return Health(
            status="ok" if current else "degraded",
            version=__version__,
            database=store.dialect,
            schema_current=current,
        )
    except Exception:  # noqa: BLE001 - health reports any database failure as degraded
        return Health(
            status="degraded", version=__version__, database=store.dialect, schema_current=False
        )


@router.post("/auth/token", tags=["admin"])
def create_token(
    request: Request,
    body: TokenRequest,
    store: StoreDep,
    settings: Annotated[Settings, Depends(get_settings)],
) -> TokenResponse:
    """Exchange a username and password for a bearer token (the same login as the web).

    Repeated failures are answered 429 with ``Retry-After`` (per account and per address).
    """
    user, token = login(
        store,
        body.username,
        body.password,
        kind="api",
        hours=settings.session_hours,
        address=request.client.host if request.client else None,
        guard=request.app.state.login_guard,
    )
    return TokenResponse(
        token=token,
        expires_at=utcnow() + timedelta(hours=settings.session_hours),
        user=UserPublic(**user),
    )


@router.post("/auth/logout", tags=["admin"], status_code=204)
def revoke_token(
    request: Request, store: StoreDep, actor: Annotated[Actor, Depends(requires("read"))]
) -> None:
    """End the login this request was made with."""
    with unit_of_work(store) as session:
        logout(session, request.state.session_token)


@router.get("/me", tags=["admin"])
def me(actor: Annotated[Actor, Depends(requires("read"))]) -> Me:
    """Who you are logged in as, and what you may do."""
    return Me(
        username=actor.username,
        role=actor.role,
        agency=actor.agency_id,
        roles=[
            RoleAssignmentPublic(role=g.role, scope_kind=g.kind, scope=g.scope)
            for g in actor.grants
        ],
        permissions=permissions_of(actor),
        marking_ceiling=actor.ceiling,
        audience=actor.audience,
    )


@router.get("/users", tags=["admin"])
def get_users(store: StoreDep, actor: Admin) -> Page[UserPublic]:
    """Every user (admins only)."""
    with store.session() as session:
        users = [UserPublic(**public(u)) for u in list_users(session, actor)]
        return Page[UserPublic](items=users, total=len(users))


@router.post("/users", tags=["admin"], status_code=201)
def post_user(body: UserCreate, store: StoreDep, actor: Admin) -> UserPublic:
    """Add a user (admins only)."""
    with unit_of_work(store) as session:
        user = add_user(session, actor, **body.model_dump())
        return UserPublic(**public(user))


@router.get("/users/{username}", tags=["admin"])
def get_one_user(username: str, store: StoreDep, actor: Admin) -> UserPublic:
    """One user with their role assignments and version (admins only)."""
    with store.session() as session:
        return UserPublic(**public(get_user(session, username)))


@router.patch("/users/{username}", tags=["admin"])
def patch_user(username: str, body: UserUpdate, store: StoreDep, actor: Admin) -> UserPublic:
    """Change a user's name, whether they may log in (``active``), their roles (replaced
    whole) and what they may see (``marking_ceiling``, ``audience``; admins only).
    ``version`` must be the version you read: if someone changed the user since, the
    answer is 409 and nothing changes."""
    roles = [r.model_dump() for r in body.roles] if body.roles is not None else None
    with unit_of_work(store) as session:
        user = update_user(
            session,
            actor,
            username,
            version=body.version,
            full_name=body.full_name,
            active=body.active,
            roles=roles,
            marking_ceiling=body.marking_ceiling,
            audience=body.audience,
        )
        return UserPublic(**public(user))


@router.get("/audit", tags=["admin"])
def get_audit(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("audit:read"))],
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(description="page backwards from this record id")
    ] = None,
) -> AuditList:
    """Audit records, newest first; those about a record you may not see are left out
    and counted in ``withheld`` (docs/markings.md)."""
    with store.session() as session:
        found = trail.search(
            session,
            actor,
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor_name,
            limit=limit,
            before_id=before_id,
        )
        return AuditList(items=[audit_public(r) for r in found.records], withheld=found.withheld)


@router.get("/audit/verify", tags=["admin"])
def verify_audit(
    store: StoreDep, actor: Annotated[Actor, Depends(requires("audit:read"))]
) -> AuditVerification:
    """Recompute the audit hash chain and report whether it is intact."""
    with store.session() as session:
        result = audit.verify(session)
    return AuditVerification(
        ok=result.ok,
        records=result.records,
        first_bad_id=result.first_bad_id,
        reason=result.reason,
    )


__all__ = ["router"]
