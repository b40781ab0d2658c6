"""Tables of the monitoring domain: reviews and their decisions, rule settings, crisis
events, the flexible reserve and surge requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.monitoring.rules import RECOMMENDATIONS, TRIGGERS
from ssaplan.portfolio import models as _portfolio  # noqa: F401  (programs our reviews name)
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference.models import Marked
from ssaplan.strategy import models as _strategy  # noqa: F401  (objectives surges serve)

REVIEW_STATUSES = ("open", "decided", "superseded")
CRISIS_KINDS = ("coup", "armed_conflict", "unrest", "disaster", "attack", "other")
SEVERITIES = ("moderate", "severe")
SURGE_STATUSES = ("requested", "approved", "refused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "','".join(values) + "')"


class Review(Base):
    """A review of whether a program should continue, scale up, be restructured,
    suspended or terminated: raised by a rule (immediately) or by the annual cycle, with
    the system's recommendation and reasons, and — once decided — the reviewer's
    decision, rationale and what it changed (status, budget lines).

    While open, ``open_key`` holds the trigger: a program has at most one open review
    per trigger. ``cycle`` is the fiscal year of an annual review (one per program per
    cycle).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("program_id", "open_key", name="uq_reviews_open"),
        UniqueConstraint("program_id", "cycle", name="uq_reviews_cycle"),
        CheckConstraint(_in("trigger", TRIGGERS), name="trigger_known"),
        CheckConstraint(_in("status", REVIEW_STATUSES), name="status_known"),
        CheckConstraint(_in("recommendation", RECOMMENDATIONS), name="recommendation_known"),
        CheckConstraint(
            "decision IS NULL OR " + _in("decision", RECOMMENDATIONS), name="decision_known"
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(32))
    immediate: Mapped[bool] = mapped_column(Boolean, default=True)
    cycle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    open_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    recommendation: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rationale: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class MonitoringSetting(Base):
    """Values an admin set for one section of the monitoring rules (merged over the
    shipped defaults of ``data/rules.toml``)."""

    __tablename__ = "monitoring_settings"

    section: Mapped[str] = mapped_column(String(64), primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrisisEvent(Base):
    """A crisis in a partner country — a coup, armed conflict, unrest, disaster, attack —
    that calls the programs there into review."""

    __tablename__ = "crisis_events"
    __table_args__ = (
        CheckConstraint(_in("kind", CRISIS_KINDS), name="kind_known"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlexibleReserve(Base):
    """Money of one account and fiscal year held back for urgent, short-notice needs
    (the policy's "flexible security sector assistance"); surges draw on it."""

    __tablename__ = "flexible_reserves"
    __table_args__ = (
        UniqueConstraint("account_id", "fiscal_year", name="uq_flexible_reserves_key"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class SurgeRequest(Marked, Base):
    """A request for urgent assistance drawn on the flexible reserve. It must name the
    strategy objective it serves and the sustainment plan that says who pays after the
    surge; approved, it creates a program (``new_program``) or adds money to one.

    It carries its own marking and releasable-to list (a crisis request is often more
    sensitive than the program it becomes): readers who may not see it find it in no
    list and get 404 for its id (docs/markings.md)."""

    __tablename__ = "surge_requests"
    __table_args__ = (
        CheckConstraint(_in("status", SURGE_STATUSES), name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    justification: Mapped[str] = mapped_column(Text)
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    objective_id: Mapped[int] = mapped_column(ForeignKey("strategy_objectives.id"), index=True)
    sustainment_plan_id: Mapped[int] = mapped_column(ForeignKey("strategy_sustainment_plans.id"))
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), nullable=True
    )
    new_program: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="requested", index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
