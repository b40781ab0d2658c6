"""Workbench pages of administration: logging in and out; users and their role
assignments, the audit trail, the reference data (admins)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from ssaplan.admin import trail
from ssaplan.core import audit
from ssaplan.core.auth import SESSION_COOKIE
from ssaplan.core.deps import FormCsrf, StoreDep, current_actor, requires, unit_of_work
from ssaplan.core.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthenticated
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.users import (
    add_user,
    get_user,
    list_users,
    login,
    logout,
    public,
    set_active,
    set_roles,
    update_user,
)
from ssaplan.ui.forms import field_errors
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "ssaplan_login"  # double-submit token for the login form (no session yet)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a fresh login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    """The login page (public)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "admin/login.html", {"next": _safe_next(next), "login_token": token})
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
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials, open a session (HTTP-only cookie) and go where the user was going."""
    settings = request.app.state.settings
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, login_token):
        return _login_again(request, next, "Your login form expired. Please try again.", 400)
    try:
        _user, token = login(
            store,
            username,
            password,
            kind="web",
            hours=settings.session_hours,
            address=request.client.host if request.client else None,
            guard=request.app.state.login_guard,
        )
    except TooManyRequests as exc:
        response = _login_again(request, next, exc.message, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated as exc:
        message = exc.message if "demo" in exc.message else "Wrong username or password."
        return _login_again(request, next, message, 401)
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
        "admin/login.html",
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


@router.post("/logout", dependencies=[FormCsrf])
def logout_submit(
    request: Request, store: StoreDep, actor: Annotated[Actor, Depends(current_actor)]
) -> Response:
    """End the session."""
    with store.transaction() as session:
        logout(session, request.state.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- administration pages ---------------------------------------------------------------
UserAdmin = Annotated[Actor, Depends(requires("user:manage"))]
AuditReader = Annotated[Actor, Depends(requires("audit:read"))]
SCOPE_LABELS = {
    "all": "everywhere",
    "agency": "an agency (with its bureaus)",
    "bureau": "a regional bureau or region",
    "country": "a partner country",
}


def _admin_options() -> dict[str, Any]:
    from ssaplan.core.permissions import table
    from ssaplan.ui.names import choices

    return {
        "roles": [(r.name, f"{r.name} — {r.description}") for r in table().roles.values()],
        "scope_kinds": list(SCOPE_LABELS.items()),
        "agency": choices("agency"),
        "region": choices("region"),
        "country": choices("country"),
        "marking": choices("marking"),
        "audience": choices("country")
        + [(code, label) for code, label in choices("region") if _is_organization(code)],
    }


def _is_organization(code: str) -> bool:
    from ssaplan.reference.catalog import get_catalog

    region = get_catalog().regions.get(code)
    return region is not None and region.kind == "organization"


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, store: StoreDep, actor: UserAdmin) -> Response:
    """What admins look after: users and roles, the audit trail, the assessment
    framework, the reference data."""
    with store.session() as session:
        users = list_users(session, actor)
        records = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    return render(
        request,
        "admin/index.html",
        {"users": len(users), "active": sum(u.active for u in users), "records": records},
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, store: StoreDep, actor: UserAdmin) -> Response:
    """Every user with their role assignments, and a form to add one."""
    return _users_page(request, store, actor)


def _users_page(
    request: Request,
    store: Any,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with store.session() as session:
        users = [public(u) for u in list_users(session, actor)]
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "options": _admin_options(),
            "errors": errors or {},
            "form": form or {"agency": actor.agency_id or "State", "role": "viewer"},
        },
        status=status,
    )


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[FormCsrf])
def add_user_submit(
    request: Request,
    store: StoreDep,
    actor: UserAdmin,
    username: Annotated[str, Form(max_length=64)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    agency: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=32)] = "viewer",
    scope_kind: Annotated[str, Form(max_length=16)] = "",
    scope: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Add a user with one role (more on their page); problems shown next to the fields."""
    typed = {
        "username": username,
        "full_name": full_name,
        "agency": agency,
        "role": role,
        "scope_kind": scope_kind,
        "scope": scope,
    }
    try:
        with unit_of_work(store) as session:
            add_user(
                session,
                actor,
                username=username.strip().lower(),
                password=password,
                role=role,
                agency=agency,
                full_name=full_name.strip(),
                scope_kind=scope_kind or None,
                scope=scope or None,
            )
    except (Invalid, Conflict) as exc:
        errors = field_errors(exc.details) or {"username": exc.message}
        return _users_page(request, store, actor, errors=errors, form=typed, status=exc.status)
    return RedirectResponse(f"/admin/users/{username.strip().lower()}?saved=1", status_code=303)


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(request: Request, username: str, store: StoreDep, actor: UserAdmin) -> Response:
    """One user: role assignments per scope (change them), active or not, history."""
    return _user_page(request, store, actor, username)


def _user_page(
    request: Request,
    store: Any,
    actor: Actor,
    username: str,
    *,
    errors: dict[str, str] | None = None,
    rows: list[dict[str, str]] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    with store.session() as session:
        user = get_user(session, username)
        data = public(user)
        history = audit.history(session, "user", username, limit=50)
        history_rows = [
            {"at": r.at, "actor": r.actor, "action": r.action, "summary": r.summary}
            for r in history
        ]
    return render(
        request,
        "admin/user.html",
        {
            "u": data,
            "rows": rows if rows is not None else data["roles"],
            "options": _admin_options(),
            "errors": errors or {},
            "message": message,
            "history": history_rows,
            "saved": request.query_params.get("saved"),
            "is_me": username == actor.username,
        },
        status=status,
    )


@router.post("/admin/users/{username}/roles", response_class=HTMLResponse, dependencies=[FormCsrf])
async def roles_submit(
    request: Request, username: str, store: StoreDep, actor: UserAdmin
) -> Response:
    """Replace the user's role assignments with the rows of the form (blank rows and
    rows marked 'remove' left out)."""
    form = await request.form()
    indices = sorted(
        {int(k.split("-")[1]) for k in form if k.startswith("role-") and k.count("-") == 2}
    )
    rows: list[dict[str, str]] = []
    for i in indices[:100]:
        role = str(form.get(f"role-{i}-role") or "").strip()
        if not role or form.get(f"role-{i}-remove"):
            continue
        kind = str(form.get(f"role-{i}-scope_kind") or "all")
        rows.append(
            {
                "role": role,
                "scope_kind": kind,
                "scope": str(form.get(f"role-{i}-scope_{kind}") or "").strip(),
            }
        )
    version = str(form.get("version") or "")
    try:
        with unit_of_work(store) as session:
            set_roles(
                session,
                actor,
                username,
                rows,
                version=int(version) if version.isdigit() else None,
            )
    except (Invalid, Conflict) as exc:
        return _user_page(
            request,
            store,
            actor,
            username,
            errors=field_errors(exc.details),
            rows=rows,
            message=exc.message,
            status=exc.status,
        )
    return RedirectResponse(f"/admin/users/{username}?saved=roles", status_code=303)


@router.post(
    "/admin/users/{username}/clearance", response_class=HTMLResponse, dependencies=[FormCsrf]
)
def clearance_submit(
    request: Request,
    username: str,
    store: StoreDep,
    actor: UserAdmin,
    marking_ceiling: Annotated[str, Form(max_length=32)] = "",
    audience: Annotated[str, Form(max_length=200)] = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Set the user's marking ceiling and audience (empty: every marking, U.S. staff)."""
    try:
        with unit_of_work(store) as session:
            current = get_user(session, username).version
            update_user(
                session,
                actor,
                username,
                version=version if version is not None else current,
                marking_ceiling=marking_ceiling.strip(),
                audience=audience.strip(),
            )
    except (Invalid, Conflict) as exc:
        return _user_page(
            request,
            store,
            actor,
            username,
            errors=field_errors(exc.details),
            message=exc.message,
            status=exc.status,
        )
    return RedirectResponse(f"/admin/users/{username}?saved=clearance", status_code=303)


@router.post("/admin/users/{username}/active", response_class=HTMLResponse, dependencies=[FormCsrf])
def active_submit(
    request: Request,
    username: str,
    store: StoreDep,
    actor: UserAdmin,
    active: Annotated[str, Form()] = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Deactivate (lock out at once) or reactivate the user."""
    try:
        with unit_of_work(store) as session:
            set_active(session, actor, username, active == "1", version=version)
    except (Invalid, Conflict) as exc:
        return _user_page(
            request, store, actor, username, message=exc.one_line(), status=exc.status
        )
    return RedirectResponse(f"/admin/users/{username}?saved=active", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    store: StoreDep,
    actor: AuditReader,
    entity_type: Annotated[str, Query(max_length=64)] = "",
    entity_id: Annotated[str, Query(max_length=200)] = "",
    who: Annotated[str, Query(alias="actor", max_length=64)] = "",
    before_id: Annotated[int | None, Query(ge=1)] = None,
    verify: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    """Search the audit trail (newest first, 100 a page) and verify its hash chain."""
    with store.session() as session:
        found = trail.search(
            session,
            actor,
            entity_type=entity_type.strip() or None,
            entity_id=entity_id.strip() or None,
            actor=who.strip() or None,
            limit=100,
            before_id=before_id,
        )
        rows = [
            {
                "id": r.id,
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "entity_type": r.entity_type,
                "entity_id": r.entity_id,
                "summary": r.summary,
                "hash": r.hash,
            }
            for r in found.records
        ]
        types = sorted(
            t for (t,) in session.execute(select(AuditRecord.entity_type).distinct()).all()
        )
        verification = audit.verify(session) if verify else None
    query = {
        k: v
        for k, v in (("entity_type", entity_type), ("entity_id", entity_id), ("actor", who))
        if v
    }
    return render(
        request,
        "admin/audit.html",
        {
            "rows": rows,
            "types": types,
            "q": query,
            "query": urlencode(query),
            "verification": verification,
            "withheld": found.withheld,
            "older": rows[-1]["id"] if len(rows) == 100 else None,
        },
    )


@router.get("/admin/reference", response_class=HTMLResponse)
def reference_index(request: Request, actor: UserAdmin) -> Response:
    """The shipped reference data, kind by kind."""
    from ssaplan.reference.catalog import get_catalog
    from ssaplan.reference.cli import REFERENCE_KINDS

    catalog = get_catalog()
    kinds = [(name, kind, len(catalog.table(kind))) for name, kind in REFERENCE_KINDS.items()]  # type: ignore[arg-type]
    return render(request, "admin/reference.html", {"kinds": kinds, "kind": None})


@router.get("/admin/reference/{name}", response_class=HTMLResponse)
def reference_kind(
    request: Request,
    name: str,
    actor: UserAdmin,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """One kind of reference data as a table (searchable)."""
    from dataclasses import asdict

    from ssaplan.reference.catalog import get_catalog
    from ssaplan.reference.cli import REFERENCE_KINDS, kind_of

    kind = kind_of(name)
    if kind is None:
        raise NotFound(f"no reference data {name!r}: use one of {', '.join(REFERENCE_KINDS)}")
    catalog = get_catalog()
    items = [asdict(v) for v in catalog.table(kind).values()]  # type: ignore[arg-type, call-overload]
    if q.strip():
        needle = q.strip().casefold()
        items = [i for i in items if any(needle in str(v).casefold() for v in i.values())]
    columns = [c for c in (items[0].keys() if items else []) if c not in ("members",)]
    for item in items:
        for c in columns:
            value = item.get(c)
            if isinstance(value, list | tuple | frozenset | set):
                item[c] = ", ".join(sorted(str(v) for v in value))
    api_name = next(n for n, k in REFERENCE_KINDS.items() if k == kind)
    kinds = [(n, k, len(catalog.table(k))) for n, k in REFERENCE_KINDS.items()]  # type: ignore[arg-type]
    return render(
        request,
        "admin/reference.html",
        {"kinds": kinds, "kind": api_name, "items": items, "columns": columns, "q": q},
    )
