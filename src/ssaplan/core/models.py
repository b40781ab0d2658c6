"""Tables of the cross-cutting parts: users, login sessions, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow

# ``users.agency_id`` names a row of ``agencies``, a table the reference package owns and
# loads; core refers to it by name only and reaches agencies through
# ``ssaplan.core.permissions.Directory``.


class User(Base):
    """A person who uses ssaplan: belongs to one home agency and holds role assignments.

    What they may do is the union of their :class:`RoleAssignment` rows (a planner for
    State/INL may also be a viewer everywhere); ``active`` false locks them out.

    What they may *see* is bounded by ``marking_ceiling`` (the highest marking they may
    read, a ``markings`` id; empty for every marking) and ``audience`` (a partner country
    or organization code for a foreign liaison, who then sees only records releasable to
    it; empty for U.S. Government staff).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    marking_ceiling: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audience: Mapped[str | None] = mapped_column(String(16), nullable=True)

    assignments: Mapped[list[RoleAssignment]] = relationship(
        cascade="all, delete-orphan", order_by="RoleAssignment.id", lazy="selectin"
    )


class RoleAssignment(Base):
    """One role a user holds within a scope: everything (``all``), an agency with its
    bureaus (``agency``), a regional bureau or other region (``bureau``), or a partner
    country (``country``, e.g. a chief of mission)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "role", "scope_kind", "scope_id", name="uq_role_assignments_scope"
        ),
        CheckConstraint(
            "scope_kind IN ('all','agency','bureau','country')", name="scope_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    scope_kind: Mapped[str] = mapped_column(String(8), default="all")
    scope_id: Mapped[str] = mapped_column(String(64), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(64), default="")


class AuthSession(Base):
    """A login: a web session (cookie) or an API token. Only a hash of the secret is kept."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "web" or "api"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRecord(Base):
    """One write, as it happened: who, when, what, and the thing before and after.

    Records form a hash chain (each hash covers the record and the previous hash) so
    that ``ssaplan audit verify`` detects any record changed or removed afterwards.
    """

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    # The stable identity behind entity_id (e.g. "program:42"), kept across renames.
    entity_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of the audit chain: one row, locked by each writer so the chain stays linear."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class AppSetting(Base):
    """A value the installation keeps in its database (e.g. the generated local secret)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoginFailure(Base):
    """One failed login, counted against a key (``account:NAME`` or ``address:IP``).

    Kept in the database so every worker and every server sharing it enforces one budget
    (:mod:`ssaplan.core.logins`). Bounded: rows older than the window are pruned on each
    write, each key keeps at most its limit of rows, and the table at most
    :data:`ssaplan.core.logins.MAX_ROWS`.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
