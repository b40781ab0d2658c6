"""Tables of the assessment domain: indicators, frameworks, policy inputs, assessments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
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

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class IndicatorObservation(Base):
    """One published value about a partner country: a measure (``WGI rule of law``)
    from a source (``World Bank WGI``) for a country and year, as imported.

    The key is (country, year, measure, source): importing a newer edition of a file
    updates values in place instead of adding duplicates.
    """

    __tablename__ = "indicator_observations"
    __table_args__ = (
        UniqueConstraint("iso3", "year", "measure", "source", name="uq_indicator_observations_key"),
        Index("ix_indicator_observations_measure_year", "measure", "year"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"))
    year: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    std_error: Mapped[float | None] = mapped_column(Float, nullable=True)
    origin: Mapped[str] = mapped_column(String(300), default="")  # the file it came from
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FrameworkVersion(Base):
    """One version of an assessment framework: the measures that make up each construct,
    their direction and weights. Versions are never changed, only added, so every
    assessment can name the exact framework it used."""

    __tablename__ = "assessment_frameworks"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_assessment_frameworks_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rows: Mapped[list[FrameworkMeasure]] = relationship(
        cascade="all, delete-orphan", order_by="FrameworkMeasure.position", lazy="selectin"
    )


class FrameworkMeasure(Base):
    """A measure of a framework version: its construct, direction and weights."""

    __tablename__ = "assessment_framework_measures"
    __table_args__ = (CheckConstraint("direction IN (1, -1)", name="direction_sign"),)

    framework_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_frameworks.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(200))
    construct: Mapped[str] = mapped_column(String(200))
    direction: Mapped[int] = mapped_column(Integer)
    measure_weight: Mapped[float] = mapped_column(Float)
    construct_weight: Mapped[float] = mapped_column(Float)


class PriorityTier(Base):
    """The national-security priority tier policy users give a partner country:
    1 is the highest priority, 4 the lowest. Countries without a tier have no priority.

    A cleared tier keeps its row (``tier`` null) so its ``version`` keeps counting: a
    change based on a tier that was since cleared and set again is still seen as stale.
    """

    __tablename__ = "assessment_priority_tiers"
    __table_args__ = (CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),)

    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True)
    tier: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rationale: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ObjectiveRelevance(Base):
    """How much a partner country matters to one objective of the goal tree:
    0 none, 1 low, 2 medium, 3 high. Absent rows mean 0."""

    __tablename__ = "assessment_objective_relevance"
    __table_args__ = (CheckConstraint("relevance BETWEEN 0 AND 3", name="relevance_range"),)

    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True)
    objective_id: Mapped[str] = mapped_column(ForeignKey("objectives.id"), primary_key=True)
    relevance: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObjectiveRelevanceSet(Base):
    """The version of a partner country's relevance to objectives, which is set as a
    whole (its :class:`ObjectiveRelevance` rows are replaced together): who set it last
    and when. Kept when the country's relevance is emptied, so versions never repeat."""

    __tablename__ = "assessment_relevance_sets"

    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObjectiveImportance(Base):
    """How much one objective of the goal tree weighs in priority, as policy users set it
    (objectives without a row use the shipped default)."""

    __tablename__ = "assessment_objective_importance"
    __table_args__ = (CheckConstraint("importance >= 0", name="importance_non_negative"),)

    objective_id: Mapped[str] = mapped_column(ForeignKey("objectives.id"), primary_key=True)
    importance: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObjectiveImportanceSet(Base):
    """The version of the objective importance policy users set (one row: the set of
    :class:`ObjectiveImportance` values as a whole), who changed it last and when."""

    __tablename__ = "assessment_importance_sets"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Judgment(Base):
    """An assessor's judgment of a partner on a ``judgment: ...`` measure for one year
    (political will, sustainment capacity, ...), always with its written rationale."""

    __tablename__ = "assessment_judgments"
    __table_args__ = (
        UniqueConstraint("iso3", "year", "measure", name="uq_assessment_judgments_key"),
        CheckConstraint("value >= 0 AND value <= 10", name="value_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text)
    assessed_by: Mapped[str] = mapped_column(String(64))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Assessment(Base):
    """A saved assessment run: for one year, by whom, under which framework (a full
    copy of its rows), with which method settings and seed, and its analyses. With its
    country rows it holds every input, so it can be recomputed and checked."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    method: Mapped[str] = mapped_column(String(32), default="default")
    framework_name: Mapped[str] = mapped_column(String(100))
    framework_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    framework_sha256: Mapped[str] = mapped_column(String(64))
    framework_rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # window, draws, seed, ...
    analyses: Mapped[dict[str, Any]] = mapped_column(JSON)  # quadrants, mismatch, regions, ...
    countries_assessed: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    countries: Mapped[list[AssessmentCountry]] = relationship(
        cascade="all, delete-orphan", order_by="AssessmentCountry.iso3", lazy="selectin"
    )


class AssessmentCountry(Base):
    """One country's result in a saved assessment, with the inputs that produced it:
    every measure's raw value, year and source, the assessor judgments with their
    rationale, and the policy inputs behind its priority."""

    __tablename__ = "assessment_countries"

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    iso3: Mapped[str] = mapped_column(ForeignKey("countries.iso3"), primary_key=True)
    propensity: Mapped[float | None] = mapped_column(Float, nullable=True)
    priority: Mapped[float | None] = mapped_column(Float, nullable=True)
    completeness: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank_p05: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank_p95: Mapped[int | None] = mapped_column(Integer, nullable=True)
    p_top: Mapped[float | None] = mapped_column(Float, nullable=True)
    quadrant: Mapped[str | None] = mapped_column(String(32), nullable=True)
    constructs: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # measure -> [value, year, source]
    judgments: Mapped[dict[str, Any]] = mapped_column(JSON)  # measure -> value, rationale, by
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # tier, relevance by objective
