"""One partner's coordination picture (``ssaplan coordinate --partner ISO3``): its donors
and their sectors, concentration, comparative advantage within the partner, suggested
lead donors and division of labour, our share over time, its gaps, and the likely
overlaps of the latest stored run that involve it.

The partner's money is what donors give it as a country; money to a region or an
organization as a whole is the region's (see the burden-sharing and regional views).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ssaplan.coordination.analysis_schemas import PartnerPicture, PartnerRef
from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.engine.donors import fragmentation
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.core.errors import NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

OVERLAPS_SHOWN = 25


def resolve_partner(catalog: Catalog, code: str) -> tuple[str, str]:
    """``(code, kind)`` of a partner given as ISO3 (or alpha-2, or name) or region code."""
    for kind in ("country", "region"):
        try:
            return catalog.resolve(kind, code), kind
        except UnknownCode:
            continue
    raise NotFound(f"unknown partner {code!r}: give a country (ISO3) or a region code")


def partner_picture(
    session: Session,
    actor: Actor,
    code: str,
    *,
    basis: str = "disbursed",
    vocabulary: str = "dac3",
    first_fy: int | None = None,
    last_fy: int | None = None,
    as_of: date | None = None,
    months: int = 12,
    catalog: Catalog | None = None,
) -> PartnerPicture:
    require(actor, "read")
    catalog = catalog or get_catalog()
    partner, kind = resolve_partner(catalog, code)
    donors = DonorAnalysis(session, actor, catalog)
    flows = donors.flows(basis=basis, vocabulary=vocabulary)
    m = donors.matrix(flows, first_fy=first_fy, last_fy=last_fy)
    rows = [
        f
        for f in flows.all
        if f.partner == partner
        and (first_fy is None or f.year >= first_fy)
        and (last_fy is None or f.year <= last_fy)
    ]
    present = partner in m.partners
    frag = [f for f in fragmentation(m) if f.partner == partner] if present else []
    gaps = []
    if kind == "country":
        report = GapAnalysis(session, actor, catalog).report(
            as_of=as_of, months=months, partners=[partner], basis=basis
        )
        gaps = [
            *report.unfunded_objectives,
            *report.expiring_coverage,
            *report.neglected_partners,
            *report.uncovered_cells,
        ]
    overlaps = OverlapService(session, actor, catalog).pairs(
        partner=partner, likely=True, limit=OVERLAPS_SHOWN
    )
    whole = [f for f in frag if f.sector is None]
    return PartnerPicture(
        partner=PartnerRef(code=partner, name=donors.partner_name(partner), kind=kind),
        note=donors.note(flows, m.years),
        usd=int(round(sum(float(f.usd) for f in rows))) if rows else 0,
        donors=donors.totals(flows, m, partner) if present else [],
        sectors=donors.sectors(m, partner) if present else [],
        cells=donors.cells(m, [partner]) if present else [],
        fragmentation=donors.fragmentation(flows, whole)[0] if whole else None,
        sector_fragmentation=donors.fragmentation(flows, [f for f in frag if f.sector]),
        comparative_advantage=donors.advantage(flows, m, partner) if present else [],
        lead_donors=donors.leads(flows, m, partner) if present else [],
        division_of_labour=donors.division(flows, m, partner) if present else None,
        our_share=donors.our_share(flows, rows),
        gaps=gaps,
        overlaps=overlaps.items,
    )
