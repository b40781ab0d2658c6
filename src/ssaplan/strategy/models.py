"""Tables of the strategy domain: sector strategies and their results frameworks.

A strategy holds objectives; an objective holds indicators (with yearly targets), one
sustainment plan and links to the programs that serve it; a strategy holds the
partner's commitments; an indicator holds its measurements.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.portfolio import models as _portfolio  # noqa: F401  (programs, named by our links)
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference.models import Marked

STRATEGY_KINDS = ("country", "regional")
STRATEGY_STATUSES = ("draft", "active", "closed")
INDICATOR_KINDS = ("effectiveness", "performance")  # measures of effectiveness / performance
DIRECTIONS = ("increase", "decrease")
FREQUENCIES = ("annual", "semiannual", "quarterly", "monthly")
COMMITMENT_KINDS = ("cost_share", "legislation", "personnel", "other")
COMMITMENT_STATUSES = ("pending", "met", "missed")
QUALITY_GRADES = ("A", "B", "C", "D")
CONFIDENCE = ("high", "medium", "low")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "','".join(values) + "')"


class Strategy(Marked, Base):
    """A multi-year sector strategy for one partner country or one region: what the
    U.S. government means to achieve there over several fiscal years, why it expects
    its programs to get there (the theory of change), and what the partner commits.

    ``code`` is the human-readable id (``KEN-2026-2030``), renamable; ``id`` is the
    surrogate key links point at. ``agency_id`` is the agency that owns the strategy
    (it decides who may edit it, as for programs).

    Its ``marking`` and ``releasable_to`` list (:class:`~ssaplan.reference.models.Marked`)
    decide who may read it; its objectives, indicators, measurements, sustainment plans
    and partner commitments are part of it and are shown only with it.
    """

    __tablename__ = "strategies"
    __table_args__ = (
        CheckConstraint("last_fy >= first_fy", name="years_ordered"),
        CheckConstraint(_in("kind", STRATEGY_KINDS), name="kind_known"),
        CheckConstraint(_in("status", STRATEGY_STATUSES), name="status_known"),
        CheckConstraint(
            "(kind = 'country' AND iso3 IS NOT NULL AND region_code IS NULL) OR "
            "(kind = 'regional' AND region_code IS NOT NULL AND iso3 IS NULL)",
            name="one_partner",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    iso3: Mapped[str | None] = mapped_column(
        ForeignKey("countries.iso3"), nullable=True, index=True
    )
    region_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), nullable=True, index=True
    )
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    first_fy: Mapped[int] = mapped_column(Integer)
    last_fy: Mapped[int] = mapped_column(Integer)
    theory_of_change: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objectives: Mapped[list[StrategyObjective]] = relationship(
        cascade="all, delete-orphan",
        order_by="(StrategyObjective.position, StrategyObjective.id)",
        lazy="selectin",
    )
    commitments: Mapped[list[PartnerCommitment]] = relationship(
        cascade="all, delete-orphan", order_by="PartnerCommitment.id", lazy="selectin"
    )


class StrategyObjective(Base):
    """One objective of a strategy, tied to an objective of the policy's goal tree
    (``G1.2`` ...): a result the partner should reach, with the assumptions that must
    hold for the programs serving it to get there."""

    __tablename__ = "strategy_objectives"
    __table_args__ = (
        UniqueConstraint("strategy_id", "code", name="uq_strategy_objectives_code"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategies.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    goal_objective_id: Mapped[str] = mapped_column(ForeignKey("objectives.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    assumptions: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    indicators: Mapped[list[Indicator]] = relationship(
        cascade="all, delete-orphan", order_by="Indicator.id", lazy="selectin"
    )
    programs: Mapped[list[ObjectiveProgram]] = relationship(
        cascade="all, delete-orphan", order_by="ObjectiveProgram.program_id", lazy="selectin"
    )
    sustainment: Mapped[SustainmentPlan | None] = relationship(
        cascade="all, delete-orphan", lazy="selectin", uselist=False
    )


class Indicator(Base):
    """A measure of an objective: of effectiveness (did the partner's capability
    change?) or of performance (did the programs deliver?), with its unit, baseline,
    yearly targets, where the data comes from, how often it is collected and how it
    is broken down (by institution, region, sex, ...)."""

    __tablename__ = "strategy_indicators"
    __table_args__ = (
        UniqueConstraint("objective_id", "code", name="uq_strategy_indicators_code"),
        CheckConstraint(_in("kind", INDICATOR_KINDS), name="kind_known"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction_known"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency_known"),
        # A baseline is a value and the period it was measured in, or neither.
        CheckConstraint(
            "(baseline_value IS NULL) = (baseline_period IS NULL)", name="baseline_whole"
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_objectives.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(60))
    direction: Mapped[str] = mapped_column(String(10), default="increase")
    baseline_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_period: Mapped[str | None] = mapped_column(String(16), nullable=True)
    data_source: Mapped[str] = mapped_column(String(300), default="")
    frequency: Mapped[str] = mapped_column(String(12), default="annual")
    disaggregations: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)

    targets: Mapped[list[IndicatorTarget]] = relationship(
        cascade="all, delete-orphan", order_by="IndicatorTarget.fiscal_year", lazy="selectin"
    )


class IndicatorTarget(Base):
    """The value an indicator should reach by the end of one fiscal year."""

    __tablename__ = "strategy_indicator_targets"

    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_indicators.id", ondelete="CASCADE"), primary_key=True
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class PartnerCommitment(Base):
    """What the partner government commits to under a strategy: a cost share (dollars
    in a fiscal year), legislation to pass, personnel to assign, or another undertaking,
    and whether it was met."""

    __tablename__ = "strategy_commitments"
    __table_args__ = (
        CheckConstraint(_in("kind", COMMITMENT_KINDS), name="kind_known"),
        CheckConstraint(_in("status", COMMITMENT_STATUSES), name="status_known"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    personnel: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    version: Mapped[int] = mapped_column(Integer, default=1)


class SustainmentPlan(Base):
    """How what an objective builds is kept up after U.S. funding ends: its life-cycle
    cost, the partner's share of the cost year by year, the day the partner takes it
    over and who pays then. One per objective."""

    __tablename__ = "strategy_sustainment_plans"
    __table_args__ = (
        CheckConstraint("life_cycle_cost >= 0", name="cost_non_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_objectives.id", ondelete="CASCADE"), unique=True
    )
    life_cycle_cost: Mapped[int] = mapped_column(BigInteger)
    transition_on: Mapped[date] = mapped_column(Date)
    paid_by: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    shares: Mapped[list[SustainmentShare]] = relationship(
        cascade="all, delete-orphan", order_by="SustainmentShare.fiscal_year", lazy="selectin"
    )


class SustainmentShare(Base):
    """The partner's share of a sustainment plan's cost in one fiscal year, in basis
    points (10,000 = the partner pays everything)."""

    __tablename__ = "strategy_sustainment_shares"
    __table_args__ = (CheckConstraint("share_bp BETWEEN 0 AND 10000", name="share_range"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_sustainment_plans.id", ondelete="CASCADE"), primary_key=True
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    share_bp: Mapped[int] = mapped_column(Integer)


class ObjectiveProgram(Base):
    """A program of the portfolio serving a strategy objective (by the program's
    surrogate id, so the link survives renames)."""

    __tablename__ = "strategy_objective_programs"

    objective_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_objectives.id", ondelete="CASCADE"), primary_key=True
    )
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Measurement(Base):
    """One value of an indicator for one period (``FY2026``, ``FY2026-Q3``) and one
    breakdown (``{"sex": "female"}``; empty for the total), with how good the data is:
    a quality grade (A verified ... D estimate) and the collector's confidence.

    ``disaggregation_key`` is the breakdown as sorted ``name=value`` pairs joined by
    ``;`` (``""`` for the total), so one period has one value per breakdown.
    """

    __tablename__ = "strategy_measurements"
    __table_args__ = (
        UniqueConstraint(
            "indicator_id", "period", "disaggregation_key", name="uq_strategy_measurements_key"
        ),
        CheckConstraint(_in("quality", QUALITY_GRADES), name="quality_known"),
        CheckConstraint(_in("confidence", CONFIDENCE), name="confidence_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_indicators.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(16))
    disaggregation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disaggregation_key: Mapped[str] = mapped_column(String(300), default="")
    value: Mapped[float] = mapped_column(Float)
    quality: Mapped[str] = mapped_column(String(1))
    confidence: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    collected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
