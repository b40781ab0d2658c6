"""Compliance workflows: the restrictions register, the rules, vetting, and eligibility.

:class:`ComplianceService` is the one entry point: ``svc.restrictions``, ``svc.rules`` and
``svc.vetting`` read and write the records (each write checks permission, validates
everything before writing, and leaves an audit record in the caller's transaction);
the methods on the service itself judge the stored portfolio with the pure engine and
are the hooks other domains call:

- **allocation**: :meth:`ComplianceService.eligible_lookup` (the
  ``eligible(country, account, fiscal_year)`` its scenario parser takes),
  :meth:`ComplianceService.blocked_cells` (the (country, account, fiscal year) cells
  no money may go to) and :meth:`ComplianceService.judge` for candidates
  that carry an exception (the optimizer must not fund one it finds ineligible);
- **monitoring**: :meth:`ComplianceService.restriction_changes` — every restriction
  written since an audit record, with the programs whose findings it changed, to open
  an immediate review of each — and :meth:`ComplianceService.affected_by`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.compliance import engine, inputs
from ssaplan.compliance import vetting as core
from ssaplan.compliance.engine import Eligibility, ProgramYear, Restriction
from ssaplan.compliance.schemas import (
    AssistedCountryPublic,
    CrediblePublic,
    EligibilityPublic,
    ProgramCompliancePublic,
    VettingPublic,
)
from ssaplan.compliance.service.common import (
    Context,
    ProgramFacts,
    load_program_facts,
    program_facts,
)
from ssaplan.compliance.service.judging import Verdict, judge, programs_reached
from ssaplan.compliance.service.publics import (
    assisted_country_public,
    state_public,
    verdict_public,
)
from ssaplan.compliance.service.restrictions import (
    RestrictionChange,
    RestrictionService,
    from_snapshot,
)
from ssaplan.compliance.service.rules import RuleService, shipped_rules
from ssaplan.compliance.service.vetting import VettingService
from ssaplan.core import audit
from ssaplan.core.errors import Detail, Invalid, NotFound
from ssaplan.core.memo import memo
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.reference.catalog import Catalog, UnknownCode

__all__ = [
    "ComplianceService",
    "RestrictionChange",
    "RestrictionChangeRecord",
    "Verdict",
    "shipped_rules",
]


@dataclass(frozen=True)
class RestrictionChangeRecord:
    """A restriction written at some point (from the audit trail), and the programs whose
    restriction findings the change touches, judged on the portfolio as it is now."""

    audit_id: int
    at: datetime
    actor: str
    action: str  # create | update | delete | import
    restriction_ref: str  # "restriction:<id>", stable across edits
    before: Restriction | None
    after: Restriction | None
    affected_programs: tuple[str, ...]


@dataclass(frozen=True)
class Attention:
    """An assisted unit or individual that is not cleared for its program today."""

    program: ProgramFacts
    subject_kind: str
    unit: int | None
    name: str
    status: str
    text: str


@dataclass(frozen=True)
class VettingQueue:
    """What vetters work through: requests to decide, approvals about to lapse, assisted
    subjects not cleared, credible information still open."""

    pending: list[VettingPublic]
    expiring: list[tuple[VettingPublic, date, int]]
    attention: list[Attention]
    open_credible: list[CrediblePublic]
    may_decide: frozenset[int]  # ids of the pending requests this actor may decide
    alert_days: int


class ComplianceService:
    """Compliance as one actor sees it, within one session, on one day (default: today)."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        today: date | None = None,
    ) -> None:
        self.ctx = Context(session, actor, catalog, today=today)
        self.rules = RuleService(self.ctx)
        self.restrictions = RestrictionService(self.ctx, self.rules)
        self.vetting = VettingService(self.ctx, self.rules)

    @property
    def today(self) -> date:
        return self.ctx.today

    # -- eligibility -------------------------------------------------------------------
    def account_agencies(self) -> dict[str, str]:
        return {a.id: a.agency for a in self.ctx.catalog.accounts.values()}

    def eligibility(
        self,
        *,
        programs: Collection[str] | None = None,
        countries: Collection[str] | None = None,
        fiscal_year: int | None = None,
        as_of: date | None = None,
        register: core.VettingRegister | None = None,
    ) -> list[Verdict]:
        """Every program-year (of ``fiscal_year``; of ``programs`` or with a partner in
        ``countries``) judged against the restrictions in force during its fiscal year
        and the vetting of its units on ``as_of`` (default: today)."""
        self.ctx.require("read")
        if programs is None and countries is None and register is None:
            # The whole portfolio judged (the overview page): kept until the next write,
            # which any change of a program, a restriction, a rule or a vetting is
            # (core/memo.py). A new list each call.
            key = ("compliance.eligibility", repr(self.ctx.actor), fiscal_year, as_of or self.today)
            return list(
                memo(
                    self.ctx.session,
                    key,
                    lambda: tuple(self._eligibility(None, None, fiscal_year, as_of, None)),
                )
            )
        return self._eligibility(programs, countries, fiscal_year, as_of, register)

    def _eligibility(
        self,
        programs: Collection[str] | None,
        countries: Collection[str] | None,
        fiscal_year: int | None,
        as_of: date | None,
        register: core.VettingRegister | None,
    ) -> list[Verdict]:
        years = {fiscal_year} if fiscal_year is not None else None
        if countries is not None:
            countries = {self.resolve_country(c) for c in countries}
        facts = load_program_facts(
            self.ctx.session,
            self.ctx.catalog,
            codes=programs,
            countries=countries,
            fiscal_years=years,
            shown=self.ctx.programs_shown,
        )
        return judge(
            facts,
            self.restrictions.engine_inputs(),
            self.rules.ruleset(),
            as_of=as_of or self.today,
            register=register or self.vetting.register(),
            account_agencies=self.account_agencies(),
            fiscal_years=years,
        )

    def check(
        self, *, fiscal_year: int | None = None, as_of: date | None = None
    ) -> dict[str, object]:
        """``{"programs": [{"id", "fiscal_year", "eligible", "reasons": [...]}]}``: the
        answer of ``ssaplan comply check --json``."""
        return {
            "programs": [
                v.as_dict() for v in self.eligibility(fiscal_year=fiscal_year, as_of=as_of)
            ]
        }

    def resolve_country(self, code: str) -> str:
        """The ISO3 code of a country given by code or name; 404 if there is none."""
        try:
            return self.ctx.catalog.resolve("country", code)
        except UnknownCode as exc:
            raise NotFound(str(exc)) from exc

    def program_facts(self, program_id: str) -> ProgramFacts:
        """What compliance knows of one stored program (partners, lines, facts, subjects)."""
        self.ctx.require("read")
        return program_facts(
            self.ctx.session, self.ctx.catalog, program_id, self.ctx.programs_shown
        )

    def program(self, program_id: str) -> tuple[ProgramFacts, list[Verdict]]:
        """One program's facts and every one of its fiscal years judged."""
        self.ctx.require("read")
        facts = self.program_facts(program_id)
        return facts, self.eligibility(programs=[facts.code])

    def eligibility_public(
        self,
        *,
        countries: Collection[str] | None = None,
        fiscal_year: int | None = None,
        as_of: date | None = None,
        ineligible_only: bool = False,
    ) -> list[EligibilityPublic]:
        """:meth:`eligibility` in its public shape (titles, accounts, planned dollars)."""
        verdicts = self.eligibility(countries=countries, fiscal_year=fiscal_year, as_of=as_of)
        return [verdict_public(v) for v in verdicts if not (ineligible_only and v.eligible)]

    def program_panel(self, program_id: str) -> ProgramCompliancePublic:
        """A program's eligibility panel: its legal facts, every fiscal year judged per
        funding account with every reason, and the vetting of whom it assists."""
        facts, verdicts = self.program(program_id)
        register = self.vetting.register()
        names = {uid: u.name for uid, u in register.units.items()}
        return ProgramCompliancePublic(
            id=facts.code,
            title=facts.title,
            as_of=self.today,
            facts=self.vetting.facts(facts.code),
            years=[verdict_public(v) for v in verdicts],
            assisted=[state_public(facts, s, names) for s in self.subject_states(facts, register)],
        )

    def subject_states(
        self,
        program: ProgramFacts,
        register: core.VettingRegister | None = None,
        as_of: date | None = None,
    ) -> list[core.VettingState]:
        """The vetting state, for this program, of every unit and individual it assists."""
        register = register or self.vetting.register()
        day = as_of or self.today
        return [
            core.vetting_state(register, u, day, program_id=program.code) for u in program.units
        ] + [
            core.vetting_state(register, i, day, program_id=program.code, subject_kind="individual")
            for i in program.individuals
        ]

    def judge(
        self, candidates: Iterable[ProgramYear], *, as_of: date | None = None
    ) -> tuple[Eligibility, ...]:
        """Judge program-years that need not be stored (an optimizer's candidates)
        against the stored restrictions, rules and vetting."""
        self.ctx.require("read")
        return engine.evaluate_all(
            candidates,
            self.restrictions.engine_inputs(),
            self.rules.ruleset(),
            as_of=as_of or self.today,
            vetting=self.vetting.register(),
            account_agencies=self.account_agencies(),
        )

    # -- hooks for allocation and monitoring -----------------------------------------
    def blocked_cells(
        self,
        fiscal_years: Iterable[int],
        *,
        accounts: Collection[str] | None = None,
        recipient: str = "government",
    ) -> frozenset[tuple[str, str, int]]:
        """The (country, account, fiscal year) cells no money may go to: a plain
        program-year there (no exception, to ``recipient``) would be blocked after waivers.

        ``accounts`` defaults to every account of the catalog. Vetting is per program,
        not per cell: judge candidates with :meth:`judge` too.
        """
        self.ctx.require("read")
        return engine.blocked_cells(
            self.restrictions.engine_inputs(),
            self.rules.ruleset(),
            accounts=accounts if accounts is not None else sorted(self.ctx.catalog.accounts),
            fiscal_years=fiscal_years,
            recipient=recipient,
        )

    def eligible_lookup(self, *, recipient: str = "government") -> Callable[[str, str, int], bool]:
        """``eligible(country, account, fiscal_year) -> bool`` for the allocation optimizer
        (its scenario's ``eligible`` argument): False where :meth:`blocked_cells` holds the
        cell.

        The restrictions and rules are read now; the cells of each account and year are
        computed by the pure engine on first use, so the lookup outlives this session and
        answers for the register as it was when it was made.
        """
        self.ctx.require("read")
        restrictions = tuple(self.restrictions.engine_inputs())
        ruleset = self.rules.ruleset()
        blocked: dict[tuple[str, int], frozenset[tuple[str, str, int]]] = {}

        def eligible(country: str, account: str, fiscal_year: int) -> bool:
            key = (account, fiscal_year)
            if key not in blocked:
                blocked[key] = engine.blocked_cells(
                    restrictions,
                    ruleset,
                    accounts=[account],
                    fiscal_years=[fiscal_year],
                    recipient=recipient,
                )
            return (country, account, fiscal_year) not in blocked[key]

        return eligible

    def affected_by(
        self,
        old: Restriction | None,
        new: Restriction | None,
        *,
        from_fiscal_year: int | None = None,
    ) -> tuple[str, ...]:
        """Program ids whose restriction findings change when ``old`` becomes ``new``
        (``old=None``: a new restriction; ``new=None``: one removed), counting their
        program-years from ``from_fiscal_year`` (default: the current fiscal year)."""
        self.ctx.require("read")
        return programs_reached(
            self.ctx,
            self.rules.ruleset(),
            [old] if old else [],
            [new] if new else [],
            from_fiscal_year=from_fiscal_year,
        )

    def restriction_changes(
        self, *, after_audit_id: int = 0, limit: int = 500
    ) -> list[RestrictionChangeRecord]:
        """Restrictions written after audit record ``after_audit_id``, oldest first, each
        with the programs whose findings the change touches (from the current FY).

        The monitoring domain keeps the last ``audit_id`` it handled and opens an
        immediate review of every program in ``affected_programs``.
        """
        self.ctx.require("read")
        audit.flush_pending(self.ctx.session)
        rows = list(
            self.ctx.session.execute(
                select(AuditRecord)
                .where(AuditRecord.entity_type == "restriction", AuditRecord.id > after_audit_id)
                .order_by(AuditRecord.id)
                .limit(limit)
            ).scalars()
        )
        ruleset = self.rules.ruleset()
        out = []
        for r in rows:
            before, after = from_snapshot(r.before), from_snapshot(r.after)
            out.append(
                RestrictionChangeRecord(
                    audit_id=r.id,
                    at=r.at,
                    actor=r.actor,
                    action=r.action,
                    restriction_ref=r.entity_ref or "",
                    before=before,
                    after=after,
                    affected_programs=programs_reached(
                        self.ctx,
                        ruleset,
                        [before] if before else [],
                        [after] if after else [],
                    ),
                )
            )
        return out

    # -- vetting views ---------------------------------------------------------------
    def assisted_units(
        self, *, fiscal_year: int | None = None, country: str | None = None
    ) -> list[AssistedCountryPublic]:
        """The current list of assisted units per country: units assisted by a program
        with money in ``fiscal_year`` (default: the current one), with their vetting state
        today (any program's records count)."""
        self.ctx.require("read")
        fy = fiscal_year if fiscal_year is not None else inputs.fiscal_year_of(self.today)
        facts = load_program_facts(
            self.ctx.session, self.ctx.catalog, fiscal_years={fy}, shown=self.ctx.programs_shown
        )
        years = [
            ProgramYear(p.code, fy, p.countries, p.account or "", units=p.units)
            for p in facts
            if p.units and p.lines
        ]
        register = self.vetting.register()
        grouped = core.assisted_units(years, register, self.today, fiscal_year=fy)
        try:
            wanted = self.ctx.catalog.resolve("country", country) if country else None
        except UnknownCode as exc:  # a filter naming no country: the caller's mistake
            raise Invalid(str(exc), [Detail(("query", "country"), str(exc))]) from exc
        names = {uid: u.name for uid, u in register.units.items()}
        types = {t.id: t.name for t in self.ctx.catalog.institution_types.values()}
        titles = {p.code: p.title for p in facts}
        return [
            assisted_country_public(
                iso3,
                self.ctx.country_name(iso3) or iso3,
                fy,
                units,
                unit_names=names,
                type_names=types,
                titles=titles,
            )
            for iso3, units in grouped.items()
            if wanted is None or iso3 == wanted
        ]

    def vetting_queue(self) -> VettingQueue:
        """The vetting queue as of today (see :class:`VettingQueue`)."""
        self.ctx.require("read")
        register = self.vetting.register()
        pending = sorted(self.vetting.requests(status="pending"), key=lambda v: (v.requested, v.id))
        programs = {
            p.code: p
            for p in load_program_facts(
                self.ctx.session, self.ctx.catalog, shown=self.ctx.programs_shown
            )
            if p.units or p.individuals
        }
        may = frozenset(
            v.id for v in pending if v.program in programs and self.ctx.may_vet(programs[v.program])
        )
        attention = []
        for program in programs.values():
            for state in self.subject_states(program, register):
                if state.cleared or state.status == "pending":
                    continue
                is_unit = state.subject_id in program.units
                unit = register.units.get(state.subject_id) if is_unit else None
                attention.append(
                    Attention(
                        program=program,
                        subject_kind="unit" if is_unit else "individual",
                        unit=int(state.subject_id) if is_unit else None,
                        name=unit.name if unit else state.subject_id,
                        status=state.status,
                        text=state.text,
                    )
                )
        settings = self.ctx.settings()
        return VettingQueue(
            pending=pending,
            expiring=self.vetting.expiring(register=register),
            attention=sorted(attention, key=lambda a: (a.status, a.program.code, a.name)),
            open_credible=self.vetting.credible(open_only=True),
            may_decide=may,
            alert_days=settings.alert_days,
        )

    def first_fiscal_year(self) -> int:
        """The current fiscal year: reviews look at program-years from it on."""
        return inputs.fiscal_year_of(self.today)

    def restriction_map(self, on: date | None = None) -> dict[str, list[inputs.Restriction]]:
        """Restrictions in force on a day (default: today), by country."""
        self.ctx.require("read")
        day = on or self.today
        out: dict[str, list[inputs.Restriction]] = defaultdict(list)
        for r in self.restrictions.engine_inputs():
            if r.in_force(day, day):
                out[r.country].append(r)
        return dict(out)
