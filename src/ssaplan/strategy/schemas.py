"""Shapes of strategies, results frameworks and measurements as they cross the API and CLI.

``XCreate`` / ``XUpdate`` come in (unknown fields refused, every value bounded);
``XPublic`` goes out. Codes (country, region, agency, goal-tree objective, program)
arrive as strings and are resolved by the service, so names work as well as ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio.schemas import MarkingCode, ReleasableTo, Withheld

MIN_FY, MAX_FY = 1990, 2100
MAX_AMOUNT = 50_000_000_000  # dollars; as the portfolio's bound on one line
MAX_VALUE = 1e12  # an indicator value beyond this is a unit error
MAX_OBJECTIVES = 50
MAX_INDICATORS = 50
MAX_TARGETS = 40
MAX_PROGRAMS = 500
MAX_BREAKDOWNS = 6

FiscalYear = Annotated[int, Field(ge=MIN_FY, le=MAX_FY)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="whole U.S. dollars")]
Value = Annotated[float, Field(ge=-MAX_VALUE, le=MAX_VALUE, allow_inf_nan=False)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^\S+$")
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
PeriodLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=16)]
Dimension = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z][a-z0-9_]{0,39}$"),
]
StrategyCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.\-]*$"
    ),
]
Kind = Literal["effectiveness", "performance"]
Direction = Literal["increase", "decrease"]
Frequency = Literal["annual", "semiannual", "quarterly", "monthly"]
Quality = Literal["A", "B", "C", "D"]
Confidence = Literal["high", "medium", "low"]
CommitmentKind = Literal["cost_share", "legislation", "personnel", "other"]
CommitmentStatus = Literal["pending", "met", "missed"]
StrategyStatus = Literal["draft", "active", "closed"]
# (tests/strategy/test_schemas.py checks these literals against the models' vocabularies)


# -- indicators -----------------------------------------------------------------------
class TargetIn(StrictModel):
    """The value an indicator should reach by the end of a fiscal year."""

    fiscal_year: FiscalYear
    value: Value


class IndicatorIn(StrictModel):
    """An indicator of an objective. Targets need a baseline (value and period)."""

    code: ShortCode | None = Field(None, description="e.g. 1.a; default: the next number")
    name: Title
    kind: Kind = Field(description="measure of effectiveness or of performance")
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    direction: Direction = "increase"
    baseline_value: Value | None = None
    baseline_period: PeriodLabel | None = Field(None, description="e.g. FY2025 or FY2025-Q4")
    data_source: Line = ""
    frequency: Frequency = "annual"
    disaggregations: list[Dimension] = Field(
        default_factory=list,
        max_length=MAX_BREAKDOWNS,
        description="how values are broken down, e.g. institution, region, sex",
    )
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_TARGETS)


class IndicatorCreate(IndicatorIn):
    """A new indicator of a stored objective."""

    objective: int = Field(ge=1, description="the strategy objective's id")


class IndicatorUpdate(StrictModel):
    """Changes to an indicator; lists (targets, disaggregations) are replaced whole."""

    name: Title | None = None
    kind: Kind | None = None
    unit: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] | None
    ) = None
    direction: Direction | None = None
    baseline_value: Value | None = None
    baseline_period: PeriodLabel | None = None
    data_source: Line | None = None
    frequency: Frequency | None = None
    disaggregations: list[Dimension] | None = Field(None, max_length=MAX_BREAKDOWNS)
    targets: list[TargetIn] | None = Field(None, max_length=MAX_TARGETS)
    version: int = Field(ge=1)


class TargetPublic(BaseModel):
    fiscal_year: int
    value: float


class IndicatorPublic(BaseModel):
    """An indicator with its baseline and targets."""

    id: int
    objective: int
    strategy: str
    code: str
    name: str
    kind: str
    unit: str
    direction: str
    baseline_value: float | None
    baseline_period: str | None
    data_source: str
    frequency: str
    disaggregations: list[str]
    targets: list[TargetPublic]
    version: int


# -- sustainment ---------------------------------------------------------------------
class ShareIn(StrictModel):
    """The partner's share of the sustainment cost in one fiscal year."""

    fiscal_year: FiscalYear
    share_bp: Annotated[int, Field(ge=0, le=10_000, description="basis points; 10000 = all")]


class SustainmentIn(StrictModel):
    """How what an objective builds is sustained: cost, partner shares, transition."""

    life_cycle_cost: Amount
    transition_on: date = Field(description="the day the partner takes over")
    paid_by: Title = Field(description="who pays after the transition")
    description: LongText = ""
    partner_shares: list[ShareIn] = Field(default_factory=list, max_length=MAX_TARGETS)


class SustainmentCreate(SustainmentIn):
    """A sustainment plan for a stored objective (one per objective)."""

    objective: int = Field(ge=1)


class SustainmentUpdate(StrictModel):
    life_cycle_cost: Amount | None = None
    transition_on: date | None = None
    paid_by: Title | None = None
    description: LongText | None = None
    partner_shares: list[ShareIn] | None = Field(None, max_length=MAX_TARGETS)
    version: int = Field(ge=1)


class SharePublic(BaseModel):
    fiscal_year: int
    share_bp: int


class SustainmentPublic(BaseModel):
    """A sustainment plan."""

    id: int
    objective: int
    strategy: str
    life_cycle_cost: int
    transition_on: date
    paid_by: str
    description: str
    partner_shares: list[SharePublic]
    version: int


# -- objectives ----------------------------------------------------------------------
class ObjectiveIn(StrictModel):
    """An objective of a strategy, tied to the policy's goal tree."""

    code: ShortCode | None = Field(None, description="e.g. 1; default: the next number")
    title: Title
    goal_objective: Code = Field(description="objective of the goal tree, e.g. G1.2")
    description: LongText = ""
    assumptions: LongText = Field("", description="what must hold for the theory of change")
    programs: list[Code] = Field(
        default_factory=list, max_length=MAX_PROGRAMS, description="ids of programs serving it"
    )
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=MAX_INDICATORS)
    sustainment: SustainmentIn | None = None


class ObjectiveCreate(ObjectiveIn):
    """A new objective of a stored strategy."""

    strategy: Code = Field(description="the strategy's id")


class ObjectiveUpdate(StrictModel):
    """Changes to an objective; ``programs`` replaces the linked programs whole."""

    title: Title | None = None
    goal_objective: Code | None = None
    description: LongText | None = None
    assumptions: LongText | None = None
    programs: list[Code] | None = Field(None, max_length=MAX_PROGRAMS)
    version: int = Field(ge=1)


class ObjectivePublic(BaseModel):
    """An objective with its indicators, sustainment plan and programs."""

    id: int
    strategy: str
    code: str
    title: str
    goal_objective: str
    goal_objective_name: str
    description: str
    assumptions: str
    programs: list[str]
    indicators: list[IndicatorPublic]
    sustainment: SustainmentPublic | None
    version: int


# -- commitments ---------------------------------------------------------------------
class CommitmentIn(StrictModel):
    """A partner commitment: cost share (``amount``), legislation, personnel, other."""

    kind: CommitmentKind
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=4000
    )
    fiscal_year: FiscalYear | None = None
    amount: Amount | None = Field(None, description="cost share in dollars")
    personnel: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    due_on: date | None = None
    status: CommitmentStatus = "pending"


class CommitmentCreate(CommitmentIn):
    strategy: Code


class CommitmentUpdate(StrictModel):
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
        | None
    ) = None
    fiscal_year: FiscalYear | None = None
    amount: Amount | None = None
    personnel: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    due_on: date | None = None
    status: CommitmentStatus | None = None
    version: int = Field(ge=1)


class CommitmentPublic(BaseModel):
    id: int
    strategy: str
    kind: str
    description: str
    fiscal_year: int | None
    amount: int | None
    personnel: int | None
    due_on: date | None
    status: str
    version: int


# -- strategies ----------------------------------------------------------------------
class StrategyCreate(StrictModel):
    """A new strategy for one country or one region, optionally with its whole results
    framework (objectives with indicators, sustainment and programs; commitments)."""

    id: StrategyCode | None = Field(None, description="default: PARTNER-FIRST-LAST")
    title: Title
    country: Code | None = Field(None, description="partner country (a country strategy)")
    region: Code | None = Field(None, description="region or bureau (a regional strategy)")
    agency: Code
    first_fy: FiscalYear
    last_fy: FiscalYear
    theory_of_change: LongText = ""
    status: StrategyStatus = "draft"
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None
    objectives: list[ObjectiveIn] = Field(default_factory=list, max_length=MAX_OBJECTIVES)
    commitments: list[CommitmentIn] = Field(default_factory=list, max_length=200)


class StrategyUpdate(StrictModel):
    """Changes to a strategy's own fields (``id`` renames it)."""

    id: StrategyCode | None = None
    title: Title | None = None
    agency: Code | None = None
    first_fy: FiscalYear | None = None
    last_fy: FiscalYear | None = None
    theory_of_change: LongText | None = None
    status: StrategyStatus | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None
    version: int = Field(ge=1)


class FundingYear(BaseModel):
    """The strategy partner's share of the linked programs' money in one fiscal year,
    beside the partner's cost-share commitments of that year."""

    fiscal_year: int
    planned: int
    obligated: int
    disbursed: int
    partner_cost_share: int


class ObjectiveFunding(BaseModel):
    """An objective's share of the linked programs' money (a program serving several
    objectives of the strategy is split equally among them)."""

    objective: int
    code: str
    planned: int
    obligated: int
    disbursed: int


class StrategyPublic(BaseModel):
    """A strategy with its results framework and its funding by year."""

    id: str
    title: str
    kind: str
    country: str | None
    region: str | None
    partner_name: str
    agency: str
    first_fy: int
    last_fy: int
    theory_of_change: str
    status: str
    marking: str
    releasable_to: list[str]
    objectives: list[ObjectivePublic]
    commitments: list[CommitmentPublic]
    funding: list[FundingYear]
    funding_by_objective: list[ObjectiveFunding]
    programs: int
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class StrategySummary(BaseModel):
    """A strategy in a list."""

    id: str
    title: str
    kind: str
    country: str | None
    region: str | None
    partner_name: str
    agency: str
    first_fy: int
    last_fy: int
    status: str
    marking: str
    releasable_to: list[str]
    objectives: int
    indicators: int
    programs: int
    version: int


class StrategyList(Page[StrategySummary]):
    """A list of strategies; ``total`` counts those the reader may see, ``withheld`` those
    the filter matched but the reader may not (by reason, never which)."""

    total: int
    withheld: Withheld = Field(default_factory=lambda: Withheld())


# -- measurements --------------------------------------------------------------------
Breakdown = Annotated[
    dict[
        Dimension,
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)],
    ],
    Field(max_length=MAX_BREAKDOWNS),
]


class MeasurementIn(StrictModel):
    """One value of an indicator for a period and breakdown (empty: the total)."""

    indicator: int = Field(ge=1)
    period: PeriodLabel
    value: Value
    disaggregation: Breakdown = Field(default_factory=dict)
    quality: Quality = Field(
        description="A verified independently, B documented by the partner, "
        "C reported without documentation, D estimate or proxy"
    )
    confidence: Confidence
    source: Line = ""
    note: Annotated[str, StringConstraints(max_length=4000)] = ""
    collected_on: date | None = None


class MeasurementUpdate(StrictModel):
    value: Value | None = None
    quality: Quality | None = None
    confidence: Confidence | None = None
    source: Line | None = None
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None
    collected_on: date | None = None
    version: int = Field(ge=1)


class MeasurementBatch(StrictModel):
    """Many measurements at once, all or nothing."""

    items: list[MeasurementIn] = Field(min_length=1, max_length=20_000)


class MeasurementPublic(BaseModel):
    """A stored measurement."""

    id: int
    indicator: int
    strategy: str
    period: str
    disaggregation: dict[str, str]
    value: float
    quality: str
    confidence: str
    source: str
    note: str
    collected_on: date | None
    entered_by: str
    entered_at: datetime
    version: int


class ImportReport(BaseModel):
    """What a measurement import did."""

    file: str
    rows: int
    created: int
    updated: int
    unchanged: int
