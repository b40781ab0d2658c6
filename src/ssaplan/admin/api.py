"""Administration over the API: health, logins and tokens, the current user, users and
their roles, the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ssaplan import __version__
from ssaplan.core import audit
from ssaplan.core.deps import Admin, StoreDep, get_settings, requires, unit_of_work
from ssaplan.core.permissions import Actor, permissions_of
from ssaplan.core.schemas import AuditPublic, AuditVerification, Page, audit_public
from ssaplan.core.settings import Settings
from ssaplan.core.store import current_revisions, head_revisions, utcnow
from ssaplan.core.users import add_user, list_users, login, logout, public

router = APIRouter(prefix="/api")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str
    schema_current: bool


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


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RoleAssignmentPublic(BaseModel):
    """One role a user holds, and where: ``all``, an ``agency``, a ``bureau`` or a ``country``."""

    role: str
    scope_kind: Literal["all", "agency", "bureau", "country"] = "all"
    scope: str = ""


class UserPublic(BaseModel):
    """A user as admins and the user see them (never the password hash)."""

    id: int
    username: str
    full_name: str
    agency: str
    role: str
    roles: list[RoleAssignmentPublic]
    active: bool
    version: int


class TokenResponse(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth type name, not a secret
    expires_at: datetime
    user: UserPublic


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


class Me(BaseModel):
    username: str
    role: str
    agency: str | None
    roles: list[RoleAssignmentPublic]
    permissions: list[str]


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
    )


class UserCreate(BaseModel):
    username: str
    password: str
    role: str = "viewer"
    agency: str
    full_name: str = ""


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


@router.get("/audit", tags=["admin"])
def get_audit(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("audit:read"))],
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_name: Annotated[str | None, Query(alias="actor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(description="page backwards from this record id")
    ] = None,
) -> Page[AuditPublic]:
    """Audit records, newest first."""
    with store.session() as session:
        records = audit.search(
            session,
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor_name,
            limit=limit,
            before_id=before_id,
        )
        return Page[AuditPublic](items=[audit_public(r) for r in records])


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
