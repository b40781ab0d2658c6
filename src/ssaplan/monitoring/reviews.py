"""Reviews: raised by the rules or the annual cycle, opened by hand or by another domain,
decided by a reviewer — and the decision carried out on the program.

The policy: "consider initiating, restructuring, or terminating security sector
assistance programs either as part of the annual planning cycle or on an immediate
basis". Opening reviews (running the rules, the annual cycle, by hand) needs
``review:open``; deciding needs ``review:decide`` within the program's scope (its
agency, or all its partner countries); recording a crisis needs ``crisis:record``.

A program has at most one open review per trigger: raising it again adds the new
reasons to the open one (and raises its recommendation if the new one is more
severe). A decision is final: deciding a closed review is refused. What a decision
does to the program goes through :class:`~ssaplan.portfolio.service.PortfolioService`
(the pipeline rules, the program's scope and version, its audit trail):

- ``continue`` changes nothing (a suspended program resumes at ``resume_status``);
- ``scale_up`` raises planned money of the current or future fiscal years to the
  amounts given (at least one; the total must rise);
- ``restructure`` sets planned money to the amounts given (any, or none);
- ``suspend`` moves the program to *suspended*; money stays as planned;
- ``terminate`` moves it to *terminated* and lowers the planned money of every fiscal
  year after the current one to what is already obligated there (zero unless money
  was obligated in advance); the program's other open reviews are superseded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AppSetting
from ssaplan.core.permissions import Actor, can, require, restrict
from ssaplan.core.schemas import Page
from ssaplan.core.store import utcnow
from ssaplan.monitoring import engine
from ssaplan.monitoring.models import CrisisEvent, Review
from ssaplan.monitoring.public import ProgramLike, review_public
from ssaplan.monitoring.rules import RECOMMENDATIONS, REVIEW_RULES, TRIGGERS, severity
from ssaplan.monitoring.schemas import (
    CrisisIn,
    CrisisPublic,
    DecisionIn,
    ReviewPublic,
    ReviewQueue,
    ReviewQueueItem,
    RunReport,
)
from ssaplan.monitoring.service import MonitoringService
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import Audience, only_visible
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

RESUMABLE = ("approved", "notified", "obligated", "implementing")


RESTRICTIONS_SEEN = "monitoring.restrictions_seen"
CHANGE_WORDS = {"create": "new", "import": "imported", "update": "changed", "delete": "removed"}


class ReviewService:
    """Reviews as one actor opens, reads and decides them, within one session."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        as_of: date | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.monitoring = MonitoringService(session, actor, self.catalog, as_of=as_of)
        self.as_of = self.monitoring.as_of
        self.audience = self.monitoring.audience
        self._everyone: MonitoringService | None = None

    @property
    def everyone(self) -> MonitoringService:
        """Monitoring over every program, for the runs that open reviews (the rules, the
        annual cycle, the compliance register's changes): a review is owed whoever runs
        them, so a run covers every program and its report shows only what the runner may
        see (docs/markings.md)."""
        if self.audience.unrestricted:
            return self.monitoring
        if self._everyone is None:
            self._everyone = MonitoringService(
                self.session, self.actor, self.catalog, as_of=self.as_of, audience=Audience()
            )
        return self._everyone

    # -- reads ------------------------------------------------------------------------------
    def list_reviews(
        self,
        *,
        status: str | None = "open",
        program: str | None = None,
        trigger: str | None = None,
        limit: int | None = 200,
        offset: int = 0,
    ) -> Page[ReviewPublic]:
        """Reviews, newest first (open ones by default)."""
        require(self.actor, "read")
        stmt = only_visible(
            select(Review, Program).join(Program, Program.id == Review.program_id),
            self.audience,
            self.catalog,
        )
        if status:
            stmt = stmt.where(Review.status == status)
        if program:
            stmt = stmt.where(Program.code == program)
        if trigger:
            stmt = stmt.where(Review.trigger == trigger)
        rows = list(self.session.execute(stmt.order_by(Review.id.desc())).all())
        total = len(rows)
        rows = rows[offset : offset + limit if limit is not None else None]
        rules = self.monitoring.rules()
        return Page[ReviewPublic](items=[review_public(r, p, rules) for r, p in rows], total=total)

    def get(self, review_id: int) -> ReviewPublic:
        require(self.actor, "read")
        r = self._load(review_id)
        return review_public(r, self._program(r.program_id), self.monitoring.rules())

    def queue(self) -> ReviewQueue:
        """The open reviews in the shape of ``ssaplan review --json``: by program."""
        page = self.list_reviews(status="open", limit=None)
        items = sorted(page.items, key=lambda r: (r.program, r.trigger))
        return ReviewQueue(
            reviews=[
                ReviewQueueItem(
                    program=r.program,
                    trigger=r.trigger,
                    recommendation=r.recommendation,
                    reasons=r.reasons,
                )
                for r in items
            ]
        )

    def find_open(self, program: str, trigger: str | None = None) -> ReviewPublic:
        """The one open review of a program (of ``trigger``), for deciding by program id."""
        page = self.list_reviews(status="open", program=program, trigger=trigger, limit=None)
        if not page.items:
            raise NotFound(
                f"program {program!r} has no open review" + (f" for {trigger}" if trigger else "")
            )
        if len(page.items) > 1:
            triggers = ", ".join(r.trigger for r in page.items)
            raise Invalid(
                f"program {program!r} has {len(page.items)} open reviews ({triggers}): "
                "name the trigger or the review id",
                [Detail(("trigger",), f"one of {triggers}")],
            )
        return page.items[0]

    # -- opening ----------------------------------------------------------------------------
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
        """Open an immediate review of a program, or add reasons to its open one.

        ``trigger`` is a review rule (``legal_restriction``, ``crisis_event``, ...) or
        ``manual``; ``reasons`` say why, for the reviewer. Without ``recommendation``
        the rule's applies (``manual``: what the program's facts call for). A completed
        or terminated program cannot be reviewed (:class:`Conflict`).
        """
        require(self.actor, "review:open")
        return self._open_review(
            self._program_by_code(program),
            trigger,
            self._checked(trigger, reasons, recommendation),
            immediate=immediate,
            recommendation=recommendation,
            source=source,
        )

    def _checked(
        self, trigger: str, reasons: Sequence[str], recommendation: str | None
    ) -> list[str]:
        """The reasons, stripped, or :class:`Invalid` naming every problem."""
        problems: list[Detail] = []
        if trigger not in TRIGGERS or trigger == "annual":
            problems.append(
                Detail(
                    ("trigger",),
                    f"one of manual, {', '.join(REVIEW_RULES)} (the annual cycle opens "
                    "annual reviews)",
                )
            )
        clean = [r.strip() for r in reasons if r and r.strip()]
        if not clean:
            problems.append(Detail(("reasons",), "give at least one reason"))
        if recommendation is not None and recommendation not in RECOMMENDATIONS:
            problems.append(Detail(("recommendation",), f"one of {', '.join(RECOMMENDATIONS)}"))
        if problems:
            raise Invalid("the review cannot be opened; nothing was saved", problems)
        return clean

    def _open_review(
        self,
        p: Program,
        trigger: str,
        clean: Sequence[str],
        *,
        immediate: bool,
        recommendation: str | None,
        source: str,
    ) -> ReviewPublic:
        program = p.code
        if p.status in engine.FINAL:
            raise Conflict(
                f"program {program!r} is {p.status}: there is nothing left to review",
                [Detail(("program",), p.status)],
            )
        rules = self.monitoring.rules()
        extra: tuple[str, ...] = ()
        if recommendation is None:
            if trigger == "manual":
                facts = self.everyone.facts([p.id])[p.id]
                found = engine.findings(facts, rules, self.as_of)
                recommendation, extra = engine.recommend(found, facts, rules, annual=False)
            else:
                recommendation = str(rules.param(trigger, "recommendation"))
        review, _ = self._open(
            p, trigger, recommendation, (*clean, *extra), immediate=immediate, source=source
        )
        return review_public(review, p, rules)

    def open_many(
        self,
        reasons_by_program: Mapping[str, Sequence[str]],
        trigger: str,
        *,
        recommendation: str | None = None,
        source: str = "",
    ) -> RunReport:
        """:meth:`open_review` for many programs at once; completed and terminated
        programs are skipped (the compliance domain's bulk path). Every program named is
        reviewed, also one the runner may not see; the report counts and lists only the
        ones they may."""
        require(self.actor, "review:open")
        opened = refreshed = already = 0
        out = []
        checked = 0
        programs = {
            code: self._program_by_code(code, everyone=True) for code in sorted(reasons_by_program)
        }
        visible = self._visible(p.id for p in programs.values())
        for code, reasons in sorted(reasons_by_program.items()):
            p = programs[code]
            shown = p.id in visible
            checked += shown
            if p.status in engine.FINAL:
                continue
            before = self._open_row(p.id, trigger)
            review = self._open_review(
                p,
                trigger,
                self._checked(trigger, reasons, recommendation),
                immediate=True,
                recommendation=recommendation,
                source=source,
            )
            if not shown:
                continue
            if before is None:
                opened += 1
            elif review.version != before[1]:
                refreshed += 1
            else:
                already += 1
            out.append(review)
        return RunReport(
            as_of=self.as_of,
            programs_checked=checked,
            opened=opened,
            refreshed=refreshed,
            already_open=already,
            reviews=out,
        )

    def run_rules(
        self, *, programs: Iterable[str] | None = None, rules_only: Iterable[str] | None = None
    ) -> RunReport:
        """Run every review rule over every program (or those named) and open an
        immediate review for each rule that fires (``rules_only``: just those rules)."""
        require(self.actor, "review:open")
        # A program named that the runner may not see is unknown (404).
        ids = self._program_ids(programs) if programs is not None else None
        return self._run_rules(ids, rules_only, with_legal=programs is None)

    def _run_rules(
        self, ids: list[int] | None, rules_only: Iterable[str] | None, *, with_legal: bool
    ) -> RunReport:
        """The rules over the programs ``ids`` (every program for ``None``), also ones
        the runner may not see (a review is owed whoever runs them); the report counts
        and lists only the programs the runner may see."""
        monitoring = self.everyone
        facts = monitoring.facts(ids)
        briefs = {b.pk: b for b in monitoring.briefs(list(facts))}
        visible = self._visible(facts)
        rules = self.monitoring.rules()
        wanted = set(rules_only) if rules_only is not None else None
        items = [
            (briefs[pk], finding.rule, finding.recommendation, finding.reasons)
            for pk, f in facts.items()
            for finding in engine.findings(f, rules, self.as_of)
            if wanted is None or finding.rule in wanted
        ]
        opened = refreshed = already = 0
        out: list[ReviewPublic] = []
        for review, what, p in self._open_all(items, source="rules"):
            if p.id not in visible:
                continue
            opened += what == "opened"
            refreshed += what == "refreshed"
            already += what == "unchanged"
            if what != "unchanged":
                out.append(review_public(review, p, rules))
        if with_legal and (wanted is None or "legal_restriction" in wanted):
            legal = self.review_restriction_changes()
            opened += legal.opened
            refreshed += legal.refreshed
            already += legal.already_open
            out.extend(legal.reviews)
        return RunReport(
            as_of=self.as_of,
            programs_checked=len(visible),
            opened=opened,
            refreshed=refreshed,
            already_open=already,
            reviews=out,
        )

    def review_restriction_changes(self) -> RunReport:
        """Open an immediate ``legal_restriction`` review of every program that a
        restriction written since the last call reaches (a new, changed, ended or removed
        restriction in the compliance register, read through its hook).

        The last audit record handled is kept in ``app_settings``
        (``monitoring.restrictions_seen``), so each change is reviewed once; with the rule
        switched off the changes are passed over.
        """
        require(self.actor, "review:open")
        from ssaplan.compliance.service import ComplianceService

        setting = self.session.get(AppSetting, RESTRICTIONS_SEEN)
        seen = int(setting.value) if setting is not None else 0
        compliance = ComplianceService(self.session, self.actor, self.catalog, today=self.as_of)
        reasons: dict[str, list[str]] = {}
        while True:
            changes = compliance.restriction_changes(after_audit_id=seen, limit=500)
            for c in changes:
                r = c.after or c.before
                if r is None:
                    continue
                what = CHANGE_WORDS.get(c.action, c.action)
                period = f"from {r.start.isoformat()}" + (
                    f" to {r.end.isoformat()}" if r.end is not None else ", open-ended"
                )
                text = f"{what} restriction on {r.country} ({r.type}, {period}; {r.citation})"
                for code in c.affected_programs:
                    reasons.setdefault(code, []).append(text)
            if changes:
                seen = changes[-1].audit_id
            if len(changes) < 500:
                break
        if setting is None:
            self.session.add(AppSetting(key=RESTRICTIONS_SEEN, value=str(seen)))
        else:
            setting.value = str(seen)
        self.session.flush()
        if not reasons or not self.monitoring.rules().enabled("legal_restriction"):
            return RunReport(
                as_of=self.as_of,
                programs_checked=0,
                opened=0,
                refreshed=0,
                already_open=0,
                reviews=[],
            )
        return self.open_many(reasons, "legal_restriction", source="compliance register")

    def open_annual_cycle(self, fy: int) -> RunReport:
        """Open the annual review of fiscal year ``fy`` for every program not completed
        or terminated (once per program and cycle), each with the recommendation its
        facts call for. An open annual review of an earlier cycle is superseded."""
        require(self.actor, "review:open")
        if not 1990 <= fy <= 2100:
            raise Invalid("invalid fiscal year", [Detail(("fiscal_year",), "1990-2100")])
        rules = self.monitoring.rules()
        done = set(
            self.session.execute(select(Review.program_id).where(Review.cycle == fy)).scalars()
        )
        earlier = {
            r.program_id: r
            for r in self.session.execute(
                select(Review).where(Review.open_key == "annual", Review.cycle != fy)
            ).scalars()
        }
        # Every program is owed its annual review, whoever opens the cycle; the report
        # counts and lists only the programs the runner may see.
        programs = [
            b for b in self.everyone.briefs() if b.status not in engine.FINAL and b.pk not in done
        ]
        facts = self.everyone.facts([p.id for p in programs]) if programs else {}
        visible = self._visible([p.id for p in programs] + sorted(done))
        entries: list[audit.Entry] = []
        out: list[ReviewPublic] = []
        for p in programs:
            f = facts[p.id]
            found = engine.findings(f, rules, self.as_of)
            recommendation, reasons = engine.recommend(found, f, rules, annual=True)
            old = earlier.get(p.id)
            if old is not None:
                entries.append(self._supersede(old, f"superseded by the FY{fy} annual review"))
            review = Review(
                program_id=p.id,
                trigger="annual",
                immediate=False,
                cycle=fy,
                open_key="annual",
                recommendation=recommendation,
                reasons=list(reasons),
                source=f"annual cycle FY{fy}",
                status="open",
                opened_by=self.actor.username,
                version=1,
            )
            self.session.add(review)
            self.session.flush()
            entries.append(self._entry("create", review, p, None))
            if p.id in visible:
                out.append(review_public(review, p, rules))
        audit.record_many(self.session, entries)
        return RunReport(
            as_of=self.as_of,
            programs_checked=len(visible),
            opened=len(out),
            refreshed=0,
            already_open=len(visible & done),
            reviews=out,
        )

    def record_crisis(self, data: CrisisIn) -> CrisisPublic:
        """Record a crisis and open immediate reviews of the active programs of that
        partner country (the ``crisis_event`` rule, when on)."""
        require(self.actor, "crisis:record")
        try:
            iso3 = self.catalog.resolve("country", data.country)
        except UnknownCode as exc:
            raise Invalid("unknown country", [Detail(("body", "country"), str(exc))]) from exc
        if data.occurred_on > self.as_of:
            raise Invalid(
                "a crisis is recorded once it happened",
                [Detail(("body", "occurred_on"), f"{data.occurred_on} is after {self.as_of}")],
            )
        c = CrisisEvent(
            iso3=iso3,
            occurred_on=data.occurred_on,
            kind=data.kind,
            severity=data.severity,
            description=data.description,
            recorded_by=self.actor.username,
        )
        self.session.add(c)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "crisis_event",
                str(c.id),
                None,
                _crisis_snapshot(c),
                f"{c.severity} {c.kind} in {iso3}",
                entity_ref=f"crisis_event:{c.id}",
            ),
        )
        opened = 0
        if self.monitoring.rules().enabled("crisis_event") and can(self.actor, "review:open"):
            # Every program there is reviewed; the count is of those the recorder may see.
            affected = [
                b.pk
                for b in self.everyone.briefs()
                if iso3 in b.countries and b.status not in engine.FINAL
            ]
            if affected:
                report = self._run_rules(affected, ["crisis_event"], with_legal=False)
                opened = report.opened + report.refreshed
        return crisis_public(c, opened)

    def crises(self, *, limit: int = 200) -> list[CrisisPublic]:
        require(self.actor, "read")
        rows = self.session.execute(
            select(CrisisEvent)
            .order_by(CrisisEvent.occurred_on.desc(), CrisisEvent.id.desc())
            .limit(limit)
        ).scalars()
        return [crisis_public(c) for c in rows]

    # -- deciding ---------------------------------------------------------------------------
    def decide(self, review_id: int, data: DecisionIn) -> ReviewPublic:
        """Record a reviewer's decision and carry it out on the program (see the module)."""
        require(self.actor, "review:decide")
        r = self._load(review_id, lock=True)
        p = self._program(r.program_id)
        if r.status != "open":
            when = r.decided_at.date().isoformat() if r.decided_at else "earlier"
            what = f"decided ({r.decision}) by {r.decided_by} on {when}" if r.decision else r.status
            raise Conflict(
                f"review {review_id} of {p.code} is closed: {what}. A decision is final; "
                f"open a new review of {p.code} to reconsider",
                [Detail(("review",), "closed")],
            )
        if data.version != r.version:
            raise StaleVersion(
                f"review {review_id} was changed (you sent version {data.version}, it is now "
                f"at version {r.version}): reload it and decide again"
            )
        countries = self.monitoring.partner_countries(p)
        if not restrict(self.actor, "review:decide").allows(p.agency_id, countries):
            raise Forbidden(
                f"{self.actor.username} ({self.actor.describe()}) may not decide reviews of "
                f"programs of {p.agency_id} for {', '.join(sorted(countries)) or 'no partner'}"
            )
        portfolio = PortfolioService(self.session, self.actor, self.catalog)
        program = portfolio.get(p.code)
        new_status, budget, changed_lines = self._plan(program, data)
        update: dict[str, Any] = {"version": program.version}
        if new_status != program.status:
            update["status"] = new_status
            # Suspending or terminating needs a reason (kept in the program's audit trail).
            update["reason"] = (
                f"review {review_id} ({r.trigger.replace('_', ' ')}) decided "
                f"{data.decision.replace('_', ' ')}: {data.rationale}"
            )[:2000]
        if changed_lines:
            update["budget"] = budget
        if len(update) > 1:
            portfolio.update(p.code, ProgramUpdate(**update))
        changes = {
            "status_before": program.status,
            "status_after": new_status,
            "budget": changed_lines,
        }
        before = _review_snapshot(r)
        r.decision = data.decision
        r.rationale = data.rationale
        r.changes = changes
        r.decided_by, r.decided_at = self.actor.username, utcnow()
        r.status, r.open_key = "decided", None
        r.version += 1
        self.session.flush()
        entries = [self._entry("decide", r, p, before)]
        # The program's own history says what was decided and why (suspend and terminate
        # record their reason there).
        entries.append(
            audit.Entry(
                self.actor.username,
                "review decision",
                "program",
                p.code,
                None,
                {
                    "review": r.id,
                    "trigger": r.trigger,
                    "decision": data.decision,
                    "rationale": data.rationale,
                    **changes,
                },
                f"review {r.id} ({r.trigger}): {data.decision} — {data.rationale[:300]}",
                entity_ref=f"program:{p.id}",
            )
        )
        if new_status in engine.FINAL:
            for other in self.session.execute(
                select(Review).where(
                    Review.program_id == p.id, Review.status == "open", Review.id != r.id
                )
            ).scalars():
                entries.append(
                    self._supersede(other, f"superseded by review {r.id}: {data.decision}")
                )
        audit.record_many(self.session, entries)
        self.monitoring.forget()
        self.session.refresh(p)
        return review_public(r, p, self.monitoring.rules())

    def _plan(
        self, program: Any, data: DecisionIn
    ) -> tuple[str, list[BudgetLineIn], list[dict[str, Any]]]:
        """The status and budget a decision gives the program, or :class:`Invalid`."""
        problems: list[Detail] = []
        decision, status = data.decision, program.status
        if status in engine.FINAL and decision != "continue":
            raise Conflict(
                f"program {program.id} is {status}: it can only be continued as it is "
                f"(decided {decision})",
                [Detail(("body", "decision"), f"the program is {status}")],
            )
        new_status = status
        if decision in ("continue", "scale_up", "restructure"):
            if status == "suspended":
                if data.resume_status is None:
                    problems.append(
                        Detail(
                            ("body", "resume_status"),
                            "the program is suspended: give the status it resumes at "
                            f"({', '.join(RESUMABLE)}), or decide suspend to keep it so",
                        )
                    )
                else:
                    new_status = data.resume_status
            elif data.resume_status is not None:
                problems.append(
                    Detail(
                        ("body", "resume_status"), f"only for a suspended program (it is {status})"
                    )
                )
        elif data.resume_status is not None:
            problems.append(Detail(("body", "resume_status"), f"not with {decision}"))
        if decision == "suspend":
            new_status = "suspended"
        if decision == "terminate":
            new_status = "terminated"
        if decision in ("continue", "suspend", "terminate") and data.budget:
            problems.append(
                Detail(
                    ("body", "budget"),
                    f"{decision} takes no budget changes"
                    + (" (it lowers future years itself)" if decision == "terminate" else "")
                    + "; decide scale_up or restructure to change money",
                )
            )
        if decision == "scale_up" and not data.budget:
            problems.append(
                Detail(("body", "budget"), "scaling up needs the new planned amounts by year")
            )
        current_fy = fiscal_year(self.as_of)
        lines = {(b.fiscal_year, b.account): b for b in program.budget}
        changed: list[dict[str, Any]] = []
        wanted: dict[tuple[int, str | None], int] = {}
        for n, change in enumerate(data.budget):
            where = ("body", "budget", n)
            account = program.account
            if change.account is not None:
                try:
                    account = self.catalog.resolve("account", change.account)
                except UnknownCode as exc:
                    problems.append(Detail((*where, "account"), str(exc)))
                    continue
            key = (change.fiscal_year, account)
            if key in wanted:
                problems.append(
                    Detail((*where, "fiscal_year"), "this year and account appear twice")
                )
                continue
            if change.fiscal_year < current_fy:
                problems.append(
                    Detail(
                        (*where, "fiscal_year"),
                        f"FY{change.fiscal_year} has ended: a decision changes FY{current_fy} "
                        "and later",
                    )
                )
                continue
            line = lines.get(key)
            obligated = line.obligated if line else 0
            if change.planned < obligated:
                problems.append(
                    Detail(
                        (*where, "planned"),
                        f"below the ${obligated:,} already obligated in FY{change.fiscal_year}",
                    )
                )
                continue
            wanted[key] = change.planned
        if decision == "terminate":
            for (fy, account), b in lines.items():
                if fy > current_fy and b.planned > b.obligated:
                    wanted[(fy, account)] = b.obligated
        before_total = sum(lines[k].planned if k in lines else 0 for k in wanted)
        if decision == "scale_up" and wanted and sum(wanted.values()) <= before_total:
            problems.append(
                Detail(
                    ("body", "budget"),
                    f"a scale-up must raise planned money: these lines go from "
                    f"${before_total:,} to ${sum(wanted.values()):,}",
                )
            )
        if problems:
            raise Invalid(
                f"the {decision} decision cannot be carried out; nothing changed", problems
            )
        out: list[BudgetLineIn] = []
        for (fy, account), b in sorted(lines.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            planned = wanted.get((fy, account), b.planned)
            if planned != b.planned:
                changed.append(
                    {
                        "fiscal_year": fy,
                        "account": account,
                        "planned_before": b.planned,
                        "planned_after": planned,
                    }
                )
            out.append(
                BudgetLineIn(
                    fiscal_year=fy,
                    account=account,
                    planned=planned,
                    obligated=b.obligated,
                    disbursed=b.disbursed,
                )
            )
        for (fy, account), planned in sorted(
            wanted.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            if (fy, account) not in lines:
                changed.append(
                    {
                        "fiscal_year": fy,
                        "account": account,
                        "planned_before": 0,
                        "planned_after": planned,
                    }
                )
                out.append(BudgetLineIn(fiscal_year=fy, account=account, planned=planned))
        return new_status, out, changed

    # -- internals ----------------------------------------------------------------------------
    def _open(
        self,
        p: ProgramLike,
        trigger: str,
        recommendation: str,
        reasons: Sequence[str],
        *,
        immediate: bool = True,
        source: str = "",
    ) -> tuple[Review, str]:
        """Open (or refresh) the review of ``p`` for ``trigger``: (review, what happened)."""
        review, what, _ = self._open_all(
            [(p, trigger, recommendation, tuple(reasons))], source=source, immediate=immediate
        )[0]
        return review, what

    def _open_all(
        self,
        items: Sequence[tuple[ProgramLike, str, str, tuple[str, ...]]],
        *,
        source: str = "",
        immediate: bool = True,
    ) -> list[tuple[Review, str, ProgramLike]]:
        """Open or refresh many reviews in a few statements: each item is (program,
        trigger, recommendation, reasons); returns (review, opened | refreshed |
        unchanged, program) for each. An open review of the same program and trigger
        gets the new reasons (and the more severe recommendation)."""
        pks = sorted({p.id for p, *_ in items})
        existing: dict[tuple[int, str], Review] = {}
        for start in range(0, len(pks), 500):
            for r in self.session.execute(
                select(Review)
                .where(
                    Review.program_id.in_(pks[start : start + 500]), Review.open_key.is_not(None)
                )
                .with_for_update()
            ).scalars():
                existing[(r.program_id, r.open_key or "")] = r
        results: list[tuple[Review, str, ProgramLike]] = []
        created: list[tuple[Review, ProgramLike]] = []
        entries: list[audit.Entry] = []
        for p, trigger, recommendation, reasons in items:
            found = existing.get((p.id, trigger))
            if found is not None:
                new = [r for r in reasons if r not in found.reasons]
                worse = severity(recommendation) > severity(found.recommendation)
                if not new and not worse:
                    results.append((found, "unchanged", p))
                    continue
                before = _review_snapshot(found)
                found.reasons = [*found.reasons, *new]
                if worse:
                    found.recommendation = recommendation
                found.version += 1
                entries.append(self._entry("update", found, p, before))
                results.append((found, "refreshed", p))
                continue
            review = Review(
                program_id=p.id,
                trigger=trigger,
                immediate=immediate,
                open_key=trigger,
                recommendation=recommendation,
                reasons=list(reasons),
                source=source,
                status="open",
                opened_by=self.actor.username,
                version=1,
            )
            existing[(p.id, trigger)] = review
            created.append((review, p))
            results.append((review, "opened", p))
        self.session.add_all([r for r, _ in created])
        self.session.flush()
        entries += [self._entry("create", r, p, None) for r, p in created]
        audit.record_many(self.session, entries)
        return results

    def _supersede(self, r: Review, why: str) -> audit.Entry:
        before = _review_snapshot(r)
        r.status, r.open_key = "superseded", None
        r.rationale = why
        r.decided_by, r.decided_at = self.actor.username, utcnow()
        r.version += 1
        self.session.flush()
        return self._entry("supersede", r, self._program(r.program_id), before)

    def _open_row(self, program_id: int, trigger: str) -> tuple[int, int] | None:
        row = self.session.execute(
            select(Review.id, Review.version).where(
                Review.program_id == program_id, Review.open_key == trigger
            )
        ).first()
        return (row[0], row[1]) if row else None

    def _load(self, review_id: int, lock: bool = False) -> Review:
        """The review, if the reader may see its program: a review of a hidden program
        is unknown, with the same answer as an id that never existed (never 403)."""
        r = self.session.get(Review, review_id, with_for_update=lock)
        if r is None or not self._visible({r.program_id}):
            raise NotFound(f"no review {review_id}")
        return r

    def _visible(self, pks: Iterable[int]) -> set[int]:
        """Which of the programs ``pks`` the reader may see (one query, none if they see
        every program)."""
        wanted = set(pks)
        if self.audience.unrestricted or not wanted:
            return wanted
        seen: set[int] = set()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            seen.update(
                self.session.execute(
                    only_visible(
                        select(Program.id).where(Program.id.in_(ordered[start : start + 500])),
                        self.audience,
                        self.catalog,
                    )
                ).scalars()
            )
        return seen

    def _program(self, pk: int) -> Program:
        p = self.session.get(Program, pk)
        if p is None:  # pragma: no cover - reviews cascade with their program
            raise NotFound(f"no program {pk}")
        return p

    def _program_by_code(self, code: str, *, everyone: bool = False) -> Program:
        """The program ``code``; one the reader may not see is unknown (404) unless
        ``everyone`` (a run that reviews every program)."""
        stmt = select(Program).where(Program.code == code)
        if not everyone:
            stmt = only_visible(stmt, self.audience, self.catalog)
        p = self.session.execute(stmt).scalar_one_or_none()
        if p is None:
            raise NotFound(f"no program with id {code!r}", [Detail(("program",), "unknown")])
        return p

    def _program_ids(self, codes: Iterable[str]) -> list[int]:
        wanted = sorted(set(codes))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            found.update(
                self.session.execute(
                    only_visible(
                        select(Program.code, Program.id).where(
                            Program.code.in_(wanted[start : start + 500])
                        ),
                        self.audience,
                        self.catalog,
                    )
                ).all()
            )
        missing = [c for c in wanted if c not in found]
        if missing:
            raise NotFound(f"no program with id {missing[0]!r}")
        return list(found.values())

    def _entry(
        self, action: str, r: Review, p: ProgramLike, before: dict[str, Any] | None
    ) -> audit.Entry:
        return audit.Entry(
            self.actor.username,
            action,
            "review",
            str(r.id),
            before,
            _review_snapshot(r),
            f"{p.code} {r.trigger}: {r.decision or r.recommendation}",
            entity_ref=f"review:{r.id}",
        )


def _review_snapshot(r: Review) -> dict[str, Any]:
    return {
        "program_id": r.program_id,
        "trigger": r.trigger,
        "immediate": r.immediate,
        "cycle": r.cycle,
        "recommendation": r.recommendation,
        "reasons": list(r.reasons or []),
        "status": r.status,
        "decision": r.decision,
        "rationale": r.rationale,
        "changes": dict(r.changes or {}),
        "version": r.version,
    }


def _crisis_snapshot(c: CrisisEvent) -> dict[str, Any]:
    return {
        "country": c.iso3,
        "occurred_on": c.occurred_on.isoformat(),
        "kind": c.kind,
        "severity": c.severity,
        "description": c.description,
    }


def crisis_public(c: CrisisEvent, opened: int = 0) -> CrisisPublic:
    return CrisisPublic(
        id=c.id,
        country=c.iso3,
        occurred_on=c.occurred_on,
        kind=c.kind,
        severity=c.severity,
        description=c.description,
        recorded_by=c.recorded_by,
        recorded_at=c.recorded_at,
        reviews_opened=opened,
    )
