"""Export workflows: the portfolio (as the actor may read it) out to IATI, Excel, CSV.

Reads go through :class:`~ssaplan.portfolio.service.PortfolioService` page by page, so
an export never holds more than a page of programs plus what the writer needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from sqlalchemy.orm import Session

from ssaplan.core.errors import BadRequest
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import utcnow
from ssaplan.ingest.iati_export import (
    DEFAULT_REPORTING_ORG,
    DEFAULT_REPORTING_ORG_NAME,
    IatiWriter,
)
from ssaplan.ingest.mapping import get_mappings
from ssaplan.ingest.programs_io import write_csv, write_workbook
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import Catalog, get_catalog

PAGE = 500


class ExportService:
    """Writes the portfolio to files for one actor, within the caller's session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.portfolio = PortfolioService(session, actor, self.catalog)

    def programs(self, flt: ProgramFilter | None = None) -> Iterator[ProgramPublic]:
        """Every program matching ``flt``, page by page, ordered by id."""
        require(self.actor, "data:export")
        flt = flt or ProgramFilter()
        offset = 0
        while True:
            page = self.portfolio.list_programs(flt, limit=PAGE, offset=offset, sort="id")
            yield from page.items
            offset += PAGE
            if offset >= page.total or not page.items:
                return

    def iati(
        self,
        out: BinaryIO,
        *,
        flt: ProgramFilter | None = None,
        reporting_org: str = DEFAULT_REPORTING_ORG,
        reporting_org_name: str = DEFAULT_REPORTING_ORG_NAME,
    ) -> dict[str, Any]:
        """The portfolio as IATI 2.03; programs whose marking is not releasable are left
        out and counted in ``withheld``.

        Raises :class:`BadRequest` when no program can be published (the schema needs at
        least one activity); ``out`` then holds an unfinished document, so write to a
        temporary file and keep it only on success.
        """
        require(self.actor, "data:export")
        reporting_org = reporting_org.strip()
        if not reporting_org or any(c.isspace() for c in reporting_org):
            raise BadRequest(
                f"reporting organisation identifier {reporting_org!r} is not valid: use an "
                "IATI organisation identifier such as US-USAGOV"
            )
        agency_refs = {agency: ref for ref, agency in get_mappings().agencies.items()}
        writer = IatiWriter(
            out,
            catalog=self.catalog,
            agency_refs=agency_refs,
            reporting_org=reporting_org,
            reporting_org_name=reporting_org_name,
            today=utcnow().date(),
            generated=utcnow(),
        )
        counts = writer.write(self.programs(flt))
        if counts.activities == 0:
            raise BadRequest(
                "nothing to export: no releasable programs match"
                + (f" ({counts.withheld} withheld by their marking)" if counts.withheld else "")
                + "; an IATI file must hold at least one activity"
            )
        return {
            "format": "iati",
            "version": "2.03",
            "reporting_org": reporting_org,
            "activities": counts.activities,
            "withheld": counts.withheld,
            "budgets": counts.budgets,
            "transactions": counts.transactions,
        }

    def excel(self, out: BinaryIO, *, flt: ProgramFilter | None = None) -> dict[str, Any]:
        """The planners' workbook (one row per program and fiscal year)."""
        require(self.actor, "data:export")
        programs = list(self.programs(flt))
        rows, milestones = write_workbook(programs, out, self.catalog)
        return {
            "format": "excel",
            "programs": len(programs),
            "rows": rows,
            "milestones": milestones,
        }

    def csv(self, out: IO[str], *, flt: ProgramFilter | None = None) -> dict[str, Any]:
        """Programs as CSV with formula-injection protection."""
        require(self.actor, "data:export")
        count = 0

        def counted() -> Iterator[ProgramPublic]:
            nonlocal count
            for p in self.programs(flt):
                count += 1
                yield p

        rows = write_csv(counted(), out)
        return {"format": "csv", "programs": count, "rows": rows}
