"""The portfolio as an IATI 2.03 ``iati-activities`` file.

Written incrementally with ``lxml.etree.xmlfile`` (one activity in memory at a time),
in the element order the 2.03 schema prescribes, so the file validates against
``iati-activities-schema.xsd`` without the exporter needing the schema. What each
program becomes:

- ``iati-identifier``: the reporting organisation's identifier, ``-``, the program id
  (kept as is when it already starts with that prefix).
- ``participating-org``: role 1 (funding) the reporting organisation; role 3 (extending)
  the program's agency, with its IATI identifier when ``iati_agencies.csv`` knows it.
- ``activity-status``: proposed/approved/notified 1 (pipeline), obligated/implementing 2
  (implementation), completed 4 (closed), terminated 5 (cancelled), suspended 6.
- ``activity-date``: type 1 (planned start) and 3 (planned end).
- ``recipient-country`` (ISO 3166 alpha-2) and ``recipient-region`` (the catalog's
  region code, vocabulary 99 "reporting organisation", with its name), sharing 100%
  equally; ``sector``: the DAC purpose code (vocabulary 1) at 100%.
- ``budget`` per U.S. fiscal year with a planned amount: type 1 (original), status 1
  (indicative), period 1 October-30 September.
- ``transaction`` per fiscal year: type 2 (outgoing commitment) from the obligated
  amount, type 3 (disbursement) from the disbursed amount, dated the last day of the
  fiscal year, or today for the current year (IATI refuses future transactions).

Amounts are whole U.S. dollars (``default-currency="USD"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from lxml import etree

from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.reference.catalog import Catalog

IATI_VERSION = "2.03"
# The U.S. Government's whole-of-government IATI publisher (the Foreign Assistance
# Dashboard, registry publisher "unitedstates"): https://iatiregistry.org/publisher/about/unitedstates
DEFAULT_REPORTING_ORG = "US-USAGOV"
DEFAULT_REPORTING_ORG_NAME = "United States Government"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STATUS_CODES = {
    "proposed": "1",
    "approved": "1",
    "notified": "1",
    "obligated": "2",
    "implementing": "2",
    "completed": "4",
    "terminated": "5",
    "suspended": "6",
}


@dataclass
class IatiExportCounts:
    """What was written."""

    activities: int = 0
    withheld: int = 0
    budgets: int = 0
    transactions: int = 0


def fy_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a U.S. federal fiscal year (FY2026: 2025-10-01..2026-09-30)."""
    return date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)


def _percent(share_bp: int) -> str:
    """A share in basis points as an IATI percentage (2 decimals; 2500 -> ``25``)."""
    return format((Decimal(share_bp) / 100).normalize(), "f")


class IatiWriter:
    """Writes programs to ``out`` as one ``iati-activities`` document."""

    def __init__(
        self,
        out: BinaryIO,
        *,
        catalog: Catalog,
        agency_refs: dict[str, str],
        reporting_org: str = DEFAULT_REPORTING_ORG,
        reporting_org_name: str = DEFAULT_REPORTING_ORG_NAME,
        today: date | None = None,
        generated: datetime | None = None,
    ) -> None:
        self.out = out
        self.catalog = catalog
        self.agency_refs = agency_refs
        self.reporting_org = reporting_org
        self.reporting_org_name = reporting_org_name
        self.today = today or date.today()
        self.generated = generated
        self.counts = IatiExportCounts()
        # Left on for a public file; an export for a named audience has filtered the
        # programs by their marking and releasability already.
        self.releasable_only = True

    def write(self, programs: Iterable[ProgramPublic], note: str | None = None) -> IatiExportCounts:
        """Write every releasable program; count the ones withheld by their marking.

        ``note`` (what the export withheld) is written as an XML comment before the
        root element, which the schema and IATI readers ignore."""
        attrs = {"version": IATI_VERSION}
        if self.generated is not None:
            attrs["generated-datetime"] = self.generated.replace(microsecond=0).isoformat()
        with etree.xmlfile(self.out, encoding="utf-8") as xf:
            xf.write_declaration()
            if note:  # before the root, so readers of the activities never meet it
                xf.write(etree.Comment(" " + note.replace("--", "- -") + " "))
            with xf.element("iati-activities", attrs):
                for p in programs:
                    marking = self.catalog.markings.get(p.marking)
                    if self.releasable_only and (marking is None or not marking.releasable):
                        self.counts.withheld += 1
                        continue
                    xf.write(self._activity(p), pretty_print=True)
                    self.counts.activities += 1
        return self.counts

    # -- one activity ----------------------------------------------------------------
    def _activity(self, p: ProgramPublic) -> etree._Element:
        act = etree.Element(
            "iati-activity",
            {
                "last-updated-datetime": p.updated_at.replace(microsecond=0).isoformat(),
                XML_LANG: "en",
                "default-currency": "USD",
            },
        )
        ident = (
            p.id if p.id.startswith(self.reporting_org + "-") else f"{self.reporting_org}-{p.id}"
        )
        _sub(act, "iati-identifier").text = ident
        rep = _sub(act, "reporting-org", ref=self.reporting_org, type="10")
        _narrative(rep, self.reporting_org_name)
        _narrative(_sub(act, "title"), p.title)
        _narrative(_sub(act, "description", type="1"), p.description or p.title)
        funding = _sub(act, "participating-org", role="1", ref=self.reporting_org, type="10")
        _narrative(funding, self.reporting_org_name)
        agency = self.catalog.agencies.get(p.agency)
        extending = {"role": "3", "type": "10"}
        ref = self.agency_refs.get(p.agency) or self.agency_refs.get(
            self.catalog.top_agency(p.agency) if agency else ""
        )
        if ref:
            extending["ref"] = ref
        _narrative(_sub(act, "participating-org", **extending), agency.name if agency else p.agency)
        _sub(act, "activity-status", code=STATUS_CODES.get(p.status, "2"))
        _sub(act, "activity-date", type="1", **{"iso-date": p.start.isoformat()})
        _sub(act, "activity-date", type="3", **{"iso-date": p.end.isoformat()})
        partners = [("country", c) for c in p.countries] + [("region", r) for r in p.regions]
        # Each partner's share of the money (basis points summing to 10000) as a percentage.
        percents = [_percent(p.shares.get(code, 0)) for _kind, code in partners]
        for (kind, code), pct in zip(partners, percents, strict=True):
            if kind == "country":
                country = self.catalog.countries[code]
                el = _sub(act, "recipient-country", code=country.iso2, percentage=pct)
                _narrative(el, country.name)
            else:
                region = self.catalog.regions[code]
                el = _sub(act, "recipient-region", code=code, vocabulary="99", percentage=pct)
                _narrative(el, region.name)
        if p.dac_code:
            sector = _sub(act, "sector", vocabulary="1", code=p.dac_code, percentage="100")
            dac = self.catalog.dac_codes.get(p.dac_code)
            if dac is not None:
                _narrative(sector, dac.name)
        # IATI budgets of one type may not overlap: lines of several accounts in one
        # fiscal year are reported as that year's total.
        years: dict[int, list[int]] = {}
        for line in p.budget:
            total = years.setdefault(line.fiscal_year, [0, 0, 0])
            total[0] += line.planned
            total[1] += line.obligated
            total[2] += line.disbursed
        for fy, (planned, _obligated, _disbursed) in sorted(years.items()):
            if planned <= 0:
                continue
            start, end = fy_bounds(fy)
            budget = _sub(act, "budget", type="1", status="1")
            _sub(budget, "period-start", **{"iso-date": start.isoformat()})
            _sub(budget, "period-end", **{"iso-date": end.isoformat()})
            _value(budget, planned, start)
            self.counts.budgets += 1
        for fy, (_planned, obligated, disbursed) in sorted(years.items()):
            _start, end = fy_bounds(fy)
            when = min(end, self.today)
            for code, amount, tag in (("2", obligated, "C"), ("3", disbursed, "D")):
                if amount <= 0:
                    continue
                tx = _sub(act, "transaction", ref=f"{ident}-FY{fy}-{tag}")
                _sub(tx, "transaction-type", code=code)
                _sub(tx, "transaction-date", **{"iso-date": when.isoformat()})
                _value(tx, amount, when)
                self.counts.transactions += 1
        return act


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, attrs)


def _narrative(parent: etree._Element, text: str) -> None:
    _sub(parent, "narrative").text = xml_text(text)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot carry (a pasted form
    feed in a description would otherwise make the whole file unwritable)."""
    return _NOT_XML.sub("", text)


def _value(parent: etree._Element, amount: int, on: date) -> None:
    el = _sub(parent, "value", currency="USD", **{"value-date": on.isoformat()})
    el.text = str(amount)
