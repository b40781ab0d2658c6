"""Monitoring over the API: performance, timelines, money pace, rules, reviews, crises,
the flexible reserve and surge requests.

Reading needs ``read``. Opening reviews ``review:open``; deciding ``review:decide``
(within the program's scope); rules ``review:configure``; crises ``crisis:record``;
the reserve ``reserve:manage``; surges ``surge:request`` and ``surge:approve``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import Page
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import (
    AnnualIn,
    CrisisIn,
    CrisisPublic,
    DecisionIn,
    IndicatorPerformance,
    MoneyPublic,
    MonitorSummary,
    ReserveIn,
    ReservePublic,
    ReviewOpen,
    ReviewPublic,
    ReviewQueue,
    RuleChange,
    RulePublic,
    RunReport,
    SurgeCreate,
    SurgeDecision,
    SurgeList,
    SurgePublic,
    TimelinePublic,
    Trigger,
)
from ssaplan.monitoring.service import MonitoringService
from ssaplan.monitoring.surge import SurgeService

router = APIRouter(prefix="/api", tags=["monitoring"])
Opener = Annotated[Actor, Depends(requires("review:open"))]
Decider = Annotated[Actor, Depends(requires("review:decide"))]
Configurer = Annotated[Actor, Depends(requires("review:configure"))]
Recorder = Annotated[Actor, Depends(requires("crisis:record"))]
Requester = Annotated[Actor, Depends(requires("surge:request"))]
Approver = Annotated[Actor, Depends(requires("surge:approve"))]
ReserveManager = Annotated[Actor, Depends(requires("reserve:manage"))]
PerformanceStatus = Annotated[str | None, Query(pattern="^(on_track|at_risk|off_track|unrated)$")]


def _id(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise NotFound(f"no {what} {text!r}")
    return int(text)


# -- monitoring ------------------------------------------------------------------------------
@router.get("/monitoring/summary")
def monitoring_summary(store: StoreDep, actor: Reader) -> MonitorSummary:
    """Performance against targets and delivery timelines (``ssaplan monitor --json``)."""
    with store.session() as session:
        return MonitoringService(session, actor).summary()


@router.get("/monitoring/performance")
def monitoring_performance(
    store: StoreDep,
    actor: Reader,
    strategy: Annotated[str | None, Query(max_length=100)] = None,
    status: PerformanceStatus = None,
) -> Page[IndicatorPerformance]:
    """Every indicator's rated periods and latest status (on track / at risk / off track)."""
    with store.session() as session:
        items = MonitoringService(session, actor).performance(strategy=strategy, status=status)
        return Page[IndicatorPerformance](items=items, total=len(items))


@router.get("/monitoring/timelines")
def monitoring_timelines(
    store: StoreDep, actor: Reader, program: Annotated[str | None, Query(max_length=200)] = None
) -> TimelinePublic:
    """Days from request to approval, obligation and delivery against the standards."""
    with store.session() as session:
        return MonitoringService(session, actor).timelines(program=program)


@router.get("/monitoring/money")
def monitoring_money(store: StoreDep, actor: Reader) -> MoneyPublic:
    """Money pace, funds about to expire by period of availability, unliquidated balances."""
    with store.session() as session:
        return MonitoringService(session, actor).money()


@router.get("/monitoring/rules")
def list_rules(store: StoreDep, actor: Reader) -> Page[RulePublic]:
    """Every monitoring and review rule: its statement and the values in force."""
    with store.session() as session:
        items = MonitoringService(session, actor).rule_sections()
        return Page[RulePublic](items=items, total=len(items))


@router.put("/monitoring/rules/{section}")
def set_rule(section: str, body: RuleChange, store: StoreDep, actor: Configurer) -> RulePublic:
    """Change values of one rule section (e.g. ``indicator_off_track``, ``delivery.FMF``)."""
    with unit_of_work(store) as session:
        return MonitoringService(session, actor).set_rule(section, body.params)


# -- reviews --------------------------------------------------------------------------------
@router.get("/reviews")
def list_reviews(
    store: StoreDep,
    actor: Reader,
    status: Annotated[str | None, Query(pattern="^(open|decided|superseded|all)$")] = "open",
    program: Annotated[str | None, Query(max_length=200)] = None,
    trigger: Trigger | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ReviewPublic]:
    """Reviews, newest first (open ones unless ``status`` says otherwise)."""
    with store.session() as session:
        return ReviewService(session, actor).list_reviews(
            status=None if status == "all" else status,
            program=program,
            trigger=trigger,
            limit=limit,
            offset=offset,
        )


@router.get("/reviews/queue")
def review_queue(store: StoreDep, actor: Reader) -> ReviewQueue:
    """The open reviews as ``ssaplan review --json`` lists them."""
    with store.session() as session:
        return ReviewService(session, actor).queue()


@router.post("/reviews", status_code=201)
def open_review(
    body: ReviewOpen, store: StoreDep, actor: Opener, response: Response
) -> ReviewPublic:
    """Open an immediate review of a program (or add reasons to its open one)."""
    with unit_of_work(store) as session:
        review = ReviewService(session, actor).open_review(
            body.program,
            body.trigger,
            body.reasons,
            recommendation=body.recommendation,
            source="api",
        )
    response.headers["Location"] = f"/api/reviews/{review.id}"
    return review


@router.post("/reviews/run")
def run_review_rules(store: StoreDep, actor: Opener) -> RunReport:
    """Run every review rule over every program; open a review for each that fires."""
    with unit_of_work(store) as session:
        return ReviewService(session, actor).run_rules()


@router.post("/reviews/annual")
def open_annual_cycle(body: AnnualIn, store: StoreDep, actor: Opener) -> RunReport:
    """Open the annual review cycle: a review of every program not completed or terminated."""
    with unit_of_work(store) as session:
        return ReviewService(session, actor).open_annual_cycle(body.fiscal_year)


@router.get("/reviews/{review_id}")
def get_review(review_id: str, store: StoreDep, actor: Reader) -> ReviewPublic:
    """One review with its reasons and, once decided, the decision and what it changed."""
    with store.session() as session:
        return ReviewService(session, actor).get(_id(review_id, "review"))


@router.post("/reviews/{review_id}/decision")
def decide_review(
    review_id: str, body: DecisionIn, store: StoreDep, actor: Decider
) -> ReviewPublic:
    """Decide an open review; the decision changes the program's status and budget.
    A decided review is closed: deciding it again is refused (409)."""
    with unit_of_work(store) as session:
        return ReviewService(session, actor).decide(_id(review_id, "review"), body)


# -- crises ----------------------------------------------------------------------------------
@router.get("/crises")
def list_crises(store: StoreDep, actor: Reader) -> Page[CrisisPublic]:
    """Crises recorded in partner countries, latest first."""
    with store.session() as session:
        items = ReviewService(session, actor).crises()
        return Page[CrisisPublic](items=items, total=len(items))


@router.post("/crises", status_code=201)
def record_crisis(body: CrisisIn, store: StoreDep, actor: Recorder) -> CrisisPublic:
    """Record a crisis; immediate reviews open for the programs in that country."""
    with unit_of_work(store) as session:
        return ReviewService(session, actor).record_crisis(body)


# -- the flexible reserve and surges ---------------------------------------------------------
@router.get("/reserves")
def list_reserves(
    store: StoreDep,
    actor: Reader,
    fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> Page[ReservePublic]:
    """Flexible reserves by account and fiscal year: amount, drawn, available."""
    with store.session() as session:
        items = SurgeService(session, actor).reserves(fiscal_year=fiscal_year)
        return Page[ReservePublic](items=items, total=len(items))


@router.put("/reserves/{account}/{fiscal_year}")
def set_reserve(
    account: str,
    fiscal_year: int,
    body: ReserveIn,
    store: StoreDep,
    actor: ReserveManager,
) -> ReservePublic:
    """Set the flexible reserve of an account for a fiscal year (``version`` to change one)."""
    with unit_of_work(store) as session:
        return SurgeService(session, actor).set_reserve(account, fiscal_year, body)


@router.get("/surges")
def list_surges(
    store: StoreDep,
    actor: Reader,
    status: Annotated[str | None, Query(pattern="^(requested|approved|refused)$")] = None,
) -> SurgeList:
    """Surge requests the caller may see, newest first; ``withheld`` counts the others
    that match, by reason."""
    with store.session() as session:
        return SurgeService(session, actor).list_requests(status=status)


@router.post("/surges", status_code=201)
def request_surge(
    body: SurgeCreate, store: StoreDep, actor: Requester, response: Response
) -> SurgePublic:
    """Request urgent assistance from the flexible reserve; refused (422, nothing written)
    unless it names the strategy objective it serves and its sustainment plan."""
    with unit_of_work(store) as session:
        surge = SurgeService(session, actor).request(body)
    response.headers["Location"] = f"/api/surges/{surge.id}"
    return surge


@router.get("/surges/{surge_id}")
def get_surge(surge_id: str, store: StoreDep, actor: Reader) -> SurgePublic:
    """One surge request."""
    with store.session() as session:
        return SurgeService(session, actor).get(_id(surge_id, "surge request"))


@router.post("/surges/{surge_id}/approve")
def approve_surge(
    surge_id: str, body: SurgeDecision, store: StoreDep, actor: Approver
) -> SurgePublic:
    """Approve: create or extend the program, link it to the objective, draw the reserve."""
    with unit_of_work(store) as session:
        return SurgeService(session, actor).approve(_id(surge_id, "surge request"), body)


@router.post("/surges/{surge_id}/refuse")
def refuse_surge(
    surge_id: str, body: SurgeDecision, store: StoreDep, actor: Approver
) -> SurgePublic:
    """Refuse a surge request, saying why."""
    with unit_of_work(store) as session:
        return SurgeService(session, actor).refuse(_id(surge_id, "surge request"), body)
