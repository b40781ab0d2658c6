"""The regional view (policy: "analyze, plan, and act regionally"): the portfolio's money
rolled up by regional bureau, combatant command and regional organization, programs
that cross borders, and partner countries linked by the programs they share.

Every figure comes from the portfolio's money by program x fiscal year x account x
partner (:func:`ssaplan.portfolio.money.partner_money`), so the bureau and command
roll-ups sum to the portfolio's total to the dollar:

* bureau: a country's money counts in its bureau; a region's as a whole in itself when
  it is a bureau, else in the one bureau of all its members, else ``Multi-regional``;
  money without a partner is ``Unassigned`` (the portfolio's overview does the same);
* combatant command: likewise with the countries' commands;
* regional organization: a country belongs to several (Kenya: AU, IGAD, EAC), so its
  money counts in each and the rows overlap; money to an organization as a whole counts
  in it (``direct``). The reconciliation says how the rows add up to the total: their
  sum, less what was counted again, plus the money in no organization.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

from sqlalchemy.orm import Session

from ssaplan.coordination.analysis_schemas import (
    CrossBorderProgram,
    PartnerLink,
    Reconciliation,
    RegionalRollup,
    RegionalView,
    RollupRow,
)
from ssaplan.coordination.donor_analysis import NO_REGION, REGION_KINDS, region_groups_of
from ssaplan.coordination.inputs import (
    ProgramFacts,
    load_programs,
    partner_name,
    visible_partner_money,
)
from ssaplan.core.errors import Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.portfolio import visibility
from ssaplan.portfolio.engine import UNASSIGNED, Money
from ssaplan.portfolio.money import PartnerMoney, bureau_of
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

SHOWN = 200
RULES = (
    "money by program x fiscal year x account x partner, from the shared portfolio",
    "bureau and command: each partner's money counts once (a region in itself when it is "
    "of the kind, else in the one region of all its members, else Multi-regional; no "
    "partner: Unassigned), so the rows sum to the total",
    "organization: a country's money counts in each organization it belongs to; money to "
    "an organization as a whole counts there (direct); see the reconciliation",
    "cross-border: a program with more than one partner country or a regional partner",
    "linked partners: two countries that share at least one program",
)


def _group(catalog: Catalog, kind: str, r: PartnerMoney) -> tuple[str, ...]:
    if not r.partner:
        return (UNASSIGNED,) if kind != "organization" else (NO_REGION,)
    if kind == "bureau":
        return (bureau_of(catalog, r.kind, r.partner),)
    found = region_groups_of(catalog, kind, r.partner)
    if kind == "combatant_command" and found == (NO_REGION,):
        return (UNASSIGNED,)
    return found


class RegionalAnalysis:
    """The regional view as one actor reads it, within one session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        # Money of the programs the reader may see only (docs/markings.md).
        self.audience = visibility.audience_of(actor, self.catalog)

    def view(self, *, kind: str = "bureau", region: str | None = None) -> RegionalView:
        """Roll-up by ``kind``; with ``region``, the cross-border programs, links and
        country money of that region's members."""
        require(self.actor, "read")
        if kind not in REGION_KINDS:
            raise Invalid(
                "unknown kind of region",
                [Detail(("kind",), f"use one of {', '.join(REGION_KINDS)}")],
            )
        code = None
        if region:
            try:
                code = self.catalog.resolve("region", region)
            except UnknownCode as exc:
                raise NotFound(str(exc)) from exc
        rows = visible_partner_money(self.session, self.catalog, self.audience)
        programs = {p.pk: p for p in load_programs(self.session, self.catalog, self.audience)}
        members = self.catalog.region_members(code) if code else None
        countries: dict[str, int] = defaultdict(int)
        for r in rows:
            if r.kind == "country" and r.partner and (members is None or r.partner in members):
                countries[r.partner] += r.money.planned
        return RegionalView(
            kind=kind,
            region=code,
            region_name=self.catalog.regions[code].name if code else None,
            rollup=self.rollup(kind, rows),
            cross_border=self.cross_border(rows, programs, code),
            links=self.links(programs, rows, code),
            countries=dict(sorted(countries.items())),
        )

    def rollup(self, kind: str, rows: Sequence[PartnerMoney] | None = None) -> RegionalRollup:
        """Money by region of one kind (see the module's rules)."""
        rows = (
            rows
            if rows is not None
            else visible_partner_money(self.session, self.catalog, self.audience)
        )
        money: dict[str, Money] = defaultdict(Money)
        direct: dict[str, int] = defaultdict(int)
        programs: dict[str, set[int]] = defaultdict(set)
        total = Money()
        counted_again = outside = 0
        for r in rows:
            total = total + r.money
            groups = _group(self.catalog, kind, r)
            if kind == "organization":
                if groups == (NO_REGION,):
                    outside += r.money.planned
                    continue
                counted_again += r.money.planned * (len(groups) - 1)
                if r.kind == "region":
                    direct[groups[0]] += r.money.planned
            for g in groups:
                money[g] = money[g] + r.money
                programs[g].add(r.program_pk)
        out = [
            RollupRow(
                code=g,
                name=self._name(g),
                planned=m.planned,
                obligated=m.obligated,
                disbursed=m.disbursed,
                programs=len(programs[g]),
                direct_planned=direct.get(g, 0),
            )
            for g, m in money.items()
        ]
        out.sort(key=lambda r: (-r.planned, r.code))
        rows_planned = sum(r.planned for r in out)
        reconciliation = None
        if kind == "organization":
            reconciliation = Reconciliation(
                rows_planned=rows_planned,
                counted_again_planned=counted_again,
                outside_planned=outside,
                total_planned=total.planned,
            )
        return RegionalRollup(
            kind=kind,
            total_planned=total.planned,
            total_obligated=total.obligated,
            total_disbursed=total.disbursed,
            rows=out,
            sums_to_total=rows_planned == total.planned and kind != "organization",
            reconciliation=reconciliation,
            rules=list(RULES),
        )

    def _name(self, code: str) -> str:
        if code in self.catalog.regions:
            return self.catalog.regions[code].name
        return code

    def cross_border(
        self,
        rows: Sequence[PartnerMoney],
        programs: dict[int, ProgramFacts],
        region: str | None,
    ) -> list[CrossBorderProgram]:
        planned: dict[int, int] = defaultdict(int)
        for r in rows:
            planned[r.program_pk] += r.money.planned
        members = self.catalog.region_members(region) if region else None
        out = []
        for p in programs.values():
            if len(p.countries) < 2 and not p.regions:
                continue
            if region is not None and members is not None:
                touches = region in p.regions or bool(
                    set(p.partner_countries(self.catalog)) & members
                )
                if not touches:
                    continue
            partners = [*p.countries, *p.regions]
            bureaus = sorted(
                {bureau_of(self.catalog, "country", c) for c in p.countries}
                | {bureau_of(self.catalog, "region", c) for c in p.regions}
            )
            agency = self.catalog.agencies.get(p.top_agency)
            out.append(
                CrossBorderProgram(
                    id=p.code,
                    title=p.title,
                    agency=p.agency,
                    agency_name=agency.name if agency else p.agency,
                    partners=partners,
                    partner_names=[partner_name(self.catalog, c) for c in partners],
                    bureaus=bureaus,
                    planned=planned.get(p.pk, 0),
                )
            )
        out.sort(key=lambda c: (-c.planned, c.id))
        return out[:SHOWN]

    def links(
        self,
        programs: dict[int, ProgramFacts],
        rows: Sequence[PartnerMoney],
        region: str | None,
    ) -> list[PartnerLink]:
        planned: dict[int, int] = defaultdict(int)
        for r in rows:
            planned[r.program_pk] += r.money.planned
        members = self.catalog.region_members(region) if region else None
        shared: dict[tuple[str, str], list[ProgramFacts]] = defaultdict(list)
        for p in programs.values():
            countries = sorted(set(p.countries))
            for a, b in combinations(countries, 2):
                if members is None or a in members or b in members:
                    shared[(a, b)].append(p)
        out = [
            PartnerLink(
                a=a,
                a_name=partner_name(self.catalog, a),
                b=b,
                b_name=partner_name(self.catalog, b),
                programs=len(ps),
                planned=sum(planned.get(p.pk, 0) for p in ps),
                program_ids=sorted(p.code for p in ps),
            )
            for (a, b), ps in shared.items()
        ]
        out.sort(key=lambda link: (-link.programs, -link.planned, link.a, link.b))
        return out[:SHOWN]
