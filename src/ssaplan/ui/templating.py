"""Rendering pages: one Jinja environment over the toolkit's and every domain's templates.

The app factory builds a :class:`Templating` from the domain list (the toolkit never
imports a domain) and keeps it on ``app.state``; :func:`render` finds it there. Each
domain's templates live in ``<package>/templates/<domain>/``; the toolkit's own
(``ui/base.html``, ``ui/error.html``, macros) in ``ssaplan/ui/templates/ui/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ssaplan import __version__
from ssaplan.core.deps import csrf_expected
from ssaplan.core.permissions import Actor, can
from ssaplan.core.spec import Nav
from ssaplan.ui.money import dollars, money
from ssaplan.ui.names import name, named, sort_by_name


def amount(value: float | int | None) -> Markup:
    """Money for a table cell: the short form, the exact dollars as its tooltip."""
    return Markup(  # noqa: S704 - both texts are our own formatting of a number
        f'<span title="{dollars(value)}" data-dollars="{int(value or 0)}">{money(value)}</span>'
    )


class Templating:
    """Templates of the given packages, and the navigation shown on every page."""

    def __init__(self, packages: Sequence[str], nav: Sequence[Nav] = ()) -> None:
        env = Environment(
            loader=ChoiceLoader(
                [PackageLoader("ssaplan.ui", "templates")]
                + [PackageLoader(pkg, "templates") for pkg in packages]
            ),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["money"] = money
        env.filters["dollars"] = dollars
        env.filters["amount"] = amount
        env.filters["name"] = name
        env.filters["named"] = named
        env.filters["by_name"] = sort_by_name
        self.env = env
        self.templates = Jinja2Templates(env=env)
        self.nav = tuple(sorted(nav, key=lambda n: (n.order, n.label)))

    def nav_for(self, actor: Actor | None) -> list[Nav]:
        """The navigation entries ``actor`` may use (none before login)."""
        if actor is None:
            return []
        return [n for n in self.nav if can(actor, n.action)]


def csrf_for(request: Request) -> str:
    """The CSRF token forms on this page must carry."""
    return csrf_expected(request)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    templating: Templating = request.app.state.templating
    actor = getattr(request.state, "actor", None)
    ctx = {
        "actor": actor,
        "csrf": csrf_for(request),
        "version": __version__,
        "path": request.url.path,
        "nav": templating.nav_for(actor),
        **(context or {}),
    }
    return templating.templates.TemplateResponse(request, name, ctx, status_code=status)
