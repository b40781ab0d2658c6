"""What the cycle's interfaces take and give: proposals, steps, pipeline, inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ssaplan.core.schemas import StrictModel
from ssaplan.portfolio.schemas import MarkingCode, ReleasableTo, Withheld

Decision = Literal["concur", "concur_with_comments", "non_concur"]
Stage = Literal[
    "draft",
    "submitted",
    "in_review",
    "revise",
    "approved",
    "notified",
    "cleared",
    "obligated",
    "rejected",
    "withdrawn",
]
MAX_DOLLARS = 100_000_000_000  # $100 billion: far above any single program


class Level(StrictModel):
    """One requested funding level: dollars a year and, optionally, its expected value
    (the allocation optimizer's score for funding the proposal at this level)."""

    annual: int = Field(ge=1, le=MAX_DOLLARS)
    value: float | None = Field(default=None, ge=0, le=1e9)


class ProposalBase(StrictModel):
    title: str = Field(min_length=3, max_length=300)
    description: str = Field(default="", max_length=5000)
    agency: str = Field(min_length=1, max_length=64)
    account: str = Field(min_length=1, max_length=64)
    country: str = Field(min_length=2, max_length=64)
    fiscal_year: int = Field(ge=2000, le=2100)
    institution_type: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=64)
    dac_code: str | None = Field(default=None, max_length=5)
    start: date
    end: date
    objectives: list[str] = Field(default_factory=list, max_length=20)
    justification: str = Field(default="", max_length=10000)
    assessment_id: int | None = Field(default=None, ge=1)
    sustainment_plan: str = Field(default="", max_length=10000)
    levels: list[Level] = Field(min_length=1, max_length=5)
    fiscal_years: list[int] = Field(min_length=1, max_length=5)
    restriction_flag: bool = False
    vetting_flag: bool = False


class ProposalCreate(ProposalBase):
    """A new proposal (a draft of the proposer's agency); unmarked (``U``, no list) unless
    ``marking`` and ``releasable_to`` say otherwise."""

    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None


class ProposalUpdate(StrictModel):
    """Changes to a draft or a proposal returned for revision; ``version`` must be the one read."""

    version: int = Field(ge=1)
    title: str | None = Field(default=None, min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    account: str | None = Field(default=None, min_length=1, max_length=64)
    country: str | None = Field(default=None, min_length=2, max_length=64)
    institution_type: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=64)
    dac_code: str | None = Field(default=None, max_length=5)
    start: date | None = None
    end: date | None = None
    objectives: list[str] | None = Field(default=None, max_length=20)
    justification: str | None = Field(default=None, max_length=10000)
    assessment_id: int | None = Field(default=None, ge=1)
    sustainment_plan: str | None = Field(default=None, max_length=10000)
    levels: list[Level] | None = Field(default=None, min_length=1, max_length=5)
    fiscal_years: list[int] | None = Field(default=None, min_length=1, max_length=5)
    restriction_flag: bool | None = None
    vetting_flag: bool | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None


class ConcurrencePublic(BaseModel):
    """One reviewer asked in one round, and their decision once given."""

    round: int
    reviewer_kind: str
    reviewer: str
    label: str
    rules: list[str]
    requested_at: datetime
    decision: Decision | None
    comment: str
    decided_by: str | None
    decided_at: datetime | None


class CommentPublic(BaseModel):
    id: int
    parent_id: int | None
    author: str
    body: str
    at: datetime


class StepPublic(BaseModel):
    from_stage: str | None
    to_stage: str
    at: datetime
    actor: str
    note: str


class NotificationPublic(BaseModel):
    """The congressional notification a proposal needs (``required`` false: none)."""

    required: bool
    rule: str | None
    authority: str
    waiting_days: int | None
    notified_on: date | None
    clears_on: date | None
    hold: bool
    hold_reason: str
    cleared_on: date | None


class ProposalPublic(BaseModel):
    """A proposal as everyone sees it, with its routing, thread and steps."""

    id: str
    title: str
    description: str
    agency: str
    agency_name: str
    account: str
    account_name: str
    country: str
    country_name: str
    region: str | None
    fiscal_year: int
    institution_type: str | None
    level: str | None
    purpose: str | None
    dac_code: str | None
    start: date
    end: date
    objectives: list[str]
    justification: str
    assessment_id: int | None
    sustainment_plan: str
    levels: list[Level]
    fiscal_years: list[int]
    requested_total: int
    restriction_flag: bool
    vetting_flag: bool
    marking: str
    releasable_to: list[str]
    stage: Stage
    stage_since: datetime
    days_in_stage: int
    round: int
    waiting_on: list[str]
    concurrences: list[ConcurrencePublic]
    comments: list[CommentPublic]
    steps: list[StepPublic]
    notification: NotificationPublic
    obligation_deadline: date | None
    obligated_on: date | None
    obligated_amount: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ProposalSummary(BaseModel):
    """One line of ``proposals list``."""

    id: str
    title: str
    agency: str
    country: str
    stage: Stage
    days_in_stage: int
    waiting_on: list[str]
    marking: str
    releasable_to: list[str]


class ProposalList(BaseModel):
    """Proposals the reader may see; ``withheld`` counts those the filter matched that
    the reader may not (by reason, never which)."""

    proposals: list[ProposalSummary]
    withheld: Withheld = Field(default_factory=lambda: Withheld())


class ConcurIn(StrictModel):
    decision: Decision
    comment: str = Field(default="", max_length=5000)


class CommentIn(StrictModel):
    body: str = Field(min_length=1, max_length=5000)
    reply_to: int | None = Field(default=None, ge=1)


class NoteIn(StrictModel):
    """A reason for a step (recall, withdraw, reject, hold)."""

    note: str = Field(default="", max_length=2000)


class NotifyIn(StrictModel):
    notified_on: date


class ClearIn(StrictModel):
    cleared_on: date


class ObligateIn(StrictModel):
    amount: int = Field(ge=1, le=MAX_DOLLARS)
    obligated_on: date


class StageStatsPublic(BaseModel):
    stage: Stage
    n: int
    median_days: float | None
    p90_days: float | None


class WaitingPublic(BaseModel):
    id: str
    stage: Stage
    days: float
    waiting_on: list[str]


class GroupStatsPublic(BaseModel):
    group: str
    stages: list[StageStatsPublic]


class TrendPublic(BaseModel):
    fiscal_year: int
    proposals: int
    obligated: int
    median_submit_to_approve: float | None
    median_submit_to_obligate: float | None


class PipelinePublic(BaseModel):
    """Time proposals spent in every stage, the longest waits now, and optional
    break-downs (``by``) and the trend across cycles, over the proposals the reader may
    see (``withheld`` counts the others of the cycle, by reason)."""

    stages: list[StageStatsPublic]
    waiting_longest: list[WaitingPublic]
    by: dict[str, list[GroupStatsPublic]] | None = None
    trend: list[TrendPublic] | None = None
    withheld: Withheld = Field(default_factory=lambda: Withheld())


InboxKind = Literal[
    "concurrence", "revision", "review", "comment", "notification", "obligation", "vetting"
]


class InboxItem(BaseModel):
    """Something waiting on the user: ``ref`` is the proposal id (``vetting-N`` for a
    vetting approval about to lapse, from the compliance register)."""

    kind: InboxKind
    ref: str
    since: datetime
    due: date | None
    title: str
    detail: str


class InboxPublic(BaseModel):
    items: list[InboxItem]


class PhasePublic(BaseModel):
    phase: str
    label: str
    starts_on: date
    ends_on: date
    current: bool


class DeadlinePublic(BaseModel):
    """Last day to obligate the fiscal year's money, by period of availability."""

    availability_years: int
    obligate_by: date | None
    accounts: list[str]


class CalendarPublic(BaseModel):
    fiscal_year: int
    phases: list[PhasePublic]
    current_phase: PhasePublic | None
    obligation_deadlines: list[DeadlinePublic]


class CandidateLevel(BaseModel):
    annual: int
    value: float


class CandidatePublic(BaseModel):
    """An approved proposal as a candidate of an allocation scenario (docs/allocation.md)."""

    id: str
    country: str
    account: str
    fiscal_years: list[int]
    must_fund: bool
    requires: list[str]
    levels: list[CandidateLevel]


class CandidateList(BaseModel):
    """The candidates the reader may see; ``withheld`` counts the others."""

    candidates: list[CandidatePublic]
    withheld: Withheld = Field(default_factory=lambda: Withheld())


class RuleReviewer(BaseModel):
    kind: str
    agency: str


class RoutingRulePublic(BaseModel):
    id: str
    accounts: list[str] | None
    min_amount: int
    when: str
    reviewers: list[RuleReviewer]
    why: str


class NotificationRulePublic(BaseModel):
    id: str
    accounts: list[str]
    min_amount: int
    waiting_days: int
    authority: str


class RulesPublic(BaseModel):
    routing: list[RoutingRulePublic]
    notification: list[NotificationRulePublic]
