"""Shapes of assessments, frameworks and policy inputs as they cross the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ssaplan.assessment.run import MAX_DRAWS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FrameworkRowIn(_Strict):
    """One row of a framework table (``construct`` is the JSON name of ``construct_name``;
    pydantic models keep ``construct`` for themselves)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    measure: str = ""
    construct_name: str = Field("", alias="construct")
    direction: int | str = 1
    measure_weight: float | str = 1.0
    construct_weight: float | str = 1.0


class RunRequest(_Strict):
    """Run an assessment. ``framework`` names a stored one (``name`` or ``name@version``);
    ``rows`` gives an unsaved framework instead."""

    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    framework: str | None = None
    rows: list[FrameworkRowIn] | None = None
    draws: Annotated[int, Field(ge=0, le=MAX_DRAWS)] = 10_000
    seed: int = 2013
    note: Annotated[str, Field(max_length=2000)] = ""


class CountryResult(BaseModel):
    """One country's result: the contract of ``ssaplan assess --json`` (null where undefined)."""

    iso3: str
    name: str
    propensity: float | None
    priority: float | None
    completeness: float
    flagged: bool
    constructs: dict[str, float | None]
    rank: int | None
    rank_p05: int | None
    rank_p95: int | None
    p_top: float | None
    quadrant: str | None
    funding: float


class AssessmentOut(BaseModel):
    """An assessment: ``{"year", "framework", "countries": [...]}`` plus its record."""

    id: int | None = None
    year: int
    framework: str
    framework_sha256: str
    method: str
    settings: dict[str, Any]
    countries: list[CountryResult]
    warnings: list[str]
    analyses: dict[str, Any] | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    note: str | None = None
    countries_assessed: int | None = None


class FrameworkIn(_Strict):
    """A new framework version: table rows, or the CSV text of the table."""

    rows: list[FrameworkRowIn] | None = None
    csv: str | None = None
    description: Annotated[str, Field(max_length=2000)] = ""


class TierIn(_Strict):
    tier: Annotated[int, Field(ge=1, le=4)] | None = Field(
        description="1 highest to 4 lowest national-security priority; null clears it"
    )
    rationale: Annotated[str, Field(max_length=4000)] = ""


class JudgmentIn(_Strict):
    measure: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[float, Field(description="0 (weakest) to 10 (strongest)")]
    rationale: Annotated[str, Field(max_length=8000)]
