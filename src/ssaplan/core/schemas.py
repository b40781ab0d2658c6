"""Shapes every domain's API shares: pages of items, audit records, simple acknowledgements.

Schema naming across domains (STYLE.md): ``XCreate`` / ``XUpdate`` come in, ``XPublic``
goes out, and lists are ``Page[XPublic]`` (or a subclass adding totals).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ssaplan.core.models import AuditRecord

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list of items; ``total`` counts every match when the list is paged."""

    items: list[T]
    total: int | None = None


class StrictModel(BaseModel):
    """An input that refuses fields it does not know (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


def _absent(value: Any) -> bool:
    return value is None


def optional_key(description: str | None = None) -> Any:
    """A key that a response carries only sometimes: left out (not ``null``) when the
    service does not give it, so typing a route does not add keys to its JSON."""
    return Field(None, exclude_if=_absent, description=description)


def file_response(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers with a file: the spec names its media type
    (with ``response_class=Response``) instead of an empty JSON schema."""
    return {200: {"content": {media_type: {}}, "description": description}}


class AuditPublic(BaseModel):
    """One audit record: who did what to which record, and the record before and after."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    entity_ref: str | None = None
    summary: str
    # Snapshots of whatever record was written: free-form JSON on purpose.
    before: dict[str, Any] | None = Field(json_schema_extra={"x-free-form": True})
    after: dict[str, Any] | None = Field(json_schema_extra={"x-free-form": True})


def audit_public(r: AuditRecord) -> AuditPublic:
    return AuditPublic(
        id=r.id,
        at=r.at,
        actor=r.actor,
        action=r.action,
        entity_type=r.entity_type,
        entity_id=r.entity_id,
        entity_ref=r.entity_ref,
        summary=r.summary,
        before=r.before,
        after=r.after,
    )


class AuditVerification(BaseModel):
    """Whether the audit chain is intact, and where it breaks if not."""

    ok: bool
    records: int
    first_bad_id: int | None
    reason: str


class ErrorDetailPublic(BaseModel):
    """One specific problem in an error: where (``loc``) and what is wrong there."""

    loc: list[str | int]
    msg: str


class ErrorBodyPublic(BaseModel):
    """The content of an error: its HTTP status, a stable code, a message for people."""

    status: int
    code: str
    message: str
    details: list[ErrorDetailPublic]


class ErrorEnvelope(BaseModel):
    """The one error shape every API route answers with (:func:`ssaplan.core.errors.envelope`)."""

    error: ErrorBodyPublic


# What every JSON API route can answer besides its own success, through the house:
# the login check, the permission check, the body limit, validation at the edge, and the
# domain errors a service raises (bad request, not found, conflict).
ERROR_STATUSES: dict[int, str] = {
    400: "The request cannot be processed as given",
    401: "No valid login came with the request",
    403: "The login lacks the permission for this action",
    404: "A record the request names does not exist",
    409: "The change conflicts with the record's state or with another change",
    413: "The body is larger than the configured limit (the message names the setting)",
    422: "The request is not valid (details name each field)",
}
LOGIN_ERROR_STATUSES: dict[int, str] = {
    **ERROR_STATUSES,
    429: "Too many failed logins; Retry-After says when to try again",
}
