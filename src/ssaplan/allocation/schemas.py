"""Shapes of allocation scenarios, results, comparisons and jobs as they cross the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ssaplan.core.schemas import Page, StrictModel


def _free() -> Any:
    return Field(json_schema_extra={"x-free-form": True})


class ScenarioCreate(StrictModel):
    """A new scenario: its definition in the scenario file format (docs/allocation.md)."""

    definition: dict[str, Any] = Field(
        description="the scenario file format", json_schema_extra={"x-free-form": True}
    )


class ScenarioUpdate(ScenarioCreate):
    version: Annotated[int, Field(ge=1, description="the version you edited")]


class FromPortfolio(StrictModel):
    """Build a scenario from the stored portfolio and assessment, and save it."""

    fiscal_years: Annotated[str, Field(min_length=4, max_length=20, examples=["2027-2031"])]
    reserve_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    marks_percent: Annotated[float, Field(ge=0.0, le=1000.0)] = 100.0
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class BudgetChange(StrictModel):
    account: Annotated[str, Field(min_length=1, max_length=32)]
    percent: Annotated[float, Field(ge=-100.0, le=1000.0)] | None = None
    amount: Annotated[int, Field(ge=-(10**13), le=10**13)] | None = None
    fiscal_years: list[Annotated[int, Field(ge=1900, le=2200)]] | None = None


class NewRestriction(StrictModel):
    country: Annotated[str, Field(min_length=2, max_length=32)]
    account: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    fiscal_years: list[Annotated[int, Field(ge=1900, le=2200)]] | None = None


class CrisisDraw(StrictModel):
    account: Annotated[str, Field(min_length=1, max_length=32)]
    fiscal_year: Annotated[int, Field(ge=1900, le=2200)]
    amount: Annotated[int, Field(ge=0, le=10**13)]


class CapacityChange(StrictModel):
    country: Annotated[str, Field(min_length=2, max_length=32)]
    percent: Annotated[float, Field(ge=-100.0, le=1000.0)] | None = None
    to: Annotated[int, Field(ge=0, le=10**13)] | None = None


class WhatIf(StrictModel):
    """A what-if of a saved scenario, saved as a new scenario with its base."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    budget: Annotated[list[BudgetChange], Field(max_length=50)] = []
    restrictions: Annotated[list[NewRestriction], Field(max_length=50)] = []
    draws: Annotated[list[CrisisDraw], Field(max_length=50)] = []
    capacity: Annotated[list[CapacityChange], Field(max_length=50)] = []


class SolveRequest(StrictModel):
    """Solve a saved scenario in the background."""

    time_limit: Annotated[float, Field(ge=0.1, le=600.0)] = 30.0
    gap: Annotated[float, Field(ge=0.0, le=1.0)] = 1e-3
    robust: Annotated[int, Field(ge=0, le=1000, description="value draws to re-solve over")] = 0
    seed: int = 2013


class ResultHeadline(BaseModel):
    """A saved result in one line."""

    id: int
    scenario_id: int
    scenario_version: int
    name: str
    status: str
    objective: float | None
    gap: float | None
    funded: int
    spent: int
    seconds: float
    created_by: str
    created_at: datetime


class ScenarioPublic(BaseModel):
    id: int
    name: str
    description: str
    source: str
    base_id: int | None
    fiscal_years: list[int]
    candidates: int
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    latest_result: ResultHeadline | None = None
    # the scenario file format; free-form on purpose (docs/allocation.md, section 3)
    definition: dict[str, Any] | None = _free()


class ScenarioList(Page[ScenarioPublic]):
    """Saved scenarios the caller may read; ``withheld`` counts those built from (or
    naming) programs the caller may not see (docs/markings.md, "Allocation")."""

    withheld: int = 0


class ResultList(Page[ResultHeadline]):
    """Saved results the caller may read; ``withheld`` counts the others."""

    withheld: int = 0


class ResultPublic(ResultHeadline):
    """A saved result: the ``ssaplan allocate --json`` object (``result``), the scenario
    solved (``definition``), the settings, and the robust report if asked for."""

    settings: dict[str, Any] = _free()
    result: dict[str, Any] = _free()
    definition: dict[str, Any] = _free()
    robust: dict[str, Any] | None = _free()


class MovePublic(BaseModel):
    id: str
    title: str
    change: str
    annual_before: int | None
    annual_after: int | None
    reasons: list[str]


class ComparisonPublic(BaseModel):
    """What moved between two saved results, and why."""

    before_id: int
    after_id: int
    before: str
    after: str
    objective_before: float | None
    objective_after: float | None
    changes: list[str]
    moves: list[MovePublic]
    summary: str


class JobPublic(BaseModel):
    """A background solve: poll it until ``state`` is done (then read ``result_id``) or
    failed (``error`` in the error envelope's shape)."""

    id: int
    scenario_id: int
    state: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str
    settings: dict[str, Any] = _free()
    result_id: int | None
    error: dict[str, Any] | None = _free()
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
