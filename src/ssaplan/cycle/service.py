"""Planning-cycle workflows: proposals from draft to obligation, concurrence, comments,
congressional notification, and the calendar.

Every step checks who may take it and whether the proposal is in a stage that allows
it; a refused step raises a specific error and changes nothing (the caller's
transaction rolls back). Every step is time-stamped (a :class:`ProposalStep`, or the
concurrence's or comment's own time) and leaves an audit record with the proposal
before and after. ``now`` is the clock of the service (the demo backdates steps).

Every read and every step sees only the proposals the service's audience may see (by
default the actor's own view: :mod:`ssaplan.portfolio.visibility`, with
``marked=Proposal``); a hidden proposal is "no proposal", the answer for a code that
never existed, and lists count what they withheld by reason (never which).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.assessment.models import Assessment
from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor, can, directory, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.cycle import engine
from ssaplan.cycle.models import Concurrence, CyclePhase, Proposal, ProposalComment, ProposalStep
from ssaplan.cycle.rules import Rules, shipped_rules
from ssaplan.cycle.schemas import (
    CalendarPublic,
    CandidateLevel,
    CandidateList,
    CandidatePublic,
    CommentPublic,
    ConcurrencePublic,
    DeadlinePublic,
    Level,
    NotificationPublic,
    NotificationRulePublic,
    PhasePublic,
    ProposalCreate,
    ProposalList,
    ProposalPublic,
    ProposalSummary,
    ProposalUpdate,
    RoutingRulePublic,
    RuleReviewer,
    RulesPublic,
    StepPublic,
)
from ssaplan.portfolio.schemas import Withheld
from ssaplan.portfolio.visibility import (
    Audience,
    audience_of,
    decode,
    marking_fields,
    only_visible,
    withheld,
)
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

EDITABLE = ("draft", "revise")
UNDER_REVIEW = ("submitted", "in_review")
TERMINAL = ("obligated", "rejected", "withdrawn")
COORDINATOR = "coordinator"
CONGRESS = "Congress"


def _days(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds() // 86400))


class CycleService:
    """The planning cycle as one actor sees and moves it, within one session.

    ``audience`` (by default the actor's own view) decides which proposals every read
    and step sees."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        *,
        now: datetime | None = None,
        catalog: Catalog | None = None,
        rules: Rules | None = None,
        audience: Audience | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.now = now or utcnow()
        self.catalog = catalog or get_catalog()
        self.rules = rules or shipped_rules()
        self.audience = audience or audience_of(actor, self.catalog)

    def visible(self, stmt: Any) -> Any:
        """``stmt`` (a select over proposals) narrowed to those the audience may see."""
        return only_visible(stmt, self.audience, self.catalog, marked=Proposal)

    def count_withheld(self, ids: Any) -> Withheld:
        """How many of the proposals ``ids`` selects the audience may not see, by reason."""
        return Withheld(**withheld(self.session, ids, self.audience, self.catalog, Proposal))

    @property
    def today(self) -> date:
        return self.now.date()

    # -- the calendar -------------------------------------------------------------------
    def open_calendar(self, fiscal_year: int) -> CalendarPublic:
        """Create a fiscal year's calendar from the template (coordinators)."""
        require(self.actor, "cycle:manage")
        if not 2000 <= fiscal_year <= 2100:
            raise Invalid("cannot open the calendar", [Detail(("fiscal_year",), "2000 to 2100")])
        if self._phases(fiscal_year):
            raise Conflict(f"the FY{fiscal_year} calendar is already open")
        phases = engine.build_calendar(fiscal_year, self.rules.calendar)
        for i, p in enumerate(phases):
            self.session.add(
                CyclePhase(
                    fiscal_year=fiscal_year,
                    phase=p.phase,
                    label=p.label,
                    starts_on=p.starts_on,
                    ends_on=p.ends_on,
                    position=i,
                )
            )
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "cycle_calendar",
                str(fiscal_year),
                None,
                {"phases": [[p.phase, p.starts_on, p.ends_on] for p in phases]},
                f"opened the FY{fiscal_year} calendar",
            ),
        )
        return self.calendar(fiscal_year)

    def _phases(self, fiscal_year: int) -> list[engine.Phase]:
        rows = self.session.execute(
            select(CyclePhase)
            .where(CyclePhase.fiscal_year == fiscal_year)
            .order_by(CyclePhase.position, CyclePhase.id)
        ).scalars()
        return [engine.Phase(r.fiscal_year, r.phase, r.label, r.starts_on, r.ends_on) for r in rows]

    def calendar_years(self) -> list[int]:
        require(self.actor, "read")
        return list(
            self.session.execute(
                select(CyclePhase.fiscal_year).distinct().order_by(CyclePhase.fiscal_year)
            ).scalars()
        )

    def current_fiscal_year(self) -> int | None:
        """The newest fiscal year whose calendar contains today (else the newest opened)."""
        years = self.calendar_years()
        inside = [fy for fy in years if engine.current_phase(self._phases(fy), self.today)]
        if inside:
            return max(inside)
        return years[-1] if years else None

    def calendar(self, fiscal_year: int | None = None) -> CalendarPublic:
        require(self.actor, "read")
        fy = fiscal_year if fiscal_year is not None else self.current_fiscal_year()
        phases = self._phases(fy) if fy is not None else []
        if fy is None or not phases:
            which = f"FY{fy}" if fy is not None else "any fiscal year"
            raise NotFound(
                f"no planning calendar for {which}: a coordinator opens one with "
                "`ssaplan proposals calendar --open FY`"
            )
        now = engine.current_phase(phases, self.today)
        by_years: dict[int, list[str]] = {}
        for a in self.catalog.accounts.values():
            by_years.setdefault(a.availability_years, []).append(a.id)
        return CalendarPublic(
            fiscal_year=fy,
            phases=[_phase_public(p, p == now) for p in phases],
            current_phase=_phase_public(now, True) if now else None,
            obligation_deadlines=[
                DeadlinePublic(
                    availability_years=years,
                    obligate_by=engine.obligation_deadline(fy, years),
                    accounts=sorted(ids),
                )
                for years, ids in sorted(by_years.items())
            ],
        )

    def phase_end(self, fiscal_year: int, phase: str) -> date | None:
        for p in self._phases(fiscal_year):
            if p.phase == phase:
                return p.ends_on
        return None

    # -- reads --------------------------------------------------------------------------
    def load(self, code: str, *, lock: bool = False) -> Proposal:
        """The proposal ``code`` if the audience may see it; else "not found", the same
        answer as for a code that names nothing (so every step on it is refused so)."""
        stmt = self.visible(select(Proposal).where(Proposal.code == code))
        if lock:
            stmt = stmt.with_for_update()
        p = self.session.execute(stmt).scalar_one_or_none()
        if p is None:
            raise NotFound(f"no proposal {code!r}")
        return p

    def get(self, code: str) -> ProposalPublic:
        require(self.actor, "read")
        return self.public(self.load(code))

    def list_proposals(
        self, *, stage: str | None = None, fiscal_year: int | None = None
    ) -> ProposalList:
        require(self.actor, "read")
        stmt = select(Proposal).order_by(Proposal.code)
        if stage is not None:
            stmt = stmt.where(Proposal.stage == stage)
        if fiscal_year is not None:
            stmt = stmt.where(Proposal.fiscal_year == fiscal_year)
        hidden = self.count_withheld(stmt.with_only_columns(Proposal.id).order_by(None))
        rows = self.session.execute(self.visible(stmt)).scalars().all()
        return ProposalList(
            proposals=[
                ProposalSummary(
                    id=p.code,
                    title=p.title,
                    agency=p.agency_id,
                    country=p.country_iso3,
                    stage=p.stage,
                    days_in_stage=_days(p.stage_since, self.now),
                    waiting_on=self.waiting_on(p),
                    marking=p.marking,
                    releasable_to=decode(p.releasable_to),
                )
                for p in rows
            ],
            withheld=hidden,
        )

    def all_proposals(self, fiscal_year: int | None = None) -> list[Proposal]:
        """Every proposal the audience may see (of one cycle, if given)."""
        require(self.actor, "read")
        stmt = self._of_year(fiscal_year).order_by(Proposal.code)
        return list(self.session.execute(self.visible(stmt)).scalars())

    def withheld_of(self, fiscal_year: int | None = None) -> Withheld:
        """How many proposals (of one cycle, if given) the audience may not see."""
        return self.count_withheld(self._of_year(fiscal_year).with_only_columns(Proposal.id))

    def _of_year(self, fiscal_year: int | None) -> Any:
        """A select of the proposals of one cycle (of every cycle: ``None``)."""
        stmt = select(Proposal)
        return stmt if fiscal_year is None else stmt.where(Proposal.fiscal_year == fiscal_year)

    def history(self, code: str) -> list[AuditRecord]:
        p = self.get(code)
        found = self.load(p.id)
        return audit.history(self.session, "proposal", p.id, entity_ref=f"proposal:{found.id}")

    def pending(self, p: Proposal) -> list[Concurrence]:
        return [c for c in p.concurrences if c.round == p.round and c.decision is None]

    def current_round(self, p: Proposal) -> list[Concurrence]:
        return [c for c in p.concurrences if c.round == p.round]

    def waiting_on(self, p: Proposal) -> list[str]:
        """Whom the proposal waits on now (``DoD``, ``COM:KEN``, ``legal``, ``coordinator``,
        ``Congress``, or the proposing agency)."""
        if p.stage in EDITABLE:
            return [p.agency_id]
        if p.stage in UNDER_REVIEW:
            pending = [engine.Reviewer(c.reviewer_kind, c.reviewer).key() for c in self.pending(p)]
            return pending or [COORDINATOR]
        if p.stage == "approved":
            return [COORDINATOR] if p.notification_rule else [p.agency_id]
        if p.stage == "notified":
            clears = engine.clears_on(p.notified_on, p.waiting_days or 0) if p.notified_on else None
            if not p.hold and clears is not None and clears <= self.today:
                return [COORDINATOR]
            return [CONGRESS]
        if p.stage == "cleared":
            return [p.agency_id]
        return []

    def obligation_deadline(self, p: Proposal) -> date | None:
        account = self.catalog.accounts.get(p.account_id)
        return engine.obligation_deadline(
            p.fiscal_year, account.availability_years if account else 1
        )

    def public(self, p: Proposal) -> ProposalPublic:
        c = self.catalog
        country = c.countries.get(p.country_iso3)
        rule = next((r for r in self.rules.notification if r.id == p.notification_rule), None)
        comments = self.session.execute(
            select(ProposalComment)
            .where(ProposalComment.proposal_id == p.id)
            .order_by(ProposalComment.at, ProposalComment.id)
        ).scalars()
        return ProposalPublic(
            id=p.code,
            title=p.title,
            description=p.description,
            agency=p.agency_id,
            agency_name=c.agencies[p.agency_id].name if p.agency_id in c.agencies else "",
            account=p.account_id,
            account_name=c.accounts[p.account_id].name if p.account_id in c.accounts else "",
            country=p.country_iso3,
            country_name=country.name if country else "",
            region=country.bureau if country else None,
            fiscal_year=p.fiscal_year,
            institution_type=p.institution_type_id,
            level=p.level_id,
            purpose=p.purpose_id,
            dac_code=p.dac_code,
            start=p.start_date,
            end=p.end_date,
            objectives=list(p.objectives),
            justification=p.justification,
            assessment_id=p.assessment_id,
            sustainment_plan=p.sustainment_plan,
            levels=[Level(**lv) for lv in p.levels],
            fiscal_years=list(p.fiscal_years),
            requested_total=p.requested_total,
            restriction_flag=p.restriction_flag,
            vetting_flag=p.vetting_flag,
            marking=p.marking,
            releasable_to=decode(p.releasable_to),
            stage=p.stage,
            stage_since=p.stage_since,
            days_in_stage=_days(p.stage_since, self.now),
            round=p.round,
            waiting_on=self.waiting_on(p),
            concurrences=[
                ConcurrencePublic(
                    round=x.round,
                    reviewer_kind=x.reviewer_kind,
                    reviewer=x.reviewer,
                    label=engine.Reviewer(x.reviewer_kind, x.reviewer).label(),
                    rules=list(x.rules),
                    requested_at=x.requested_at,
                    decision=x.decision,
                    comment=x.comment,
                    decided_by=x.decided_by,
                    decided_at=x.decided_at,
                )
                for x in p.concurrences
            ],
            comments=[
                CommentPublic(id=m.id, parent_id=m.parent_id, author=m.author, body=m.body, at=m.at)
                for m in comments
            ],
            steps=[
                StepPublic(
                    from_stage=s.from_stage,
                    to_stage=s.to_stage,
                    at=s.at,
                    actor=s.actor,
                    note=s.note,
                )
                for s in p.steps
            ],
            notification=NotificationPublic(
                required=p.notification_rule is not None,
                rule=p.notification_rule,
                authority=rule.authority if rule else "",
                waiting_days=p.waiting_days,
                notified_on=p.notified_on,
                clears_on=engine.clears_on(p.notified_on, p.waiting_days or 0)
                if p.notified_on
                else None,
                hold=p.hold,
                hold_reason=p.hold_reason,
                cleared_on=p.cleared_on,
            ),
            obligation_deadline=self.obligation_deadline(p),
            obligated_on=p.obligated_on,
            obligated_amount=p.obligated_amount,
            created_by=p.created_by,
            created_at=p.created_at,
            updated_at=p.updated_at,
            version=p.version,
        )

    def candidates(self, fiscal_year: int | None = None) -> CandidateList:
        """Approved proposals (and those further along, not yet obligated) as allocation
        candidates: each requested level with its value (1.0 when none was given)."""
        require(self.actor, "read")
        stmt = select(Proposal).where(Proposal.stage.in_(("approved", "notified", "cleared")))
        if fiscal_year is not None:
            stmt = stmt.where(Proposal.fiscal_year == fiscal_year)
        hidden = self.count_withheld(stmt.with_only_columns(Proposal.id))
        rows = self.session.execute(self.visible(stmt).order_by(Proposal.code)).scalars()
        return CandidateList(
            candidates=[
                CandidatePublic(
                    id=p.code,
                    country=p.country_iso3,
                    account=p.account_id,
                    fiscal_years=list(p.fiscal_years),
                    must_fund=False,
                    requires=[],
                    levels=[
                        CandidateLevel(
                            annual=lv["annual"],
                            value=lv["value"] if lv.get("value") is not None else 1.0,
                        )
                        for lv in p.levels
                    ],
                )
                for p in rows
            ],
            withheld=hidden,
        )

    # -- writes: the proposer -----------------------------------------------------------
    def _may_write(self, p: Proposal) -> None:
        require(self.actor, "proposal:write")
        if not restrict(self.actor, "proposal:write").allows(p.agency_id, [p.country_iso3]):
            raise Forbidden(
                f"proposal {p.code} belongs to {p.agency_id}: you ({self.actor.describe()}) "
                "may not change it"
            )

    def _resolve(self, kind: str, value: str | None, loc: str, problems: list[Detail]) -> Any:
        if value is None:
            return None
        try:
            return self.catalog.resolve(kind, value)  # type: ignore[arg-type]
        except UnknownCode as exc:
            problems.append(Detail((loc,), str(exc)))
            return None

    def _check(self, data: dict[str, Any], problems: list[Detail]) -> dict[str, Any]:
        """Resolve and check every field of a proposal (all problems at once)."""
        out = dict(data)
        for key, kind in (
            ("agency", "agency"),
            ("account", "account"),
            ("country", "country"),
            ("institution_type", "institution_type"),
            ("level", "level"),
            ("purpose", "purpose"),
            ("dac_code", "dac_code"),
        ):
            if key in data:
                out[key] = self._resolve(kind, data[key], key, problems)
        if "objectives" in data and data["objectives"] is not None:
            out["objectives"] = sorted(
                {
                    x
                    for i, o in enumerate(data["objectives"])
                    if (x := self._resolve("objective", o, f"objectives.{i}", problems))
                }
            )
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            problems.append(Detail(("end",), "must not be before start"))
        years = data.get("fiscal_years")
        if years is not None:
            if len(set(years)) != len(years):
                problems.append(Detail(("fiscal_years",), "a fiscal year is listed twice"))
            for i, y in enumerate(years):
                if not 2000 <= y <= 2100:
                    problems.append(Detail(("fiscal_years", i), "a fiscal year from 2000 to 2100"))
            out["fiscal_years"] = sorted(years)
        if data.get("levels") is not None:
            annual = [lv["annual"] for lv in data["levels"]]
            if annual != sorted(set(annual)):
                problems.append(
                    Detail(("levels",), "levels must rise strictly, lowest first (no repeats)")
                )
        aid = data.get("assessment_id")
        if aid is not None and self.session.get(Assessment, aid) is None:
            problems.append(Detail(("assessment_id",), f"no saved assessment {aid}"))
        return out

    def create(self, body: ProposalCreate) -> ProposalPublic:
        require(self.actor, "proposal:write")
        problems: list[Detail] = []
        data = self._check(body.model_dump(exclude={"marking", "releasable_to"}), problems)
        marks = marking_fields(
            self.actor, self.catalog, body.marking, body.releasable_to, (), problems
        )
        if problems:
            raise Invalid("cannot create the proposal", problems)
        if data["fiscal_year"] not in data["fiscal_years"]:
            problems.append(
                Detail(("fiscal_years",), f"must include the cycle's year FY{data['fiscal_year']}")
            )
        if not restrict(self.actor, "proposal:write").allows(data["agency"], [data["country"]]):
            raise Forbidden(
                f"you ({self.actor.describe()}) may not propose for {data['agency']}: "
                "planners propose for their own agency"
            )
        if problems:
            raise Invalid("cannot create the proposal", problems)
        top = self.catalog.top_agency(data["agency"])
        prefix = f"FY{data['fiscal_year']}-{top}-"
        # Numbered past every proposal, those the writer may not see too: a code is never
        # given twice, and the new one says nothing of the hidden ones but that they exist
        # (as a strategy id taken by a hidden strategy is "already taken").
        taken = self.session.execute(
            select(Proposal.code).where(Proposal.code.like(prefix + "%"))
        ).scalars()
        n = max((int(c.rsplit("-", 1)[1]) for c in taken), default=0) + 1
        p = Proposal(
            code=f"{prefix}{n:04d}",
            fiscal_year=data["fiscal_year"],
            title=data["title"],
            description=data["description"],
            agency_id=data["agency"],
            account_id=data["account"],
            country_iso3=data["country"],
            institution_type_id=data["institution_type"],
            level_id=data["level"],
            purpose_id=data["purpose"],
            dac_code=data["dac_code"],
            start_date=data["start"],
            end_date=data["end"],
            objectives=data["objectives"],
            justification=data["justification"],
            assessment_id=data["assessment_id"],
            sustainment_plan=data["sustainment_plan"],
            levels=data["levels"],
            fiscal_years=data["fiscal_years"],
            requested_total=_total(data["levels"], data["fiscal_years"]),
            restriction_flag=data["restriction_flag"],
            vetting_flag=data["vetting_flag"],
            marking=marks.get("marking", "U"),
            releasable_to=marks.get("releasable_to", ""),
            stage="draft",
            stage_since=self.now,
            created_by=self.actor.username,
            created_at=self.now,
            updated_at=self.now,
        )
        self.session.add(p)
        self.session.flush()
        self._step(p, None, "draft", "drafted")
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "proposal",
                p.code,
                None,
                _snapshot(p),
                "drafted",
                f"proposal:{p.id}",
            ),
        )
        return self.public(p)

    def update(self, code: str, body: ProposalUpdate) -> ProposalPublic:
        p = self.load(code, lock=True)
        self._may_write(p)
        if p.stage not in EDITABLE:
            raise Conflict(
                f"proposal {code} is {p.stage}: it cannot be edited in place; recall it for "
                "revision (it then goes to every reviewer again when resubmitted)"
            )
        if body.version != p.version:
            raise StaleVersion(
                f"proposal {code} was changed by someone else (you sent version {body.version}, "
                f"it is now at version {p.version}): reload and try again"
            )
        given = body.model_dump(exclude_unset=True, exclude={"version"})
        problems: list[Detail] = []
        marks = marking_fields(
            self.actor,
            self.catalog,
            given.pop("marking", None),
            given.pop("releasable_to", None),
            (),
            problems,
        )
        data = self._check(given, problems)
        start = data.get("start", p.start_date)
        end = data.get("end", p.end_date)
        if end < start:
            problems.append(Detail(("end",), "must not be before start"))
        years = data.get("fiscal_years", p.fiscal_years)
        if p.fiscal_year not in years:
            problems.append(
                Detail(("fiscal_years",), f"must include the cycle's year FY{p.fiscal_year}")
            )
        if problems:
            raise Invalid("cannot change the proposal", problems)
        before = _snapshot(p)
        columns = {
            "account": "account_id",
            "country": "country_iso3",
            "institution_type": "institution_type_id",
            "level": "level_id",
            "purpose": "purpose_id",
            "start": "start_date",
            "end": "end_date",
        }
        for key, value in data.items():
            setattr(p, columns.get(key, key), value)
        for key, stored in marks.items():
            setattr(p, key, stored)
        if not restrict(self.actor, "proposal:write").allows(p.agency_id, [p.country_iso3]):
            raise Forbidden(f"you may not move proposal {code} to {p.country_iso3}")
        p.requested_total = _total(p.levels, p.fiscal_years)
        after = _snapshot(p)
        if after == before:
            return self.public(p)
        p.version += 1
        p.updated_at = self.now
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "update",
                "proposal",
                p.code,
                before,
                _snapshot(p),
                "edited",
                f"proposal:{p.id}",
            ),
        )
        return self.public(p)

    def submit(self, code: str) -> ProposalPublic:
        """Submit (or resubmit) a draft: route it and ask every reviewer."""
        p = self.load(code, lock=True)
        self._may_write(p)
        if p.stage not in EDITABLE:
            raise Conflict(f"proposal {code} is {p.stage}: only a draft or a revision is submitted")
        missing = [
            Detail((name,), "needed before submission")
            for name, ok in (
                ("justification", p.justification.strip()),
                ("sustainment_plan", p.sustainment_plan.strip()),
                ("objectives", p.objectives),
            )
            if not ok
        ]
        if missing:
            raise Invalid(f"proposal {code} is not complete", missing)
        before = _snapshot(p)
        was = p.stage
        p.round += 1
        routed = engine.route(
            self.rules.routing,
            account=p.account_id,
            amount=p.requested_total,
            country=p.country_iso3,
            flagged=p.restriction_flag or p.vetting_flag,
        )
        for r in routed:
            p.concurrences.append(
                Concurrence(
                    round=p.round,
                    reviewer_kind=r.reviewer.kind,
                    reviewer=r.reviewer.who,
                    rules=list(r.rules),
                    requested_at=self.now,
                )
            )
        self._move(p, "submitted", "resubmitted" if was == "revise" else "submitted")
        self._audit(p, "submit", before, f"round {p.round} to {len(routed)} reviewers")
        return self.public(p)

    def recall(self, code: str, note: str = "") -> ProposalPublic:
        """Take a proposal under review back for revision (its round ends)."""
        p = self.load(code, lock=True)
        self._may_write(p)
        if p.stage not in UNDER_REVIEW:
            raise Conflict(
                f"proposal {code} is {p.stage}: only a proposal under review is recalled"
            )
        before = _snapshot(p)
        self._move(p, "revise", note or "recalled for revision")
        self._audit(p, "recall", before, note)
        return self.public(p)

    def withdraw(self, code: str, note: str = "") -> ProposalPublic:
        p = self.load(code, lock=True)
        self._may_write(p)
        if p.stage in TERMINAL:
            raise Conflict(f"proposal {code} is already {p.stage}")
        before = _snapshot(p)
        self._move(p, "withdrawn", note or "withdrawn by the proposer")
        self._audit(p, "withdraw", before, note)
        return self.public(p)

    def obligate(self, code: str, amount: int, on: date) -> ProposalPublic:
        """Record the obligation: only once any required notification has cleared."""
        p = self.load(code, lock=True)
        self._may_write(p)
        if p.stage in ("approved", "notified") and p.notification_rule:
            state = (
                "has not been notified to Congress"
                if p.stage == "approved"
                else f"was notified on {p.notified_on} and has not cleared"
                + (" (Congress holds it)" if p.hold else "")
            )
            raise Conflict(
                f"cannot obligate {code}: it needs congressional notification "
                f"({p.notification_rule}, {p.waiting_days}-day wait) and {state}"
            )
        if p.stage not in ("approved", "cleared"):
            raise Conflict(f"cannot obligate {code}: it is {p.stage}, not approved and cleared")
        problems: list[Detail] = []
        if not 1 <= amount <= p.requested_total:
            problems.append(
                Detail(("amount",), f"from $1 to the requested total ${p.requested_total:,}")
            )
        deadline = self.obligation_deadline(p)
        if deadline is not None and on > deadline:
            problems.append(
                Detail(("obligated_on",), f"FY{p.fiscal_year} {p.account_id} expired on {deadline}")
            )
        if on > self.today:
            problems.append(Detail(("obligated_on",), "must not be in the future"))
        if p.cleared_on and on < p.cleared_on:
            problems.append(
                Detail(("obligated_on",), f"must not be before clearance {p.cleared_on}")
            )
        if problems:
            raise Invalid(f"cannot obligate {code}", problems)
        before = _snapshot(p)
        p.obligated_amount = amount
        p.obligated_on = on
        self._move(p, "obligated", f"${amount:,} obligated on {on}")
        self._audit(p, "obligate", before, f"${amount:,}")
        return self.public(p)

    # -- writes: reviewers ----------------------------------------------------------------
    def _eligible(self, c: Concurrence) -> bool:
        """Whether the actor may give this concurrence (their own agency, country, role)."""
        if c.reviewer_kind == "agency":
            # Concurrence speaks for the reviewer's home agency (a State/PM reviewer answers
            # for State), whatever the scope of the role that lets them concur.
            return (
                can(self.actor, "proposal:concur")
                and bool(self.actor.agency_id)
                and self.actor.agency_id in directory().agency_family(c.reviewer)
            )
        if c.reviewer_kind == "chief_of_mission":
            return restrict(self.actor, "proposal:concur_mission").allows(None, [c.reviewer])
        return can(self.actor, "proposal:legal")

    def concur(self, code: str, decision: str, comment: str = "") -> ProposalPublic:
        """Give one's concurrence (or non-concurrence, with a reason) on a proposal."""
        p = self.load(code, lock=True)
        if p.stage not in UNDER_REVIEW:
            raise Conflict(
                f"proposal {code} is {p.stage}: concurrence is given while it is under review"
            )
        mine = [c for c in self.current_round(p) if self._eligible(c)]
        if not mine:
            asked = ", ".join(
                engine.Reviewer(c.reviewer_kind, c.reviewer).label() for c in self.current_round(p)
            )
            raise Forbidden(
                f"you ({self.actor.username}, {self.actor.agency_id or 'no agency'}) cannot concur "
                f"for another agency: {code} asks {asked}"
            )
        open_ = [c for c in mine if c.decision is None]
        if not open_:
            done = mine[0]
            raise Conflict(
                f"{engine.Reviewer(done.reviewer_kind, done.reviewer).label()} already answered "
                f"{code} in round {p.round} ({done.decision} by {done.decided_by} on "
                f"{done.decided_at:%Y-%m-%d}); a new answer waits for a resubmission"
            )
        if decision not in ("concur", "concur_with_comments", "non_concur"):
            raise Invalid("unknown decision", [Detail(("decision",), "concur, ...")])
        if decision != "concur" and not comment.strip():
            raise Invalid(
                f"cannot record {decision}",
                [Detail(("comment",), "give the comments or the reason for non-concurrence")],
            )
        before = _snapshot(p)
        # One answer per step; the reviewer that names the actor's own agency exactly goes
        # first (a State/F reviewer answers for State/F before answering for State).
        open_.sort(key=lambda x: x.reviewer != self.actor.agency_id)
        c = open_[0]
        c.decision = decision
        c.comment = comment.strip()
        c.decided_by = self.actor.username
        c.decided_at = self.now
        label = engine.Reviewer(c.reviewer_kind, c.reviewer).label()
        if decision == "non_concur":
            self._move(p, "revise", f"{label} non-concurs: {c.comment}")
        elif p.stage == "submitted":
            self._move(p, "in_review", f"{label}: {decision}")
        else:
            p.version += 1
            p.updated_at = self.now
        self.session.flush()
        self._audit(p, "concur", before, f"{label}: {decision}")
        return self.public(p)

    def comment(self, code: str, body: str, reply_to: int | None = None) -> CommentPublic:
        require(self.actor, "proposal:comment")
        p = self.load(code)
        text = body.strip()
        if not text or len(text) > 5000:
            raise Invalid("cannot comment", [Detail(("body",), "1 to 5,000 characters")])
        if reply_to is not None:
            parent = self.session.get(ProposalComment, reply_to)
            if parent is None or parent.proposal_id != p.id:
                raise Invalid(
                    "cannot reply", [Detail(("reply_to",), f"no comment {reply_to} on {code}")]
                )
        m = ProposalComment(
            proposal_id=p.id, parent_id=reply_to, author=self.actor.username, body=text, at=self.now
        )
        self.session.add(m)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "comment",
                "proposal",
                p.code,
                None,
                {"comment": m.id, "reply_to": reply_to, "body": text},
                "comment",
                f"proposal:{p.id}",
            ),
        )
        return CommentPublic(id=m.id, parent_id=m.parent_id, author=m.author, body=m.body, at=m.at)

    # -- writes: the coordinator ----------------------------------------------------------
    def approve(self, code: str) -> ProposalPublic:
        require(self.actor, "proposal:approve")
        p = self.load(code, lock=True)
        if p.stage not in UNDER_REVIEW:
            raise Conflict(
                f"proposal {code} is {p.stage}: only a proposal under review is approved"
            )
        missing = self.pending(p)
        if missing:
            names = ", ".join(engine.Reviewer(c.reviewer_kind, c.reviewer).label() for c in missing)
            raise Conflict(f"cannot approve {code}: concurrence missing from {names}")
        before = _snapshot(p)
        rule = engine.notification_for(
            self.rules.notification, account=p.account_id, amount=p.requested_total
        )
        p.notification_rule = rule.id if rule else None
        p.waiting_days = rule.waiting_days if rule else None
        note = (
            f"approved; notification needed ({rule.id}, {rule.waiting_days} days)"
            if rule
            else "approved; no congressional notification needed"
        )
        self._move(p, "approved", note)
        self._audit(p, "approve", before, note)
        return self.public(p)

    def reject(self, code: str, note: str) -> ProposalPublic:
        require(self.actor, "proposal:approve")
        p = self.load(code, lock=True)
        if p.stage in TERMINAL:
            raise Conflict(f"proposal {code} is already {p.stage}")
        if not note.strip():
            raise Invalid("cannot reject", [Detail(("note",), "give the reason")])
        before = _snapshot(p)
        self._move(p, "rejected", note.strip())
        self._audit(p, "reject", before, note)
        return self.public(p)

    def notify(self, code: str, on: date) -> ProposalPublic:
        """Record the day Congress was notified; the waiting period starts."""
        require(self.actor, "proposal:approve")
        p = self.load(code, lock=True)
        if p.stage != "approved":
            raise Conflict(f"proposal {code} is {p.stage}: only an approved proposal is notified")
        if not p.notification_rule:
            raise Conflict(f"proposal {code} needs no congressional notification: obligate it")
        if on > self.today:
            raise Invalid("cannot record the notification", [Detail(("notified_on",), "future")])
        approved_at = next((s.at for s in reversed(p.steps) if s.to_stage == "approved"), None)
        if approved_at is not None and on < approved_at.date():
            raise Invalid(
                "cannot record the notification",
                [Detail(("notified_on",), f"before the approval on {approved_at:%Y-%m-%d}")],
            )
        before = _snapshot(p)
        p.notified_on = on
        self._move(
            p,
            "notified",
            f"notified {on}; clears {engine.clears_on(on, p.waiting_days or 0)} without a hold",
        )
        self._audit(p, "notify", before, str(on))
        return self.public(p)

    def hold(self, code: str, reason: str, *, lift: bool = False) -> ProposalPublic:
        """Record (or lift) a congressional hold on a notified proposal."""
        require(self.actor, "proposal:approve")
        p = self.load(code, lock=True)
        if p.stage != "notified":
            raise Conflict(f"proposal {code} is {p.stage}: holds apply to notified proposals")
        if lift and not p.hold:
            raise Conflict(f"proposal {code} has no hold to lift")
        if not lift and p.hold:
            raise Conflict(f"proposal {code} is already on hold: {p.hold_reason}")
        if not lift and not reason.strip():
            raise Invalid("cannot record the hold", [Detail(("note",), "say who holds it and why")])
        before = _snapshot(p)
        p.hold = not lift
        p.hold_reason = "" if lift else reason.strip()
        p.version += 1
        p.updated_at = self.now
        self._step(p, "notified", "notified", ("hold lifted: " if lift else "hold: ") + reason)
        self._audit(p, "lift_hold" if lift else "hold", before, reason)
        return self.public(p)

    def clear(self, code: str, on: date) -> ProposalPublic:
        """Record clearance: the waiting period has passed with no hold."""
        require(self.actor, "proposal:approve")
        p = self.load(code, lock=True)
        if p.stage != "notified" or p.notified_on is None:
            raise Conflict(f"proposal {code} is {p.stage}: only a notified proposal clears")
        if p.hold:
            raise Conflict(f"proposal {code} cannot clear: Congress holds it ({p.hold_reason})")
        first = engine.clears_on(p.notified_on, p.waiting_days or 0)
        if on < first:
            raise Conflict(
                f"proposal {code} cannot clear before {first}: notified {p.notified_on} with a "
                f"{p.waiting_days}-day waiting period"
            )
        if on > self.today:
            raise Invalid("cannot record clearance", [Detail(("cleared_on",), "future")])
        before = _snapshot(p)
        p.cleared_on = on
        self._move(p, "cleared", f"cleared {on}")
        self._audit(p, "clear", before, str(on))
        return self.public(p)

    # -- internals ------------------------------------------------------------------------
    def _step(self, p: Proposal, from_stage: str | None, to_stage: str, note: str) -> None:
        p.steps.append(
            ProposalStep(
                from_stage=from_stage,
                to_stage=to_stage,
                at=self.now,
                actor=self.actor.username,
                note=note[:2000],
            )
        )

    def _move(self, p: Proposal, stage: str, note: str) -> None:
        self._step(p, p.stage, stage, note)
        p.stage = stage
        p.stage_since = self.now
        p.version += 1
        p.updated_at = self.now
        self.session.flush()

    def _audit(self, p: Proposal, action: str, before: dict[str, Any], summary: str) -> None:
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                action,
                "proposal",
                p.code,
                before,
                _snapshot(p),
                summary[:500],
                f"proposal:{p.id}",
            ),
        )


def _total(levels: Sequence[dict[str, Any]], years: Sequence[int]) -> int:
    """The requested total: the highest level for every fiscal year requested."""
    return max((int(lv["annual"]) for lv in levels), default=0) * len(years)


def _phase_public(p: engine.Phase, current: bool) -> PhasePublic:
    return PhasePublic(
        phase=p.phase, label=p.label, starts_on=p.starts_on, ends_on=p.ends_on, current=current
    )


def _snapshot(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.code,
        "title": p.title,
        "agency": p.agency_id,
        "account": p.account_id,
        "country": p.country_iso3,
        "fiscal_year": p.fiscal_year,
        "fiscal_years": list(p.fiscal_years),
        "levels": list(p.levels),
        "requested_total": p.requested_total,
        "objectives": list(p.objectives),
        "justification": p.justification,
        "sustainment_plan": p.sustainment_plan,
        "assessment_id": p.assessment_id,
        "restriction_flag": p.restriction_flag,
        "vetting_flag": p.vetting_flag,
        "marking": p.marking,
        "releasable_to": decode(p.releasable_to),
        "stage": p.stage,
        "round": p.round,
        "concurrences": [
            [c.round, c.reviewer_kind, c.reviewer, c.decision] for c in p.concurrences
        ],
        "notification_rule": p.notification_rule,
        "notified_on": p.notified_on,
        "hold": p.hold,
        "cleared_on": p.cleared_on,
        "obligated_on": p.obligated_on,
        "obligated_amount": p.obligated_amount,
        "version": p.version,
    }


def rules_public(rules: Rules | None = None) -> RulesPublic:
    """The routing and notification rules in force, as shown to people."""
    rules = rules or shipped_rules()
    return RulesPublic(
        routing=[
            RoutingRulePublic(
                id=r.id,
                accounts=sorted(r.accounts) if r.accounts is not None else None,
                min_amount=r.min_amount,
                when=r.when,
                reviewers=[RuleReviewer(kind=k, agency=a) for k, a in r.reviewers],
                why=r.why,
            )
            for r in rules.routing
        ],
        notification=[
            NotificationRulePublic(
                id=n.id,
                accounts=sorted(n.accounts),
                min_amount=n.min_amount,
                waiting_days=n.waiting_days,
                authority=n.authority,
            )
            for n in rules.notification
        ],
    )
