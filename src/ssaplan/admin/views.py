"""Workbench pages of administration: logging in and out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.core.auth import SESSION_COOKIE
from ssaplan.core.deps import FormCsrf, StoreDep, current_actor
from ssaplan.core.errors import TooManyRequests, Unauthenticated
from ssaplan.core.permissions import Actor
from ssaplan.core.users import login, logout
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
