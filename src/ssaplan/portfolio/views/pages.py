"""Reading pages: the portfolio overview, countries, a country, a program, and moving a
program along its pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from ssaplan.coordination.service import CoordinationService
from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Conflict, Detail, Invalid, StaleVersion
from ssaplan.core.permissions import Actor, can
from ssaplan.portfolio.engine import NEEDS_REASON, Money, next_steps
from ssaplan.portfolio.filters import FILTER_FIELDS, SORT_KEYS, filter_from_params
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.views.common import history_row, options, resolved, shown_money
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.charts import bars, columns
from ssaplan.ui.forms import field_errors
from ssaplan.ui.names import name
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
PAGE_SIZE = 50
MONEY_KEYS = ("planned", "obligated", "disbursed")


def _page_number(raw: str | None, problems: list[Detail]) -> int:
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        problems.append(Detail(("query", "page"), f"{raw!r} is not a page number"))
        return 1
    return int(raw)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """The portfolio overview: totals by year, bureau, account and agency, and the programs.

    Every filter of the API is offered; a value that is malformed or unknown is shown as
    an error next to its field (422), never ignored.
    """
    params = dict(request.query_params)
    problems: list[Detail] = []
    sort = params.get("sort") or "-planned"
    if sort.lstrip("-") not in SORT_KEYS:
        problems.append(
            Detail(("query", "sort"), f"sort by one of {', '.join(SORT_KEYS)} (- for descending)")
        )
    page = _page_number(params.get("page"), problems)
    flt = None
    try:
        flt = filter_from_params(params)
    except Invalid as exc:
        problems.extend(exc.details)
    raw = {k: params.get(k, "") for k in FILTER_FIELDS}
    ctx: dict[str, Any] = {
        "options": options(),
        "raw": raw,
        "errors": field_errors(problems),
        "may_create": can(actor, "program:write"),
        "may_export": can(actor, "data:export"),
    }
    if problems or flt is None:
        ctx.update(selected=raw, flt=None)
        return render(request, "portfolio/overview.html", ctx, status=422)
    with store.session() as session:
        service = PortfolioService(session, actor)
        rollup = service.rollup(flt)
        listing = service.list_programs(
            flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort
        )
    selected = resolved(flt)
    account = selected.get("account")
    by = rollup.by
    years = list(by["fiscal_year"])
    charts = {
        "fiscal_year": columns(
            [f"FY{y}" for y in years],
            [
                (key, [getattr(by["fiscal_year"][y], key) for y in years])
                for key in ("planned", "obligated", "disbursed")
            ],
            title="Money by fiscal year",
        ),
        "bureau": _bars(by["bureau"], "Planned by regional bureau", "region", "region"),
        "account": _bars(by["account"], "Planned by funding account", "account", "account"),
        "agency": _bars(by["agency"], "Planned by agency", "agency", "agency"),
    }
    filters = {k: v for k, v in selected.items() if v}
    ctx.update(
        rollup=rollup,
        charts=charts,
        listing=listing,
        amounts={p.id: shown_money(p, flt.fiscal_year, account) for p in listing.items},
        money_label=_money_label(flt.fiscal_year, account),
        flt=flt,
        selected=selected,
        query=urlencode(filters),
        page=page,
        pages=max(1, -(-listing.total // PAGE_SIZE)),
        sort=sort,
    )
    return render(request, "portfolio/overview.html", ctx)


def _money_label(fy: int | None, account: str | None) -> str:
    parts = [f"FY{fy}" if fy else "", account or ""]
    return " ".join(p for p in parts if p)


def _bars(groups: Mapping[str, Money], title: str, param: str, kind: str) -> Markup:
    items = [(k, m.planned) for k, m in groups.items()]
    links = [
        f"/?{param}={k}" if k not in ("Multi-regional", "Unassigned") else None for k, _ in items
    ]
    labels = [name(k, kind) if k not in ("Multi-regional", "Unassigned") else k for k, _ in items]
    return bars(items, title=title, links=links, labels=labels)


@router.get("/countries", response_class=HTMLResponse)
def countries_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: str = "name",
) -> Response:
    """Every country with its regions and its programs' money, grouped by regional bureau
    (by name), searchable by name or code, sorted by name or by money (largest first)."""
    if sort not in ("name", "planned", "programs"):
        raise Invalid(
            "invalid sort", [Detail(("query", "sort"), "sort by name, planned or programs")]
        )
    with store.session() as session:
        rows = PortfolioService(session, actor).countries()
    catalog = get_catalog()
    needle = q.strip().casefold()
    if needle:
        rows = [
            r
            for r in rows
            if needle in r["name"].casefold()
            or needle in (r["iso3"].casefold(), r["iso2"].casefold())
            or any(needle in a.casefold() for a in catalog.countries[r["iso3"]].aliases)
        ]
    if sort == "name":
        rows.sort(key=lambda r: r["name"].casefold())
    else:
        rows.sort(key=lambda r: (-r[sort], r["name"].casefold()))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["bureau"] or "", []).append(row)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "", name(kv[0], "region")))
    return render(
        request,
        "portfolio/countries.html",
        {"groups": ordered, "q": q, "sort": sort, "shown": len(rows)},
    )


@router.get("/countries/{code}", response_class=HTMLResponse)
def country_page(
    request: Request,
    code: str,
    store: StoreDep,
    actor: WebReader,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """A country: bureau, command, UN region, memberships, its programs' money, the
    regional programs that cover it, its assessment and the other donors working there."""
    catalog = get_catalog()
    with store.session() as session:
        service = PortfolioService(session, actor)
        country = service.country(code)
        listing = service.list_programs(
            filter_from_params({"country": country["iso3"]}),
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            sort="-planned",
        )
        regional = service.regional_programs(country["iso3"])
        donors = CoordinationService(session, actor).donors_in_country(country["iso3"])
    by = country["portfolio"]["by"]
    years = [row["key"] for row in by["fiscal_year"]]
    charts = {
        "fiscal_year": columns(
            [f"FY{y}" for y in years],
            [(key, [row[key] for row in by["fiscal_year"]]) for key in MONEY_KEYS],
            title=f"Money by fiscal year, {country['name']}",
        ),
        "account": bars(
            [(r["key"], r["planned"]) for r in by["account"]],
            labels=[name(r["key"], "account") for r in by["account"]],
            title="Planned by account",
        ),
        "agency": bars(
            [(r["key"], r["planned"]) for r in by["agency"]],
            labels=[name(r["key"], "agency") for r in by["agency"]],
            title="Planned by agency",
        ),
    }
    regions = [catalog.regions[c] for c in catalog.country_regions(country["iso3"])]
    return render(
        request,
        "portfolio/country.html",
        {
            "country": country,
            "charts": charts,
            "listing": listing,
            "amounts": {p.id: shown_money(p, None, None) for p in listing.items},
            "regions": regions,
            "regional": regional,
            "donors": donors,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
        },
    )


@router.get("/programs/{program_id:path}", response_class=HTMLResponse)
def program_page(request: Request, program_id: str, store: StoreDep, actor: WebReader) -> Response:
    """A program: facts by name, budget by fiscal year and account, deliveries, its audit
    history, and (for those who may) the pipeline form and a link to edit it."""
    return _program_page(request, store, actor, program_id)


def _program_page(
    request: Request,
    store: Any,
    actor: Actor,
    program_id: str,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    message: str = "",
) -> Response:
    with store.session() as session:
        service = PortfolioService(session, actor)
        program = service.get(program_id)
        history = service.history(program_id)
        read_only = service.read_only_reason(program)
    years = sorted({b.fiscal_year for b in program.budget})
    chart = columns(
        [f"FY{y}" for y in years],
        [
            (
                key,
                [sum(getattr(b, key) for b in program.budget if b.fiscal_year == y) for y in years],
            )
            for key in MONEY_KEYS
        ],
        title=f"Budget of {program.id} by fiscal year",
    )
    if can(actor, "program:override"):
        steps = [s for s, _ in options()["status"] if s != program.status]
    else:
        steps = next_steps(program.status)
    return render(
        request,
        "portfolio/program.html",
        {
            "p": program,
            "chart": chart,
            "history": [history_row(r) for r in history],
            "may_write": read_only is None,
            "read_only": read_only if can(actor, "program:write") else None,
            "next_statuses": steps,
            "needs_reason": sorted(NEEDS_REASON),
            "saved": request.query_params.get("saved"),
            "errors": dict(errors or {}),
            "form": dict(form or {}),
            "message": message,
        },
        status=status,
    )


@router.post("/programs/{program_id:path}/status", dependencies=[FormCsrf])
def program_status_submit(
    request: Request,
    program_id: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("program:write"))],
    version: Annotated[int, Form()],
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Move a program along its pipeline from its page; suspending and terminating need
    a reason, which the audit trail keeps. Problems are shown on the program's page."""
    typed = {"status": status, "reason": reason}
    if not status:
        return _program_page(
            request,
            store,
            actor,
            program_id,
            status=422,
            errors={"status": "choose the next status"},
            form=typed,
        )
    try:
        with unit_of_work(store) as session:
            PortfolioService(session, actor).update(
                program_id, ProgramUpdate(status=status, version=version, reason=reason or None)
            )
    except StaleVersion as exc:
        return _program_page(
            request, store, actor, program_id, status=409, form=typed, message=exc.message
        )
    except (Invalid, Conflict) as exc:
        return _program_page(
            request,
            store,
            actor,
            program_id,
            status=exc.status,
            errors=field_errors(exc.details),
            form=typed,
            message=exc.message,
        )
    return RedirectResponse(f"/programs/{program_id}?saved=status", status_code=303)


__all__ = ["router"]
