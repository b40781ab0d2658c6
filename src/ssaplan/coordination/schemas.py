"""Shapes of donor activities and published U.S. figures as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class DonorActivitySummary(BaseModel):
    """A donor activity without its child rows, for lists."""

    identifier: str
    reporting_org_ref: str | None
    reporting_org_name: str
    title: str
    default_language: str | None
    default_currency: str | None
    status: str | None
    planned_start: date | None
    actual_start: date | None
    planned_end: date | None
    actual_end: date | None
    humanitarian: bool | None
    default_aid_type: str | None
    default_finance_type: str | None
    iati_version: str
    source_file: str
    imported_at: datetime


class DonorActivityPublic(DonorActivitySummary):
    """A donor activity with titles and descriptions in every language and its rows:
    participating organisations, recipient countries and regions, sectors, budgets and
    planned disbursements, transactions (original amount, currency, value date, USD)."""

    titles: dict[str, str]
    descriptions: list[dict[str, str]]
    orgs: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    sectors: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


class DonorActivityList(BaseModel):
    """A page of donor activities and how many match in all."""

    items: list[DonorActivitySummary]
    total: int
    limit: int
    offset: int


class FigurePublic(BaseModel):
    """One published U.S. aggregate (see ``USAssistanceFigure``)."""

    source: str
    measure: str
    fiscal_year: int
    period: str
    area: str
    iso3: str | None
    account: str
    account_id: str | None
    amount: int
    source_file: str
    note: str


class FigureList(BaseModel):
    """A page of published U.S. figures and how many match in all."""

    items: list[FigurePublic]
    total: int
    limit: int
    offset: int
