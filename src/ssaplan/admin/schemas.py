"""Shapes of logins, users and their roles as they cross the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ssaplan.core.schemas import AuditPublic, Page, StrictModel

ScopeKind = Literal["all", "agency", "bureau", "country"]
MAX_ROLES = 50  # assignments of one user: a few in practice


class Health(BaseModel):
    """Whether the service is up and its database reachable and current."""

    status: Literal["ok", "degraded"]
    version: str
    database: str
    schema_current: bool


class TokenRequest(StrictModel):
    """A username and password to exchange for a bearer token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RoleAssignmentPublic(BaseModel):
    """One role a user holds, and where: ``all``, an ``agency``, a ``bureau`` or a ``country``."""

    role: str
    scope_kind: ScopeKind = "all"
    scope: str = ""


class RoleAssignmentIn(StrictModel):
    """One role to give a user, and where (``scope`` names the agency, bureau or country)."""

    role: str = Field(min_length=1, max_length=32)
    scope_kind: ScopeKind = "all"
    scope: str = Field("", max_length=200)


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
    marking_ceiling: str | None = Field(
        None, description="the highest marking the user may read; null: every marking"
    )
    audience: str | None = Field(
        None,
        description="the partner country or organization the user reads for (sees only "
        "records releasable to it); null: U.S. Government staff",
    )


class TokenResponse(BaseModel):
    """A bearer token, when it expires and whose it is."""

    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth type name, not a secret
    expires_at: datetime
    user: UserPublic


class Me(BaseModel):
    """The logged-in user, their roles and every action they may take."""

    username: str
    role: str
    agency: str | None
    roles: list[RoleAssignmentPublic]
    permissions: list[str]
    marking_ceiling: str | None = None
    audience: str | None = None


class UserCreate(StrictModel):
    """A new user with one role (planners get their agency as its scope)."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    role: str = Field("viewer", max_length=32)
    agency: str = Field(max_length=200)
    full_name: str = Field("", max_length=200)


class UserUpdate(StrictModel):
    """Changes to a user; ``version`` must be the version the change was based on.
    Fields left out stay as they are; ``roles`` replaces every assignment."""

    version: int = Field(ge=1)
    full_name: Annotated[str, Field(max_length=200)] | None = None
    active: bool | None = Field(None, description="false locks the user out")
    roles: Annotated[list[RoleAssignmentIn], Field(min_length=1, max_length=MAX_ROLES)] | None = (
        None
    )
    marking_ceiling: Annotated[str, Field(max_length=32)] | None = Field(
        None, description='a marking id (U, SBU, CUI); "" lifts the ceiling (every marking)'
    )
    audience: Annotated[str, Field(max_length=200)] | None = Field(
        None,
        description="a partner country (GBR) or organization (NATO) the user reads for; "
        '"" or "us-government" for U.S. Government staff',
    )


class AuditList(Page[AuditPublic]):
    """A page of audit records, newest first, and how many matching records (over every
    page) are about records the reader may not see: left out, counted, never named."""

    withheld: int = Field(
        0, description="matching audit records about records the reader may not see"
    )
