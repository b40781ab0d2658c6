"""Shapes of import summaries as the API answers them (the CLI's ``--json`` objects).

Some keys appear only in some imports (``portfolio`` and ``agency_fallbacks`` when IATI
activities become programs; ``sheet`` and ``row`` for records of a workbook): the
routes answer with the keys the import gave (``response_model_exclude_unset``), so the
JSON is what it was before the routes were typed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ssaplan.ingest.iati_export import DEFAULT_REPORTING_ORG, DEFAULT_REPORTING_ORG_NAME
from ssaplan.portfolio.filters import ProgramFilter


class SkippedPublic(BaseModel):
    """A record (or a whole file) an import skipped (``skip_invalid``), and why."""

    file: str
    line: int | None = Field(description="line (or row) of the record; null for a whole file")
    identifier: str | None
    reason: str
    sheet: str | int | None = Field(None, description="workbooks only: the sheet")
    row: int | None = Field(None, description="workbooks only: the row in the sheet")


class ProgramCountsPublic(BaseModel):
    """Programs an import created, changed, and found already as given."""

    created: int
    updated: int
    unchanged: int


class AgencyFallbacksPublic(BaseModel):
    """Activities whose publisher is no known U.S. agency, given the importer's agency."""

    agency: str
    activities: int


class IatiImportPublic(BaseModel):
    """What an IATI import wrote: files, activities and their rows, by IATI version."""

    files: int
    activities: int
    transactions: int
    budgets: int
    planned_disbursements: int
    versions: dict[str, int] = Field(description="files read, by IATI version")
    skipped: list[SkippedPublic]
    warnings: list[str]
    mode: Literal["donor_activities", "portfolio"]
    portfolio: ProgramCountsPublic | None = Field(None, description="as_portfolio only")
    agency_fallbacks: AgencyFallbacksPublic | None = Field(None, description="as_portfolio only")


class FigureCountsPublic(BaseModel):
    """Published U.S. figures an import added and changed."""

    inserted: int
    updated: int


class ForeignAssistanceImportPublic(BaseModel):
    """What a U.S. foreign-assistance import wrote, and what it left out and why."""

    files: int
    layouts: dict[str, str] = Field(description="each file's layout: ledger, totals or cbj")
    rows: int
    programs: ProgramCountsPublic
    figures: FigureCountsPublic
    out_of_scope: dict[str, int] = Field(description="ledger rows outside the sector, by category")
    not_countries: dict[str, int] = Field(description="rows of areas that are no country")
    unmapped_accounts: dict[str, int] = Field(description="figures of unknown accounts")
    skipped: list[SkippedPublic]
    warnings: list[str]


class ProgramsImportPublic(BaseModel):
    """What an import of the planners' workbook (or CSV) did to the programs in it."""

    files: int
    rows: int
    milestones: int
    programs: int
    created: int
    updated: int
    unchanged: int
    skipped: list[SkippedPublic]


class ExportQuery(ProgramFilter):
    """Which programs to export (the list filter) and for whom.

    ``audience``: ``public``, ``us-government``, or a partner country or organization
    code (``GBR``, ``NATO``); never more than the requesting user may read. Default:
    the user's own view (IATI: the public).
    """

    audience: str | None = Field(
        None,
        max_length=200,
        description="who the file is for: public, us-government, or a partner country or "
        "organization code (GBR, NATO); never more than you may read. Default: your own "
        "view (IATI: public)",
    )

    def filter(self) -> ProgramFilter:
        return ProgramFilter(**self.model_dump(exclude={"audience"}))


class IatiExportQuery(ExportQuery):
    """An IATI export's filter, audience and publisher."""

    reporting_org: str = Field(DEFAULT_REPORTING_ORG, max_length=100)
    reporting_org_name: str = Field(DEFAULT_REPORTING_ORG_NAME, max_length=200)

    def filter(self) -> ProgramFilter:
        return ProgramFilter(
            **self.model_dump(exclude={"audience", "reporting_org", "reporting_org_name"})
        )
