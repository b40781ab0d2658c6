"""Shapes of monitoring results, reviews, crises, reserves and surges across the API/CLI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio.schemas import MarkingCode, ReleasableTo, Withheld

MAX_AMOUNT = 50_000_000_000
FiscalYear = Annotated[int, Field(ge=1990, le=2100)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="whole U.S. dollars")]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Recommendation = Literal["continue", "scale_up", "restructure", "suspend", "terminate"]
Trigger = Literal[
    "annual",
    "manual",
    "indicator_off_track",
    "assessment_drop",
    "legal_restriction",
    "crisis_event",
    "money_not_moving",
    "delivery_late",
]
ImmediateTrigger = Literal[
    "manual",
    "indicator_off_track",
    "assessment_drop",
    "legal_restriction",
    "crisis_event",
    "money_not_moving",
    "delivery_late",
]
ResumeStatus = Literal["approved", "notified", "obligated", "implementing"]
CrisisKind = Literal["coup", "armed_conflict", "unrest", "disaster", "attack", "other"]
Severity = Literal["moderate", "severe"]
RuleValue = bool | int | float | str | list[str]


# -- performance ---------------------------------------------------------------------
class PeriodRatingPublic(BaseModel):
    """One measured period of an indicator against its target path."""

    period: str
    measured: float
    expected: float | None
    progress: float | None = Field(description="share of the expected progress made (1 = on path)")
    status: str = Field(description="on_track, at_risk, off_track, no_target or not_rated")
    quality: str
    confidence: str


class IndicatorPerformance(BaseModel):
    """An indicator's latest status and its rated periods."""

    indicator: int
    strategy: str
    objective: int
    objective_code: str
    code: str
    name: str
    unit: str
    kind: str
    partner: str
    status: str | None
    off_track_streak: int
    latest_progress: float | None
    programs: list[str]
    periods: list[PeriodRatingPublic]


class PerformanceSummary(BaseModel):
    """How many indicators are on track, at risk, off track, or not rated yet."""

    rule: str
    indicators: int
    rated: int
    on_track: int
    at_risk: int
    off_track: int
    not_rated: int
    off_track_two_periods: int


# -- timelines ------------------------------------------------------------------------
class StageFiguresPublic(BaseModel):
    stage: str
    standard: int | None
    done: int
    median_days: float | None
    on_time_share: float | None
    late: int


class TimelineGroupPublic(BaseModel):
    """Delivery times of one program, account or agency."""

    key: str
    deliveries: int
    late: int
    stages: list[StageFiguresPublic]


class StageLatePublic(BaseModel):
    stage: str
    days: int
    standard: int
    over_by: int
    pending: bool


class LateDeliveryPublic(BaseModel):
    """A delivery with a stage past its standard."""

    program: str
    program_title: str
    account: str | None
    agency: str
    delivery: int
    name: str
    requested_on: date | None
    approved_on: date | None
    obligated_on: date | None
    delivered_on: date | None
    over_by: int
    stages: list[StageLatePublic]


class TimelinePublic(BaseModel):
    """Days from request to approval, obligation and delivery, against the standards."""

    as_of: date
    rule: str
    deliveries: int
    undated: int
    overall: TimelineGroupPublic
    by_program: list[TimelineGroupPublic]
    by_account: list[TimelineGroupPublic]
    by_agency: list[TimelineGroupPublic]
    late: list[LateDeliveryPublic]


# -- money ---------------------------------------------------------------------------
class MoneyGroupPublic(BaseModel):
    key: str
    planned: int
    obligated: int
    disbursed: int
    unobligated: int
    unliquidated: int
    obligation_rate: float | None
    disbursement_rate: float | None


class AvailabilityPublic(BaseModel):
    """Money of one account and fiscal year by its period of availability."""

    account: str
    fiscal_year: int
    obligation_ends: date
    days_left: int
    unobligated: int
    unliquidated: int
    cancels_on: date
    programs: int


class MoneyPublic(BaseModel):
    """Money pace: obligated and disbursed against planned; expiring and expired money."""

    as_of: date
    current_fy: int
    rule: str
    total: MoneyGroupPublic
    by_account: list[MoneyGroupPublic]
    by_fiscal_year: list[MoneyGroupPublic]
    expiring: list[AvailabilityPublic]
    expired: list[AvailabilityPublic]
    unliquidated: int


class MonitorSummary(BaseModel):
    """``ssaplan monitor --json``: performance and delivery timelines, with money pace."""

    as_of: date
    performance: PerformanceSummary
    off_track: list[IndicatorPerformance]
    timelines: TimelinePublic
    money: MoneyPublic
    open_reviews: int


# -- reviews ---------------------------------------------------------------------------
class BudgetChangeIn(StrictModel):
    """A new planned amount for one fiscal year and account of the program."""

    fiscal_year: FiscalYear
    account: Code | None = Field(None, description="default: the program's account")
    planned: Amount


class BudgetChangePublic(BaseModel):
    fiscal_year: int
    account: str | None
    planned_before: int
    planned_after: int


class ReviewChanges(BaseModel):
    """What a decision changed on the program."""

    status_before: str | None = None
    status_after: str | None = None
    budget: list[BudgetChangePublic] = Field(default_factory=list)


class ReviewPublic(BaseModel):
    """A review: the trigger, the recommendation and reasons, and the decision once made."""

    id: int
    program: str
    program_title: str
    program_status: str
    trigger: str
    immediate: bool
    cycle: int | None
    recommendation: str
    reasons: list[str]
    rule: str
    source: str
    status: str
    opened_by: str
    opened_at: datetime
    decision: str | None
    rationale: str
    changes: ReviewChanges
    decided_by: str | None
    decided_at: datetime | None
    version: int


class ReviewQueueItem(BaseModel):
    """An open review as ``ssaplan review --json`` lists it."""

    program: str
    trigger: str
    recommendation: Recommendation
    reasons: list[str]


class ReviewQueue(BaseModel):
    """``ssaplan review --json``: the open reviews."""

    reviews: list[ReviewQueueItem]


class ReviewOpen(StrictModel):
    """Open an immediate review of a program (any time; the compliance domain opens
    ``legal_restriction`` reviews this way). Without a recommendation the system's
    applies (the rule's, or the one the program's facts call for)."""

    program: Code
    trigger: ImmediateTrigger = "manual"
    reasons: list[Reason] = Field(min_length=1, max_length=50)
    recommendation: Recommendation | None = None


class DecisionIn(StrictModel):
    """A reviewer's decision on an open review.

    ``budget`` gives new planned amounts (scale up and restructure; required to scale
    up); ``resume_status`` the status a suspended program resumes at when it continues,
    scales up or is restructured.
    """

    decision: Recommendation
    rationale: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=8000)
    ]
    version: int = Field(ge=1, description="the review's version you read")
    budget: list[BudgetChangeIn] = Field(default_factory=list, max_length=100)
    resume_status: ResumeStatus | None = None


class AnnualIn(StrictModel):
    """Open the annual review cycle of a fiscal year."""

    fiscal_year: FiscalYear


class RunReport(BaseModel):
    """What a run of the review rules (or an annual cycle) did."""

    as_of: date
    programs_checked: int
    opened: int
    refreshed: int = Field(description="open reviews of the same trigger given new reasons")
    already_open: int
    reviews: list[ReviewPublic]


class RulePublic(BaseModel):
    """One section of the monitoring rules: its statement and its values in force."""

    section: str
    statement: str
    params: dict[str, RuleValue]
    defaults: dict[str, RuleValue]
    changed_by: str | None
    changed_at: datetime | None


class RuleChange(StrictModel):
    """New values for some keys of a section (the rest keep theirs)."""

    params: dict[Annotated[str, StringConstraints(max_length=60)], RuleValue] = Field(max_length=20)


# -- crises --------------------------------------------------------------------------
class CrisisIn(StrictModel):
    """A crisis in a partner country; reviews of the programs there open at once."""

    country: Code
    occurred_on: date
    kind: CrisisKind
    severity: Severity
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000)
    ]


class CrisisPublic(BaseModel):
    id: int
    country: str
    occurred_on: date
    kind: str
    severity: str
    description: str
    recorded_by: str
    recorded_at: datetime
    reviews_opened: int = 0


# -- reserve and surges ----------------------------------------------------------------
class ReserveIn(StrictModel):
    """The flexible reserve of an account for a fiscal year."""

    amount: Amount
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    version: int | None = Field(None, ge=1, description="required to change a stored reserve")


class ReservePublic(BaseModel):
    """A flexible reserve: what it holds, what approved surges drew, what is left."""

    account: str
    fiscal_year: int
    amount: int
    drawn: int
    requested: int = Field(description="asked for by surge requests not yet decided")
    available: int
    note: str
    set_by: str
    set_at: datetime
    version: int


class NewProgramIn(StrictModel):
    """The program an approved surge creates."""

    title: Title
    agency: Code
    start: date
    end: date
    description: Annotated[str, StringConstraints(max_length=8000)] = ""


class SurgeCreate(StrictModel):
    """A request for urgent assistance from the flexible reserve.

    It must name the strategy objective it serves and the sustainment plan that says
    who pays after the surge (the policy: short-term interventions consistent with
    long-term goals), and either a program to add the money to or a new program.
    """

    title: Title
    justification: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=8000)
    ]
    country: Code
    account: Code
    fiscal_year: FiscalYear
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
    objective: int | None = Field(None, ge=1, description="the strategy objective it serves")
    sustainment_plan: int | None = Field(None, ge=1, description="who pays after the surge")
    program: Code | None = Field(None, description="an existing program to add the money to")
    new_program: NewProgramIn | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None


class SurgeDecision(StrictModel):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    version: int = Field(ge=1)


class SurgePublic(BaseModel):
    """A surge request and what became of it.

    ``objective`` (with its title and ``strategy``) and ``sustainment_plan`` (with
    ``paid_after_surge_by``) are empty (``None``, ``""``) for a reader who may not see the
    objective's strategy, as ``program`` is for a program they may not see."""

    id: int
    title: str
    justification: str
    country: str
    account: str
    fiscal_year: int
    amount: int
    objective: int | None
    objective_title: str
    strategy: str
    sustainment_plan: int | None
    paid_after_surge_by: str
    program: str | None
    new_program: NewProgramIn | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    marking: str = "U"
    releasable_to: list[str] = Field(default_factory=list)
    version: int


class SurgeList(Page[SurgePublic]):
    """The surge requests the reader may see, and how many others match but are
    withheld from them, by reason (never which)."""

    withheld: Withheld = Field(default_factory=lambda: Withheld())
