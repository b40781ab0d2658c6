"""Gap analysis over the stored world (policy: "identify gaps").

Four kinds (the engine's :mod:`.engine.gaps` computes them; this module gathers the
inputs and names things):

1. **unfunded objectives**: objectives no funded program serves while active in the
   window ``[as_of, as_of + months]``;
2. **expiring coverage**: objectives whose every such program ends within the window;
3. **neglected partners**: partners in the top third of both priority and propensity
   of the latest saved assessment whose money from anyone (our portfolio plus other
   donors, the last three fiscal years) is in the bottom third;
4. **uncovered cells**: institution types x purposes in a partner that no funded
   program and no donor activity active in the window covers.

Objectives come from an :class:`ObjectiveSource`. Today that is the goal tree
(:class:`GoalTreeObjectives`): every objective of the tree, and each objective in each
partner whose relevance to it (the assessment's policy input) is at least medium. The
strategy domain, being built, will add a source of country and regional strategy
objectives with the same two methods; nothing else here changes.

A program is **funded** when it is approved, notified, obligated or implementing and has
planned dollars (from the portfolio's money by partner); proposed, suspended,
terminated and completed programs serve nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssaplan.assessment.policy import PolicyService
from ssaplan.assessment.service import AssessmentService
from ssaplan.coordination.analysis_schemas import GapOut, GapReport
from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.engine import (
    Coverage,
    Gap,
    Objective,
    PartnerStanding,
    expiring_coverage,
    neglected_partners,
    uncovered_cells,
    unfunded_objectives,
)
from ssaplan.coordination.engine.gaps import add_months
from ssaplan.coordination.engine.records import dac_institution_types
from ssaplan.coordination.inputs import (
    DonorFacts,
    ProgramFacts,
    donor_settings,
    load_donor_activities,
    load_programs,
    partner_name,
    visible_partner_money,
)
from ssaplan.coordination.models import DonorTransaction
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor, require
from ssaplan.portfolio import visibility
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

FUNDED_STATUSES = ("approved", "notified", "obligated", "implementing")
MIN_RELEVANCE = 2  # medium: the assessment's relevance scale is 0 none .. 3 high
FUNDING_YEARS = 3
RULES = (
    "a program serves an objective only while it runs: active at some point of the window",
    "funded = approved, notified, obligated or implementing, with planned dollars",
    "objectives: every objective of the goal tree, and each objective in each partner whose "
    "relevance to it is medium or high (assessment policy input); a program serves an "
    "objective in its partner countries (a regional program in the region's members)",
    "neglected partners: top third of priority and of propensity (latest saved assessment), "
    "bottom third of money from anyone (our portfolio and other donors, the last three "
    "fiscal years, the basis chosen)",
    "uncovered cells: no funded program and no donor activity with money, active in the "
    "window, on the institution type (a donor activity's is inferred from its DAC code) and "
    "purpose (an activity without a purpose covers every purpose of its institution type)",
)


class ObjectiveSource(Protocol):
    """Where the objectives the gap analysis checks come from.

    ``objectives`` lists them (``Objective.partner`` set for partner-specific ones);
    ``served_by`` says which of their ids a program serves. The goal tree is one source;
    country and regional strategies (the strategy domain) will be another.
    """

    name: str

    def objectives(self) -> Sequence[Objective]: ...

    def served_by(self, program: ProgramFacts) -> tuple[str, ...]: ...


class GoalTreeObjectives:
    """The goal tree's objectives everywhere, and per partner where they matter."""

    name = "goal tree"

    def __init__(
        self,
        catalog: Catalog,
        relevance: Mapping[str, Mapping[str, int]],
        *,
        min_relevance: int = MIN_RELEVANCE,
    ) -> None:
        self.catalog = catalog
        self.relevance = relevance
        self.min_relevance = min_relevance

    def objectives(self) -> list[Objective]:
        leaves = [o for o in self.catalog.objectives.values() if o.goal]
        out = [Objective(o.id, o.name) for o in leaves]
        for iso3 in sorted(self.relevance):
            if iso3 not in self.catalog.countries:
                continue
            country = self.catalog.countries[iso3].name
            for o in leaves:
                if self.relevance[iso3].get(o.id, 0) >= self.min_relevance:
                    out.append(Objective(f"{o.id}@{iso3}", f"{o.name} — {country}", iso3))
        return out

    def served_by(self, program: ProgramFacts) -> tuple[str, ...]:
        countries = sorted(program.partner_countries(self.catalog))
        return (
            *program.objectives,
            *(f"{o}@{c}" for o in program.objectives for c in countries),
        )


class GapAnalysis:
    """Gaps as one actor reads them, within one session."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        source: ObjectiveSource | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self._source = source
        # Gaps are found over what the reader may see (docs/markings.md).
        self.audience = visibility.audience_of(actor, self.catalog)

    def source(self) -> ObjectiveSource:
        if self._source is None:
            relevance = PolicyService(self.session, self.actor, self.catalog).relevance()
            self._source = GoalTreeObjectives(self.catalog, relevance)
        return self._source

    def report(
        self,
        *,
        as_of: date | None = None,
        months: int = 12,
        partners: Sequence[str] | None = None,
        basis: str = "disbursed",
    ) -> GapReport:
        """Every kind of gap. ``partners`` limits the uncovered cells (default: the
        partners in the top third of priority of the latest assessment) and, when
        given, every other kind to those partners."""
        require(self.actor, "read")
        if not 1 <= months <= 120:
            raise Invalid("bad window", [Detail(("months",), "must be 1 to 120")])
        as_of = as_of or date.today()
        horizon = add_months(as_of, months)
        wanted = [self._country(p) for p in partners] if partners else None
        programs = load_programs(self.session, self.catalog, self.audience)
        donors = load_donor_activities(self.session, self.catalog, self.audience)
        source = self.source()
        objectives = list(source.objectives())
        if wanted is not None:
            objectives = [o for o in objectives if o.partner in wanted]
        coverage = self._program_coverage(programs, source)
        unfunded = unfunded_objectives(objectives, coverage, as_of=as_of, months=months)
        expiring = expiring_coverage(objectives, coverage, as_of=as_of, months=months)
        assessment_id, standings = self._standings()
        neglected: tuple[Gap, ...] = ()
        if standings:
            funding = self._funding(as_of, basis)
            neglected = neglected_partners(standings, funding)
            if wanted is not None:
                neglected = tuple(g for g in neglected if g.subject in wanted)
        cell_partners = wanted if wanted is not None else self._priority_partners(standings)
        active = [c for c in coverage if c.active_between(as_of, horizon)]
        donor_cov = [
            c for c in self._donor_coverage(donors, basis) if c.active_between(as_of, horizon)
        ]
        cells = uncovered_cells(
            cell_partners,
            [*active, *donor_cov],
            institution_types=sorted(self.catalog.institution_types),
            purposes=sorted(self.catalog.purposes),
        )
        return GapReport(
            as_of=as_of.isoformat(),
            horizon=horizon.isoformat(),
            months=months,
            objective_source=source.name,
            assessment=assessment_id,
            unfunded_objectives=[self._out(g, objectives) for g in unfunded],
            expiring_coverage=[self._out(g, objectives) for g in expiring],
            neglected_partners=[self._out(g, objectives) for g in neglected],
            uncovered_cells=[self._out(g, objectives) for g in cells],
            rules=list(RULES),
        )

    # -- inputs ------------------------------------------------------------------------
    def _country(self, code: str) -> str:
        try:
            return self.catalog.resolve("country", code)
        except UnknownCode as exc:
            raise Invalid(str(exc), [Detail(("partner",), str(exc))]) from exc

    def _program_coverage(
        self, programs: Sequence[ProgramFacts], source: ObjectiveSource
    ) -> list[Coverage]:
        planned: dict[int, int] = defaultdict(int)
        for r in visible_partner_money(self.session, self.catalog, self.audience):
            planned[r.program_pk] += r.money.planned
        out = []
        for p in programs:
            usd = planned.get(p.pk, 0) if p.status in FUNDED_STATUSES else 0
            out.append(
                Coverage(
                    id=p.code,
                    source="program",
                    objectives=source.served_by(p),
                    partners=tuple(sorted(p.partner_countries(self.catalog))),
                    institution_type=p.institution_type,
                    purpose=p.purpose,
                    start=p.start,
                    end=p.end,
                    usd=usd,
                )
            )
        return out

    def _donor_coverage(self, donors: Sequence[DonorFacts], basis: str) -> list[Coverage]:
        types = donor_settings().basis(basis).iati_transactions
        money = dict(
            self.session.execute(
                select(DonorTransaction.activity_id, func.sum(DonorTransaction.usd))
                .where(DonorTransaction.type.in_(types), DonorTransaction.usd.is_not(None))
                .group_by(DonorTransaction.activity_id)
            ).all()
        )
        inferred = dac_institution_types()
        out = []
        for d in donors:
            countries = set(d.country_codes)
            for region in d.region_codes:
                countries |= set(self.catalog.region_members(region))
            out.append(
                Coverage(
                    id=d.identifier,
                    source="donor",
                    partners=tuple(sorted(countries)),
                    institution_type=inferred.get(d.dac_code or ""),
                    start=d.start,
                    end=d.end,
                    usd=max(int(money.get(d.identifier) or 0), 0),
                )
            )
        return out

    def _standings(self) -> tuple[int | None, list[PartnerStanding]]:
        service = AssessmentService(self.session, self.actor, self.catalog)
        found = service.latest_id()
        if found is None:
            return None, []
        a = service.get(found)
        return found, [
            PartnerStanding(c["iso3"], c["priority"], c["propensity"])
            for c in a["countries"]
            if c["priority"] is not None and c["propensity"] is not None
        ]

    def _priority_partners(self, standings: Sequence[PartnerStanding]) -> list[str]:
        if not standings:
            return []
        ranked = sorted(standings, key=lambda s: (-s.priority, s.partner))
        return sorted(s.partner for s in ranked[: max(1, len(ranked) // 3)])

    def _funding(self, as_of: date, basis: str) -> dict[str, float]:
        last = fiscal_year(as_of)
        first = last - FUNDING_YEARS + 1
        flows = DonorAnalysis(self.session, self.actor, self.catalog).flows(basis=basis)
        out: dict[str, float] = defaultdict(float)
        for f in flows.all:
            if first <= f.year <= last and f.partner in self.catalog.countries:
                out[f.partner] += float(f.usd)
        return dict(out)

    # -- output --------------------------------------------------------------------------
    def _out(self, g: Gap, objectives: Sequence[Objective]) -> GapOut:
        names = {o.id: o for o in objectives}
        partner: str | None = None
        subject_name = g.subject
        reason = g.reason
        if g.kind in ("unfunded_objective", "expiring_coverage"):
            o = names.get(g.subject)
            partner = o.partner if o else None
            subject_name = o.name if o and o.name else g.subject
        elif g.kind == "neglected_partner":
            partner = g.subject
            subject_name = partner_name(self.catalog, g.subject)
            reason = reason.replace(f"{g.subject}:", f"{subject_name}:", 1)
        elif g.kind == "uncovered_cell":
            partner = str(g.figures["partner"])
            inst = self.catalog.institution_types[str(g.figures["institution_type"])].name
            purpose = self.catalog.purposes[str(g.figures["purpose"])].name
            subject_name = f"{inst} × {purpose}"
            reason = f"nobody covers {inst.lower()} × {purpose.lower()} in " + partner_name(
                self.catalog, partner
            )
        figures = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(g.figures).items()}
        return GapOut(
            kind=g.kind,
            subject=g.subject,
            subject_name=subject_name,
            partner=partner,
            partner_name=partner_name(self.catalog, partner) if partner else None,
            reason=reason,
            figures=figures,
        )
