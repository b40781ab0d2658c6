"""The planning cycle over the API: proposals and their steps, pipeline, inbox, calendar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import AuditPublic, Page, audit_public
from ssaplan.cycle.analytics import CycleAnalytics, Group
from ssaplan.cycle.schemas import (
    CalendarPublic,
    CandidateList,
    ClearIn,
    CommentIn,
    CommentPublic,
    ConcurIn,
    InboxPublic,
    NoteIn,
    NotifyIn,
    ObligateIn,
    PipelinePublic,
    ProposalCreate,
    ProposalList,
    ProposalPublic,
    ProposalUpdate,
    RulesPublic,
    Stage,
)
from ssaplan.cycle.service import CycleService, rules_public

router = APIRouter(prefix="/api", tags=["cycle"])

Writer = Annotated[Actor, Depends(requires("proposal:write"))]
Concurrer = Annotated[Actor, Depends(requires("read"))]  # which concurrence: decided in the service
Commenter = Annotated[Actor, Depends(requires("proposal:comment"))]
Approver = Annotated[Actor, Depends(requires("proposal:approve"))]
Manager = Annotated[Actor, Depends(requires("cycle:manage"))]


@router.get("/proposals")
def list_proposals(
    store: StoreDep,
    actor: Reader,
    stage: Stage | None = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> ProposalList:
    """Proposals with their stage, whole days in it, and whom they wait on."""
    with store.session() as session:
        return CycleService(session, actor).list_proposals(stage=stage, fiscal_year=fiscal_year)


@router.post("/proposals", status_code=201)
def create_proposal(
    body: ProposalCreate, store: StoreDep, actor: Writer, response: Response
) -> ProposalPublic:
    """Draft a proposal of your agency."""
    with unit_of_work(store) as session:
        p = CycleService(session, actor).create(body)
    response.headers["Location"] = f"/api/proposals/{p.id}"
    return p


@router.get("/proposals/pipeline")
def pipeline(
    store: StoreDep,
    actor: Reader,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    by: Annotated[list[Group] | None, Query()] = None,
    trend: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> PipelinePublic:
    """Days in each stage (median, 90th percentile; open stays count up to now), the
    longest waits and on whom, by agency, account or region, and the trend across cycles."""
    with store.session() as session:
        return CycleAnalytics(CycleService(session, actor)).pipeline(
            fiscal_year=fiscal_year, by=tuple(by or ()), with_trend=trend, limit=limit
        )


@router.get("/proposals/candidates")
def candidates(
    store: StoreDep,
    actor: Reader,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> CandidateList:
    """Approved proposals not yet obligated, as allocation-scenario candidates."""
    with store.session() as session:
        return CycleService(session, actor).candidates(fiscal_year)


@router.get("/proposals/{code}")
def get_proposal(code: str, store: StoreDep, actor: Reader) -> ProposalPublic:
    """One proposal with its routing, comment thread, steps and notification."""
    with store.session() as session:
        return CycleService(session, actor).get(code)


@router.get("/proposals/{code}/history")
def proposal_history(code: str, store: StoreDep, actor: Reader) -> Page[AuditPublic]:
    """The proposal's audit records, newest first."""
    with store.session() as session:
        records = CycleService(session, actor).history(code)
        return Page[AuditPublic](items=[audit_public(r) for r in records])


@router.patch("/proposals/{code}")
def update_proposal(
    code: str, body: ProposalUpdate, store: StoreDep, actor: Writer
) -> ProposalPublic:
    """Change a draft or a proposal returned for revision (``version`` as read)."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).update(code, body)


@router.post("/proposals/{code}/submit")
def submit(code: str, store: StoreDep, actor: Writer) -> ProposalPublic:
    """Submit or resubmit: route the proposal to every reviewer its rules name."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).submit(code)


@router.post("/proposals/{code}/recall")
def recall(code: str, body: NoteIn, store: StoreDep, actor: Writer) -> ProposalPublic:
    """Take a proposal under review back for revision."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).recall(code, body.note)


@router.post("/proposals/{code}/withdraw")
def withdraw(code: str, body: NoteIn, store: StoreDep, actor: Writer) -> ProposalPublic:
    """Withdraw a proposal."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).withdraw(code, body.note)


@router.post("/proposals/{code}/concur")
def concur(code: str, body: ConcurIn, store: StoreDep, actor: Concurrer) -> ProposalPublic:
    """Concur, concur with comments, or non-concur (with the reason) for your agency,
    your country (chief of mission) or legal review."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).concur(code, body.decision, body.comment)


@router.post("/proposals/{code}/comments", status_code=201)
def add_comment(code: str, body: CommentIn, store: StoreDep, actor: Commenter) -> CommentPublic:
    """Add a comment (or a reply) to the proposal's thread."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).comment(code, body.body, body.reply_to)


@router.post("/proposals/{code}/approve")
def approve(code: str, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Approve a proposal whose every required concurrence is in."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).approve(code)


@router.post("/proposals/{code}/reject")
def reject(code: str, body: NoteIn, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Reject a proposal, with the reason."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).reject(code, body.note)


@router.post("/proposals/{code}/notify")
def notify(code: str, body: NotifyIn, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Record the congressional notification; the waiting period starts."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).notify(code, body.notified_on)


@router.post("/proposals/{code}/hold")
def hold(code: str, body: NoteIn, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Record a congressional hold on a notified proposal."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).hold(code, body.note)


@router.post("/proposals/{code}/lift-hold")
def lift_hold(code: str, body: NoteIn, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Lift a congressional hold."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).hold(code, body.note, lift=True)


@router.post("/proposals/{code}/clear")
def clear(code: str, body: ClearIn, store: StoreDep, actor: Approver) -> ProposalPublic:
    """Record clearance after the waiting period, with no hold."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).clear(code, body.cleared_on)


@router.post("/proposals/{code}/obligate")
def obligate(code: str, body: ObligateIn, store: StoreDep, actor: Writer) -> ProposalPublic:
    """Record the obligation; refused before a required notification clears."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).obligate(code, body.amount, body.obligated_on)


@router.get("/inbox")
def inbox(store: StoreDep, actor: Reader) -> InboxPublic:
    """What waits on you."""
    with store.session() as session:
        return CycleAnalytics(CycleService(session, actor)).inbox()


@router.get("/cycle/calendar")
def calendar(
    store: StoreDep,
    actor: Reader,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> CalendarPublic:
    """A fiscal year's planning calendar (default: the cycle in progress) and its phase now."""
    with store.session() as session:
        return CycleService(session, actor).calendar(fiscal_year)


@router.post("/cycle/calendar/{fiscal_year}", status_code=201)
def open_calendar(fiscal_year: int, store: StoreDep, actor: Manager) -> CalendarPublic:
    """Open a fiscal year's calendar from the template."""
    with unit_of_work(store) as session:
        return CycleService(session, actor).open_calendar(fiscal_year)


@router.get("/cycle/rules")
def rules(actor: Reader) -> RulesPublic:
    """The concurrence routing and congressional notification rules in force."""
    return rules_public()
