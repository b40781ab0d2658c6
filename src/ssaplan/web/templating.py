"""Rendering pages: one Jinja environment over every domain's ``templates/`` folder."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from ssaplan import __version__
from ssaplan.core.auth import csrf_token
from ssaplan.core.deps import secret_for
from ssaplan.web.charts import money

# Each domain with pages adds its package here; templates live in <package>/templates/<domain>/.
TEMPLATE_PACKAGES = (
    "ssaplan.web",
    "ssaplan.portfolio",
    # [ingest templates]
    "ssaplan.ingest",
    # [assessment templates]
    "ssaplan.assessment",
)

_env = Environment(
    loader=ChoiceLoader([PackageLoader(pkg, "templates") for pkg in TEMPLATE_PACKAGES]),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["money"] = money
_env.filters["dollars"] = lambda v: f"${int(v or 0):,}"
templates = Jinja2Templates(env=_env)


def csrf_for(request: Request) -> str:
    token = getattr(request.state, "session_token", None)
    if not token:
        return ""
    return csrf_token(secret_for(request.app.state.store, request.app.state.settings), token)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ctx = {
        "actor": getattr(request.state, "actor", None),
        "csrf": csrf_for(request),
        "version": __version__,
        "path": request.url.path,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status)
