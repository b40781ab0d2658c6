"""Monitoring workflows: the rules in force, indicator performance, delivery timelines,
money pace, and the facts the review rules judge.

Reading needs ``read``; changing a rule needs ``review:configure``. Reviews (opening,
running the rules, the annual cycle, decisions) are :class:`~ssaplan.monitoring.
reviews.ReviewService`; :meth:`MonitoringService.open_review` is the entry other
domains call (the compliance domain, on a new legal restriction).

``as_of`` is the day the figures are for (default: today): what is late, what is
about to expire and which fiscal year is current all depend on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssaplan.assessment.service import AssessmentService
from ssaplan.core import audit
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.memo import memo
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import utcnow
from ssaplan.monitoring import engine
from ssaplan.monitoring.models import CrisisEvent, MonitoringSetting, Review
from ssaplan.monitoring.public import (
    indicator_public,
    money_public,
    summary_of,
    timeline_public,
)
from ssaplan.monitoring.rules import RuleError, RuleSet, build, check_section, defaults, statement
from ssaplan.monitoring.schemas import (
    IndicatorPerformance,
    MoneyPublic,
    MonitorSummary,
    ReviewPublic,
    RulePublic,
    TimelinePublic,
)
from ssaplan.portfolio.models import BudgetLine, Milestone, Program, ProgramCountry, ProgramRegion
from ssaplan.portfolio.visibility import Audience, audience_of, only_visible
from ssaplan.reference.catalog import Catalog, get_catalog
from ssaplan.strategy.service import StrategyService


@dataclass(frozen=True)
class ProgramBrief:
    """What monitoring reads of a program: who, where, its money and its deliveries."""

    pk: int
    code: str
    title: str
    status: str
    agency: str
    account: str | None
    countries: frozenset[str]  # partner countries, a region's members for the region
    lines: tuple[engine.Line, ...]
    deliveries: tuple[engine.Delivery, ...]

    @property
    def id(self) -> int:
        return self.pk


class MonitoringService:
    """Monitoring as one actor reads it (and admins tune it), within one session."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        as_of: date | None = None,
        audience: Audience | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.as_of = as_of or date.today()
        # Whose view every figure is computed for (the actor's own by default): a
        # program the audience may not see is in no timeline, sum, count or fact.
        self.audience = audience or audience_of(actor, self.catalog)
        self._rules: RuleSet | None = None
        self._briefs: dict[int, ProgramBrief] | None = None

    # -- the rules ------------------------------------------------------------------------
    def rules(self) -> RuleSet:
        """The rules in force: the shipped defaults with the stored changes over them."""
        if self._rules is None:
            stored = {
                s.section: dict(s.params)
                for s in self.session.execute(select(MonitoringSetting)).scalars()
            }
            try:
                self._rules = build(stored)
            except RuleError:  # a stored value the code no longer accepts: use defaults
                self._rules = build({k: v for k, v in stored.items() if not check_section(k, v)})
        return self._rules

    def rule_sections(self) -> list[RulePublic]:
        """Every section of the rules: its statement, values in force, defaults, who set it."""
        require(self.actor, "read")
        rules = self.rules()
        stored = {s.section: s for s in self.session.execute(select(MonitoringSetting)).scalars()}
        out = []
        for section in sorted(rules.sections, key=_section_order):
            template = defaults().get(section, {})
            s = stored.get(section)
            out.append(
                RulePublic(
                    section=section,
                    statement=statement(section, rules),
                    params=dict(rules.sections[section]),
                    defaults=dict(template),
                    changed_by=s.set_by if s else None,
                    changed_at=s.set_at if s else None,
                )
            )
        return out

    def set_rule(self, section: str, params: Mapping[str, Any]) -> RulePublic:
        """Change values of one section (``review:configure``); audited."""
        require(self.actor, "review:configure")
        problems = check_section(section, params, accounts=self.catalog.accounts)
        if problems:
            raise Invalid(
                f"cannot set {section}: nothing was changed",
                [Detail(("body", "params", key), msg) for key, msg in problems],
            )
        row = self.session.get(MonitoringSetting, section, with_for_update=True)
        before = dict(row.params) if row else None
        merged = {**(before or {}), **params}
        try:
            build(
                {
                    **{
                        s.section: dict(s.params)
                        for s in self.session.execute(select(MonitoringSetting)).scalars()
                        if s.section != section
                    },
                    section: merged,
                }
            )
        except RuleError as exc:
            raise Invalid(
                f"cannot set {section}: nothing was changed",
                [Detail(("body", "params", key), msg) for key, msg in exc.problems],
            ) from exc
        if row is None:
            row = MonitoringSetting(section=section, params=merged, set_by=self.actor.username)
            self.session.add(row)
        else:
            row.params = merged
            row.set_by, row.set_at = self.actor.username, utcnow()
        self.session.flush()
        self._rules = None
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "update" if before is not None else "create",
                "monitoring_rule",
                section,
                before,
                merged,
                statement(section, self.rules()),
                entity_ref=f"monitoring_rule:{section}",
            ),
        )
        return next(r for r in self.rule_sections() if r.section == section)

    # -- performance ------------------------------------------------------------------------
    def ratings(self, *, strategy: str | None = None) -> list[engine.IndicatorRating]:
        """Every indicator (of one strategy) rated under the rules in force."""
        require(self.actor, "read")

        def compute() -> tuple[engine.IndicatorRating, ...]:
            perf = self.rules().performance
            series = StrategyService(self.session, self.actor, self.catalog).indicator_series(
                strategy=strategy
            )
            return tuple(engine.rate_series(s, perf) for s in series)

        # Reading every indicator series is most of the dashboard's time; the ratings are
        # kept until the next write (core/memo.py). A new list each call: callers may sort it.
        key = ("monitoring.ratings", repr(self.actor), self.as_of, strategy)
        return list(memo(self.session, key, compute))

    def performance(
        self, *, strategy: str | None = None, status: str | None = None
    ) -> list[IndicatorPerformance]:
        """Indicators with their latest status (``status`` filters: on_track, at_risk,
        off_track, unrated)."""
        codes = self._program_codes()
        out = [indicator_public(r, codes) for r in self.ratings(strategy=strategy)]
        if status == "unrated":
            return [i for i in out if i.status is None]
        if status:
            return [i for i in out if i.status == status]
        return out

    # -- delivery timelines and money -------------------------------------------------------------
    def deliveries(self, program_ids: Iterable[int] | None = None) -> list[engine.Delivery]:
        """Every delivery (of the programs given) with its program's account and agency."""
        require(self.actor, "read")
        return [d for b in self.briefs(program_ids) for d in b.deliveries]

    def timeline_report(self, *, program: str | None = None) -> engine.TimelineReport:
        ids = [self._program_pk(program)] if program else None
        return engine.timelines(self.deliveries(ids), self.rules(), self.as_of)

    def timelines(self, *, program: str | None = None) -> TimelinePublic:
        """Days from request to approval, obligation and delivery, per program, account and
        agency, against the standards; late deliveries listed, latest first."""
        rules = self.rules()
        return timeline_public(self.timeline_report(program=program), statement("delivery", rules))

    def lines(self, program_ids: Iterable[int] | None = None) -> list[engine.Line]:
        """Every budget line (of the programs given), a line without an account counting
        under its program's."""
        require(self.actor, "read")
        return [line for b in self.briefs(program_ids) for line in b.lines]

    def money_report(self) -> engine.MoneyReport:
        availability = {a.id: a.availability_years for a in self.catalog.accounts.values()}
        return engine.money_pace(self.lines(), availability, self.rules(), self.as_of)

    def money(self) -> MoneyPublic:
        """Obligated and disbursed against planned by account and year; money about to
        expire by its account's period of availability; expired and unliquidated balances."""
        return money_public(self.money_report(), statement("money", self.rules()))

    def summary(self) -> MonitorSummary:
        """Performance and delivery timelines in one (``ssaplan monitor --json``).

        Kept until the next write (core/memo.py); callers must not change it."""
        require(self.actor, "read")
        key = ("monitoring.summary", repr(self.actor), repr(self.audience), self.as_of)
        return memo(self.session, key, self._summary)

    def _summary(self) -> MonitorSummary:
        rules = self.rules()
        codes = self._program_codes()
        ratings = self.ratings()
        open_reviews = self.session.execute(
            only_visible(
                select(func.count())
                .select_from(Review)
                .join(Program, Program.id == Review.program_id)
                .where(Review.status == "open"),
                self.audience,
                self.catalog,
            )
        ).scalar_one()
        return summary_of(
            self.as_of,
            ratings,
            codes,
            rules,
            self.timelines(),
            self.money(),
            open_reviews,
        )

    # -- the facts the review rules judge ------------------------------------------------------
    def facts(self, program_ids: Iterable[int] | None = None) -> dict[int, engine.ProgramFacts]:
        """What the rules look at, for every program (or those given), read in bulk."""
        require(self.actor, "read")
        rules = self.rules()
        briefs = self.briefs(program_ids)
        by_program: dict[int, list[engine.IndicatorRating]] = defaultdict(list)
        for r in self.ratings():
            for pk in r.series.programs:
                by_program[pk].append(r)
        changes = self.assessment_changes()
        window = int(rules.param("crisis_event", "within_days"))
        crises = [
            engine.Crisis(c.iso3, c.occurred_on, c.kind, c.severity, c.description)
            for c in self.session.execute(
                select(CrisisEvent).where(
                    CrisisEvent.occurred_on >= self.as_of - timedelta(days=window),
                    CrisisEvent.occurred_on <= self.as_of,
                )
            ).scalars()
        ]
        out = {}
        for b in briefs:
            late = [x for d in b.deliveries if (x := engine.late_delivery(d, rules, self.as_of))]
            out[b.pk] = engine.ProgramFacts(
                code=b.code,
                pk=b.pk,
                status=b.status,
                countries=b.countries,
                ratings=tuple(by_program.get(b.pk, ())),
                assessment=tuple(a for a in changes if a.iso3 in b.countries),
                crises=tuple(c for c in crises if c.iso3 in b.countries),
                lines=b.lines,
                late=tuple(late),
            )
        return out

    def assessment_changes(self) -> list[engine.AssessmentChange]:
        """Each partner's propensity in the latest saved assessment against the year
        before (from the assessment domain's saved runs)."""
        # The latest saved run the audience may read (one computed over programs it may
        # not see is not theirs to read).
        service = AssessmentService(self.session, self.actor, self.catalog, audience=self.audience)
        latest = service.latest_id()
        if latest is None:
            return []
        a = service.get(latest)
        out = []
        for c in a["analyses"].get("changes", []):
            if c.get("previous") is None or c.get("current") is None:
                continue
            iso3 = c["iso3"]
            country = self.catalog.countries.get(iso3)
            out.append(
                engine.AssessmentChange(
                    iso3,
                    country.name if country else iso3,
                    int(a["year"]),
                    float(c["previous"]),
                    float(c["current"]),
                )
            )
        return out

    # -- the entry other domains call ----------------------------------------------------------
    def open_review(
        self,
        program: str,
        trigger: str,
        reasons: Sequence[str],
        *,
        immediate: bool = True,
        recommendation: str | None = None,
        source: str = "",
    ) -> ReviewPublic:
        """Open an immediate review of ``program`` (its id) for ``trigger`` (a rule name
        such as ``legal_restriction``, or ``manual``) with ``reasons``; see
        :meth:`ssaplan.monitoring.reviews.ReviewService.open_review`."""
        from ssaplan.monitoring.reviews import ReviewService

        return ReviewService(self.session, self.actor, self.catalog, as_of=self.as_of).open_review(
            program,
            trigger,
            reasons,
            immediate=immediate,
            recommendation=recommendation,
            source=source,
        )

    # -- internals ------------------------------------------------------------------------
    def partner_countries(self, p: Program) -> set[str]:
        """A program's partner countries, a region's members counting for the region."""
        out = {c.iso3 for c in p.countries}
        for r in p.regions:
            out |= set(self.catalog.region_members(r.region_code))
        return out

    def briefs(self, program_ids: Iterable[int] | None = None) -> list[ProgramBrief]:
        """What monitoring needs of every program (or those given), read in a few bulk
        queries and kept for the life of the service (a run reads them many times)."""
        wanted = sorted(set(program_ids)) if program_ids is not None else None
        if self._briefs is None and wanted is not None and len(wanted) <= 500:
            return list(self._read_briefs(wanted).values())  # a few programs: read just those
        if self._briefs is None:
            self._briefs = self._read_briefs()
        if wanted is None:
            return list(self._briefs.values())
        return [self._briefs[pk] for pk in wanted if pk in self._briefs]

    def forget(self) -> None:
        """Drop what was read (after writes that change programs)."""
        self._briefs = None

    def visible_ids(self) -> Any:
        """The ids of the programs the audience may see (a subquery), or ``None`` when
        it sees every program."""
        if self.audience.unrestricted:
            return None
        return only_visible(select(Program.id), self.audience, self.catalog)

    def _read_briefs(self, ids: Sequence[int] | None = None) -> dict[int, ProgramBrief]:
        visible = self.visible_ids()

        def only(stmt: Any, column: Any) -> Any:
            if ids is not None:
                stmt = stmt.where(column.in_(ids))
            return stmt if visible is None else stmt.where(column.in_(visible))

        countries: dict[int, set[str]] = defaultdict(set)
        for pk, iso3 in self.session.execute(
            only(select(ProgramCountry.program_id, ProgramCountry.iso3), ProgramCountry.program_id)
        ):
            countries[pk].add(iso3)
        for pk, code in self.session.execute(
            only(
                select(ProgramRegion.program_id, ProgramRegion.region_code),
                ProgramRegion.program_id,
            )
        ):
            countries[pk] |= set(self.catalog.region_members(code))
        rows = list(
            self.session.execute(
                only(
                    select(
                        Program.id,
                        Program.code,
                        Program.title,
                        Program.status,
                        Program.agency_id,
                        Program.account_id,
                    ),
                    Program.id,
                ).order_by(Program.code)
            )
        )
        info = {r.id: r for r in rows}
        agencies = {r.id: self.catalog.top_agency(r.agency_id) for r in rows}
        lines: dict[int, list[engine.Line]] = defaultdict(list)
        for pk, fy, account, planned, obligated, disbursed in self.session.execute(
            only(
                select(
                    BudgetLine.program_id,
                    BudgetLine.fiscal_year,
                    BudgetLine.account_id,
                    BudgetLine.planned,
                    BudgetLine.obligated,
                    BudgetLine.disbursed,
                ),
                BudgetLine.program_id,
            ).order_by(BudgetLine.program_id, BudgetLine.fiscal_year, BudgetLine.id)
        ):
            r = info[pk]
            lines[pk].append(
                engine.Line(
                    program=r.code,
                    program_pk=pk,
                    status=r.status,
                    agency=agencies[pk],
                    fiscal_year=fy,
                    account=account or r.account_id,
                    planned=planned,
                    obligated=obligated,
                    disbursed=disbursed,
                )
            )
        deliveries: dict[int, list[engine.Delivery]] = defaultdict(list)
        for m in self.session.execute(
            only(
                select(
                    Milestone.program_id,
                    Milestone.id,
                    Milestone.name,
                    Milestone.requested_on,
                    Milestone.approved_on,
                    Milestone.obligated_on,
                    Milestone.delivered_on,
                ),
                Milestone.program_id,
            ).order_by(Milestone.program_id, Milestone.id)
        ):
            r = info[m.program_id]
            deliveries[m.program_id].append(
                engine.Delivery(
                    program=r.code,
                    program_pk=m.program_id,
                    account=r.account_id,
                    agency=agencies[m.program_id],
                    milestone_id=m.id,
                    name=m.name,
                    requested_on=m.requested_on,
                    approved_on=m.approved_on,
                    obligated_on=m.obligated_on,
                    delivered_on=m.delivered_on,
                    program_title=r.title,
                )
            )
        return {
            r.id: ProgramBrief(
                pk=r.id,
                code=r.code,
                title=r.title,
                status=r.status,
                agency=r.agency_id,
                account=r.account_id,
                countries=frozenset(countries.get(r.id, ())),
                lines=tuple(lines.get(r.id, ())),
                deliveries=tuple(deliveries.get(r.id, ())),
            )
            for r in rows
        }

    def _program_codes(self) -> dict[int, str]:
        """Codes of the programs the audience may see (indicators name only those)."""
        stmt = only_visible(select(Program.id, Program.code), self.audience, self.catalog)
        return dict(self.session.execute(stmt).all())

    def _program_pk(self, code: str) -> int:
        from ssaplan.core.errors import NotFound

        # A program the audience may not see is unknown, like an id that never existed.
        pk = self.session.execute(
            only_visible(
                select(Program.id).where(Program.code == code), self.audience, self.catalog
            )
        ).scalar()
        if pk is None:
            raise NotFound(f"no program with id {code!r}")
        return int(pk)


def _section_order(section: str) -> tuple[int, str]:
    order = ["performance", "delivery", "money"]
    head = section.split(".", 1)[0]
    return (order.index(head) if head in order else len(order), section)
