"""Tables of the cross-cutting parts: users, login sessions, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.reference import models as _reference  # noqa: F401  (users.agency_id names agencies)

ROLES = ("viewer", "planner", "analyst", "admin")


class User(Base):
    """A person who uses ssaplan: belongs to one agency and holds one role.

    Roles: ``viewer`` reads; ``planner`` also writes programs of their own agency;
    ``analyst`` reads and runs analyses; ``admin`` does everything, including users
    and reference data.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


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
