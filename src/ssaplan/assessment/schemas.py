"""Shapes of assessments, frameworks and policy inputs as they cross the API.

``XCreate`` / ``XUpdate`` come in (refusing unknown fields), ``XPublic`` goes out, lists
are ``Page[XPublic]``. A policy input's ``PUT`` takes an optional ``version`` (the one
the change was based on): a stale one is refused with 409 and nothing changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ssaplan.assessment.run import MAX_DRAWS
from ssaplan.core.schemas import Page, StrictModel, optional_key

MAX_FRAMEWORK_ROWS = 1_000
MAX_FRAMEWORK_CSV = 1_000_000  # characters; a framework of a thousand rows is ~100 kB
MAX_OBJECTIVE_KEYS = 200  # the goal tree has a few dozen objectives

Name = Annotated[str, Field(max_length=200)]
BasedOn = Annotated[
    int | None,
    Field(ge=0, description="the version this change is based on; a stale one is refused (409)"),
]


# -- inputs ------------------------------------------------------------------------------
class FrameworkRowIn(StrictModel):
    """One row of a framework table (``construct`` is the JSON name of ``construct_name``;
    pydantic models keep ``construct`` for themselves)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    measure: Name = ""
    construct_name: Name = Field("", alias="construct")
    direction: int | Annotated[str, Field(max_length=20)] = 1
    measure_weight: float | Annotated[str, Field(max_length=40)] = 1.0
    construct_weight: float | Annotated[str, Field(max_length=40)] = 1.0


FrameworkRows = Annotated[list[FrameworkRowIn], Field(max_length=MAX_FRAMEWORK_ROWS)]


class RunCreate(StrictModel):
    """Run an assessment. ``framework`` names a stored one (``name`` or ``name@version``);
    ``rows`` gives an unsaved framework instead."""

    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    framework: Annotated[str, Field(max_length=120)] | None = None
    rows: FrameworkRows | None = None
    draws: Annotated[int, Field(ge=0, le=MAX_DRAWS)] = 10_000
    seed: int = 2013
    note: Annotated[str, Field(max_length=2000)] = ""


class FrameworkUpdate(StrictModel):
    """A new framework version: table rows, or the CSV text of the table.

    ``base_version`` is the version the change was based on (0: the shipped default);
    if a newer version has been saved since, the answer is 409 and nothing is saved.
    """

    rows: FrameworkRows | None = None
    csv: Annotated[str, Field(max_length=MAX_FRAMEWORK_CSV)] | None = None
    description: Annotated[str, Field(max_length=2000)] = ""
    base_version: BasedOn = None


class TierUpdate(StrictModel):
    """A country's national-security priority tier, or null to clear it."""

    tier: Annotated[int, Field(ge=1, le=4)] | None = Field(
        description="1 highest to 4 lowest national-security priority; null clears it"
    )
    rationale: Annotated[str, Field(max_length=4000)] = ""
    version: BasedOn = None


class JudgmentUpdate(StrictModel):
    """An assessor judgment of one measure, with its written rationale."""

    measure: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[float, Field(description="0 (weakest) to 10 (strongest)")]
    rationale: Annotated[str, Field(max_length=8000)]
    version: BasedOn = None


class _ObjectiveMap(BaseModel):
    """A map of objective ids to values, plus an optional ``version``.

    The objectives are the keys of the body itself (``{"G1.1": 3, "version": 2}``), as
    before versions existed; any key but ``version`` names an objective, and the service
    refuses unknown ones, naming each.
    """

    model_config = ConfigDict(extra="allow")

    version: BasedOn = None

    @model_validator(mode="after")
    def _bounded(self) -> _ObjectiveMap:
        if len(self.model_extra or {}) > MAX_OBJECTIVE_KEYS:
            raise ValueError(f"give at most {MAX_OBJECTIVE_KEYS} objectives")
        return self

    def objectives(self) -> dict[str, Any]:
        """The objectives and their values (every key but ``version``)."""
        return dict(self.model_extra or {})


class RelevanceUpdate(_ObjectiveMap):
    """A country's relevance to each objective, 0 (none) to 3 (high), replaced as a whole:
    ``{"G1.1": 3, "G2.4": 1, "version": 2}``. Objectives left out are 0."""

    __pydantic_extra__: dict[str, int] = Field(init=False)


class ImportanceUpdate(_ObjectiveMap):
    """How much objectives weigh in priority (>= 0): ``{"G1.1": 2.0, "version": 1}``;
    objectives left out keep theirs."""

    __pydantic_extra__: dict[str, float] = Field(init=False)


# -- assessments -------------------------------------------------------------------------
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


class RunSettingsPublic(BaseModel):
    """How a run was computed (see ``ssaplan.assessment.run.Settings``); a saved run also
    keeps the objectives and their importance as they were."""

    window: int
    draws: int
    concentration: float
    top_tier: float
    seed: int
    flag_below: float
    tier_weight: float
    lookback: int
    objectives: list[str] | None = optional_key("saved runs: the leaf objectives, in order")
    importance: list[float] | None = optional_key("saved runs: each objective's importance")


class QuadrantsPublic(BaseModel):
    """Where priority and propensity were split, and how many countries fell in each
    quadrant (``labels`` says what each quadrant means)."""

    propensity_cut: float | None
    priority_cut: float | None
    counts: dict[str, int]
    labels: dict[str, str]


class MismatchRowPublic(BaseModel):
    """One country's money against its merit (priority x propensity), as shares."""

    iso3: str
    funding: float
    propensity: float | None
    priority: float | None
    funding_share: float | None
    merit_share: float | None
    gap: float | None


class MismatchPublic(BaseModel):
    """Where money and merit disagree in the assessment's fiscal year."""

    fiscal_year: int
    high_cost_cut: float | None
    low_funding_cut: float | None
    high_cost_low_propensity: list[MismatchRowPublic]
    underfunded_priority: list[MismatchRowPublic]
    gaps: list[MismatchRowPublic]


class RegionRollupPublic(BaseModel):
    """Propensity, priority and money of the scored members of one region."""

    code: str
    name: str
    kind: str
    members: int
    scored: int
    flagged: int
    mean_propensity: float | None
    mean_priority: float | None
    funding: float


class DriverPublic(BaseModel):
    """A measure's part in a country's change of propensity, in points."""

    measure: str
    points: float
    previous: float | None
    current: float | None


class ChangePublic(BaseModel):
    """A country's propensity this year against last year, and what drove it."""

    iso3: str
    previous: float | None
    current: float | None
    delta: float | None
    drivers: list[DriverPublic]


class SensitivityPublic(BaseModel):
    """How the weights were varied to test the ranks."""

    draws: int
    concentration: float
    seed: int
    top_n: int


class AnalysesPublic(BaseModel):
    """The analyses a saved assessment keeps."""

    quadrants: QuadrantsPublic
    mismatch: MismatchPublic
    regions: list[RegionRollupPublic]
    changes: list[ChangePublic]
    sensitivity: SensitivityPublic
    warnings: list[str]
    funding: dict[str, float] = Field(description="planned dollars by country (ISO3)")


class AssessmentSummary(BaseModel):
    """A saved assessment's record, without its countries: for lists."""

    id: int
    year: int
    framework: str
    framework_sha256: str
    method: str
    settings: RunSettingsPublic
    countries_assessed: int
    note: str
    created_by: str
    created_at: datetime


class AssessmentPublic(BaseModel):
    """An assessment: ``{"year", "framework", "countries": [...]}`` plus its record."""

    id: int | None = None
    year: int
    framework: str
    framework_sha256: str
    method: str
    settings: RunSettingsPublic
    countries: list[CountryResult]
    warnings: list[str]
    analyses: AnalysesPublic | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    note: str | None = None
    countries_assessed: int | None = None


class MeasureExplainedPublic(BaseModel):
    """One measure's part in a country's score: the raw value, its year and source, the
    range it was scaled over, the scaled value and its contribution in points."""

    measure: str
    kind: str
    direction: int
    weight: float
    share: float
    value: float | None
    year: int | None
    source: str | None
    min: float | None
    max: float | None
    normalized: float | None
    contribution: float


class ConstructExplainedPublic(BaseModel):
    """One construct's part in a country's score, with each of its measures
    (``construct`` in JSON: pydantic models keep that name for themselves)."""

    model_config = ConfigDict(populate_by_name=True)

    construct_name: str = Field(alias="construct")
    weight: float
    share: float
    score: float | None
    contribution: float
    measures: list[MeasureExplainedPublic]


class CountryPolicyPublic(BaseModel):
    """The policy inputs behind a country's priority in a saved assessment."""

    tier: int | None
    relevance: dict[str, int] = Field(description="relevance (1-3) by objective")


class UsedJudgmentPublic(BaseModel):
    """An assessor judgment a saved assessment used, as it was then."""

    value: float
    year: int
    rationale: str
    assessed_by: str
    # Kept as the text the run stored (ISO 8601), not re-read as a timestamp.
    assessed_at: str


class CountryExplainedPublic(BaseModel):
    """One country in a saved assessment, explained down to each raw measure value."""

    iso3: str
    name: str
    propensity: float | None
    completeness: float
    flagged: bool
    rank: int | None
    constructs: list[ConstructExplainedPublic]
    assessment: AssessmentSummary
    priority: float | None
    rank_p05: int | None
    rank_p95: int | None
    p_top: float | None
    quadrant: str | None
    policy: CountryPolicyPublic
    judgments: dict[str, UsedJudgmentPublic] = Field(description="by judgment measure")
    funding: float
    change: ChangePublic | None
    scored_countries: int


class ReproductionPublic(BaseModel):
    """Whether recomputing a saved assessment from its stored inputs gave every number
    again, and the first differences if not."""

    assessment: int | None = optional_key("the assessment recomputed")
    identical: bool
    countries: int | None = optional_key("countries compared")
    differences: list[str]


# -- frameworks --------------------------------------------------------------------------
class FrameworkSummary(BaseModel):
    """A framework version, for lists (version 0 of ``default`` is the shipped one)."""

    name: str
    version: int
    label: str
    sha256: str
    measures: int
    constructs: int
    created_by: str
    created_at: datetime | None
    description: str


class ConstructWeightPublic(BaseModel):
    """A construct of a framework and its weight."""

    name: str
    weight: float


class FrameworkRowPublic(BaseModel):
    """One measure of a framework: its construct, direction and weights."""

    model_config = ConfigDict(populate_by_name=True)

    measure: str
    construct_name: str = Field(alias="construct")
    direction: int
    measure_weight: float
    construct_weight: float


class FrameworkPublic(BaseModel):
    """A framework version with its constructs and rows."""

    name: str
    version: int | None
    label: str
    sha256: str
    constructs: list[ConstructWeightPublic]
    rows: list[FrameworkRowPublic]


# -- priorities and judgments -------------------------------------------------------------
class TierPublic(BaseModel):
    """A country's priority tier as set, by whom and when."""

    tier: int
    rationale: str
    set_by: str
    set_at: datetime
    version: int


class PolicyVersions(BaseModel):
    """The current version of each policy input, to send back as ``version`` with a change
    (0: never set). A cleared tier keeps its version, so it is listed here."""

    tiers: dict[str, int]
    relevance: dict[str, int]
    importance: int


class PrioritiesPublic(BaseModel):
    """Priority tiers by country, relevance to objectives, objective importance."""

    tiers: dict[str, TierPublic]
    relevance: dict[str, dict[str, int]] = Field(description="by country, then objective")
    importance: dict[str, float] = Field(description="by objective")
    versions: PolicyVersions


class TierValuePublic(BaseModel):
    """A priority tier and its rationale."""

    tier: int
    rationale: str


class CountryTierPublic(BaseModel):
    """A country's tier after a change (null: cleared), and its new version."""

    iso3: str
    tier: TierValuePublic | None
    version: int


class CountryRelevancePublic(BaseModel):
    """A country's relevance to objectives after a change, and its new version."""

    iso3: str
    relevance: dict[str, int] = Field(description="relevance (1-3) by objective")
    version: int


class ImportancePublic(BaseModel):
    """Every objective's importance (its id as the key) and the set's new ``version``."""

    model_config = ConfigDict(extra="allow")

    version: int
    __pydantic_extra__: dict[str, float] = Field(init=False)


class JudgmentPublic(BaseModel):
    """An assessor judgment with its rationale, who made it and when."""

    iso3: str
    year: int
    measure: str
    value: float
    rationale: str
    assessed_by: str
    assessed_at: datetime
    version: int


# -- indicators --------------------------------------------------------------------------
class IndicatorMeasurePublic(BaseModel):
    """An imported measure from one source: how many values, countries and which years."""

    measure: str
    source: str
    observations: int
    countries: int
    first_year: int
    last_year: int


class ObservationPublic(BaseModel):
    """One imported value of a measure for a year."""

    measure: str
    source: str
    year: int
    value: float
    std_error: float | None


class CountryIndicatorsPublic(Page[ObservationPublic]):
    """Every imported observation of one country, by measure, source and year."""

    iso3: str


class FileReportPublic(BaseModel):
    """What one indicator file contributed."""

    file: str
    layout: str
    encoding: str
    sha256: str
    rows: int
    observations: int
    created: int
    updated: int
    unchanged: int
    missing: int
    measures: int
    countries: int


class NameIssuePublic(BaseModel):
    """A country name or code that gave no country: where first seen and how often."""

    file: str
    row: int
    name: str
    rows: int
    reason: str


class CellProblemPublic(BaseModel):
    """A cell that could not be read, or was deliberately not read."""

    file: str
    line: int
    column: str
    reason: str


class IndicatorImportPublic(BaseModel):
    """The outcome of an indicator import (the ``--json`` object of the CLI)."""

    files: int
    observations: int
    created: int
    updated: int
    unchanged: int
    measures: int
    measure_names: list[str]
    countries: int
    unmatched: list[NameIssuePublic]
    not_countries: list[NameIssuePublic]
    skipped: list[CellProblemPublic]
    ignored: list[CellProblemPublic]
    by_file: list[FileReportPublic]
