"""Shapes of donor activities, published U.S. figures and the overlap review as the API
shows them (the donor and gap analyses' shapes: ``analysis_schemas``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ssaplan.core.schemas import StrictModel


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


class DonorActivityPublic(DonorActivitySummary):
    """A donor activity with titles and descriptions in every language and its rows:
    participating organisations, recipient countries and regions, sectors, budgets and
    planned disbursements, transactions (original amount, currency, value date, USD)."""

    titles: dict[str, str]
    descriptions: list[dict[str, str]]
    orgs: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    sectors: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


class DonorActivityList(BaseModel):
    """A page of donor activities and how many match in all."""

    items: list[DonorActivitySummary]
    total: int
    limit: int
    offset: int


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


class FigureList(BaseModel):
    """A page of published U.S. figures and how many match in all."""

    items: list[FigurePublic]
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
    """A page of marks, newest first."""

    items: list[MarkPublic]
    total: int
    limit: int
    offset: int


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
    changed after it (re-run to see them)."""

    id: int
    created_at: datetime
    created_by: str
    settings: dict[str, float | int | bool | str | list[str]]
    inputs: dict[str, int | str | None]
    stats: dict[str, float | int | str | None]
    activities: int
    pairs: int
    likely: int
    seconds: float
    skipped: int
    orphan_marks: list[list[str]]
    pairs_kept: bool
    stale: bool = False


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
