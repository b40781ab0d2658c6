"""Pages of the planning cycle: the calendar, proposals (form and page), inbox, pipeline."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, can, restrict
from ssaplan.cycle.analytics import CycleAnalytics
from ssaplan.cycle.models import STAGES
from ssaplan.cycle.schemas import CalendarPublic, CommentPublic, ProposalCreate
from ssaplan.cycle.service import TERMINAL, CycleService
from ssaplan.portfolio.visibility import view_of
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.charts import bars
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
WebWriter = Annotated[Actor, Depends(requires("proposal:write"))]
STEPS = (
    "submit",
    "recall",
    "withdraw",
    "concur",
    "comment",
    "approve",
    "reject",
    "notify",
    "hold",
    "lift-hold",
    "clear",
    "obligate",
)


def _calendar(service: CycleService, fiscal_year: int | None = None) -> CalendarPublic | None:
    try:
        return service.calendar(fiscal_year)
    except NotFound:
        return None


@router.get("/cycle", response_class=HTMLResponse)
def cycle_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    fiscal_year: Annotated[int | None, Query(alias="fy", ge=2000, le=2100)] = None,
    stage: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The planning calendar with its current phase, and the cycle's proposals by stage."""
    if stage is not None and stage not in STAGES:
        raise BadRequest(f"unknown stage {stage!r}")
    with store.session() as session:
        service = CycleService(session, actor)
        cal = _calendar(service, fiscal_year)
        fy = fiscal_year or (cal.fiscal_year if cal else None)
        page = service.list_proposals(fiscal_year=fy)
        listing = page.proposals
        years = service.calendar_years()
    counts = {s: sum(1 for p in listing if p.stage == s) for s in STAGES}
    shown = [p for p in listing if stage is None or p.stage == stage]
    return render(
        request,
        "cycle/index.html",
        {
            "cal": cal,
            "fy": fy,
            "years": years,
            "counts": counts,
            "proposals": shown,
            "withheld": page.withheld,
            "stage": stage,
            "may_propose": can(actor, "proposal:write"),
            "names": _country_names(),
        },
    )


@router.get("/cycle/pipeline", response_class=HTMLResponse)
def pipeline_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    fiscal_year: Annotated[int | None, Query(alias="fy", ge=2000, le=2100)] = None,
) -> Response:
    """Where the pipeline stalls: days per stage, by agency, the longest waits, the trend."""
    with store.session() as session:
        service = CycleService(session, actor)
        result = CycleAnalytics(service).pipeline(
            fiscal_year=fiscal_year, by=("agency", "account", "region"), with_trend=True, limit=15
        )
        cal = _calendar(service)
    timed = [s for s in result.stages if s.stage not in TERMINAL]
    charts = {
        "median": bars(
            [(s.stage, s.median_days or 0) for s in timed],
            title="Median days in each stage",
            unit="days",
        ),
        "p90": bars(
            [(s.stage, s.p90_days or 0) for s in timed],
            title="90th percentile of days in each stage",
            unit="days",
        ),
    }
    review = {}
    for group, rows in (result.by or {}).items():
        items = []
        for g in rows:
            med = {s.stage: s.median_days for s in g.stages}
            total = sum(med.get(k) or 0 for k in ("submitted", "in_review"))
            items.append((g.group, round(total, 1)))
        items.sort(key=lambda kv: -kv[1])
        review[group] = bars(
            items, title=f"Median days in review (submitted + in review) by {group}", unit="days"
        )
    trend_chart = bars(
        [(f"FY{t.fiscal_year}", t.median_submit_to_obligate or 0) for t in result.trend or []],
        title="Median days from submission to obligation, by cycle",
        unit="days",
    )
    return render(
        request,
        "cycle/pipeline.html",
        {
            "result": result,
            "charts": charts,
            "review": review,
            "trend_chart": trend_chart,
            "cal": cal,
            "fy": fiscal_year,
        },
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """What waits on the logged-in user."""
    with store.session() as session:
        service = CycleService(session, actor)
        box = CycleAnalytics(service).inbox()
        cal = _calendar(service)
    return render(request, "cycle/inbox.html", {"items": box.items, "cal": cal})


@router.get("/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, store: StoreDep, actor: WebWriter) -> Response:
    """The proposal form."""
    with store.session() as session:
        cal = _calendar(CycleService(session, actor))
    return render(request, "cycle/form.html", _form_context(actor, cal))


@router.post("/proposals/new", dependencies=[FormCsrf])
async def new_proposal_submit(request: Request, store: StoreDep, actor: WebWriter) -> Response:
    """Draft a proposal from the form."""
    form = await request.form()
    data = _proposal_from_form({k: str(v) for k, v in form.items()}, form.getlist("objectives"))
    try:
        body = ProposalCreate.model_validate(data)
    except pydantic.ValidationError as exc:
        raise Invalid(
            "the proposal is not complete",
            [Detail(tuple(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)],
        ) from exc
    with unit_of_work(store) as session:
        p = CycleService(session, actor).create(body)
    return RedirectResponse(f"/proposals/{p.id}", status_code=303)


@router.get("/proposals/{code}", response_class=HTMLResponse)
def proposal_page(request: Request, code: str, store: StoreDep, actor: WebReader) -> Response:
    """A proposal: its facts, routing, comment thread, steps, and the steps you may take."""
    with store.session() as session:
        service = CycleService(session, actor)
        p = service.get(code)
        found = service.load(code)
        mine = [c for c in service.pending(found) if service._eligible(c)]
        cal = _calendar(service, p.fiscal_year)
    may_write = restrict(actor, "proposal:write").allows(p.agency, [p.country])
    approver = can(actor, "proposal:approve")
    catalog = get_catalog()
    return render(
        request,
        "cycle/proposal.html",
        {
            "p": p,
            "cal": cal,
            "may_write": may_write,
            "approver": approver,
            "may_comment": can(actor, "proposal:comment"),
            "my_concurrence": [c.reviewer for c in mine],
            "thread": _thread(p.comments),
            "objectives": [(o, catalog.objectives[o].name) for o in p.objectives],
            "today": date.today().isoformat(),
        },
    )


@router.post("/proposals/{code}/{action}", dependencies=[FormCsrf])
async def proposal_step(
    request: Request, code: str, action: str, store: StoreDep, actor: WebReader
) -> Response:
    """Take one step from the proposal page (the service checks who may)."""
    if action not in STEPS:
        raise NotFound(f"no step {action!r}")
    form = {k: str(v) for k, v in (await request.form()).items()}
    with unit_of_work(store) as session:
        s = CycleService(session, actor)
        note = form.get("note", "")[:2000]
        if action == "submit":
            s.submit(code)
        elif action == "recall":
            s.recall(code, note)
        elif action == "withdraw":
            s.withdraw(code, note)
        elif action == "concur":
            s.concur(code, form.get("decision", ""), form.get("comment", "")[:5000])
        elif action == "comment":
            reply = form.get("reply_to") or None
            s.comment(code, form.get("body", ""), int(reply) if reply and reply.isdigit() else None)
        elif action == "approve":
            s.approve(code)
        elif action == "reject":
            s.reject(code, note)
        elif action == "notify":
            s.notify(code, _form_date(form, "on"))
        elif action == "hold":
            s.hold(code, note)
        elif action == "lift-hold":
            s.hold(code, note, lift=True)
        elif action == "clear":
            s.clear(code, _form_date(form, "on"))
        elif action == "obligate":
            amount = form.get("amount", "").replace(",", "").replace("$", "").strip()
            if not amount.isdigit():
                raise Invalid("cannot obligate", [Detail(("amount",), "whole dollars")])
            s.obligate(code, int(amount), _form_date(form, "on"))
    return RedirectResponse(f"/proposals/{code}", status_code=303)


# -- helpers --------------------------------------------------------------------------------
def _form_date(form: dict[str, str], key: str) -> date:
    try:
        return date.fromisoformat(form.get(key, ""))
    except ValueError as exc:
        raise Invalid("a date is needed", [Detail((key,), "YYYY-MM-DD")]) from exc


def _numbers(text: str) -> list[int | str]:
    """Numbers from a form field: "1,500,000; 3000000" or "2027, 2028" (a comma followed
    by three digits separates thousands; commas with a space, semicolons, spaces, lists)."""
    out: list[int | str] = []
    plain = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text.replace("$", "").replace("_", ""))
    for part in re.split(r"[,;\s]+", plain):
        if part:
            out.append(int(part) if part.isdigit() else part)
    return out


def _proposal_from_form(form: dict[str, str], objectives: list[Any]) -> dict[str, Any]:
    levels = [{"annual": n} for n in _numbers(form.get("levels", ""))]
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "agency": form.get("agency", ""),
        "account": form.get("account", ""),
        "country": form.get("country", ""),
        "fiscal_year": form.get("fiscal_year", ""),
        "institution_type": form.get("institution_type") or None,
        "level": form.get("level") or None,
        "purpose": form.get("purpose") or None,
        "dac_code": form.get("dac_code") or None,
        "start": form.get("start", ""),
        "end": form.get("end", ""),
        "objectives": [str(o) for o in objectives if str(o)],
        "justification": form.get("justification", ""),
        "assessment_id": form.get("assessment_id") or None,
        "sustainment_plan": form.get("sustainment_plan", ""),
        "levels": levels,
        "fiscal_years": _numbers(form.get("fiscal_years", "")),
        "restriction_flag": form.get("restriction_flag") == "on",
        "vetting_flag": form.get("vetting_flag") == "on",
        "marking": form.get("marking") or None,
        "releasable_to": [c.strip() for c in form.get("releasable_to", "").split(",") if c.strip()]
        or None,
    }


def _form_context(actor: Actor, cal: CalendarPublic | None) -> dict[str, Any]:
    c = get_catalog()
    fy = cal.fiscal_year if cal else date.today().year + 1
    ceiling = view_of(actor, c).ceiling
    return {
        # The markings the proposer may give (none above their own ceiling).
        "markings": [
            (m.id, m.name)
            for m in sorted(c.markings.values(), key=lambda m: m.rank)
            if ceiling is None or m.rank <= ceiling
        ],
        "cal": cal,
        "fy": fy,
        "agencies": sorted(c.agencies.values(), key=lambda a: a.id),
        "accounts": sorted(c.accounts.values(), key=lambda a: a.id),
        "countries": sorted((x for x in c.countries.values() if x.bureau), key=lambda x: x.name),
        "objectives": sorted((o for o in c.objectives.values() if o.goal), key=lambda o: o.id),
        "institution_types": sorted(c.institution_types.values(), key=lambda t: t.name),
        "levels": list(c.levels.values()),
        "purposes": list(c.purposes.values()),
        "home": actor.agency_id or "",
    }


def _country_names() -> dict[str, str]:
    return {k: v.name for k, v in get_catalog().countries.items()}


def _thread(comments: list[CommentPublic]) -> list[tuple[int, CommentPublic]]:
    """Comments in thread order with their depth (replies under what they answer)."""
    children: dict[int | None, list[CommentPublic]] = {}
    for m in comments:
        children.setdefault(m.parent_id, []).append(m)
    out: list[tuple[int, CommentPublic]] = []

    def walk(parent: int | None, depth: int) -> None:
        for m in children.get(parent, []):
            out.append((min(depth, 6), m))
            walk(m.id, depth + 1)

    walk(None, 0)
    return out
