"""Workbench pages of the portfolio: countries, a country, a program."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.core.auth import Actor, agency_scope
from ssaplan.core.deps import StoreDep, requires, unit_of_work
from ssaplan.core.errors import Forbidden
from ssaplan.portfolio.engine import TRANSITIONS
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.schemas import ProgramPublic, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from ssaplan.web.charts import bars, columns
from ssaplan.web.templating import csrf_for, render

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
    scope = agency_scope(actor)
    may_write = scope is None or program.agency in scope
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
            if actor.role != "admin"
            else sorted(set(TRANSITIONS) - {program.status}),
            "marking": catalog.markings.get(program.marking),
            "names": _names(program),
        },
    )


@router.post("/programs/{program_id:path}/status")
def program_status_submit(
    request: Request,
    program_id: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("program:write"))],
    status: Annotated[str, Form()],
    version: Annotated[int, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Move a program along its pipeline from its page."""
    if not hmac.compare_digest(csrf_for(request), csrf):
        raise Forbidden("missing or wrong form token; reload the page and try again")
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
