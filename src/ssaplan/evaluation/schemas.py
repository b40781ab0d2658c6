"""What the evaluation registry and the evidence base take in and give out.

``EvaluationCreate`` / ``EvaluationUpdate`` come in, ``EvaluationPublic`` goes out, lists
are ``Page[EvaluationSummary]``. Every text and list is bounded; numbers must be finite.
Checks that need the database or the catalog (does the program exist, is the agency
known) are the service's; checks of one field or one estimate are here.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio.schemas import MarkingCode, ReleasableTo, Withheld

EvaluationType = Literal["process", "performance", "impact"]
EvaluationStatus = Literal["planned", "ongoing", "completed", "cancelled"]
Independence = Literal["internal", "independent_office", "external"]
Response = Literal["pending", "accepted", "partially_accepted", "rejected"]
EstimateMethod = Literal[
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
]

MAX_ESTIMATES = 50
MAX_RECOMMENDATIONS = 100
MAX_DOCUMENTS = 100
MAX_QUESTIONS = 50
#: The largest stored analysis (the engine's result as JSON), in characters.
MAX_ANALYSIS_CHARS = 1_000_000

Title = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(max_length=20_000)]
Question = Annotated[str, Field(min_length=1, max_length=2_000)]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _finite(value: float | None, name: str) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return value


class EstimateIn(StrictModel):
    """One effect an evaluation estimated, with its uncertainty.

    Give ``std_error``, or a confidence interval (``ci_low``, ``ci_high`` at
    ``ci_level``), or both. ``outcome_sd`` (the outcome's SD among comparison units)
    and ``direction`` (1: more is better; -1: less is better) put the estimate on the
    evidence base's common scale; ``primary`` marks the one estimate that enters it.
    """

    outcome: Title
    unit: Annotated[str, Field(min_length=1, max_length=100)]
    method: EstimateMethod
    estimate: float
    std_error: Annotated[float, Field(gt=0)] | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: Annotated[float, Field(gt=0, lt=1)] = 0.95
    outcome_sd: Annotated[float, Field(gt=0)] | None = None
    direction: Literal[1, -1] = 1
    primary: bool = False
    n_treated: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    n_control: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    note: Annotated[str, Field(max_length=4_000)] = ""
    analysis: dict[str, Any] | None = Field(
        default=None,
        description="the engine's result behind the estimate (for the charts)",
        json_schema_extra={"x-free-form": True},
    )

    @field_validator("estimate", "std_error", "ci_low", "ci_high", "outcome_sd")
    @classmethod
    def _is_finite(cls, value: float | None, info: ValidationInfo) -> float | None:
        return _finite(value, str(info.field_name))

    @model_validator(mode="after")
    def _uncertainty(self) -> EstimateIn:
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("give both ci_low and ci_high, or neither")
        if self.ci_low is not None and self.ci_high is not None:
            if not self.ci_low <= self.estimate <= self.ci_high:
                raise ValueError(
                    f"the interval [{self.ci_low}, {self.ci_high}] must contain the estimate "
                    f"{self.estimate}"
                )
            if self.ci_low == self.ci_high:
                raise ValueError("the interval has no width: give the standard error instead")
        elif self.std_error is None:
            raise ValueError(
                "an effect estimate needs its uncertainty: give std_error or ci_low and ci_high"
            )
        return self


class EstimatePublic(BaseModel):
    """An effect estimate as stored, with its standardized value when it has one."""

    outcome: str
    unit: str
    method: str
    estimate: float
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    ci_level: float
    outcome_sd: float | None
    direction: int
    primary: bool
    n_treated: int | None
    n_control: int | None
    note: str
    standardized: float | None = Field(
        description="direction x estimate / outcome_sd: improvement in SDs of the outcome"
    )
    standardized_se: float | None
    analysis: dict[str, Any] | None = Field(json_schema_extra={"x-free-form": True})


class RecommendationIn(StrictModel):
    """A recommendation and management's response (pending until answered)."""

    text: Annotated[str, Field(min_length=1, max_length=4_000)]
    response: Response = "pending"
    response_text: Annotated[str, Field(max_length=4_000)] = ""
    action: Annotated[str, Field(max_length=4_000)] = ""
    due_date: date | None = None


class RecommendationPublic(BaseModel):
    """A recommendation with management's response."""

    text: str
    response: str
    response_text: str
    action: str
    due_date: date | None


class DocumentIn(StrictModel):
    """A document of an evaluation: a link, or the metadata of a file kept elsewhere."""

    title: Title
    url: Annotated[str, Field(max_length=2_000)] | None = None
    filename: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    media_type: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    size_bytes: Annotated[int, Field(ge=0, le=10**13)] | None = None
    sha256: Annotated[str, Field(max_length=64)] | None = None

    @field_validator("url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("a document link must start with https:// or http://")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value):
            raise ValueError("sha256 must be 64 lower-case hexadecimal digits")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> DocumentIn:
        if self.url is None and self.filename is None:
            raise ValueError("a document needs a url or a filename")
        return self


class DocumentPublic(BaseModel):
    """A document's title and where it is."""

    title: str
    url: str | None
    filename: str | None
    media_type: str | None
    size_bytes: int | None
    sha256: str | None


def _distinct(value: list[str] | None) -> list[str] | None:
    if value is not None and len({q.strip() for q in value}) < len(value):
        raise ValueError("a question appears twice")
    return value


class EvaluationCreate(StrictModel):
    """A new evaluation of a program (``program``: its id) or of an objective.

    ``agency`` defaults to the program's; ``institution_type`` and ``purpose`` (the kind
    of program the evidence informs) to the program's. A planned evaluation has no
    findings or estimates yet; a completed one records its findings and report date.
    """

    title: Title
    evaluation_type: EvaluationType
    status: EvaluationStatus = "planned"
    program: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    objective: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    agency: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    institution_type: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    purpose: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    questions: Annotated[list[Question], Field(max_length=MAX_QUESTIONS)] = []
    design: LongText = ""
    evaluator: Annotated[str, Field(max_length=300)] = ""
    independence: Independence = "internal"
    start_date: date | None = None
    end_date: date | None = None
    report_date: date | None = None
    findings: LongText = ""
    management_response: LongText = ""
    estimates: Annotated[list[EstimateIn], Field(max_length=MAX_ESTIMATES)] = []
    recommendations: Annotated[list[RecommendationIn], Field(max_length=MAX_RECOMMENDATIONS)] = []
    documents: Annotated[list[DocumentIn], Field(max_length=MAX_DOCUMENTS)] = []
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None

    _questions = field_validator("questions")(_distinct)


class EvaluationUpdate(StrictModel):
    """A change to an evaluation: the fields given replace the stored ones (lists whole).

    ``version`` must be the version you read; ``program``/``objective`` ``null`` unlinks.
    """

    version: Annotated[int, Field(ge=1)]
    title: Title | None = None
    evaluation_type: EvaluationType | None = None
    status: EvaluationStatus | None = None
    program: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    objective: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    agency: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    institution_type: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    purpose: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    questions: Annotated[list[Question], Field(max_length=MAX_QUESTIONS)] | None = None
    design: LongText | None = None
    evaluator: Annotated[str, Field(max_length=300)] | None = None
    independence: Independence | None = None
    start_date: date | None = None
    end_date: date | None = None
    report_date: date | None = None
    findings: LongText | None = None
    management_response: LongText | None = None
    estimates: Annotated[list[EstimateIn], Field(max_length=MAX_ESTIMATES)] | None = None
    recommendations: (
        Annotated[list[RecommendationIn], Field(max_length=MAX_RECOMMENDATIONS)] | None
    ) = None
    documents: Annotated[list[DocumentIn], Field(max_length=MAX_DOCUMENTS)] | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None

    _questions = field_validator("questions")(_distinct)


class EvaluationPublic(BaseModel):
    """An evaluation as the registry holds it; names beside the codes for people."""

    id: str = Field(description="the evaluation's id, e.g. EV-00042")
    title: str
    evaluation_type: str
    status: str
    program: str | None
    program_title: str | None
    objective: str | None
    objective_name: str | None
    agency: str
    agency_name: str
    institution_type: str | None
    institution_type_name: str | None
    purpose: str | None
    purpose_name: str | None
    questions: list[str]
    design: str
    evaluator: str
    independence: str
    start_date: date | None
    end_date: date | None
    report_date: date | None
    findings: str
    management_response: str
    estimates: list[EstimatePublic]
    recommendations: list[RecommendationPublic]
    documents: list[DocumentPublic]
    marking: str
    releasable_to: list[str]
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class EvaluationSummary(BaseModel):
    """One row of the registry list."""

    id: str
    title: str
    evaluation_type: str
    status: str
    program: str | None
    program_title: str | None
    agency: str
    agency_name: str
    institution_type: str | None
    institution_type_name: str | None
    purpose: str | None
    purpose_name: str | None
    evaluator: str
    independence: str
    end_date: date | None
    report_date: date | None
    primary_estimate: EstimatePublic | None
    recommendations: int
    recommendations_open: int = Field(description="recommendations still pending a response")
    marking: str
    releasable_to: list[str]
    version: int


class EvaluationList(Page[EvaluationSummary]):
    """A page of the registry; ``total`` counts every match the reader may see,
    ``withheld`` the matches they may not (by reason, never which)."""

    limit: int | None
    offset: int
    withheld: Withheld = Field(default_factory=lambda: Withheld())


class PooledPublic(BaseModel):
    """Estimates of one kind pooled (DerSimonian-Laird random effects), in SDs."""

    k: int
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    fixed: float
    fixed_se: float
    tau2: float
    q: float | None
    q_p: float | None
    i2: float | None
    prediction_low: float | None
    prediction_high: float | None
    alpha: float


class EvidenceEntry(BaseModel):
    """One evaluation's primary estimate as it enters (or does not enter) the pool."""

    evaluation: str
    title: str
    standardized: float | None
    standardized_se: float | None
    reason: str | None = Field(description="why it is not pooled; null when it is")


class EvidenceKind(BaseModel):
    """The evidence on one kind of program (institution type x purpose)."""

    institution_type: str
    institution_type_name: str
    purpose: str
    purpose_name: str
    pooled: PooledPublic
    multiplier: float = Field(description="the allocation's effectiveness for the kind")
    entries: list[EvidenceEntry]


class EvidenceTable(BaseModel):
    """The evidence base: pooled effects by kind of program, and what was left out."""

    kinds: list[EvidenceKind]
    excluded: list[EvidenceEntry]
    reference_effect: float
    prior_sd: float
    max_multiplier: float
    withheld: Withheld = Field(
        default_factory=lambda: Withheld(),
        description="completed impact evaluations left out of every figure because the "
        "reader may not see them",
    )


class EffectivenessRow(BaseModel):
    """The multiplier of one kind of program and how many evaluations back it."""

    institution_type: str
    purpose: str
    multiplier: float
    k: int


class EffectivenessPublic(BaseModel):
    """The allocation's default effectiveness by kind of program.

    ``use_evidence`` false is the switch: every kind counts 1 (no evidence), so the
    allocation can be compared with and without what the evaluations found. Kinds not
    listed count ``default``.
    """

    use_evidence: bool
    default: float
    kinds: list[EffectivenessRow]
