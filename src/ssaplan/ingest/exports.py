"""Export workflows: the portfolio (as the actor may read it) out to IATI, Excel, CSV
and country briefs.

Reads go through :class:`~ssaplan.portfolio.service.PortfolioService` page by page, so
an export never holds more than a page of programs plus what the writer needs.

Every export is for an **audience** (``public``, ``us-government`` or a partner or
organization code; see :mod:`ssaplan.portfolio.visibility`), never wider than what the
requesting actor may read: by default the actor's own view, for IATI the public. Each
states what it withheld, as counts by reason and never as titles or ids: in the file
(a CSV's last row, a workbook's ``Withheld`` sheet, an XML comment, a sentence in the
brief) and in the summary (``withheld`` and ``withheld_by``).
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
from ssaplan.portfolio.visibility import PUBLIC, Audience, audience_named, withheld_sentence
from ssaplan.reference.catalog import Catalog, get_catalog

PAGE = 500


class ExportService:
    """Writes the portfolio to files for one actor, within the caller's session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.portfolio = PortfolioService(session, actor, self.catalog)

    def for_audience(self, audience: str | None) -> PortfolioService:
        """The portfolio as ``audience`` may see it (within what the actor may read)."""
        return PortfolioService(
            self.session,
            self.actor,
            self.catalog,
            audience=audience_named(audience, self.actor, self.catalog),
        )

    def withheld(
        self, portfolio: PortfolioService, flt: ProgramFilter | None
    ) -> tuple[Audience, dict[str, int], str]:
        """The audience, what it withholds of ``flt`` by reason, and that as a sentence."""
        counts = portfolio.withheld(flt or ProgramFilter()).model_dump()
        return portfolio.audience, counts, withheld_sentence(counts, portfolio.audience)

    @staticmethod
    def _stated(summary: dict[str, Any], audience: Audience, counts: dict[str, int]) -> None:
        summary["audience"] = audience.label
        summary.setdefault("withheld", sum(counts.values()))
        summary["withheld_by"] = counts

    def programs(
        self, flt: ProgramFilter | None = None, portfolio: PortfolioService | None = None
    ) -> Iterator[ProgramPublic]:
        """Every program matching ``flt`` that the audience of ``portfolio`` (default:
        the actor's own view) may see, page by page, ordered by id."""
        require(self.actor, "data:export")
        flt = flt or ProgramFilter()
        portfolio = portfolio or self.portfolio
        offset = 0
        while True:
            page = portfolio.list_programs(flt, limit=PAGE, offset=offset, sort="id")
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
        audience: str | None = PUBLIC,
    ) -> dict[str, Any]:
        """The portfolio as IATI 2.03 for ``audience`` (default the public: releasable
        markings without a releasable-to list); the rest is counted in ``withheld``.

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
        portfolio = self.for_audience(audience)
        aud, by_reason, sentence = self.withheld(portfolio, flt)
        public = any(v.kind == "public" for v in aud.views)
        writer.releasable_only = public
        counts = writer.write(self.programs(flt, portfolio), note=sentence)
        # (with a public view the filter leaves nothing for the writer to withhold)
        by_reason["not_releasable"] += counts.withheld
        withheld = sum(by_reason.values())
        if counts.activities == 0:
            raise BadRequest(
                f"nothing to export: no programs for {aud.label} match"
                + (f" ({withheld} withheld by their marking)" if withheld else "")
                + "; an IATI file must hold at least one activity"
            )
        summary = {
            "format": "iati",
            "version": "2.03",
            "reporting_org": reporting_org,
            "activities": counts.activities,
            "withheld": withheld,
            "budgets": counts.budgets,
            "transactions": counts.transactions,
        }
        self._stated(summary, aud, by_reason)
        return summary

    def excel(
        self, out: BinaryIO, *, flt: ProgramFilter | None = None, audience: str | None = None
    ) -> dict[str, Any]:
        """The planners' workbook (one row per program and fiscal year) for ``audience``
        (default: the actor's own view); a ``Withheld`` sheet says what it left out
        whenever the audience is restricted or something was withheld."""
        require(self.actor, "data:export")
        portfolio = self.for_audience(audience)
        aud, by_reason, sentence = self.withheld(portfolio, flt)
        programs = list(self.programs(flt, portfolio))
        note: list[tuple[str, Any]] | None = None
        if not aud.unrestricted or any(by_reason.values()):
            note = [
                ("audience", aud.label),
                ("withheld: marked above the reader's ceiling", by_reason["above_ceiling"]),
                ("withheld: not releasable to the audience", by_reason["not_releasable"]),
                ("statement", sentence),
            ]
        rows, milestones = write_workbook(programs, out, self.catalog, withheld=note)
        summary: dict[str, Any] = {
            "format": "excel",
            "programs": len(programs),
            "rows": rows,
            "milestones": milestones,
        }
        self._stated(summary, aud, by_reason)
        return summary

    def csv(
        self, out: IO[str], *, flt: ProgramFilter | None = None, audience: str | None = None
    ) -> dict[str, Any]:
        """Programs as CSV with formula-injection protection, for ``audience`` (default:
        the actor's own view); a last ``# ...`` row says what it withheld whenever the
        audience is restricted or something was withheld."""
        require(self.actor, "data:export")
        portfolio = self.for_audience(audience)
        aud, by_reason, sentence = self.withheld(portfolio, flt)
        count = 0

        def counted() -> Iterator[ProgramPublic]:
            nonlocal count
            for p in self.programs(flt, portfolio):
                count += 1
                yield p

        stated = not aud.unrestricted or any(by_reason.values())
        rows = write_csv(counted(), out, note=lambda: sentence if stated else None)
        summary: dict[str, Any] = {"format": "csv", "programs": count, "rows": rows}
        self._stated(summary, aud, by_reason)
        return summary

    def brief(
        self, out: IO[str], *, country: str, audience: str | None = None, fmt: str = "markdown"
    ) -> dict[str, Any]:
        """A country brief for ``audience``: the country's programs, money and status
        (Markdown or HTML), with a sentence saying what it withheld."""
        from ssaplan.ingest.brief import render_brief

        require(self.actor, "data:export")
        portfolio = self.for_audience(audience)
        detail = portfolio.country(country)
        flt = ProgramFilter(country=detail["iso3"])
        aud, by_reason, sentence = self.withheld(portfolio, flt)
        programs = list(self.programs(flt, portfolio))
        out.write(render_brief(detail, programs, aud.label, sentence, fmt=fmt, generated=utcnow()))
        summary: dict[str, Any] = {
            "format": "brief",
            "country": detail["iso3"],
            "programs": len(programs),
            "planned": detail["portfolio"]["total"]["planned"],
        }
        self._stated(summary, aud, by_reason)
        return summary
