"""Donor coordination from imported IATI data: who funds what where, how fragmented it
is, who has a comparative advantage, who could lead, and how the burden is shared.

Reads the money (:func:`.inputs.our_flows` from the portfolio's money by partner,
:func:`.inputs.donor_flows` from the donors' IATI transactions) and hands it to the
engine (:mod:`.engine.donors`). The flows of one state of the database are cached in
the process (keyed by the database, what it holds — :func:`.inputs.fingerprint` — the
basis and the sector vocabulary), so pages do not re-read every transaction per request.

Every figure is computed over the programs and donor activities the reader may see
(docs/markings.md): a withheld program's or activity's dollars are in no cell, total,
share or lead the reader gets. The cache is kept per reader's view.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from ssaplan.coordination.analysis_schemas import (
    AdvantageOut,
    BurdenRow,
    BurdenSharing,
    DivisionOut,
    DonorOverview,
    DonorRoleOut,
    DonorTotal,
    FlowsNote,
    FragmentationOut,
    LeadDonorOut,
    MatrixCell,
    OurShare,
    PartnerTotal,
    SectorTotal,
    YearShare,
)
from ssaplan.coordination.engine import (
    DonorFlow,
    DonorMatrix,
    burden_sharing,
    comparative_advantage,
    division_of_labour,
    donor_matrix,
    fragmentation,
    lead_donors,
)
from ssaplan.coordination.engine.donors import Fragmentation
from ssaplan.coordination.inputs import (
    UNSPECIFIED,
    Basis,
    FlowReport,
    check_vocabulary,
    donor_flows,
    donor_settings,
    fingerprint,
    our_flows,
    partner_name,
    sector_name,
)
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor, require
from ssaplan.portfolio import visibility
from ssaplan.portfolio.engine import MULTI_REGIONAL
from ssaplan.portfolio.money import bureau_of
from ssaplan.reference.catalog import Catalog, get_catalog

GROUPINGS = ("partner", "region", "sector")
REGION_KINDS = ("bureau", "combatant_command", "organization")
NO_REGION = "(none)"
RULES = (
    "our money is the shared portfolio's, split among each program's partners by their "
    "shares (money by program x fiscal year x account x partner)",
    "other donors' money is their IATI transactions of the basis's types, in the U.S. "
    "fiscal year of the transaction date (else the value date), in dollars at the value "
    "date; transactions without a dollar value or a date are left out and counted",
    "an activity's dollars split among its recipient countries and regions by their "
    "percentages (equally when any is missing), then among its sectors (DAC vocabulary 1, "
    "else 2) by theirs, to the dollar",
    "activities published by U.S. government agencies are left out of the other donors' "
    "money: the portfolio counts U.S. money",
    "a region as a whole (a regional program, a regional IATI activity) is its own partner; "
    "its money is not spread over its members",
)


@dataclass
class Flows:
    """All donors' flows for one basis and vocabulary, with names and what was left out."""

    basis: Basis
    vocabulary: str
    ours: list[DonorFlow]
    theirs: FlowReport
    donor_names: dict[str, str] = field(default_factory=dict)

    @property
    def all(self) -> list[DonorFlow]:
        return self.ours + self.theirs.flows

    def years(self) -> list[int]:
        return sorted({f.year for f in self.all})


class _FlowCache:
    """The last few flow sets computed in this process (small: a few MB each)."""

    def __init__(self, size: int = 6) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Any, ...], Flows] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[Any, ...]) -> Flows | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], flows: Flows) -> None:
        with self.lock:
            self.items[key] = flows
            while len(self.items) > self.size:
                self.items.popitem(last=False)


CACHE = _FlowCache()


def _years(first_fy: int | None, last_fy: int | None) -> tuple[int | None, int | None]:
    if first_fy is not None and last_fy is not None and first_fy > last_fy:
        raise Invalid("bad fiscal years", [Detail(("first_fy",), "must not be after last_fy")])
    return first_fy, last_fy


def _in(years: tuple[int | None, int | None], flows: Iterable[DonorFlow]) -> list[DonorFlow]:
    first, last = years
    return [
        f for f in flows if (first is None or f.year >= first) and (last is None or f.year <= last)
    ]


class DonorAnalysis:
    """Donor analyses as one actor reads them, within one session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = visibility.audience_of(actor, self.catalog)

    # -- flows -----------------------------------------------------------------------
    def flows(self, *, basis: str = "disbursed", vocabulary: str = "dac3") -> Flows:
        """Our flows and the other donors', for a basis and a sector vocabulary."""
        require(self.actor, "read")
        chosen = donor_settings().basis(basis)
        check_vocabulary(vocabulary)
        key = (
            str(self.session.get_bind().engine.url),
            tuple(sorted(fingerprint(self.session).items())),
            basis,
            vocabulary,
            self.audience,
        )
        cached = CACHE.get(key)
        if cached is not None:
            return cached
        theirs = donor_flows(
            self.session, self.catalog, basis=chosen, vocabulary=vocabulary, audience=self.audience
        )
        ours = our_flows(
            self.session, self.catalog, basis=chosen, vocabulary=vocabulary, audience=self.audience
        )
        settings = donor_settings()
        names = {settings.us_code: settings.us_name, **theirs.donors}
        flows = Flows(chosen, vocabulary, ours, theirs, names)
        CACHE.put(key, flows)
        return flows

    def note(self, flows: Flows, years: Sequence[int]) -> FlowsNote:
        settings = donor_settings()
        return FlowsNote(
            basis=flows.basis.name,
            basis_label=flows.basis.label,
            vocabulary=flows.vocabulary,
            years=list(years),
            us=settings.us_code,
            us_name=settings.us_name,
            transactions=flows.theirs.transactions,
            left_out=flows.theirs.as_dict()["left_out"],
            rules=list(RULES),
        )

    # -- names -----------------------------------------------------------------------
    def donor_name(self, flows: Flows, donor: str | None) -> str:
        return flows.donor_names.get(donor or "", donor or "")

    def partner_name(self, code: str) -> str:
        return partner_name(self.catalog, code)

    def sector_name(self, code: str | None) -> str:
        if code is None:
            return ""
        return "unspecified" if code == UNSPECIFIED else sector_name(self.catalog, code)

    # -- the matrix and what follows from it --------------------------------------------
    def matrix(
        self, flows: Flows, *, first_fy: int | None = None, last_fy: int | None = None
    ) -> DonorMatrix:
        return donor_matrix(_in(_years(first_fy, last_fy), flows.all))

    def totals(self, flows: Flows, m: DonorMatrix, partner: str | None = None) -> list[DonorTotal]:
        x = m.amounts if partner is None else m.amounts[:, [m.partners.index(partner)], :]
        by_donor = x.sum(axis=(1, 2))
        total = float(by_donor.sum())
        us = donor_settings().us_code
        rows = [
            DonorTotal(
                donor=d,
                name=self.donor_name(flows, d),
                usd=int(round(by_donor[i])),
                share=round(float(by_donor[i]) / total, 4) if total > 0 else 0.0,
                us=d == us,
            )
            for i, d in enumerate(m.donors)
            if by_donor[i] > 0
        ]
        return sorted(rows, key=lambda r: (-r.usd, r.donor))

    def sectors(self, m: DonorMatrix, partner: str | None = None) -> list[SectorTotal]:
        x = m.amounts if partner is None else m.amounts[:, [m.partners.index(partner)], :]
        by_sector = x.sum(axis=(0, 1))
        rows = [
            SectorTotal(sector=s, name=self.sector_name(s), usd=int(round(by_sector[i])))
            for i, s in enumerate(m.sectors)
            if by_sector[i] > 0
        ]
        return sorted(rows, key=lambda r: (-r.usd, r.sector))

    def cells(self, m: DonorMatrix, partners: Iterable[str] | None = None) -> list[MatrixCell]:
        wanted = set(partners) if partners is not None else None
        return [
            MatrixCell(**c)
            for c in m.as_dict()["cells"]
            if wanted is None or c["partner"] in wanted
        ]

    def fragmentation(self, flows: Flows, rows: Iterable[Fragmentation]) -> list[FragmentationOut]:
        return [
            FragmentationOut(
                **{
                    **f.as_dict(),
                    "partner_name": self.partner_name(f.partner),
                    "sector_name": self.sector_name(f.sector) if f.sector else None,
                    "largest_donor_name": self.donor_name(flows, f.largest_donor)
                    if f.largest_donor
                    else None,
                }
            )
            for f in rows
        ]

    def advantage(
        self, flows: Flows, m: DonorMatrix, partner: str | None = None
    ) -> list[AdvantageOut]:
        rows = comparative_advantage(m, partner=partner)
        return sorted(
            (
                AdvantageOut(
                    donor=r.donor,
                    donor_name=self.donor_name(flows, r.donor),
                    sector=r.sector,
                    sector_name=self.sector_name(r.sector),
                    rca=round(r.rca, 3),
                    share_of_sector=round(r.share_of_sector, 4),
                    share_overall=round(r.share_overall, 4),
                )
                for r in rows
            ),
            key=lambda r: (r.sector, -r.rca, r.donor),
        )

    def leads(self, flows: Flows, m: DonorMatrix, partner: str | None = None) -> list[LeadDonorOut]:
        return [
            LeadDonorOut(
                **{
                    **lead.as_dict(),
                    "sector_name": self.sector_name(lead.sector),
                    "donor_name": self.donor_name(flows, lead.donor),
                }
            )
            for lead in lead_donors(m)
            if partner is None or lead.partner == partner
        ]

    def division(self, flows: Flows, m: DonorMatrix, partner: str) -> DivisionOut | None:
        for d in division_of_labour(m):
            if d.partner == partner:
                return DivisionOut(
                    partner=d.partner,
                    partner_name=self.partner_name(d.partner),
                    leads=dict(d.leads),
                    roles=[
                        DonorRoleOut(
                            **{**r.as_dict(), "donor_name": self.donor_name(flows, r.donor)}
                        )
                        for r in d.roles
                    ],
                    crowded_sectors=list(d.crowded_sectors),
                )
        return None

    def overview(
        self,
        *,
        basis: str = "disbursed",
        vocabulary: str = "dac3",
        first_fy: int | None = None,
        last_fy: int | None = None,
        top_partners: int = 30,
    ) -> DonorOverview:
        """The whole picture: donors, partners by money with their concentration and our
        share, the matrix cells of the largest partners, fragmentation per partner,
        revealed comparative advantage and the suggested lead donors."""
        flows = self.flows(basis=basis, vocabulary=vocabulary)
        m = self.matrix(flows, first_fy=first_fy, last_fy=last_fy)
        frag = fragmentation(m)
        whole = [f for f in frag if f.sector is None]
        us = donor_settings().us_code
        partner_rows = []
        by_partner = m.amounts.sum(axis=2)
        for f in whole:
            p = m.partners.index(f.partner)
            total = float(by_partner[:, p].sum())
            ours = float(by_partner[m.donors.index(us), p]) if us in m.donors else 0.0
            partner_rows.append(
                PartnerTotal(
                    partner=f.partner,
                    name=self.partner_name(f.partner),
                    usd=int(round(total)),
                    donors=f.donors,
                    hhi=round(f.hhi, 4),
                    our_share=round(ours / total, 4) if total > 0 else 0.0,
                )
            )
        partner_rows.sort(key=lambda r: (-r.usd, r.partner))
        largest = [r.partner for r in partner_rows[:top_partners]]
        return DonorOverview(
            note=self.note(flows, m.years),
            donors=self.totals(flows, m),
            partners=partner_rows,
            sectors=self.sectors(m),
            cells=self.cells(m, largest),
            fragmentation=self.fragmentation(flows, whole),
            comparative_advantage=self.advantage(flows, m),
            lead_donors=self.leads(flows, m),
            negative_cells=m.negative_cells,
        )

    # -- burden sharing ----------------------------------------------------------------
    def region_groups(self, kind: str, partners: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each partner's regions of one kind, for burden sharing and roll-ups.

        A country counts in its bureau or command, or in each of its organizations; a
        region as a whole counts in itself when it is of the kind, else in the one
        bureau or command of all its members (else multi-regional); anything else in
        ``(none)``.
        """
        if kind not in REGION_KINDS:
            raise Invalid(
                "unknown kind of region",
                [Detail(("kind",), f"use one of {', '.join(REGION_KINDS)}")],
            )
        out: dict[str, tuple[str, ...]] = {}
        for code in set(partners):
            out[code] = region_groups_of(self.catalog, kind, code)
        return out

    def burden(
        self,
        *,
        by: str = "partner",
        kind: str = "bureau",
        basis: str = "disbursed",
        vocabulary: str = "dac3",
        first_fy: int | None = None,
        last_fy: int | None = None,
        partner: str | None = None,
    ) -> BurdenSharing:
        """Our share against everyone else's by partner, region or sector, per year."""
        if by not in GROUPINGS:
            raise Invalid("unknown grouping", [Detail(("by",), "use partner, region or sector")])
        flows = self.flows(basis=basis, vocabulary=vocabulary)
        rows = _in(_years(first_fy, last_fy), flows.all)
        if partner is not None:
            rows = [f for f in rows if f.partner == partner]
        us = donor_settings().us_code
        regions = self.region_groups(kind, {f.partner for f in rows}) if by == "region" else None
        shares = burden_sharing(rows, ours=us, by=by, regions_of=regions)
        out = [
            BurdenRow(
                **{**s.as_dict(), "group_name": self._group_name(by, s.group)},
            )
            for s in shares
        ]
        return BurdenSharing(
            note=self.note(flows, sorted({f.year for f in rows})),
            by=by,
            kind=kind if by == "region" else None,
            rows=out,
            by_year=year_shares(rows, us),
            overlapping=by == "region" and kind == "organization",
        )

    def our_share(self, flows: Flows, rows: Sequence[DonorFlow]) -> OurShare:
        us = donor_settings().us_code
        ours = sum(f.usd for f in rows if f.donor == us)
        others = sum(f.usd for f in rows if f.donor != us)
        ours, others = max(int(ours), 0), max(int(others), 0)
        total = ours + others
        return OurShare(
            ours_usd=ours,
            others_usd=others,
            our_share=round(ours / total, 4) if total else 0.0,
            by_year=year_shares(rows, us),
        )

    def _group_name(self, by: str, group: str) -> str:
        if by == "sector":
            return self.sector_name(group)
        return self.partner_name(group)


def year_shares(rows: Iterable[DonorFlow], us: str) -> list[YearShare]:
    """Our dollars and the others' by year (negative sums floored at 0)."""
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for f in rows:
        sums[f.year][0 if f.donor == us else 1] += float(f.usd)
    out = []
    for year in sorted(sums):
        ours, others = (max(v, 0.0) for v in sums[year])
        total = ours + others
        out.append(
            YearShare(
                year=year,
                ours_usd=int(round(ours)),
                others_usd=int(round(others)),
                our_share=round(ours / total, 4) if total else 0.0,
            )
        )
    return out


def _home(catalog: Catalog, members: Iterable[str], attribute: str) -> str:
    found = {getattr(catalog.countries[m], attribute) for m in members if m in catalog.countries}
    found.discard(None)
    if len(found) == 1:
        return str(found.pop())
    return MULTI_REGIONAL if found else NO_REGION


def region_groups_of(catalog: Catalog, kind: str, code: str) -> tuple[str, ...]:
    """The regions of one kind a partner's money counts in (see
    :meth:`DonorAnalysis.region_groups`)."""
    if code in catalog.countries:
        c = catalog.countries[code]
        if kind == "bureau":
            return (bureau_of(catalog, "country", code),)
        if kind == "combatant_command":
            return (c.combatant_command or NO_REGION,)
        return tuple(c.organizations) or (NO_REGION,)
    region = catalog.regions.get(code)
    if region is None:
        return (NO_REGION,)
    if region.kind == kind:
        return (code,)
    if kind == "bureau":
        return (bureau_of(catalog, "region", code),)
    if kind == "combatant_command":
        return (_home(catalog, region.members, "combatant_command"),)
    return (NO_REGION,)


__all__ = ["CACHE", "DonorAnalysis", "Flows", "region_groups_of", "year_shares"]
