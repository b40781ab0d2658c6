"""Tables of the evaluation registry: evaluations, their effect estimates, recommendations
with management responses, and documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssaplan.core.store import Base, UTCDateTime, utcnow
from ssaplan.portfolio import models as _portfolio  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference import models as _reference  # noqa: F401  (tables our foreign keys name)
from ssaplan.reference.models import Marked

EVALUATION_TYPES = ("process", "performance", "impact")
EVALUATION_STATUSES = ("planned", "ongoing", "completed", "cancelled")
# Who evaluates, from the program's point of view: its own staff; an evaluation office of
# the agency that does not manage the program; a third party under contract or grant
# (the "external" evaluations of the Foreign Aid Transparency and Accountability Act 2016).
INDEPENDENCE = ("internal", "independent_office", "external")
RESPONSES = ("pending", "accepted", "partially_accepted", "rejected")
# How an effect was estimated: the engine's methods, then designs evaluations use elsewhere.
ESTIMATE_METHODS = (
    "cs",
    "sa",
    "twfe",
    "synth",
    "randomized",
    "regression_discontinuity",
    "matching",
    "interrupted_time_series",
    "before_after",
    "other",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ('" + "','".join(values) + "')"


class Evaluation(Marked, Base):
    """A planned or completed evaluation of a program (or of an objective of the goal
    tree across programs): what it asks, how, by whom, when, what it found, and what
    management answered.

    ``code`` (``EV-00042``) is how people and files name it; it is derived from the
    surrogate ``id`` and never reused. The kind of program it informs (institution
    type x purpose) is copied from the program when not given, so the evidence base
    keeps it if the program is later changed or deleted. ``version`` grows with every
    update (optimistic locking).

    Its ``marking`` and ``releasable_to`` list (:class:`~ssaplan.reference.models.Marked`)
    decide who may read it, and so whose evidence base its estimate enters; its
    estimates, recommendations and documents are shown only with it.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint(_in("evaluation_type", EVALUATION_TYPES), name="type_known"),
        CheckConstraint(_in("status", EVALUATION_STATUSES), name="status_known"),
        CheckConstraint(_in("independence", INDEPENDENCE), name="independence_known"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="dates_ordered",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    evaluation_type: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    objective_id: Mapped[str | None] = mapped_column(
        ForeignKey("objectives.id"), nullable=True, index=True
    )
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    institution_type_id: Mapped[str | None] = mapped_column(
        ForeignKey("institution_types.id"), nullable=True
    )
    purpose_id: Mapped[str | None] = mapped_column(ForeignKey("purposes.id"), nullable=True)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    design: Mapped[str] = mapped_column(Text, default="")
    evaluator: Mapped[str] = mapped_column(String(300), default="")
    independence: Mapped[str] = mapped_column(String(24), default="internal")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    report_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    findings: Mapped[str] = mapped_column(Text, default="")
    management_response: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    estimates: Mapped[list[EffectEstimate]] = relationship(
        cascade="all, delete-orphan", order_by="EffectEstimate.position", lazy="selectin"
    )
    recommendations: Mapped[list[Recommendation]] = relationship(
        cascade="all, delete-orphan", order_by="Recommendation.position", lazy="selectin"
    )
    documents: Mapped[list[EvaluationDocument]] = relationship(
        cascade="all, delete-orphan", order_by="EvaluationDocument.position", lazy="selectin"
    )


class EffectEstimate(Base):
    """One effect an evaluation estimated: on which outcome, in which unit, by which
    method, with its uncertainty (a standard error, a confidence interval, or both).

    ``outcome_sd`` (the outcome's standard deviation among the comparison units, in
    ``unit``) and ``direction`` (1 when more of the outcome is better, -1 when less
    is) put estimates on one scale, standardized improvement, so the evidence base
    can pool them; ``primary`` marks the one estimate of the evaluation that enters
    the evidence base (estimates of one evaluation are not independent).
    """

    __tablename__ = "evaluation_estimates"
    __table_args__ = (
        CheckConstraint("direction IN (1, -1)", name="direction_sign"),
        CheckConstraint("std_error IS NULL OR std_error > 0", name="std_error_positive"),
        CheckConstraint("outcome_sd IS NULL OR outcome_sd > 0", name="outcome_sd_positive"),
        CheckConstraint("ci_level > 0 AND ci_level < 1", name="ci_level_range"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(40))
    estimate: Mapped[float] = mapped_column(Float)
    std_error: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_level: Mapped[float] = mapped_column(Float, default=0.95)
    outcome_sd: Mapped[float | None] = mapped_column(Float, nullable=True)
    direction: Mapped[int] = mapped_column(Integer, default=1)
    # "primary" is a reserved word in SQL: the column is named for what it means.
    primary: Mapped[bool] = mapped_column("is_primary", Boolean, default=False)
    n_treated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_control: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # The engine's result behind the estimate when ssaplan computed it (``as_dict()`` of a
    # did or synth result, placebo paths left out): the pages draw its event study or
    # synthetic-control paths. Free-form on purpose: its shape is the engine's.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Recommendation(Base):
    """A recommendation of an evaluation and management's response to it: accepted,
    partially accepted or rejected (pending until answered), with the action promised
    and its due date."""

    __tablename__ = "evaluation_recommendations"
    __table_args__ = (
        CheckConstraint(_in("response", RESPONSES), name="response_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(String(24), default="pending")
    response_text: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class EvaluationDocument(Base):
    """A document of an evaluation (terms of reference, inception report, final report):
    its title and where it is, a link or the metadata of a file stored elsewhere
    (name, media type, size, SHA-256). ssaplan keeps no file bodies."""

    __tablename__ = "evaluation_documents"
    __table_args__ = (
        CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size_non_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    filename: Mapped[str | None] = mapped_column(String(300), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
