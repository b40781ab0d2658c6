"""Programs of the shared portfolio, their partners, objectives, budgets and deliveries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)

# A partner's share of a program in basis points: all partners of a program sum to this.
FULL_SHARE = 10_000

# The pipeline a program moves along; suspended and terminated can happen at any point.
PIPELINE = ("proposed", "approved", "notified", "obligated", "implementing", "completed")
STATUSES = (*PIPELINE, "suspended", "terminated")


class Program(Base):
    """A security sector assistance program: one agency's funded effort with one or more
    partners, serving objectives of the goal tree, budgeted by fiscal year and account.

    ``id`` is the surrogate key every other record points at; it is never reused.
    ``code`` is the human-readable identifier people and files use (an import's id
    column, an IATI identifier, or one ssaplan assigns such as ``STATE-NGA-2026-0007``,
    shown as ``id`` on every interface); it can be renamed without touching any
    reference. ``account_id`` is the program's main account, the default for budget
    lines that name none. ``version`` grows with every update; an update that carries
    an older version is refused (optimistic locking). ``marking`` and ``releasable_to``
    decide who may see it (``portfolio/visibility.py``).
    """

    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("status IN ('" + "','".join(STATUSES) + "')", name="status_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), nullable=True, index=True
    )
    institution_type_id: Mapped[str | None] = mapped_column(
        ForeignKey("institution_types.id"), nullable=True
    )
    level_id: Mapped[str | None] = mapped_column(ForeignKey("levels.id"), nullable=True)
    purpose_id: Mapped[str | None] = mapped_column(ForeignKey("purposes.id"), nullable=True)
    dac_code: Mapped[str | None] = mapped_column(ForeignKey("dac_codes.code"), nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    marking: Mapped[str] = mapped_column(ForeignKey("markings.id"), default="U")
    # The partners and organizations the program may be disclosed to besides the U.S.
    # Government, stored ";GBR;NATO;" ("" for none; see portfolio/visibility.py). Its
    # budget lines, deliveries and milestones inherit marking and releasability.
    releasable_to: Mapped[str] = mapped_column(String(400), default="", server_default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    countries: Mapped[list[ProgramCountry]] = relationship(
        cascade="all, delete-orphan", order_by="ProgramCountry.iso3", lazy="selectin"
    )
    regions: Mapped[list[ProgramRegion]] = relationship(
        cascade="all, delete-orphan", order_by="ProgramRegion.region_code", lazy="selectin"
    )
    objectives: Mapped[list[ProgramObjective]] = relationship(
        cascade="all, delete-orphan", order_by="ProgramObjective.objective_id", lazy="selectin"
    )
    budget: Mapped[list[BudgetLine]] = relationship(
        cascade="all, delete-orphan",
        order_by="(BudgetLine.fiscal_year, BudgetLine.id)",
        lazy="selectin",
    )
    milestones: Mapped[list[Milestone]] = relationship(
        cascade="all, delete-orphan", order_by="Milestone.id", lazy="selectin"
    )


class ProgramCountry(Base):
    """A partner country of a program (cross-border programs have several) and its share
    of the program's money, in basis points (the shares of all partners sum to 10,000)."""

    __tablename__ = "program_countries"
    __table_args__ = (CheckConstraint("share_bp BETWEEN 0 AND 10000", name="share_range"),)

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True, index=True)
    share_bp: Mapped[int] = mapped_column(Integer, default=0)


class ProgramRegion(Base):
    """A regional partner of a program (a region or regional organization as a whole) and
    its share of the program's money in basis points."""

    __tablename__ = "program_regions"
    __table_args__ = (CheckConstraint("share_bp BETWEEN 0 AND 10000", name="share_range"),)

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code"), primary_key=True, index=True
    )
    share_bp: Mapped[int] = mapped_column(Integer, default=0)


class ProgramObjective(Base):
    """An objective of the goal tree that a program serves."""

    __tablename__ = "program_objectives"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    objective_id: Mapped[str] = mapped_column(
        ForeignKey("objectives.id"), primary_key=True, index=True
    )


class BudgetLine(Base):
    """A program's money in one fiscal year from one funding account, in whole U.S.
    dollars. A line keeps its ``id`` when its amounts are edited."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("planned >= 0 AND obligated >= 0 AND disbursed >= 0", name="non_negative"),
        UniqueConstraint("program_id", "fiscal_year", "account_id", name="uq_budget_lines_key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id"), nullable=True, index=True
    )
    planned: Mapped[int] = mapped_column(BigInteger, default=0)
    obligated: Mapped[int] = mapped_column(BigInteger, default=0)
    disbursed: Mapped[int] = mapped_column(BigInteger, default=0)


class Milestone(Base):
    """One delivery of a program (equipment case, course, advisor team): the dates it was
    requested, approved, obligated and delivered, for request-to-delivery timelines.
    A delivery keeps its ``id`` when edited, so records elsewhere can point at it."""

    __tablename__ = "milestones"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    requested_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    approved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    obligated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
