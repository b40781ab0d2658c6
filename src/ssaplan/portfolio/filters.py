"""One filter definition for program lists: the API, the CLI and the web table all use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, false, or_, select

from ssaplan.core.errors import Detail, Invalid
from ssaplan.portfolio.models import (
    STATUSES,
    BudgetLine,
    Program,
    ProgramCountry,
    ProgramObjective,
    ProgramRegion,
)
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode, get_catalog

# Filters name table columns, not mapped attributes, so a list's statements stay Core
# (no ORM compile step, no mapper configuration; see PortfolioService._page).
_PG, _BL = Program.__table__.c, BudgetLine.__table__.c
_PC, _PR, _PO = ProgramCountry.__table__.c, ProgramRegion.__table__.c, ProgramObjective.__table__.c

SORT_KEYS = (
    "id",
    "title",
    "start",
    "end",
    "status",
    "agency",
    "account",
    "planned",
    "obligated",
    "disbursed",
)
SortKey = Literal[
    "id",
    "title",
    "start",
    "end",
    "status",
    "agency",
    "account",
    "planned",
    "obligated",
    "disbursed",
    "-id",
    "-title",
    "-start",
    "-end",
    "-status",
    "-agency",
    "-account",
    "-planned",
    "-obligated",
    "-disbursed",
]


# The filter's fields that name a code of the reference catalog, and its kind.
CODE_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("country", "country"),
    ("region", "region"),
    ("agency", "agency"),
    ("account", "account"),
    ("objective", "objective"),
    ("institution_type", "institution_type"),
    ("purpose", "purpose"),
)
FILTER_FIELDS = (
    "region",
    "country",
    "agency",
    "account",
    "fiscal_year",
    "status",
    "objective",
    "institution_type",
    "purpose",
    "q",
)


class ProgramFilter(BaseModel):
    """Which programs to show. Codes accept ids or display names, any case."""

    model_config = ConfigDict(extra="forbid")

    country: str | None = Field(
        None, max_length=200, description="partner country: ISO alpha-3, alpha-2 or name"
    )
    region: str | None = Field(
        None,
        max_length=200,
        description="bureau (AF, EAP, ...), combatant command, UN region or organization",
    )
    agency: str | None = Field(
        None, max_length=200, description="agency, with its bureaus and offices"
    )
    account: str | None = Field(None, max_length=200)
    fiscal_year: int | None = Field(
        None, ge=1990, le=2100, description="has a budget line in this FY"
    )
    status: str | None = Field(None, max_length=40)
    objective: str | None = Field(None, max_length=200, description="objective (G1.1) or goal (G1)")
    institution_type: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=200)
    q: str | None = Field(None, max_length=200, description="words in the id, title or description")

    def account_code(self) -> str | None:
        """The account filter as its id (None without one)."""
        return get_catalog().resolve("account", self.account) if self.account else None

    def is_empty(self) -> bool:
        return not any(v not in (None, "") for v in self.model_dump().values())

    def problems(self, catalog: Catalog) -> list[Detail]:
        """What is wrong with the filter's values (unknown codes, an unknown status)."""
        problems: list[Detail] = []
        for field, kind in CODE_FIELDS:
            value = getattr(self, field)
            if value in (None, ""):
                continue
            try:
                catalog.resolve(kind, value)
            except UnknownCode as exc:
                problems.append(Detail(("query", field), str(exc)))
        if self.status and self.status.lower() not in STATUSES:
            problems.append(Detail(("query", "status"), f"must be one of {', '.join(STATUSES)}"))
        return problems

    def apply(self, stmt: Select[tuple[Program]], catalog: Catalog) -> Select[tuple[Program]]:
        """Narrow ``stmt`` (a select of programs); unknown codes raise :class:`Invalid`."""
        problems: list[Detail] = []

        def code(field: str, kind: Kind) -> str | None:
            value = getattr(self, field)
            if value in (None, ""):
                return None
            try:
                return catalog.resolve(kind, value)
            except UnknownCode as exc:
                problems.append(Detail(("query", field), str(exc)))
                return None

        country = code("country", "country")
        region = code("region", "region")
        agency = code("agency", "agency")
        account = code("account", "account")
        objective = code("objective", "objective")
        institution_type = code("institution_type", "institution_type")
        purpose = code("purpose", "purpose")
        if self.status and self.status.lower() not in STATUSES:
            problems.append(Detail(("query", "status"), f"must be one of {', '.join(STATUSES)}"))
        if problems:
            raise Invalid("invalid filter", problems)

        # Semi-joins (id IN (SELECT ...)) let the database use the partner indexes once,
        # instead of probing per program.
        if country:
            stmt = stmt.where(_PG.id.in_(select(_PC.program_id).where(_PC.iso3 == country)))
        if region:
            members = sorted(catalog.region_members(region))
            stmt = stmt.where(
                or_(
                    _PG.id.in_(select(_PC.program_id).where(_PC.iso3.in_(members)))
                    if members
                    else false(),
                    _PG.id.in_(select(_PR.program_id).where(_PR.region_code == region)),
                )
            )
        if agency:
            stmt = stmt.where(_PG.agency_id.in_(sorted(catalog.agency_descendants(agency))))
        if account:
            # The main account, or money from the account on any budget line.
            stmt = stmt.where(
                or_(
                    _PG.account_id == account,
                    _PG.id.in_(select(_BL.program_id).where(_BL.account_id == account)),
                )
            )
        if self.fiscal_year is not None:
            stmt = stmt.where(
                _PG.id.in_(select(_BL.program_id).where(_BL.fiscal_year == self.fiscal_year))
            )
        if self.status:
            stmt = stmt.where(_PG.status == self.status.lower())
        if objective:
            wanted = {objective} | {
                o.id for o in catalog.objectives.values() if o.goal == objective
            }
            stmt = stmt.where(
                _PG.id.in_(select(_PO.program_id).where(_PO.objective_id.in_(wanted)))
            )
        if institution_type:
            stmt = stmt.where(_PG.institution_type_id == institution_type)
        if purpose:
            stmt = stmt.where(_PG.purpose_id == purpose)
        if self.q:
            for word in self.q.split():
                like = f"%{word.lower()}%"
                stmt = stmt.where(
                    or_(
                        _PG.code.ilike(like),
                        _PG.title.ilike(like),
                        _PG.description.ilike(like),
                    )
                )
        return stmt

    def program_ids(self, catalog: Catalog) -> Select[tuple[int]]:
        """The (surrogate) ids of matching programs, as a subquery-ready select."""
        return self.apply(select(Program), catalog).with_only_columns(Program.id)

    def line_conditions(self, catalog: Catalog) -> list[Any]:
        """Which budget lines of the matching programs count: a fiscal-year or account
        filter narrows the money to that year's or that account's lines."""
        out: list[Any] = []
        if self.fiscal_year is not None:
            out.append(_BL.fiscal_year == self.fiscal_year)
        if self.account not in (None, ""):
            out.append(_BL.account_id == catalog.resolve("account", self.account or ""))
        return out


class ProgramListQuery(ProgramFilter):
    """A filter plus paging and order, as the list API takes it (unknown parameters refused)."""

    limit: int = Field(50, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**31 - 1)  # a database integer; past it is no page
    sort: SortKey = "id"

    def filter(self) -> ProgramFilter:
        return ProgramFilter(**self.model_dump(exclude={"limit", "offset", "sort"}))


def filter_from_params(params: Mapping[str, str]) -> ProgramFilter:
    """A filter from form or query fields (strings, empty meaning "any").

    A malformed value (``fiscal_year=abc``) or an unknown code raises :class:`Invalid`
    naming every such field, so a page can show the problems instead of ignoring them.
    """
    values: dict[str, Any] = {}
    problems: list[Detail] = []
    for field in FILTER_FIELDS:
        raw = (params.get(field) or "").strip()
        if not raw:
            continue
        if field == "fiscal_year":
            text = raw.upper().removeprefix("FY")
            if not text.isdigit() or not 1990 <= int(text) <= 2100:
                problems.append(
                    Detail(("query", field), f"{raw!r} is not a fiscal year (e.g. 2027 or FY2027)")
                )
                continue
            values[field] = int(text)
        elif field == "q" and len(raw) > 200:
            problems.append(Detail(("query", field), "at most 200 characters"))
        else:
            values[field] = raw
    flt = ProgramFilter(**values)
    problems += flt.problems(get_catalog())
    if problems:
        raise Invalid("invalid filter", problems)
    return flt
