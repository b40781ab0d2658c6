"""Crisis surges: urgent requests drawn on a flexible reserve, tied to the long term.

The policy: "the ability to allocate flexible security sector assistance to respond to
short-notice requirements", and "any instance of surging ... should be incorporated
into a broader United States Government strategy to sustain any new capacity". So a
surge request is refused unless it names the strategy objective it serves and the
sustainment plan of that objective (who pays after the surge), and unless the reserve
of its account and fiscal year still holds the amount.

Setting a reserve needs ``reserve:manage``; requesting ``surge:request`` within the
program's scope (its agency, or the partner country); approving or refusing
``surge:approve``. An approved surge creates a program (or adds the money to the
program named), links it to the objective, and draws the amount from the reserve.

Objectives and sustainment plans are read through their strategy's marking
(:mod:`ssaplan.portfolio.visibility`, ``marked=Strategy``): for a reader who may not see
the strategy, a request names neither (no id, title or strategy id), naming one in a
request is refused as an unknown id, and approving such a request is refused before
anything is written (as is approving one that adds money to a program they may not see).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.monitoring.engine import FINAL
from ssaplan.monitoring.models import FlexibleReserve, SurgeRequest
from ssaplan.monitoring.schemas import (
    NewProgramIn,
    ReserveIn,
    ReservePublic,
    SurgeCreate,
    SurgeDecision,
    SurgeList,
    SurgePublic,
)
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramCreate, ProgramUpdate, Withheld
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import (
    audience_of,
    decode,
    marking_fields,
    only_visible,
    withheld,
)
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode, get_catalog
from ssaplan.strategy.models import Strategy, StrategyObjective, SustainmentPlan
from ssaplan.strategy.service import StrategyService

# What requests serve, as one reader may see it: objective id -> (its title, its
# strategy's id); sustainment plan id -> who pays after the surge.
_Serves = tuple[dict[int, tuple[str, str]], dict[int, str]]


class SurgeService:
    """The flexible reserve and surge requests, as one actor sees and changes them."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = audience_of(actor, self.catalog)

    # -- the reserve ---------------------------------------------------------------------------
    def reserves(self, *, fiscal_year: int | None = None) -> list[ReservePublic]:
        """Every reserve with what approved surges drew and what is left."""
        require(self.actor, "read")
        stmt = select(FlexibleReserve).order_by(
            FlexibleReserve.fiscal_year, FlexibleReserve.account_id
        )
        if fiscal_year is not None:
            stmt = stmt.where(FlexibleReserve.fiscal_year == fiscal_year)
        return [self._reserve_public(r) for r in self.session.execute(stmt).scalars()]

    def reserve(self, account: str, fiscal_year: int) -> ReservePublic:
        require(self.actor, "read")
        row = self._reserve(self._resolve("account", account, ("account",)), fiscal_year)
        if row is None:
            raise NotFound(f"no flexible reserve for {account} in FY{fiscal_year}")
        return self._reserve_public(row)

    def set_reserve(self, account: str, fiscal_year: int, data: ReserveIn) -> ReservePublic:
        """Set the reserve of an account for a fiscal year (never below what was drawn)."""
        require(self.actor, "reserve:manage")
        account_id = self._resolve("account", account, ("account",))
        if not 1990 <= fiscal_year <= 2100:
            raise Invalid("invalid fiscal year", [Detail(("fiscal_year",), "1990-2100")])
        row = self._reserve(account_id, fiscal_year, lock=True)
        drawn = self._drawn(account_id, fiscal_year)
        if data.amount < drawn:
            raise Invalid(
                "the reserve cannot be smaller than what surges already drew; nothing changed",
                [Detail(("body", "amount"), f"at least ${drawn:,} (drawn by approved surges)")],
            )
        before = None
        if row is None:
            row = FlexibleReserve(
                account_id=account_id,
                fiscal_year=fiscal_year,
                amount=data.amount,
                note=data.note,
                set_by=self.actor.username,
                version=1,
            )
            self.session.add(row)
        else:
            if data.version is None or data.version != row.version:
                raise StaleVersion(
                    f"the FY{fiscal_year} {account_id} reserve is at version {row.version}: send "
                    "that version to change it"
                )
            before = _reserve_snapshot(row)
            row.amount, row.note = data.amount, data.note
            row.set_by, row.set_at = self.actor.username, utcnow()
            row.version += 1
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "update" if before else "create",
                "flexible_reserve",
                f"{account_id}/FY{fiscal_year}",
                before,
                _reserve_snapshot(row),
                entity_ref=f"flexible_reserve:{row.id}",
            ),
        )
        return self._reserve_public(row)

    # -- requests -----------------------------------------------------------------------------
    def list_requests(self, *, status: str | None = None) -> SurgeList:
        """The requests the reader may see (newest first), with how many others match
        but are withheld from them, by reason."""
        require(self.actor, "read")
        ids: Select[tuple[int]] = select(SurgeRequest).with_only_columns(SurgeRequest.id)
        if status:
            ids = ids.where(SurgeRequest.status == status)
        stmt = only_visible(
            select(SurgeRequest).where(SurgeRequest.id.in_(ids)),
            self.audience,
            self.catalog,
            marked=SurgeRequest,
        ).order_by(SurgeRequest.id.desc())
        rows = list(self.session.execute(stmt).scalars())
        serves = self._serves({s.objective_id for s in rows}, {s.sustainment_plan_id for s in rows})
        items = [self._public(s, serves) for s in rows]
        held = withheld(self.session, ids, self.audience, self.catalog, marked=SurgeRequest)
        return SurgeList(items=items, total=len(items), withheld=Withheld(**held))

    def get(self, surge_id: int) -> SurgePublic:
        require(self.actor, "read")
        return self._public(self._load(surge_id))

    def request(self, data: SurgeCreate) -> SurgePublic:
        """File a surge request; refused (nothing written) with every reason it fails."""
        require(self.actor, "surge:request")
        problems: list[Detail] = []
        iso3 = self._code("country", data.country, ("body", "country"), problems)
        account = self._code("account", data.account, ("body", "account"), problems)
        objective = plan = None
        if data.objective is None:
            problems.append(
                Detail(
                    ("body", "objective"),
                    "a surge must name the strategy objective it serves: short-term "
                    "interventions have to fit a long-term strategy (PPD-23)",
                )
            )
        else:
            # An objective of a strategy the requester may not see is unknown to them.
            objective = self._objective(data.objective)
            if objective is None:
                problems.append(
                    Detail(("body", "objective"), f"no strategy objective {data.objective}")
                )
        if data.sustainment_plan is None:
            problems.append(
                Detail(
                    ("body", "sustainment_plan"),
                    "a surge must name the sustainment plan that says who pays after the "
                    "surge (the objective's plan; add one to the strategy first)",
                )
            )
        else:
            plan = self._plan(data.sustainment_plan)
            if plan is None:
                problems.append(
                    Detail(
                        ("body", "sustainment_plan"), f"no sustainment plan {data.sustainment_plan}"
                    )
                )
        if objective is not None and plan is not None and plan.objective_id != objective.id:
            problems.append(
                Detail(
                    ("body", "sustainment_plan"),
                    f"sustainment plan {plan.id} is objective {plan.objective_id}'s, not "
                    f"objective {objective.id}'s",
                )
            )
        if objective is not None and iso3 is not None:
            strategy = self.session.get(Strategy, objective.strategy_id)
            assert strategy is not None  # noqa: S101 - objectives cascade with strategies
            covered = (
                {strategy.iso3}
                if strategy.iso3
                else set(self.catalog.region_members(strategy.region_code or ""))
            )
            if iso3 not in covered:
                problems.append(
                    Detail(
                        ("body", "objective"),
                        f"objective {objective.id} belongs to strategy {strategy.code}, which "
                        f"does not cover {iso3}",
                    )
                )
        if (data.program is None) == (data.new_program is None):
            problems.append(
                Detail(
                    ("body", "program"),
                    "name a program to add the money to, or describe a new program "
                    "(new_program), not both",
                )
            )
        agency: str | None = None
        if data.program is not None:
            # A program the requester may not see is unknown to them, like a wrong id.
            p = self.session.execute(
                only_visible(
                    select(Program).where(Program.code == data.program),
                    self.audience,
                    self.catalog,
                )
            ).scalar_one_or_none()
            if p is None:
                problems.append(Detail(("body", "program"), f"no program with id {data.program!r}"))
            else:
                agency = p.agency_id
                if p.status in FINAL or p.status == "suspended":
                    problems.append(Detail(("body", "program"), f"program {p.code} is {p.status}"))
                partners = {c.iso3 for c in p.countries}
                for r in p.regions:
                    partners |= set(self.catalog.region_members(r.region_code))
                if iso3 and iso3 not in partners:
                    problems.append(
                        Detail(("body", "program"), f"program {p.code} is not a program in {iso3}")
                    )
        if data.new_program is not None:
            agency = self._code(
                "agency", data.new_program.agency, ("body", "new_program", "agency"), problems
            )
            if data.new_program.end < data.new_program.start:
                problems.append(Detail(("body", "new_program", "end"), "ends before it starts"))
        if account is not None:
            available = self._available(account, data.fiscal_year)
            if available is None:
                problems.append(
                    Detail(
                        ("body", "account"),
                        f"there is no flexible reserve for {account} in FY{data.fiscal_year}",
                    )
                )
            elif data.amount > available:
                problems.append(
                    Detail(
                        ("body", "amount"),
                        f"the FY{data.fiscal_year} {account} reserve has ${available:,} "
                        "available: ask for at most that",
                    )
                )
        marks = marking_fields(
            self.actor,
            self.catalog,
            data.marking,
            data.releasable_to,
            ("body",),
            problems,
        )
        if problems:
            raise Invalid(f"the surge request is refused: {problems[0].msg}", problems)
        assert iso3 is not None and account is not None and agency is not None  # noqa: S101
        if not restrict(self.actor, "surge:request").allows(agency, {iso3}):
            raise Forbidden(
                f"{self.actor.username} ({self.actor.describe()}) may not request surges for "
                f"{agency} in {iso3}"
            )
        program_pk = None
        if data.program is not None:
            program_pk = self.session.execute(
                select(Program.id).where(Program.code == data.program)
            ).scalar_one()
        s = SurgeRequest(
            title=data.title,
            justification=data.justification,
            iso3=iso3,
            account_id=account,
            fiscal_year=data.fiscal_year,
            amount=data.amount,
            objective_id=data.objective,
            sustainment_plan_id=data.sustainment_plan,
            program_id=program_pk,
            new_program=(
                data.new_program.model_dump(mode="json") if data.new_program is not None else {}
            ),
            status="requested",
            requested_by=self.actor.username,
            version=1,
            **marks,
        )
        self.session.add(s)
        self.session.flush()
        audit.record(self.session, self._entry("create", s, None))
        return self._public(s)

    def approve(self, surge_id: int, data: SurgeDecision) -> SurgePublic:
        """Approve a request: create or extend the program, link it, draw the reserve."""
        require(self.actor, "surge:approve")
        s = self._pending(surge_id, data.version)
        reserve = self._reserve(s.account_id, s.fiscal_year, lock=True)
        available = self._available(s.account_id, s.fiscal_year)
        if reserve is None or available is None or s.amount > available:
            raise Conflict(
                f"the FY{s.fiscal_year} {s.account_id} reserve has ${available or 0:,} left, "
                f"less than the ${s.amount:,} requested: refuse the request or raise the reserve"
            )
        # Approving links the program to the objective and writes the program: an approver
        # who may not see either cannot do it (say so before anything is written; the
        # request's page already shows them neither).
        objective = self._objective(s.objective_id)
        if objective is None:
            raise Conflict(
                f"surge request {surge_id} serves a strategy objective you may not see: "
                "someone who may see its strategy must approve it (or refuse the request)"
            )
        if s.program_id is not None and self._program(s.program_id) is None:
            raise Conflict(
                f"surge request {surge_id} adds money to a program you may not see: "
                "someone who may see the program must approve it (or refuse the request)"
            )
        portfolio = PortfolioService(self.session, self.actor, self.catalog)
        fy_end = date(s.fiscal_year, 9, 30)
        if s.program_id is None:
            new = NewProgramIn.model_validate(s.new_program)
            created = portfolio.create(
                ProgramCreate(
                    title=new.title,
                    description=(new.description or f"Crisis surge: {s.justification}"),
                    agency=new.agency,
                    account=s.account_id,
                    countries=[s.iso3],
                    objectives=[objective.goal_objective_id],
                    start=new.start,
                    end=max(new.end, new.start),
                    status="approved",
                    budget=[
                        BudgetLineIn(
                            fiscal_year=s.fiscal_year, account=s.account_id, planned=s.amount
                        )
                    ],
                ),
                source="surge",
            )
            code = created.id
        else:
            program = self.session.get(Program, s.program_id)
            if program is None or program.status in FINAL or program.status == "suspended":
                raise Conflict(
                    f"the program of surge {surge_id} is "
                    f"{'gone' if program is None else program.status}: refuse the request"
                )
            current = portfolio.get(program.code)
            budget = [
                BudgetLineIn(
                    fiscal_year=b.fiscal_year,
                    account=b.account,
                    planned=b.planned
                    + (
                        s.amount
                        if (b.fiscal_year, b.account) == (s.fiscal_year, s.account_id)
                        else 0
                    ),
                    obligated=b.obligated,
                    disbursed=b.disbursed,
                )
                for b in current.budget
            ]
            if not any(
                (b.fiscal_year, b.account) == (s.fiscal_year, s.account_id) for b in current.budget
            ):
                budget.append(
                    BudgetLineIn(fiscal_year=s.fiscal_year, account=s.account_id, planned=s.amount)
                )
            update: dict[str, Any] = {"version": current.version, "budget": budget}
            if current.end < fy_end:
                update["end"] = fy_end
            portfolio.update(program.code, ProgramUpdate(**update))
            code = program.code
        StrategyService(self.session, self.actor, self.catalog).link_program(objective.id, code)
        before = _surge_snapshot(s)
        s.program_id = self.session.execute(
            select(Program.id).where(Program.code == code)
        ).scalar_one()
        s.status = "approved"
        s.decided_by, s.decided_at = self.actor.username, utcnow()
        s.decision_note = data.note
        s.version += 1
        self.session.flush()
        audit.record(self.session, self._entry("approve", s, before))
        return self._public(s)

    def refuse(self, surge_id: int, data: SurgeDecision) -> SurgePublic:
        """Refuse a request (the reason is required)."""
        require(self.actor, "surge:approve")
        if not data.note:
            raise Invalid("say why the request is refused", [Detail(("body", "note"), "required")])
        s = self._pending(surge_id, data.version)
        before = _surge_snapshot(s)
        s.status = "refused"
        s.decided_by, s.decided_at = self.actor.username, utcnow()
        s.decision_note = data.note
        s.version += 1
        self.session.flush()
        audit.record(self.session, self._entry("refuse", s, before))
        return self._public(s)

    # -- internals ------------------------------------------------------------------------
    def _pending(self, surge_id: int, version: int) -> SurgeRequest:
        s = self._load(surge_id, lock=True)
        if s.status != "requested":
            raise Conflict(
                f"surge request {surge_id} was already {s.status} by {s.decided_by}: "
                "decisions are final"
            )
        if version != s.version:
            raise StaleVersion(
                f"surge request {surge_id} is at version {s.version}, not {version}: reload"
            )
        return s

    def _load(self, surge_id: int, lock: bool = False) -> SurgeRequest:
        """The request, if the reader may see it: one they may not is unknown, with the
        same answer as an id that never existed (never 403)."""
        stmt = only_visible(
            select(SurgeRequest).where(SurgeRequest.id == surge_id),
            self.audience,
            self.catalog,
            marked=SurgeRequest,
        )
        if lock:
            stmt = stmt.with_for_update()
        s = self.session.execute(stmt).scalar_one_or_none()
        if s is None:
            raise NotFound(f"no surge request {surge_id}")
        return s

    def _reserve(self, account: str, fy: int, lock: bool = False) -> FlexibleReserve | None:
        stmt = select(FlexibleReserve).where(
            FlexibleReserve.account_id == account, FlexibleReserve.fiscal_year == fy
        )
        if lock:
            stmt = stmt.with_for_update()
        return self.session.execute(stmt).scalar_one_or_none()

    def _sum(self, account: str, fy: int, status: str) -> int:
        return int(
            self.session.execute(
                select(func.coalesce(func.sum(SurgeRequest.amount), 0)).where(
                    SurgeRequest.account_id == account,
                    SurgeRequest.fiscal_year == fy,
                    SurgeRequest.status == status,
                )
            ).scalar_one()
        )

    def _drawn(self, account: str, fy: int) -> int:
        return self._sum(account, fy, "approved")

    def _available(self, account: str, fy: int) -> int | None:
        row = self._reserve(account, fy)
        if row is None:
            return None
        return max(0, row.amount - self._drawn(account, fy))

    def _reserve_public(self, r: FlexibleReserve) -> ReservePublic:
        drawn = self._drawn(r.account_id, r.fiscal_year)
        return ReservePublic(
            account=r.account_id,
            fiscal_year=r.fiscal_year,
            amount=r.amount,
            drawn=drawn,
            requested=self._sum(r.account_id, r.fiscal_year, "requested"),
            available=max(0, r.amount - drawn),
            note=r.note,
            set_by=r.set_by,
            set_at=r.set_at,
            version=r.version,
        )

    def _public(self, s: SurgeRequest, serves: _Serves | None = None) -> SurgePublic:
        """The request as the reader may see it: the objective it serves and that
        objective's sustainment plan only if the reader may see their strategy (else it
        names neither, like a hidden program: their ids, titles and the strategy's id
        would tell of a strategy the reader may not see)."""
        if serves is None:
            serves = self._serves({s.objective_id}, {s.sustainment_plan_id})
        objectives, plans = serves
        objective = objectives.get(s.objective_id)
        paid_by = plans.get(s.sustainment_plan_id)
        program = self._program(s.program_id) if s.program_id else None
        return SurgePublic(
            id=s.id,
            title=s.title,
            justification=s.justification,
            country=s.iso3,
            account=s.account_id,
            fiscal_year=s.fiscal_year,
            amount=s.amount,
            objective=s.objective_id if objective else None,
            objective_title=objective[0] if objective else "",
            strategy=objective[1] if objective else "",
            sustainment_plan=s.sustainment_plan_id if paid_by is not None else None,
            paid_after_surge_by=paid_by or "",
            program=program.code if program else None,
            new_program=NewProgramIn.model_validate(s.new_program) if s.new_program else None,
            status=s.status,
            requested_by=s.requested_by,
            requested_at=s.requested_at,
            decided_by=s.decided_by,
            decided_at=s.decided_at,
            decision_note=s.decision_note,
            marking=s.marking,
            releasable_to=decode(s.releasable_to),
            version=s.version,
        )

    # -- strategy records, through the strategy's marking ----------------------------------
    def _objective(self, objective_id: int) -> StrategyObjective | None:
        """The objective if the reader may see its strategy (else unknown, as a missing id)."""
        return self.session.execute(
            only_visible(
                select(StrategyObjective)
                .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
                .where(StrategyObjective.id == objective_id),
                self.audience,
                self.catalog,
                marked=Strategy,
            )
        ).scalar_one_or_none()

    def _plan(self, plan_id: int) -> SustainmentPlan | None:
        """The sustainment plan if the reader may see its objective's strategy."""
        return self.session.execute(
            only_visible(
                select(SustainmentPlan)
                .join(StrategyObjective, StrategyObjective.id == SustainmentPlan.objective_id)
                .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
                .where(SustainmentPlan.id == plan_id),
                self.audience,
                self.catalog,
                marked=Strategy,
            )
        ).scalar_one_or_none()

    def _serves(self, objective_ids: set[int], plan_ids: set[int]) -> _Serves:
        """What requests serve, as the reader may see it (two queries for any number of
        requests): objective id -> (title, strategy id); plan id -> who pays after."""
        objectives: dict[int, tuple[str, str]] = {}
        plans: dict[int, str] = {}
        if objective_ids:
            rows = self.session.execute(
                only_visible(
                    select(StrategyObjective.id, StrategyObjective.title, Strategy.code)
                    .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
                    .where(StrategyObjective.id.in_(sorted(objective_ids))),
                    self.audience,
                    self.catalog,
                    marked=Strategy,
                )
            ).all()
            objectives = {pk: (title, code) for pk, title, code in rows}
        if plan_ids:
            found = self.session.execute(
                only_visible(
                    select(SustainmentPlan.id, SustainmentPlan.paid_by)
                    .join(StrategyObjective, StrategyObjective.id == SustainmentPlan.objective_id)
                    .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
                    .where(SustainmentPlan.id.in_(sorted(plan_ids))),
                    self.audience,
                    self.catalog,
                    marked=Strategy,
                )
            ).all()
            plans = {pk: paid_by for pk, paid_by in found}
        return objectives, plans

    def _program(self, pk: int) -> Program | None:
        """The request's program if the reader may see it (else the request names none:
        its id would say a hidden program exists)."""
        if self.audience.unrestricted:
            return self.session.get(Program, pk)
        return self.session.execute(
            only_visible(select(Program).where(Program.id == pk), self.audience, self.catalog)
        ).scalar_one_or_none()

    def _code(
        self, kind: Kind, value: str, loc: tuple[str | int, ...], problems: list[Detail]
    ) -> str | None:
        try:
            return self.catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(Detail(loc, str(exc)))
            return None

    def _resolve(self, kind: Kind, value: str, loc: tuple[str | int, ...]) -> str:
        problems: list[Detail] = []
        found = self._code(kind, value, loc, problems)
        if found is None:
            raise NotFound(problems[0].msg, problems)
        return found

    def _entry(self, action: str, s: SurgeRequest, before: dict[str, Any] | None) -> audit.Entry:
        return audit.Entry(
            self.actor.username,
            action,
            "surge_request",
            str(s.id),
            before,
            _surge_snapshot(s),
            f"{s.title}: ${s.amount:,} {s.account_id} FY{s.fiscal_year} ({s.status})",
            entity_ref=f"surge_request:{s.id}",
        )


def _reserve_snapshot(r: FlexibleReserve) -> dict[str, Any]:
    return {
        "account": r.account_id,
        "fiscal_year": r.fiscal_year,
        "amount": r.amount,
        "note": r.note,
        "version": r.version,
    }


def _surge_snapshot(s: SurgeRequest) -> dict[str, Any]:
    return {
        "title": s.title,
        "country": s.iso3,
        "account": s.account_id,
        "fiscal_year": s.fiscal_year,
        "amount": s.amount,
        "objective": s.objective_id,
        "sustainment_plan": s.sustainment_plan_id,
        "program_id": s.program_id,
        "new_program": dict(s.new_program or {}),
        "status": s.status,
        "decision_note": s.decision_note,
        "marking": s.marking,
        "releasable_to": decode(s.releasable_to),
        "version": s.version,
    }
