"""Workbench pages of the portfolio: the overview, countries, a country, a program, and
the forms to create, edit and move programs.

The forms' routers come first: ``/programs/new`` and ``/programs/{id}/edit`` must match
before the catch-all ``/programs/{id}`` page (program ids may contain slashes).
"""

from __future__ import annotations

from fastapi import APIRouter

from ssaplan.portfolio.views import forms, pages

router = APIRouter(include_in_schema=False)
router.include_router(forms.router)
router.include_router(pages.router)

__all__ = ["router"]
