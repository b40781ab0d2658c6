"""Shapes of donor activities, published U.S. figures and the overlap review as the API
shows them (the donor and gap analyses' shapes: ``analysis_schemas``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio import visibility
from ssaplan.portfolio.schemas import Withheld


class DonorActivitySummary(BaseModel):
    """A donor activity without its child rows, for lists."""

    identifier: str
    reporting_org_ref: str | None
    reporting_org_name: str
    title: str
    default_language: str | None
    default_currency: str | None
    status: str | None
    planned_start: date | None
    actual_start: date | None
    planned_end: date | None
    actual_end: date | None
    humanitarian: bool | None
    default_aid_type: str | None
    default_finance_type: str | None
    iati_version: str
    source_file: str
    imported_at: datetime
    marking: str = "U"
    releasable_to: list[str] = Field(default_factory=list)

    @field_validator("releasable_to", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        # Stored ";GBR;NATO;" (visibility.encode): shown as a list of codes.
        return visibility.decode(value) if isinstance(value, str) else value


class _Row(BaseModel):
    """A child row of a donor activity. It also reads like the mapping it was before the
    rows were typed (``row["role"]``), so callers of the service keep working."""

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)


class DescriptionPublic(_Row):
    """A description of a donor activity in one language (``type`` is the IATI code:
    1 general, 2 objectives, 3 target groups, 4 other)."""

    type: str
    lang: str
    text: str


class DonorOrgPublic(_Row):
    """An organisation taking part in a donor activity (see ``DonorParticipatingOrg``)."""

    seq: int
    role: str | None
    ref: str | None
    type: str | None
    name: str


class DonorCountryPublic(_Row):
    """A recipient country of a donor activity, as published and as resolved (``iso3``)."""

    seq: int
    code: str
    iso3: str | None
    name: str
    percentage: float | None


class DonorRegionPublic(_Row):
    """A recipient region of a donor activity, in its vocabulary."""

    seq: int
    code: str
    vocabulary: str
    percentage: float | None


class DonorSectorPublic(_Row):
    """A sector of a donor activity, in its vocabulary, with its share."""

    seq: int
    vocabulary: str
    code: str
    name: str
    percentage: float | None


class DonorBudgetPublic(_Row):
    """A budget or planned disbursement of a donor activity: the published amount
    (decimal text) in its currency and whole U.S. dollars where a rate is known."""

    seq: int
    kind: str
    type: str | None
    status: str | None
    period_start: date | None
    period_end: date | None
    amount: str
    currency: str | None
    value_date: date | None
    usd: int | None


class DonorTransactionPublic(_Row):
    """A transaction of a donor activity (see ``DonorTransaction``)."""

    seq: int
    type: str
    transaction_date: date | None
    amount: str
    currency: str | None
    value_date: date | None
    usd: int | None
    provider_ref: str | None
    provider_name: str
    receiver_ref: str | None
    receiver_name: str
    aid_type: str | None
    finance_type: str | None
    humanitarian: bool | None


class DonorActivityPublic(DonorActivitySummary):
    """A donor activity with titles and descriptions in every language and its rows:
    participating organisations, recipient countries and regions, sectors, budgets and
    planned disbursements, transactions (original amount, currency, value date, USD)."""

    titles: dict[str, str]
    descriptions: list[DescriptionPublic]
    orgs: list[DonorOrgPublic]
    countries: list[DonorCountryPublic]
    regions: list[DonorRegionPublic]
    sectors: list[DonorSectorPublic]
    budgets: list[DonorBudgetPublic]
    transactions: list[DonorTransactionPublic]


class DonorActivityList(Page[DonorActivitySummary]):
    """A page of donor activities the reader may see and how many match in all;
    ``withheld`` counts those the filter matched but the reader may not see."""

    total: int
    limit: int
    offset: int
    withheld: Withheld = Field(default_factory=lambda: Withheld())


class FigurePublic(BaseModel):
    """One published U.S. aggregate (see ``USAssistanceFigure``)."""

    source: str
    measure: str
    fiscal_year: int
    period: str
    area: str
    iso3: str | None
    account: str
    account_id: str | None
    amount: int
    source_file: str
    note: str


class FigureList(Page[FigurePublic]):
    """A page of published U.S. figures and how many match in all."""

    total: int
    limit: int
    offset: int


# --- overlap review ------------------------------------------------------------------

MarkValue = Literal["confirmed", "complementary", "dismissed"]


class MarkCreate(StrictModel):
    """A reviewer's mark on a pair: ``a`` and ``b`` are the two ids (a program's id or a
    donor activity's IATI identifier), in either order."""

    a: Annotated[str, Field(min_length=1, max_length=250)]
    b: Annotated[str, Field(min_length=1, max_length=250)]
    mark: MarkValue
    note: Annotated[str, Field(max_length=4000)] = ""


class MarkUpdate(StrictModel):
    """Change a mark or its note; ``version`` must be the stored version."""

    mark: MarkValue | None = None
    note: Annotated[str, Field(max_length=4000)] | None = None
    version: Annotated[int, Field(ge=1)]


class MarkPublic(BaseModel):
    """A stored mark: the pair by its current ids (``a`` the program when one side is),
    their stable references, the mark, the note, by whom, when, and its version."""

    id: int
    a: str
    b: str
    a_ref: str
    b_ref: str
    mark: MarkValue
    note: str
    marked_by: str
    marked_at: datetime
    version: int


class MarkList(BaseModel):
    """A page of the marks the reader may see (both sides of the pair), newest first;
    ``total`` counts those, ``withheld`` the marks left out (a count, never which)."""

    items: list[MarkPublic]
    total: int
    limit: int
    offset: int
    withheld: int = Field(
        0, description="marks the reader may not see (one side of the pair or both hidden)"
    )


class PairPublic(BaseModel):
    """A pair of the latest stored run, with the reviewer's current mark.

    ``likely`` is the run's verdict unless a reviewer dismissed the pair since; the
    reasons end with the mark when there is one. Titles and owners (agency or donor
    names) are what people read; ``a`` and ``b`` are the ids.
    """

    a: str
    b: str
    score: float
    likely: bool
    reasons: list[str]
    kind: str
    components: dict[str, float | None]
    flags: list[str]
    a_title: str
    b_title: str
    a_owner: str
    b_owner: str
    a_ref: str
    b_ref: str
    mark: MarkPublic | None = None


class RunPublic(BaseModel):
    """A stored run of overlap detection; ``stale`` when programs or donor activities
    changed after it (re-run to see them).

    The figures are the reader's (docs/markings.md): for a reader with a marking ceiling
    or an audience, ``activities``, ``pairs``, ``likely`` and ``skipped`` count only the
    records they may see (a pair: both sides), ``withheld`` how many pairs were left
    out, and ``stats`` holds only those counts (``inputs`` and ``orphan_marks`` are
    empty). A figure the run did not keep by marking (a run stored before markings
    were counted) is ``null`` for such a reader.
    """

    id: int
    created_at: datetime
    created_by: str
    settings: dict[str, float | int | bool | str | list[str]]
    inputs: dict[str, int | str | None]
    stats: dict[str, float | int | str | None]
    activities: int | None
    pairs: int | None
    likely: int | None
    seconds: float
    skipped: int | None
    orphan_marks: list[list[str]]
    pairs_kept: bool
    stale: bool = False
    withheld: int | None = Field(
        0, description="pairs of the run the reader may not see (one side or both hidden)"
    )


class SkippedPublic(BaseModel):
    """An activity a run left out, and why."""

    id: str
    reason: str


class PairPage(BaseModel):
    """A page of the latest run's pairs (best first) and how many match in all."""

    run: RunPublic | None
    items: list[PairPublic]
    total: int
    limit: int
    offset: int


class RunRequest(StrictModel):
    """Run overlap detection now: ``within_agency`` also compares programs of one agency;
    ``donor_pairs`` also compares donor activities with each other."""

    within_agency: bool = False
    donor_pairs: bool = False


class RunResult(BaseModel):
    """A run just made: its record, and the activities it skipped."""

    run: RunPublic
    skipped: list[SkippedPublic]
