"""Shapes of programs as they cross the API, CLI and files.

Codes (agency, account, country, ...) arrive as strings and are resolved by the service
against the reference catalog, so display names work as well as ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from ssaplan.core.schemas import Page, StrictModel
from ssaplan.portfolio.models import STATUSES
from ssaplan.portfolio.visibility import MAX_RELEASABLE_TO

# The largest amount accepted for one program in one fiscal year. The largest single
# U.S. security assistance lines are a few billion dollars a year; anything near this
# bound is a unit error (cents, or thousands) in the source.
MAX_AMOUNT = 50_000_000_000
MIN_FY, MAX_FY = 1990, 2100
# Bounds on one program's lists and text: far above any real program (there are about
# 250 countries and territories; a line per fiscal year and account), low enough that
# one request cannot make the server build a huge program.
MAX_TEXT = 100_000
MAX_DESCRIPTION = MAX_TEXT  # a 100 MB description was stored (and copied into the audit) before
MAX_PARTNERS = 300
MAX_OBJECTIVES = 100
MAX_BUDGET_LINES = 2_000
MAX_MILESTONES = 1_000

Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="whole U.S. dollars")]
FiscalYear = Annotated[int, Field(ge=MIN_FY, le=MAX_FY)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A marked record's fields, in every domain's create and update schemas (docs/markings.md).
MarkingCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="a marking (U, SBU, CUI); not above your own ceiling"),
]
ReleasableTo = Annotated[
    list[Code],
    Field(
        max_length=MAX_RELEASABLE_TO,
        description="partner countries (ISO3) and organizations (NATO, EU, ...) the record "
        "may be disclosed to besides the U.S. Government; [] for none",
    ),
]
ProgramId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=200,
        pattern=r"^[^\s\x00-\x1f][^\x00-\x1f]*$",
    ),
]
Status = Annotated[str, Field(json_schema_extra={"enum": list(STATUSES)})]


class BudgetLineIn(StrictModel):
    """A program's money in one fiscal year from one account (default: the program's)."""

    fiscal_year: FiscalYear
    account: Code | None = Field(None, description="funding account; default the program's")
    planned: Amount = 0
    obligated: Amount = 0
    disbursed: Amount = 0


class MilestoneIn(StrictModel):
    """One delivery's dates; each present date must not precede the one before it.

    ``id`` names a stored delivery to change; without it a delivery is matched by name,
    else added. Stored deliveries left out are removed.
    """

    id: int | None = Field(None, ge=1)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    requested_on: date | None = None
    approved_on: date | None = None
    obligated_on: date | None = None
    delivered_on: date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> MilestoneIn:
        steps = [
            ("requested_on", self.requested_on),
            ("approved_on", self.approved_on),
            ("obligated_on", self.obligated_on),
            ("delivered_on", self.delivered_on),
        ]
        present = [(n, d) for n, d in steps if d is not None]
        for (n1, d1), (n2, d2) in zip(present, present[1:], strict=False):
            if d2 < d1:
                raise ValueError(f"{n2} ({d2}) is before {n1} ({d1})")
        return self


class ProgramFields(StrictModel):
    """Fields a user sets on a program; all optional here, required ones checked on create."""

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
        | None
    ) = None
    description: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    agency: Code | None = None
    account: Code | None = None
    countries: Annotated[list[Code], Field(max_length=MAX_PARTNERS)] | None = None
    regions: Annotated[list[Code], Field(max_length=MAX_PARTNERS)] | None = None
    institution_type: Code | None = None
    level: Code | None = None
    purpose: Code | None = None
    objectives: Annotated[list[Code], Field(max_length=MAX_OBJECTIVES)] | None = None
    dac_code: Code | None = None
    start: date | None = None
    end: date | None = None
    status: Status | None = None
    marking: MarkingCode | None = None
    releasable_to: ReleasableTo | None = None
    shares: dict[str, Annotated[int, Field(ge=0, le=10_000)]] | None = Field(
        None,
        max_length=2 * MAX_PARTNERS,
        description="each partner's share of the money in basis points (summing to 10000), "
        "by partner code; default equal shares",
    )
    budget: Annotated[list[BudgetLineIn], Field(max_length=MAX_BUDGET_LINES)] | None = None
    milestones: Annotated[list[MilestoneIn], Field(max_length=MAX_MILESTONES)] | None = None


class ProgramCreate(ProgramFields):
    """A new program. ``id`` may be given (e.g. from another system) or is assigned."""

    id: ProgramId | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    agency: Code
    start: date
    end: date
    status: Status = "proposed"


class ProgramUpdate(ProgramFields):
    """Changes to a program; ``version`` must be the version the change was based on.

    ``id`` renames the program (its history, budget and deliveries stay with it).
    """

    id: ProgramId | None = None
    version: int = Field(ge=1)
    reason: str | None = Field(
        None,
        max_length=2000,
        description="why; required to suspend or terminate a program, kept in the audit trail",
    )


class BudgetLinePublic(BaseModel):
    """A program's money in one fiscal year from one account."""

    id: int
    fiscal_year: int
    account: str | None
    planned: int
    obligated: int
    disbursed: int


class MilestonePublic(BaseModel):
    """One delivery of a program, with its dates."""

    id: int
    name: str
    requested_on: date | None
    approved_on: date | None
    obligated_on: date | None
    delivered_on: date | None


class Totals(BaseModel):
    """Planned, obligated and disbursed whole dollars."""

    planned: int = 0
    obligated: int = 0
    disbursed: int = 0


class ProgramPublic(BaseModel):
    """A program as every interface shows it."""

    id: str
    title: str
    description: str
    agency: str
    account: str | None
    accounts: list[str]
    countries: list[str]
    regions: list[str]
    shares: dict[str, int]
    institution_type: str | None
    level: str | None
    purpose: str | None
    objectives: list[str]
    dac_code: str | None
    start: date
    end: date
    status: str
    marking: str
    releasable_to: list[str] = Field(default_factory=list)
    source: str
    budget: list[BudgetLinePublic]
    totals: Totals
    milestones: list[MilestonePublic]
    version: int
    created_at: datetime
    updated_at: datetime


class Withheld(BaseModel):
    """How many matching programs the reader may not see, by reason (never which)."""

    above_ceiling: int = Field(0, description="marked above the reader's marking ceiling")
    not_releasable: int = Field(0, description="not releasable to the reader's audience")


class ProgramList(Page[ProgramPublic]):
    """A page of programs, the total that match, and their money summed over all pages.

    ``total`` and ``totals`` cover only the programs the reader may see (see
    ``withheld``): a withheld program's dollars are in no figure.
    """

    total: int
    limit: int | None
    offset: int
    totals: Totals
    withheld: Withheld = Field(default_factory=lambda: Withheld())


class MoneyGroup(Totals):
    """The money of one group of a roll-up (a fiscal year, a bureau, an account, ...)."""

    key: str


class RollupPublic(BaseModel):
    """Money of a set of programs: the total and, by each dimension, its groups.

    Every dimension's groups add up to ``total`` to the dollar (money is split among a
    program's partners by their shares).
    """

    programs: int
    total: Totals
    by: dict[str, list[MoneyGroup]]
    withheld: Withheld = Field(
        default_factory=lambda: Withheld(),
        description="matching programs left out because the reader may not see them",
    )


class CountryFacts(BaseModel):
    """A country or territory with the regions it belongs to."""

    iso3: str
    iso2: str
    name: str
    official_name: str
    status: str
    sovereign: str | None
    bureau: str | None
    combatant_command: str | None
    un_region: str | None
    un_subregion: str | None
    organizations: list[str]


class CountrySummary(CountryFacts):
    """A country with the number of programs it is a partner of and its planned money
    (its share of each)."""

    programs: int
    planned: int


class CountryDetail(CountryFacts):
    """A country and its share of the portfolio's money by year, account, agency, status."""

    portfolio: RollupPublic
    shared_programs: int = Field(description="programs it shares with other partner countries")
    regional_programs: int = Field(description="programs of regions it belongs to")
