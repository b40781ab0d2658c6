"""Workbench pages of compliance: restrictions by country on a map and a timeline, a
country's restrictions, the vetting queue with expiring items, a program's eligibility
panel, the assisted units per country, the rules (admins edit them).

Pages parse, call :class:`ComplianceService`, render. Forms post back here with the
login's CSRF token and redirect (post, redirect, get); errors render as the one error
page.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.compliance.charts import Row, Span, timeline
from ssaplan.compliance.inputs import fiscal_year_of
from ssaplan.compliance.schemas import (
    CredibleCreate,
    CredibleUpdate,
    ProgramFactsUpdate,
    RestrictionCreate,
    RestrictionPublic,
    RuleUpdate,
    UnitCreate,
    VettingCreate,
    VettingUpdate,
    WaiverIn,
)
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, Detail, Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.ui.maps import choropleth
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
WebManager = Annotated[Actor, Depends(requires("compliance:manage"))]
WebVetter = Annotated[Actor, Depends(requires("compliance:vet"))]
MAX_UPLOAD = 5 * 1024 * 1024
# Light (nothing in force) to dark (several restrictions at once); readable in greyscale.
RESTRICTION_PALETTE = ("#f7f4ef", "#f4c4a6", "#e4865c", "#c04a2b", "#7f1d12")
SHORT_TYPES = {
    "coup": "coup (7008)",
    "child_soldiers": "child soldiers (CSPA)",
    "trafficking_tier3": "TIP Tier 3",
    "state_sponsor_of_terrorism": "State Sponsor of Terrorism",
}


def _context(actor: Actor, page: str, **extra: Any) -> dict[str, Any]:
    return {
        "page": page,
        "can_manage": can(actor, "compliance:manage"),
        "can_vet": can(actor, "compliance:vet"),
        "short_types": SHORT_TYPES,
        **extra,
    }


def _date(value: str, field: str, *, required: bool = True) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise Invalid("the form is not valid", [Detail(("form", field), "a date is required")])
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            "the form is not valid", [Detail(("form", field), f"{value!r} is not YYYY-MM-DD")]
        ) from None


def _rows(restrictions: list[RestrictionPublic], by_country: bool) -> list[Row]:
    grouped: dict[str, list[RestrictionPublic]] = defaultdict(list)
    for r in restrictions:
        grouped[r.country if by_country else str(r.id)].append(r)
    rows = []
    for items in grouped.values():
        first = items[0]
        spans = [
            Span(
                r.start,
                r.end,
                r.type,
                SHORT_TYPES.get(r.type, r.type),
                f"{r.country_name}: {r.type_name} from {r.start} ({r.end or 'open-ended'}); "
                f"{r.citation}",
                f"/compliance/countries/{r.country}#restriction-{r.id}",
            )
            for r in items
        ]
        waivers = [
            Span(
                w.start,
                w.end,
                "waiver",
                "waiver",
                f"waiver of {r.type_name} for {', '.join(w.accounts)} from {w.start} "
                f"({w.end or 'open-ended'}){'; ' + w.citation if w.citation else ''}",
            )
            for r in items
            for w in r.waivers
        ]
        label = first.country_name if by_country else SHORT_TYPES.get(first.type, first.type)
        rows.append(
            Row(
                label,
                spans,
                waivers,
                f"/compliance/countries/{first.country}" if by_country else None,
            )
        )
    return sorted(rows, key=lambda row: row.label)


# -- overview: map, timeline, register ---------------------------------------------------
@router.get("/compliance", response_class=HTMLResponse)
def overview_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Restrictions by country on a map and a timeline; the register; what needs attention."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        today = svc.today
        fy = fiscal_year_of(today)
        restrictions = svc.restrictions.search()
        verdicts = svc.eligibility(fiscal_year=fy)
        pending = len(svc.vetting.requests(status="pending"))
        expiring = svc.vetting.expiring()
        rules = svc.rules.list_rules()
        types = svc.rules.list_types()
        loaded = svc.rules.loaded()
        catalog = svc.ctx.catalog
    in_force: dict[str, list[RestrictionPublic]] = defaultdict(list)
    for r in restrictions:
        if r.in_force:
            in_force[r.country].append(r)
    values: dict[str, float | None] = {iso3: 0.0 for iso3 in catalog.countries}
    tips: dict[str, str] = {}
    for iso3, country in catalog.countries.items():
        found = in_force.get(iso3, [])
        values[iso3] = float(len({r.type for r in found}))
        tips[iso3] = (
            f"{country.name}: " + ", ".join(sorted({r.type_name for r in found}))
            if found
            else f"{country.name}: no restriction in force"
        )
    world = choropleth(
        values,
        title=f"Restrictions in force on {today.isoformat()}",
        label="kinds of restriction in force",
        domain=(0.0, 5.0),
        link=lambda iso3: f"/compliance/countries/{iso3}",
        tooltips=tips,
        palette=RESTRICTION_PALETTE,
        clip_id="compliance-clip",
        counts=True,
    )
    first_fy, last_fy = fy - 6, fy + 3
    shown = [
        r
        for r in restrictions
        if (r.end is None or fiscal_year_of(r.end) >= first_fy)
        and fiscal_year_of(r.start) <= last_fy
    ]
    chart = timeline(
        _rows(shown, by_country=True),
        first_fy=first_fy,
        last_fy=last_fy,
        today=today,
        title=f"Restrictions FY{first_fy}-FY{last_fy}",
    )
    by_country: dict[str, list[RestrictionPublic]] = defaultdict(list)
    for r in restrictions:
        by_country[r.country].append(r)
    ineligible = [v for v in verdicts if not v.eligible]
    ctx = _context(
        actor,
        "overview",
        today=today,
        fiscal_year=fy,
        world=world,
        timeline=chart,
        groups=sorted(by_country.items(), key=lambda kv: kv[1][0].country_name),
        in_force_countries=len(in_force),
        program_years=len(verdicts),
        ineligible=len(ineligible),
        ineligible_planned=sum(v.planned for v in ineligible),
        pending=pending,
        expiring=len(expiring),
        rules=len(rules),
        types=types,
        rules_loaded=loaded,
    )
    return render(request, "compliance/overview.html", ctx)


@router.post("/compliance/restrictions", dependencies=[FormCsrf])
def restriction_submit(
    request: Request,
    store: StoreDep,
    actor: WebManager,
    country: Annotated[str, Form(max_length=200)],
    type: Annotated[str, Form(max_length=64)],
    start: Annotated[str, Form(max_length=10)],
    citation: Annotated[str, Form(min_length=1, max_length=2000)],
    end: Annotated[str, Form(max_length=10)] = "",
    source_document: Annotated[str, Form(max_length=2000)] = "",
    waiver_accounts: Annotated[str, Form(max_length=500)] = "",
    waiver_start: Annotated[str, Form(max_length=10)] = "",
    waiver_end: Annotated[str, Form(max_length=10)] = "",
    waiver_citation: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record a restriction from the overview (admins), with at most one waiver."""
    waivers = []
    accounts = [a.strip() for a in waiver_accounts.replace(";", ",").replace("|", ",").split(",")]
    accounts = [a for a in accounts if a]
    if accounts:
        w_start = _date(waiver_start, "waiver_start")
        assert w_start is not None  # noqa: S101  (required above)
        waivers.append(
            WaiverIn(
                accounts=accounts,
                start=w_start,
                end=_date(waiver_end, "waiver_end", required=False),
                citation=waiver_citation,
            )
        )
    body = RestrictionCreate(
        country=country,
        type=type,
        start=_date(start, "start"),
        end=_date(end, "end", required=False),
        citation=citation,
        source_document=source_document,
        waivers=waivers,
    )
    with unit_of_work(store) as session:
        change = ComplianceService(session, actor).restrictions.create(body)
    assert change.restriction is not None  # noqa: S101  (a create returns its record)
    r = change.restriction
    return RedirectResponse(
        f"/compliance/countries/{r.country}#restriction-{r.id}", status_code=303
    )


@router.post("/compliance/restrictions/import", dependencies=[FormCsrf])
async def restrictions_import_submit(
    request: Request,
    store: StoreDep,
    actor: WebManager,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import a restrictions CSV from the overview (admins), all or nothing."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise BadRequest(f"{file.filename}: larger than {MAX_UPLOAD // 2**20} MB")
    with unit_of_work(store) as session:
        report = ComplianceService(session, actor).restrictions.import_csv(
            data, name=file.filename or "restrictions.csv"
        )
    return RedirectResponse(
        f"/compliance?imported={len(report.created)}&updated={len(report.updated)}#register",
        status_code=303,
    )


# -- a country -------------------------------------------------------------------------
@router.get("/compliance/countries/{code}", response_class=HTMLResponse)
def country_page(request: Request, code: str, store: StoreDep, actor: WebReader) -> Response:
    """A country's restrictions and waivers over time, its programs' eligibility from this
    fiscal year, and the units assisted there."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        iso3 = svc.resolve_country(code)
        today = svc.today
        fy = fiscal_year_of(today)
        restrictions = svc.restrictions.search(country=iso3)
        verdicts = sorted(
            (v for v in svc.eligibility_public(countries=[iso3]) if v.fiscal_year >= fy),
            key=lambda v: (v.eligible, v.fiscal_year, v.id),
        )
        assisted = svc.assisted_units(country=iso3)
        units = svc.vetting.units(country=iso3)
        name = svc.ctx.country_name(iso3)
        types = svc.rules.list_types()
    years = [r.start for r in restrictions]
    first_fy = min([fiscal_year_of(d) for d in years] + [fy - 3])
    chart = timeline(
        _rows(restrictions, by_country=False),
        first_fy=max(first_fy, fy - 15),
        last_fy=fy + 3,
        today=today,
        title=f"Restrictions on {name}",
    )
    ctx = _context(
        actor,
        "country",
        iso3=iso3,
        name=name,
        today=today,
        fiscal_year=fy,
        restrictions=restrictions,
        timeline=chart,
        verdicts=verdicts,
        assisted=assisted[0].units if assisted else [],
        units=units,
        types=types,
    )
    return render(request, "compliance/country.html", ctx)


# -- eligibility list --------------------------------------------------------------------
@router.get("/compliance/eligibility", response_class=HTMLResponse)
def eligibility_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    show: Annotated[str, Query(pattern="^(ineligible|all)$")] = "ineligible",
) -> Response:
    """Program-years of a fiscal year judged: the ineligible first, every reason."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        fy = fiscal_year or fiscal_year_of(svc.today)
        items = svc.eligibility_public(fiscal_year=fy, ineligible_only=show == "ineligible")
    ctx = _context(actor, "eligibility", fiscal_year=fy, items=items, show=show)
    return render(request, "compliance/eligibility.html", ctx)


# -- a program's eligibility panel ----------------------------------------------------------
@router.get("/compliance/programs/{program_id:path}", response_class=HTMLResponse)
def program_page(request: Request, program_id: str, store: StoreDep, actor: WebReader) -> Response:
    """A program's eligibility panel: each fiscal year eligible or not, with every reason and
    citation; its legal facts; the vetting of the units and individuals it assists."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        panel = svc.program_panel(program_id)
        facts = svc.program_facts(panel.id)
        requests = svc.vetting.requests(program=panel.id)
        assistance = svc.vetting.assistance(panel.id)
        may_vet = svc.ctx.may_vet(facts)
        units = [u for c in facts.countries for u in svc.vetting.units(country=c)]
        known_flags = svc.vetting.known_flags()
        names = {c: svc.ctx.country_name(c) for c in facts.countries}
    ctx = _context(
        actor,
        "program",
        p=panel,
        facts=facts,
        countries=names,
        requests=requests,
        assistance=assistance,
        may_vet=may_vet,
        units=units,
        known_flags=known_flags,
    )
    return render(request, "compliance/program.html", ctx)


@router.post("/compliance/programs/{program_id:path}/facts", dependencies=[FormCsrf])
async def facts_submit(
    request: Request,
    program_id: str,
    store: StoreDep,
    actor: WebVetter,
    version: Annotated[int, Form(ge=0)],
    recipient: Annotated[str, Form(pattern="^(government|non_government)$")] = "government",
    note: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Record whom the program's assistance goes to and its flags."""
    form = await request.form()
    flags = [str(f) for f in form.getlist("flags")][:100]
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.set_facts(
            program_id,
            ProgramFactsUpdate(
                recipient=recipient,
                flags=flags,
                note=note,
                version=version,
            ),
        )
    return RedirectResponse(f"/compliance/programs/{program_id}#facts", status_code=303)


@router.post("/compliance/programs/{program_id:path}/vetting", dependencies=[FormCsrf])
def vetting_submit(
    request: Request,
    program_id: str,
    store: StoreDep,
    actor: WebVetter,
    unit: Annotated[str, Form(max_length=12)] = "",
    individual: Annotated[str, Form(max_length=200)] = "",
    requested: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Request vetting of a unit or an individual for this program."""
    body = VettingCreate(
        unit=int(unit) if unit.strip().isdigit() else None,
        individual=individual.strip() or None,
        program=program_id,
        requested=_date(requested, "requested", required=False),
    )
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.create_request(body)
    return RedirectResponse(f"/compliance/programs/{program_id}#vetting", status_code=303)


@router.post("/compliance/assistance/{assistance_id}/remove", dependencies=[FormCsrf])
def assistance_remove(
    request: Request,
    assistance_id: int,
    store: StoreDep,
    actor: WebVetter,
    back: Annotated[str, Form(max_length=300, pattern="^/compliance/")] = "/compliance/vetting",
) -> Response:
    """The program no longer assists this unit or individual."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.remove_assistance(assistance_id)
    return RedirectResponse(back, status_code=303)


@router.post("/compliance/vetting/{request_id}/decide", dependencies=[FormCsrf])
def decide_submit(
    request: Request,
    request_id: int,
    store: StoreDep,
    actor: WebVetter,
    status: Annotated[str, Form(pattern="^(approved|suspended|denied)$")],
    version: Annotated[int, Form(ge=1)],
    decided: Annotated[str, Form(max_length=10)] = "",
    back: Annotated[str, Form(max_length=300, pattern="^/compliance/")] = "/compliance/vetting",
) -> Response:
    """Record a vetting decision from the queue or a program page."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.update_request(
            request_id,
            VettingUpdate(
                status=status,
                decided=_date(decided, "decided", required=False),
                version=version,
            ),
        )
    return RedirectResponse(back, status_code=303)


# -- the vetting queue ------------------------------------------------------------------
@router.get("/compliance/vetting", response_class=HTMLResponse)
def vetting_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Requests to decide, approvals about to lapse, assisted units not cleared, open
    credible information."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        queue = svc.vetting_queue()
        today = svc.today
    return render(
        request, "compliance/vetting.html", _context(actor, "vetting", q=queue, today=today)
    )


# -- units and credible information ---------------------------------------------------------
@router.get("/compliance/units", response_class=HTMLResponse)
def units_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    fiscal_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> Response:
    """The current list of units assisted in each country (22 U.S.C. 2378d), the unit
    registry and credible information."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        fy = fiscal_year or fiscal_year_of(svc.today)
        assisted = svc.assisted_units(fiscal_year=fy)
        units = svc.vetting.units()
        credible = svc.vetting.credible()
        types = sorted(svc.ctx.catalog.institution_types.values(), key=lambda t: t.name)
        today = svc.today
    ctx = _context(
        actor,
        "units",
        fiscal_year=fy,
        assisted=assisted,
        units=units,
        credible=credible,
        unit_types=types,
        today=today,
    )
    return render(request, "compliance/units.html", ctx)


@router.post("/compliance/units", dependencies=[FormCsrf])
def unit_submit(
    request: Request,
    store: StoreDep,
    actor: WebVetter,
    name: Annotated[str, Form(min_length=1, max_length=300)],
    country: Annotated[str, Form(max_length=200)],
    type: Annotated[str, Form(max_length=200)],
    parent: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Register a unit."""
    with unit_of_work(store) as session:
        unit = ComplianceService(session, actor).vetting.create_unit(
            UnitCreate(
                name=name,
                country=country,
                type=type,
                parent=int(parent) if parent.strip().isdigit() else None,
            )
        )
    return RedirectResponse(f"/compliance/units#unit-{unit.id}", status_code=303)


@router.post("/compliance/credible", dependencies=[FormCsrf])
def credible_submit(
    request: Request,
    store: StoreDep,
    actor: WebVetter,
    unit: Annotated[int, Form(ge=1)],
    reported: Annotated[str, Form(max_length=10)],
    description: Annotated[str, Form(min_length=1, max_length=8000)],
    source: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Record credible information about a unit."""
    day = _date(reported, "reported")
    assert day is not None  # noqa: S101  (required above)
    with unit_of_work(store) as session:
        info = ComplianceService(session, actor).vetting.create_credible(
            CredibleCreate(unit=unit, reported=day, description=description, source=source)
        )
    return RedirectResponse(f"/compliance/units#credible-{info.id}", status_code=303)


@router.post("/compliance/credible/{info_id}/remediate", dependencies=[FormCsrf])
def remediate_submit(
    request: Request,
    info_id: int,
    store: StoreDep,
    actor: WebManager,
    version: Annotated[int, Form(ge=1)],
    remediated_on: Annotated[str, Form(max_length=10)],
    remediation: Annotated[str, Form(min_length=1, max_length=8000)],
) -> Response:
    """Record the remediation of credible information (admins)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.update_credible(
            info_id,
            CredibleUpdate(
                remediated_on=_date(remediated_on, "remediated_on"),
                remediation=remediation,
                version=version,
            ),
        )
    return RedirectResponse(f"/compliance/units#credible-{info_id}", status_code=303)


# -- rules ------------------------------------------------------------------------------
@router.get("/compliance/rules", response_class=HTMLResponse)
def rules_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """The rules in force with their citations and summaries; admins edit them here."""
    with store.session() as session:
        svc = ComplianceService(session, actor)
        rules = svc.rules.list_rules()
        types = svc.rules.list_types()
        loaded = svc.rules.loaded()
    ctx = _context(actor, "rules", rules=rules, types=types, rules_loaded=loaded)
    return render(request, "compliance/rules.html", ctx)


@router.post("/compliance/rules/{rule_id}", dependencies=[FormCsrf])
def rule_submit(
    request: Request,
    rule_id: str,
    store: StoreDep,
    actor: WebManager,
    version: Annotated[int, Form(ge=1)],
    summary: Annotated[str, Form(min_length=1, max_length=8000)],
    citation: Annotated[str, Form(min_length=1, max_length=2000)],
    blocks_accounts: Annotated[str, Form(min_length=1, max_length=2000)],
    recipients: Annotated[str, Form(pattern="^(government|non_government|any)$")],
    waivable: Annotated[str, Form(pattern="^(yes|no)$")],
    waiver: Annotated[str, Form(max_length=8000)] = "",
    note: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Change a rule (admins); the whole rule set is checked before it is saved."""
    accounts = [a.strip() for a in blocks_accounts.replace(";", ",").split(",") if a.strip()]
    with unit_of_work(store) as session:
        ComplianceService(session, actor).rules.update_rule(
            rule_id,
            RuleUpdate(
                summary=summary,
                citation=citation,
                blocks_accounts=accounts,
                recipients=recipients,
                waivable=waivable == "yes",
                waiver=waiver,
                note=note,
                version=version,
            ),
        )
    return RedirectResponse(f"/compliance/rules#rule-{rule_id}", status_code=303)
