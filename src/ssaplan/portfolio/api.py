"""The portfolio over the API: programs (read and write), countries, roll-ups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ssaplan.core.deps import ProgramWriter, Reader, StoreDep, unit_of_work
from ssaplan.core.schemas import AuditPublic, Page, audit_public
from ssaplan.portfolio.filters import ProgramFilter, ProgramListQuery
from ssaplan.portfolio.schemas import (
    CountryDetail,
    CountrySummary,
    ProgramCreate,
    ProgramList,
    ProgramPublic,
    ProgramUpdate,
    RollupPublic,
)
from ssaplan.portfolio.service import PortfolioService

router = APIRouter(prefix="/api", tags=["portfolio"])

FilterDep = Annotated[ProgramFilter, Query()]


@router.get("/programs", response_model=ProgramList)
def list_programs(
    store: StoreDep, actor: Reader, query: Annotated[ProgramListQuery, Query()]
) -> Response:
    """Programs of the shared portfolio, filtered, sorted and paged; ``totals`` covers all pages."""
    with store.session() as session:
        body = PortfolioService(session, actor).list_programs_json(
            query.filter(), limit=query.limit, offset=query.offset, sort=query.sort
        )
    # The page is a validated ProgramList already, serialized once in pydantic's core (and
    # kept until the next write), instead of FastAPI validating it again against the
    # response model and encoding it.
    return Response(body, media_type="application/json")


@router.post("/programs", status_code=201)
def create_program(
    body: ProgramCreate, store: StoreDep, actor: ProgramWriter, response: Response
) -> ProgramPublic:
    """Add a program. Planners may add programs of their own agency only."""
    with unit_of_work(store) as session:
        program = PortfolioService(session, actor).create(body)
    response.headers["Location"] = f"/api/programs/{program.id}"
    return program


@router.get("/programs/{program_id:path}/history")
def program_history(program_id: str, store: StoreDep, actor: Reader) -> Page[AuditPublic]:
    """The program's audit records, newest first (across renames): who changed what."""
    with store.session() as session:
        records = PortfolioService(session, actor).history(program_id)
        return Page[AuditPublic](items=[audit_public(r) for r in records])


@router.get("/programs/{program_id:path}")
def get_program(program_id: str, store: StoreDep, actor: Reader) -> ProgramPublic:
    """One program with its budget lines, deliveries and version."""
    with store.session() as session:
        return PortfolioService(session, actor).get(program_id)


@router.patch("/programs/{program_id:path}")
def update_program(
    program_id: str, body: ProgramUpdate, store: StoreDep, actor: ProgramWriter
) -> ProgramPublic:
    """Change a program. ``version`` must be the version you read; if someone changed it since,
    the answer is 409 and nothing changes. Lists (countries, budget, ...) are replaced whole."""
    with unit_of_work(store) as session:
        return PortfolioService(session, actor).update(program_id, body)


@router.delete("/programs/{program_id:path}", status_code=204)
def delete_program(
    program_id: str,
    store: StoreDep,
    actor: ProgramWriter,
    version: Annotated[
        int | None, Query(ge=1, description="refuse if the program changed since")
    ] = None,
) -> None:
    """Remove a program (its history stays in the audit trail)."""
    with unit_of_work(store) as session:
        PortfolioService(session, actor).delete(program_id, version)


@router.get("/portfolio/summary")
def portfolio_summary(store: StoreDep, actor: Reader, flt: FilterDep) -> RollupPublic:
    """Money of the matching programs: total, by fiscal year, bureau, account, agency, status.

    Each program counts once per dimension (cross-bureau programs as ``Multi-regional``),
    so every dimension sums to the total. Only programs the caller may see count
    (``withheld`` says how many matching programs were left out, by reason).
    """
    with store.session() as session:
        service = PortfolioService(session, actor)
        return RollupPublic.model_validate(
            {**service.rollup(flt).as_dict(), "withheld": service.withheld(flt)}
        )


@router.get("/countries")
def list_countries(store: StoreDep, actor: Reader) -> Page[CountrySummary]:
    """Every country and territory with its regions, its programs and its planned money."""
    with store.session() as session:
        rows = [CountrySummary(**c) for c in PortfolioService(session, actor).countries()]
        return Page[CountrySummary](items=rows, total=len(rows))


@router.get("/countries/{iso3}")
def get_country(iso3: str, store: StoreDep, actor: Reader) -> CountryDetail:
    """One country: its regions and memberships, and the portfolio's money there."""
    with store.session() as session:
        return CountryDetail.model_validate(PortfolioService(session, actor).country(iso3))
