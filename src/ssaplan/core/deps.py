"""FastAPI dependencies: the store, the current actor, and per-route permissions.

Every route except ``/login`` and ``/api/health`` declares ``Depends(requires(action))``;
a test walks the app's routes to keep it so (default-deny). A login arrives as a
bearer token (API clients) or the session cookie (the browser); cookie-authenticated
writes must also carry the CSRF token, so another site cannot write through a
logged-in browser.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from ssaplan.core.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    local_secret,
)
from ssaplan.core.errors import Forbidden, Unauthenticated
from ssaplan.core.permissions import Actor, require
from ssaplan.core.settings import Settings
from ssaplan.core.store import Store
from ssaplan.core.users import actor_for_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The dependencies that only read the request are ``async``: FastAPI runs a plain
# ``def`` dependency in its thread pool, a hop of tens of microseconds and a queue
# under load, for a function that takes one (benchmarks/bench_portfolio_api.py).
async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]


@contextmanager
def unit_of_work(store: Store) -> Iterator[Session]:
    """One transaction for one request's work: all of it commits, or none."""
    with store.transaction() as session:
        yield session


def secret_for(store: Store, settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    cached: str | None = getattr(store, "_secret_cache", None)
    if cached is None:
        with store.transaction() as session:
            cached = local_secret(session)
        store._secret_cache = cached  # type: ignore[attr-defined]
    return cached


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_actor(request: Request, store: StoreDep) -> Actor:
    """The logged-in actor; 401 if there is none."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    bearer = _bearer(request)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    with store.session() as session:
        actor = actor_for_token(session, token)
    if actor is None:
        raise Unauthenticated(
            "log in first: send 'Authorization: Bearer <token>' (POST /api/auth/token) "
            "or use the session cookie from /login"
        )
    # Browser forms are checked by the web views (the token is a form field there).
    is_api = request.url.path.startswith("/api/")
    if bearer is None and is_api and request.method not in SAFE_METHODS:
        secret = secret_for(store, request.app.state.settings)
        if not csrf_ok(secret, token or "", request.headers.get(CSRF_HEADER)):
            raise Forbidden(
                f"missing or wrong CSRF token: send the {CSRF_HEADER} header, or use a bearer token"
            )
    request.state.actor = actor
    request.state.session_token = token
    return actor


def requires(action: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency that lets the request through only with permission for ``action``."""

    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        require(actor, action)
        return actor

    dependency.__name__ = f"requires_{action.replace(':', '_')}"
    dependency.required_action = action  # type: ignore[attr-defined]
    return dependency


def csrf_expected(request: Request) -> str:
    """The CSRF token of the request's login ('' without one): forms carry it back."""
    token = getattr(request.state, "session_token", None)
    if not token:
        return ""
    return csrf_token(secret_for(request.app.state.store, request.app.state.settings), token)


async def form_csrf(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> None:
    """Refuse a browser form whose ``csrf`` field is not this login's token.

    Declared once per form route (``dependencies=[FormCsrf]``).
    """
    form = await request.form()
    presented = form.get("csrf")
    expected = csrf_expected(request)
    if (
        not expected
        or not isinstance(presented, str)
        or not hmac.compare_digest(expected, presented)
    ):
        raise Forbidden("missing or wrong form token; reload the page and try again")


FormCsrf = Depends(form_csrf)
Reader = Annotated[Actor, Depends(requires("read"))]
# An export's audience (portfolio.visibility.audience_named checks it).
AudienceQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="public, us-government, or a partner country or organization code; "
        "default: your own view",
    ),
]
ProgramWriter = Annotated[Actor, Depends(requires("program:write"))]
Admin = Annotated[Actor, Depends(requires("user:manage"))]
