"""Tables of allocation: saved scenarios, their results, and the solves running on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ssaplan.core.store import Base, UTCDateTime, utcnow

SOURCES = ("file", "portfolio", "form", "api", "whatif", "demo")
JOB_STATES = ("queued", "running", "done", "failed")


class AllocationScenario(Base):
    """A saved allocation scenario: the budgets by account and fiscal year, the limits
    and the candidate programs with their funding levels, in the scenario file format
    (``definition``), as a planner set them up -- a baseline, or a what-if of one
    (``base_id``). ``version`` grows with every edit; a stale edit is refused.
    ``computed_for`` says whose view of the portfolio a built scenario sums; a reader
    who may not see one of those programs may not read it (docs/markings.md)."""

    __tablename__ = "allocation_scenarios"
    __table_args__ = (
        CheckConstraint("source IN ('" + "','".join(SOURCES) + "')", name="source_known"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    base_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_scenarios.id", ondelete="SET NULL"), nullable=True
    )
    first_fy: Mapped[int] = mapped_column(Integer)
    last_fy: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The audience a scenario built from the portfolio was computed for
    # (visibility.audience_json); None for one typed, uploaded or sent whole.
    computed_for: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllocationRun(Base):
    """One solve of a saved scenario: which programs the optimizer funds at which level,
    the budgets used with their shadow prices, the greedy comparison, and the exact
    scenario solved (``definition``, a copy), so two results can be compared later
    even after the scenario was edited."""

    __tablename__ = "allocation_results"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_scenarios.id", ondelete="CASCADE"), index=True
    )
    scenario_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    funded: Mapped[int] = mapped_column(Integer)
    spent: Mapped[int] = mapped_column(BigInteger)  # dollars over all years
    seconds: Mapped[float] = mapped_column(Float)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # AllocationResult.as_dict()
    choice: Mapped[list[int]] = mapped_column(JSON)  # level per candidate, -1 unfunded
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    robust: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllocationJob(Base):
    """A solve running in the background: asked for by whom, how far it has got
    (``progress`` 0-1 and a line saying what it is doing), and its result or error.
    Kept in the database so that any app server can answer a poll."""

    __tablename__ = "allocation_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('" + "','".join(JOB_STATES) + "')", name="state_known"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_scenarios.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_results.id", ondelete="SET NULL"), nullable=True
    )
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
