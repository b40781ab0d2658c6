"""Shapes of donor activities and published U.S. figures as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from ssaplan.core.schemas import Page


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


class _Row(BaseModel):
    """A child row of a donor activity. It also reads like the mapping it was before the
    rows were typed (``row["role"]``), so callers of the service keep working."""

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)


class DescriptionPublic(_Row):
    """A description of a donor activity in one language (``type`` is the IATI code:
    1 general, 2 objectives, 3 target groups, 4 other)."""

    type: str
    lang: str
    text: str


class DonorOrgPublic(_Row):
    """An organisation taking part in a donor activity (see ``DonorParticipatingOrg``)."""

    seq: int
    role: str | None
    ref: str | None
    type: str | None
    name: str


class DonorCountryPublic(_Row):
    """A recipient country of a donor activity, as published and as resolved (``iso3``)."""

    seq: int
    code: str
    iso3: str | None
    name: str
    percentage: float | None


class DonorRegionPublic(_Row):
    """A recipient region of a donor activity, in its vocabulary."""

    seq: int
    code: str
    vocabulary: str
    percentage: float | None


class DonorSectorPublic(_Row):
    """A sector of a donor activity, in its vocabulary, with its share."""

    seq: int
    vocabulary: str
    code: str
    name: str
    percentage: float | None


class DonorBudgetPublic(_Row):
    """A budget or planned disbursement of a donor activity: the published amount
    (decimal text) in its currency and whole U.S. dollars where a rate is known."""

    seq: int
    kind: str
    type: str | None
    status: str | None
    period_start: date | None
    period_end: date | None
    amount: str
    currency: str | None
    value_date: date | None
    usd: int | None


class DonorTransactionPublic(_Row):
    """A transaction of a donor activity (see ``DonorTransaction``)."""

    seq: int
    type: str
    transaction_date: date | None
    amount: str
    currency: str | None
    value_date: date | None
    usd: int | None
    provider_ref: str | None
    provider_name: str
    receiver_ref: str | None
    receiver_name: str
    aid_type: str | None
    finance_type: str | None
    humanitarian: bool | None


class DonorActivityPublic(DonorActivitySummary):
    """A donor activity with titles and descriptions in every language and its rows:
    participating organisations, recipient countries and regions, sectors, budgets and
    planned disbursements, transactions (original amount, currency, value date, USD)."""

    titles: dict[str, str]
    descriptions: list[DescriptionPublic]
    orgs: list[DonorOrgPublic]
    countries: list[DonorCountryPublic]
    regions: list[DonorRegionPublic]
    sectors: list[DonorSectorPublic]
    budgets: list[DonorBudgetPublic]
    transactions: list[DonorTransactionPublic]


class DonorActivityList(Page[DonorActivitySummary]):
    """A page of donor activities and how many match in all."""

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


class FigureList(Page[FigurePublic]):
    """A page of published U.S. figures and how many match in all."""

    total: int
    limit: int
    offset: int
