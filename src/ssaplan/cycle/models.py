"""Tables of the planning cycle: calendars, proposals, concurrences, comments, steps."""

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
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference.models import Marked

STAGES = (
    "draft",
    "submitted",
    "in_review",
    "revise",
    "approved",
    "notified",
    "cleared",
    "obligated",
    "rejected",
    "withdrawn",
)
DECISIONS = ("concur", "concur_with_comments", "non_concur")
REVIEWER_KINDS = ("agency", "chief_of_mission", "legal")


class CyclePhase(Base):
    """One phase of a fiscal year's planning calendar (call for proposals, interagency
    review, allocation decision, notification, obligation), with its dates.

    A fiscal year's calendar is opened from the template in ``cycle/data/calendar.json``
    and may then be adjusted; ``ends_on`` is the last day of the phase.
    """

    __tablename__ = "cycle_phases"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "phase", name="uq_cycle_phases_phase"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    phase: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Proposal(Marked, Base):
    """An agency's proposal of a program for a fiscal year's cycle: everything a program
    has, plus its justification, the strategy objectives it serves, the assessment it
    relies on, its sustainment plan and the requested funding levels.

    It moves through ``STAGES``; every move is a :class:`ProposalStep`. ``code`` is the
    id people use (``FY2027-DoD-0003``). ``restriction_flag`` and ``vetting_flag`` are
    inputs (from compliance, or set by the proposer) that route it to legal review.
    ``round`` counts submissions: each resubmission asks every reviewer again.

    Its ``marking`` and ``releasable_to`` list (:class:`~ssaplan.reference.models.Marked`)
    decide who may see it (docs/markings.md); its concurrences, comments and steps are
    part of it and inherit them.
    """

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("stage IN ('" + "','".join(STAGES) + "')", name="stage_known"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    country_iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    institution_type_id: Mapped[str | None] = mapped_column(
        ForeignKey("institution_types.id"), nullable=True
    )
    level_id: Mapped[str | None] = mapped_column(ForeignKey("levels.id"), nullable=True)
    purpose_id: Mapped[str | None] = mapped_column(ForeignKey("purposes.id"), nullable=True)
    dac_code: Mapped[str | None] = mapped_column(ForeignKey("dac_codes.code"), nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    justification: Mapped[str] = mapped_column(Text, default="")
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), nullable=True
    )
    sustainment_plan: Mapped[str] = mapped_column(Text, default="")
    # Requested levels: [{"annual": dollars, "value": expected value or null}], lowest first.
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fiscal_years: Mapped[list[int]] = mapped_column(JSON, default=list)
    requested_total: Mapped[int] = mapped_column(BigInteger, default=0)
    restriction_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    vetting_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(16), index=True, default="draft")
    stage_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    round: Mapped[int] = mapped_column(Integer, default=0)
    # Congressional notification (set at approval from the rules in notification.json).
    notification_rule: Mapped[str | None] = mapped_column(String(64), nullable=True)
    waiting_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    cleared_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    obligated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    obligated_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    concurrences: Mapped[list[Concurrence]] = relationship(
        cascade="all, delete-orphan", order_by="Concurrence.id", lazy="selectin"
    )
    steps: Mapped[list[ProposalStep]] = relationship(
        cascade="all, delete-orphan", order_by="ProposalStep.id", lazy="selectin"
    )


class Concurrence(Base):
    """One reviewer's concurrence asked of a proposal in one round: an agency (``State``),
    the chief of mission of a country (``KEN``) or legal review (``legal``), the routing
    rule that asked for it, and, once given, the decision, its comment, who and when."""

    __tablename__ = "proposal_concurrences"
    __table_args__ = (
        UniqueConstraint(
            "proposal_id", "round", "reviewer_kind", "reviewer", name="uq_proposal_concurrences_who"
        ),
        CheckConstraint(
            "decision IS NULL OR decision IN ('" + "','".join(DECISIONS) + "')",
            name="decision_known",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    reviewer_kind: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(32))
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(24), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProposalComment(Base):
    """A comment on a proposal, possibly a reply to another (``parent_id``): the thread
    where proposer and reviewers work out their differences."""

    __tablename__ = "proposal_comments"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal_comments.id", ondelete="CASCADE"), nullable=True
    )
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalStep(Base):
    """One move of a proposal from a stage to the next, time-stamped, with who and why:
    the record the pipeline analytics measure time in each stage from."""

    __tablename__ = "proposal_steps"
    __table_args__ = (
        Index("ix_proposal_steps_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
