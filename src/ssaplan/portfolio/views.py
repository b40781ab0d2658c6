"""Workbench pages of the portfolio: countries, a country, a program."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.permissions import Actor, can, restrict
from ssaplan.portfolio.engine import TRANSITIONS, Money
from ssaplan.portfolio.filters import SORT_KEYS, ProgramFilter
from ssaplan.portfolio.schemas import ProgramPublic, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.charts import bars, columns
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
PAGE_SIZE = 50


@router.get("/countries", response_class=HTMLResponse)
def countries_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Every country with its regions and its programs' money, grouped by bureau."""
    with store.session() as session:
        rows = PortfolioService(session, actor).countries()
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["bureau"] or "No bureau", []).append(row)
    return render(request, "portfolio/countries.html", {"groups": dict(sorted(groups.items()))})


@router.get("/countries/{code}", response_class=HTMLResponse)
def country_page(
    request: Request,
    code: str,
    store: StoreDep,
    actor: WebReader,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """A country: bureau, command, UN region, memberships, and its programs' money."""
    with store.session() as session:
        service = PortfolioService(session, actor)
        country = service.country(code)
        listing = service.list_programs(
            ProgramFilter(country=country["iso3"]),
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            sort="-planned",
        )
    by = country["portfolio"]["by"]
    years = [row["key"] for row in by["fiscal_year"]]
    charts = {
        "fiscal_year": columns(
            [f"FY{y}" for y in years],
            [
                (name, [row[name] for row in by["fiscal_year"]])
                for name in ("planned", "obligated", "disbursed")
            ],
            title=f"Money by fiscal year, {country['name']}",
        ),
        "account": bars(
            [(r["key"], r["planned"]) for r in by["account"]], title="Planned by account"
        ),
        "agency": bars([(r["key"], r["planned"]) for r in by["agency"]], title="Planned by agency"),
    }
    catalog = get_catalog()
    regions = [catalog.regions[c] for c in catalog.country_regions(country["iso3"])]
    return render(
        request,
        "portfolio/country.html",
        {
            "country": country,
            "charts": charts,
            "listing": listing,
            "regions": regions,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
        },
    )


@router.get("/programs/{program_id:path}", response_class=HTMLResponse)
def program_page(request: Request, program_id: str, store: StoreDep, actor: WebReader) -> Response:
    """A program: facts, budget by fiscal year, deliveries, and its audit history."""
    with store.session() as session:
        service = PortfolioService(session, actor)
        program = service.get(program_id)
        history = service.history(program_id)
    catalog = get_catalog()
    may_write = restrict(actor, "program:write").allows(program.agency, program.countries)
    chart = columns(
        [f"FY{b.fiscal_year}" for b in program.budget],
        [
            (name, [getattr(b, name) for b in program.budget])
            for name in ("planned", "obligated", "disbursed")
        ],
        title=f"Budget of {program.id} by fiscal year",
    )
    return render(
        request,
        "portfolio/program.html",
        {
            "p": program,
            "chart": chart,
            "history": [_history_row(r) for r in history],
            "may_write": may_write,
            "next_statuses": sorted(TRANSITIONS.get(program.status, frozenset()))
            if not can(actor, "program:override")
            else sorted(set(TRANSITIONS) - {program.status}),
            "marking": catalog.markings.get(program.marking),
            "names": _names(program),
        },
    )


@router.post("/programs/{program_id:path}/status", dependencies=[FormCsrf])
def program_status_submit(
    request: Request,
    program_id: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("program:write"))],
    status: Annotated[str, Form()],
    version: Annotated[int, Form()],
) -> Response:
    """Move a program along its pipeline from its page."""
    with unit_of_work(store) as session:
        PortfolioService(session, actor).update(
            program_id, ProgramUpdate(status=status, version=version)
        )
    return RedirectResponse(f"/programs/{program_id}", status_code=303)


def _names(p: ProgramPublic) -> dict[str, Any]:
    """Display names for the codes on a program page."""
    c = get_catalog()

    def name(table: Mapping[str, Any], key: str | None) -> str:
        item = table.get(key) if key else None
        return str(item.name) if item is not None else ""

    return {
        "agency": name(c.agencies, p.agency) or p.agency,
        "account": name(c.accounts, p.account),
        "countries": [(code, name(c.countries, code)) for code in p.countries],
        "regions": [(code, name(c.regions, code)) for code in p.regions],
        "objectives": [(code, name(c.objectives, code)) for code in p.objectives],
        "dac": name(c.dac_codes, p.dac_code),
        "institution_type": name(c.institution_types, p.institution_type),
        "purpose": name(c.purposes, p.purpose),
        "level": name(c.levels, p.level),
    }


def _history_row(record: Any) -> dict[str, Any]:
    """An audit record with the fields that changed, for people to read."""
    before, after = record.before or {}, record.after or {}
    changed = []
    for key in sorted(set(before) | set(after)):
        if key in ("version",):
            continue
        if before.get(key) != after.get(key):
            changed.append((key, before.get(key), after.get(key)))
    return {
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "summary": record.summary,
        "changed": changed if record.action == "update" else [],
    }


def filter_from_query(
    country: str | None = None,
    region: str | None = None,
    agency: str | None = None,
    account: str | None = None,
    fiscal_year: str | None = None,
    status: str | None = None,
    objective: str | None = None,
    q: str | None = None,
) -> ProgramFilter:
    """Form fields arrive as strings, empty when unset; empty means 'any'."""
    fy = int(fiscal_year) if fiscal_year and fiscal_year.strip().isdigit() else None
    return ProgramFilter(
        country=country or None,
        region=region or None,
        agency=agency or None,
        account=account or None,
        fiscal_year=fy,
        status=status or None,
        objective=objective or None,
        q=q or None,
    )


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    flt: Annotated[ProgramFilter, Depends(filter_from_query)],
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[str, Query(max_length=40)] = "-planned",
) -> Response:
    """The portfolio overview: totals by year, region, account and agency, and the programs."""
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "-planned"
    with store.session() as session:
        service = PortfolioService(session, actor)
        rollup = service.rollup(flt)
        listing = service.list_programs(
            flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort
        )
    by = rollup.by
    years = list(by["fiscal_year"])
    charts = {
        "fiscal_year": columns(
            [f"FY{y}" for y in years],
            [
                (name, [getattr(by["fiscal_year"][y], name) for y in years])
                for name in ("planned", "obligated", "disbursed")
            ],
            title="Money by fiscal year",
        ),
        "bureau": _bars(by["bureau"], "Planned by regional bureau", "region"),
        "account": _bars(by["account"], "Planned by funding account", "account"),
        "agency": _bars(by["agency"], "Planned by agency", "agency"),
    }
    query = {k: v for k, v in flt.model_dump().items() if v not in (None, "")}
    return render(
        request,
        "portfolio/overview.html",
        {
            "rollup": rollup,
            "charts": charts,
            "listing": listing,
            "flt": flt,
            "query": query,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
            "sort": sort,
            "options": _filter_options(),
        },
    )


def _bars(groups: Mapping[str, Money], title: str, param: str) -> Markup:
    items = [(k, m.planned) for k, m in groups.items()]
    links = [
        f"/?{param}={k}" if k not in ("Multi-regional", "Unassigned") else None for k, _ in items
    ]
    return bars(items, title=title, links=links)


def _filter_options() -> dict[str, list[tuple[str, str]]]:
    from ssaplan.portfolio.models import STATUSES
    from ssaplan.reference.catalog import get_catalog

    c = get_catalog()
    return {
        "region": [
            (r.code, f"{r.code} — {r.name}")
            for r in c.regions.values()
            if r.kind in ("bureau", "combatant_command", "organization")
        ],
        "country": sorted(((k, v.name) for k, v in c.countries.items()), key=lambda kv: kv[1]),
        "agency": [(a.id, a.id if a.parent else f"{a.id} (all)") for a in c.agencies.values()],
        "account": [(a.id, f"{a.id} — {a.name}") for a in c.accounts.values()],
        "fiscal_year": [(str(y), f"FY{y}") for y in range(2025, 2030)],
        "status": [(s, s) for s in STATUSES],
    }
