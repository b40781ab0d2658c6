"""The app factory: the JSON API and the workbench pages of every domain in one ASGI app.

Middleware and error handlers first, then each registered domain's routers
(:mod:`ssaplan.domains`), templating over their templates and their navigation.

Errors take one shape everywhere (:func:`ssaplan.core.errors.envelope`): JSON for the
API, the same content rendered as a page for browsers (a missing login sends the
browser to ``/login`` instead).
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ssaplan import __version__, domains
from ssaplan.core.deps import requires
from ssaplan.core.errors import Detail, SsaplanError, envelope
from ssaplan.core.guard import PUBLIC_WITH_BODY, RequestGuard, SecurityHeaders, security_headers
from ssaplan.core.logins import LoginGuard
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import ERROR_STATUSES, LOGIN_ERROR_STATUSES, ErrorEnvelope
from ssaplan.core.settings import Settings, get_settings
from ssaplan.core.spec import load
from ssaplan.core.store import Store, require_current_schema
from ssaplan.core.timing import ServerTiming
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.templating import Templating, render

log = logging.getLogger("ssaplan")
STATIC_DIR = Path(__file__).parent / "ui" / "static"

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and request.url.path != "/openapi.json"


def _error_response(
    request: Request, status: int, code: str, message: str, details: tuple[Detail, ...] = ()
) -> Response:
    body = envelope(status, code, message, details)
    if _wants_html(request):
        if status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return render(request, "ui/error.html", {"error": body["error"]}, status=status)
    return JSONResponse(body, status_code=status)


def create_app(store: Store | str | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the app for one database (default: ``$SSAPLAN_DB``)."""
    settings = settings or get_settings()
    domains.install()
    if not isinstance(store, Store):
        store = Store(store or settings.db)
    require_current_schema(store)
    get_catalog()  # load and validate the reference data now, not on the first request

    app = FastAPI(
        title="ssaplan",
        version=__version__,
        description="Security sector assistance planning: the shared portfolio and its analyses. "
        "Every route but /api/health needs a login: POST /api/auth/token, then send "
        "'Authorization: Bearer <token>'.",
        openapi_url=None,  # served below, behind a login like everything else
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(ServerTiming)
    app.state.store = store
    app.state.settings = settings
    app.state.login_guard = LoginGuard(settings, store)
    app.state.templating = Templating(domains.template_packages(), domains.navigation())

    @app.exception_handler(SsaplanError)
    async def _domain_error(request: Request, exc: SsaplanError) -> Response:
        response = _error_response(request, exc.status, exc.code, exc.message, exc.details)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = tuple(
            Detail(
                tuple(str(p) if not isinstance(p, int) else p for p in e.get("loc", ())),
                e.get("msg", "invalid"),
            )
            for e in exc.errors()
        )
        return _error_response(request, 422, "invalid", "the request is not valid", details)

    @app.exception_handler(ValidationError)
    async def _model_error(request: Request, exc: ValidationError) -> Response:
        # A model built inside a route from what the user sent (a page's filter form):
        # the same answer as a request that failed validation at the edge, never a 500.
        details = tuple(
            Detail(("query", *(str(p) for p in e.get("loc", ()))), e.get("msg", "invalid"))
            for e in exc.errors()
        )
        return _error_response(request, 422, "invalid", "the request is not valid", details)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Two writers racing for one id (or a reference removed meanwhile): the loser's
        # transaction rolled back whole; tell them so instead of failing with a 500.
        log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc.orig)
        return _error_response(
            request,
            409,
            "conflict",
            "the change conflicts with one made at the same time (or with an existing "
            "record); nothing was saved: reload and try again",
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # An id or number past what the database stores (SQLite's and PostgreSQL's 64-bit
        # integers) reached a query: the request's mistake, answered as one, not a 500.
        log.info("out-of-range value on %s %s: %s", request.method, request.url.path, exc)
        return _error_response(
            request,
            422,
            "invalid",
            "a number in the request is outside the range the database stores "
            "(integers from -9223372036854775808 to 9223372036854775807)",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "no such page or API route" if exc.status_code == 404 else str(exc.detail)
        return _error_response(
            request, exc.status_code, HTTP_CODES.get(exc.status_code, "error"), message
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = _error_response(
            request, 500, "internal_error", "something went wrong on our side; the error was logged"
        )
        # This answer leaves through the outermost middleware, past SecurityHeaders.
        for name, value in security_headers(settings.environment == "production"):
            response.headers[name.decode()] = value.decode()
        return response

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(actor: Annotated[Actor, Depends(requires("read"))]) -> dict[str, Any]:
        """The OpenAPI description of the JSON API."""
        return app.openapi()

    # Added last is outermost: headers go on every answer, the guard's refusals included.
    app.add_middleware(RequestGuard, store=store, settings=settings)
    app.add_middleware(SecurityHeaders, production=settings.environment == "production")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for kind in ("api", "views"):
        for target in domains.routers(kind):
            app.include_router(load(target))
    _document_errors(app)
    return app


def _document_errors(app: FastAPI) -> None:
    """Name in the spec every error status an API route can answer, with the envelope.

    The statuses come from the house (login, permission, body limit, validation, the
    domain errors), so they are added to the generated spec for every JSON API route
    but the public health check; 422 is described by the envelope actually sent.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = generate()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        envelope_schema = ErrorEnvelope.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub in envelope_schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas["ErrorEnvelope"] = envelope_schema
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
        for path, methods in spec.get("paths", {}).items():
            if not path.startswith("/api") or path == "/api/health":
                continue
            statuses = LOGIN_ERROR_STATUSES if path in PUBLIC_WITH_BODY else ERROR_STATUSES
            for op in methods.values():
                responses = op.setdefault("responses", {})
                for status, description in statuses.items():
                    entry = responses.setdefault(str(status), {"description": description})
                    entry["content"] = content
        text = json.dumps(spec["paths"])
        for unused in ("HTTPValidationError", "ValidationError"):
            if f'/{unused}"' not in text:
                schemas.pop(unused, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


# Allocations between young collections in a serving worker (CPython's default is 700).
SERVER_YOUNG_THRESHOLD = 10_000


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``ssaplan serve``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Health checks read the schema version through Alembic; its INFO lines would flood the log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app()
    # What is loaded by now (modules, the reference catalog, compiled templates) lives as
    # long as the worker: moved out of the collector's sight, it is no longer traversed
    # by every full collection, which otherwise cost a third of a list request.
    gc.collect()
    gc.freeze()
    # What a worker keeps while it serves (figures kept until the next write, compiled
    # statements, templates) is still about 100,000 objects, and a full collection of
    # them stopped a request for 60-85 ms about once in every 14 page views (the demo,
    # every navigation page in turn). Young collections 14 times rarer than CPython's
    # default leave the cyclic garbage of requests to the young generations (the tracked
    # count stays flat) and full collections rare: none in 42 page views after the
    # warm-up, and the list's new-page server time 0.8-1.9 ms lower in three paired
    # in-process runs (see benchmarks/bench_portfolio_api.py).
    _, middle, old = gc.get_threshold()
    gc.set_threshold(SERVER_YOUNG_THRESHOLD, middle, old)
    return app
