"""Other donors' activities and published U.S. figures over the API (read only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ssaplan.coordination.schemas import DonorActivityList, DonorActivityPublic, FigureList
from ssaplan.coordination.service import CoordinationService
from ssaplan.core.deps import StoreDep, requires
from ssaplan.core.permissions import Actor

router = APIRouter(prefix="/api", tags=["coordination"])
Reader = Annotated[Actor, Depends(requires("read"))]


@router.get("/donor-activities")
def list_donor_activities(
    store: StoreDep,
    actor: Reader,
    country: Annotated[str | None, Query(max_length=3, description="recipient ISO3")] = None,
    reporting_org: Annotated[
        str | None, Query(max_length=200, description="publisher's IATI identifier")
    ] = None,
    sector: Annotated[str | None, Query(max_length=40, description="sector code")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DonorActivityList:
    """Activities other donors published in IATI (imported with ``import iati``)."""
    with store.session() as session:
        return CoordinationService(session, actor).list_activities(
            country=country, reporting_org=reporting_org, sector=sector, limit=limit, offset=offset
        )


@router.get("/donor-activities/{identifier:path}")
def get_donor_activity(identifier: str, store: StoreDep, actor: Reader) -> DonorActivityPublic:
    """One donor activity: titles and descriptions in every language, organisations,
    recipients, sectors, budgets and transactions (original amounts and U.S. dollars)."""
    with store.session() as session:
        return CoordinationService(session, actor).get_activity(identifier)


@router.get("/us-assistance-figures")
def list_figures(
    store: StoreDep,
    actor: Reader,
    country: Annotated[str | None, Query(max_length=3, description="ISO3")] = None,
    fiscal_year: Annotated[int | None, Query(ge=1946, le=2100)] = None,
    measure: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FigureList:
    """Published U.S. aggregates (ForeignAssistance.gov country totals, CBJ tables)."""
    with store.session() as session:
        return CoordinationService(session, actor).list_figures(
            country=country, fiscal_year=fiscal_year, measure=measure, limit=limit, offset=offset
        )
