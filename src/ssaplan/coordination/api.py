"""Coordination over the API: other donors' activities and published U.S. figures (read
only); overlap runs, their pairs and reviewers' marks; the donor, burden-sharing, gap
and regional analyses; one partner's picture (what ``ssaplan coordinate`` prints).

Reading needs ``read``; re-running overlap detection ``coordination:run``; marking pairs
``coordination:review`` (within the reviewer's scope, decided by the service).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from ssaplan.coordination.analysis_schemas import (
    BurdenSharing,
    DonorOverview,
    GapReport,
    PartnerPicture,
    RegionalView,
)
from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.partner import partner_picture
from ssaplan.coordination.regional import RegionalAnalysis
from ssaplan.coordination.schemas import (
    DonorActivityList,
    DonorActivityPublic,
    FigureList,
    MarkCreate,
    MarkList,
    MarkPublic,
    MarkUpdate,
    PairPage,
    RunPublic,
    RunRequest,
    RunResult,
    SkippedPublic,
)
from ssaplan.coordination.service import CoordinationService
from ssaplan.core.deps import StoreDep, requires, unit_of_work
from ssaplan.core.permissions import Actor

router = APIRouter(prefix="/api", tags=["coordination"])
Reader = Annotated[Actor, Depends(requires("read"))]
Reviewer = Annotated[Actor, Depends(requires("coordination:review"))]
Runner = Annotated[Actor, Depends(requires("coordination:run"))]
Basis = Annotated[Literal["disbursed", "committed"], Query(description="which money counts")]
Vocabulary = Annotated[
    Literal["dac3", "dac5"], Query(description="sectors: DAC 3-digit categories or 5-digit codes")
]
FirstFY = Annotated[int | None, Query(ge=1946, le=2100)]
LastFY = Annotated[int | None, Query(ge=1946, le=2100)]
RegionKind = Annotated[
    Literal["bureau", "combatant_command", "organization"], Query(description="kind of region")
]


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


# --- overlaps -----------------------------------------------------------------------


@router.get("/overlaps")
def list_pairs(
    store: StoreDep,
    actor: Reader,
    likely: Annotated[
        bool | None, Query(description="true: likely only; false: near misses")
    ] = None,
    mark: Annotated[
        Literal["confirmed", "complementary", "dismissed", "unmarked"] | None, Query()
    ] = None,
    kind: Annotated[
        Literal["program-program", "program-donor", "donor-donor"] | None, Query()
    ] = None,
    partner: Annotated[str | None, Query(max_length=60, description="ISO3 or region")] = None,
    owner: Annotated[str | None, Query(max_length=200, description="agency or donor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PairPage:
    """Pairs of the latest stored run, best first, with reviewers' current marks."""
    with store.session() as session:
        return OverlapService(session, actor).pairs(
            likely=likely,
            mark=mark,
            kind=kind,
            partner=partner,
            owner=owner,
            limit=limit,
            offset=offset,
        )


@router.get("/overlaps/runs")
def list_overlap_runs(store: StoreDep, actor: Reader) -> list[RunPublic]:
    """Stored runs of overlap detection, newest first (``stale``: the world changed); the
    figures count what the caller may see (``withheld``: the pairs they may not)."""
    with store.session() as session:
        return OverlapService(session, actor).runs()


@router.post("/overlaps/runs", status_code=201)
def create_overlap_run(body: RunRequest, store: StoreDep, actor: Runner) -> RunResult:
    """Run overlap detection over every stored program and donor activity now and keep
    the run (its pairs replace the previous run's). The answer's figures and skipped
    activities are those the runner may see (``withheld``: the pairs they may not)."""
    with unit_of_work(store) as session:
        outcome = OverlapService(session, actor).run(
            within_agency=body.within_agency, donor_pairs=body.donor_pairs
        )
    return RunResult(run=outcome.run, skipped=[SkippedPublic(**s) for s in outcome.skipped_shown])


@router.get("/overlaps/marks")
def list_marks(
    store: StoreDep,
    actor: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MarkList:
    """Reviewers' marks, newest first: only marks whose both sides the caller may see
    (``withheld``: how many were left out)."""
    with store.session() as session:
        return OverlapService(session, actor).marks(limit=limit, offset=offset)


@router.post("/overlaps/marks", status_code=201)
def create_mark(
    body: MarkCreate, store: StoreDep, actor: Reviewer, response: Response
) -> MarkPublic:
    """Mark a pair confirmed, complementary or dismissed, with a note (409 if marked)."""
    with unit_of_work(store) as session:
        created = OverlapService(session, actor).create_mark(body)
    response.headers["Location"] = f"/api/overlaps/marks/{created.id}"
    return created


@router.get("/overlaps/marks/{mark_id}")
def get_mark(mark_id: int, store: StoreDep, actor: Reader) -> MarkPublic:
    """One mark (404 when the caller may not see a side of its pair)."""
    with store.session() as session:
        return OverlapService(session, actor).get_mark(mark_id)


@router.patch("/overlaps/marks/{mark_id}")
def update_mark(mark_id: int, body: MarkUpdate, store: StoreDep, actor: Reviewer) -> MarkPublic:
    """Change a mark or its note (``version`` must be the stored one, else 409)."""
    with unit_of_work(store) as session:
        return OverlapService(session, actor).update_mark(mark_id, body)


@router.delete("/overlaps/marks/{mark_id}", status_code=204)
def delete_mark(
    mark_id: int,
    store: StoreDep,
    actor: Reviewer,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Remove a mark (the next run scores the pair without it)."""
    with unit_of_work(store) as session:
        OverlapService(session, actor).delete_mark(mark_id, version)
    return Response(status_code=204)


# --- analyses -----------------------------------------------------------------------


@router.get("/coordination/donors")
def donor_overview(
    store: StoreDep,
    actor: Reader,
    basis: Basis = "disbursed",
    vocabulary: Vocabulary = "dac3",
    first_fy: FirstFY = None,
    last_fy: LastFY = None,
) -> DonorOverview:
    """Donor x partner x sector: totals, shares, fragmentation (HHI), revealed
    comparative advantage and suggested lead donors."""
    with store.session() as session:
        return DonorAnalysis(session, actor).overview(
            basis=basis, vocabulary=vocabulary, first_fy=first_fy, last_fy=last_fy
        )


@router.get("/coordination/burden")
def burden(
    store: StoreDep,
    actor: Reader,
    by: Annotated[Literal["partner", "region", "sector"], Query()] = "partner",
    kind: RegionKind = "bureau",
    basis: Basis = "disbursed",
    vocabulary: Vocabulary = "dac3",
    first_fy: FirstFY = None,
    last_fy: LastFY = None,
) -> BurdenSharing:
    """Our share against other donors' by partner, region or sector, per fiscal year."""
    with store.session() as session:
        return DonorAnalysis(session, actor).burden(
            by=by,
            kind=kind,
            basis=basis,
            vocabulary=vocabulary,
            first_fy=first_fy,
            last_fy=last_fy,
        )


@router.get("/coordination/gaps")
def gaps(
    store: StoreDep,
    actor: Reader,
    as_of: Annotated[date | None, Query(description="default: today")] = None,
    months: Annotated[int, Query(ge=1, le=120)] = 12,
    partner: Annotated[list[str] | None, Query(description="limit to these partners")] = None,
    basis: Basis = "disbursed",
) -> GapReport:
    """Unfunded objectives, expiring coverage, neglected partners and uncovered cells."""
    with store.session() as session:
        return GapAnalysis(session, actor).report(
            as_of=as_of, months=months, partners=partner, basis=basis
        )


@router.get("/coordination/regions")
def regions(
    store: StoreDep,
    actor: Reader,
    kind: RegionKind = "bureau",
    region: Annotated[str | None, Query(max_length=60)] = None,
) -> RegionalView:
    """Money by bureau, command or organization; cross-border programs; linked partners."""
    with store.session() as session:
        return RegionalAnalysis(session, actor).view(kind=kind, region=region)


@router.get("/coordination/partners/{code}")
def partner(
    code: Annotated[str, Path(max_length=60, description="ISO3, alpha-2, name or region code")],
    store: StoreDep,
    actor: Reader,
    basis: Basis = "disbursed",
    vocabulary: Vocabulary = "dac3",
    first_fy: FirstFY = None,
    last_fy: LastFY = None,
    as_of: Annotated[date | None, Query()] = None,
    months: Annotated[int, Query(ge=1, le=120)] = 12,
) -> PartnerPicture:
    """One partner's donor picture, lead donors, division of labour, our share, gaps and
    likely overlaps (the JSON of ``ssaplan coordinate --partner``)."""
    with store.session() as session:
        return partner_picture(
            session,
            actor,
            code,
            basis=basis,
            vocabulary=vocabulary,
            first_fy=first_fy,
            last_fy=last_fy,
            as_of=as_of,
            months=months,
        )
