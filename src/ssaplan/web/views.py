"""Workbench pages of the web package: login, logout, and the portfolio overview."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from ssaplan.core.auth import SESSION_COOKIE, Actor
from ssaplan.core.deps import StoreDep, current_actor, requires, unit_of_work
from ssaplan.core.errors import Forbidden, Unauthenticated
from ssaplan.core.users import login, logout
from ssaplan.portfolio.engine import Money
from ssaplan.portfolio.filters import SORT_KEYS, ProgramFilter
from ssaplan.portfolio.service import PortfolioService
from ssaplan.web.charts import bars, columns
from ssaplan.web.templating import csrf_for, render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "ssaplan_login"  # double-submit token for the login form (no session yet)
PAGE_SIZE = 50

WebReader = Annotated[Actor, Depends(requires("read"))]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a fresh login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    """The login page (public)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "web/login.html", {"next": _safe_next(next), "login_token": token})
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        max_age=3600,
    )
    return response


@router.post("/login")
def login_submit(
    request: Request,
    store: StoreDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials, open a session (HTTP-only cookie) and go where the user was going."""
    settings = request.app.state.settings
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, login_token):
        return _login_again(request, next, "Your login form expired. Please try again.", 400)
    try:
        with unit_of_work(store) as session:
            _user, token = login(
                session, username, password, kind="web", hours=settings.session_hours
            )
    except Unauthenticated:
        return _login_again(request, next, "Wrong username or password.", 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


def _login_again(request: Request, next: str, message: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "web/login.html",
        {"next": _safe_next(next), "login_token": token, "message": message},
        status=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        max_age=3600,
    )
    return response


@router.post("/logout")
def logout_submit(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(current_actor)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """End the session."""
    if not hmac.compare_digest(csrf_for(request), csrf):
        raise Forbidden("missing or wrong form token; reload the page and try again")
    with unit_of_work(store) as session:
        logout(session, request.state.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


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
    page: Annotated[int, Query(ge=1)] = 1,
    sort: str = "-planned",
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
        "web/overview.html",
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
