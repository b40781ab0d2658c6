"""Strategy workflows: sector strategies and their results frameworks.

Reading needs ``read``. Writing a strategy or any part of its framework (objectives,
indicators, sustainment plans, partner commitments, program links) needs
``strategy:write`` within the strategy's scope: its agency, or every one of its partner
countries (a regional strategy's partners are the region's members), as for programs.
Every write validates all its fields at once (:class:`Invalid` names each), happens in
the caller's transaction and leaves an audit record.

Every read shows only the strategies the service's audience may see (by default the
actor's own view: :mod:`ssaplan.portfolio.visibility`, with ``marked=Strategy``): a
strategy's objectives, indicators, sustainment plans and commitments are hidden with it,
and a hidden one is "not found", as one that never existed. Linked programs follow the
programs' own marking (a hidden program is neither named nor counted in the funding).

For other domains: :meth:`StrategyService.objectives_of` (the objectives a program
serves), :meth:`StrategyService.sustainment_plan` and :meth:`StrategyService.link_program`
(the surge path), :meth:`StrategyService.indicator_series` (monitoring).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.money import partner_money
from ssaplan.portfolio.schemas import Withheld
from ssaplan.portfolio.visibility import (
    Audience,
    audience_of,
    decode,
    marking_fields,
    only_visible,
    verdict,
    withheld,
)
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode, get_catalog
from ssaplan.strategy import engine
from ssaplan.strategy.models import (
    Indicator,
    IndicatorTarget,
    Measurement,
    ObjectiveProgram,
    PartnerCommitment,
    Strategy,
    StrategyObjective,
    SustainmentPlan,
    SustainmentShare,
)
from ssaplan.strategy.public import (
    commitment_public,
    commitment_snapshot,
    indicator_public,
    indicator_snapshot,
    objective_public,
    objective_snapshot,
    strategy_snapshot,
    sustainment_public,
    sustainment_snapshot,
)
from ssaplan.strategy.schemas import (
    CommitmentCreate,
    CommitmentIn,
    CommitmentPublic,
    CommitmentUpdate,
    FundingYear,
    IndicatorCreate,
    IndicatorIn,
    IndicatorPublic,
    IndicatorUpdate,
    ObjectiveCreate,
    ObjectiveFunding,
    ObjectiveIn,
    ObjectivePublic,
    ObjectiveUpdate,
    StrategyCreate,
    StrategyList,
    StrategyPublic,
    StrategySummary,
    StrategyUpdate,
    SustainmentCreate,
    SustainmentIn,
    SustainmentPublic,
    SustainmentUpdate,
)

Loc = tuple[str | int, ...]


_C = TypeVar("_C")


class StrategyService:
    """Strategies as one actor sees and changes them, within one session.

    ``audience`` (by default the actor's own view) decides which strategies every read
    shows."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        audience: Audience | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = audience or audience_of(actor, self.catalog)
        self._shown_programs: set[int] | None = None

    def _visible(self, stmt: Any) -> Any:
        """``stmt`` (a select over strategies) narrowed to those the audience may see."""
        return only_visible(stmt, self.audience, self.catalog, marked=Strategy)

    def _may_see(self, s: Strategy) -> bool:
        return (
            self.audience.unrestricted
            or verdict(self.audience, self.catalog, s.marking, decode(s.releasable_to)) is None
        )

    def _visible_programs(self, stmt: Any) -> Any:
        """``stmt`` (a select over programs) narrowed to those the audience may see."""
        return only_visible(stmt, self.audience, self.catalog)

    def _program_ids_shown(self) -> set[int]:
        """The surrogate ids of every program the audience may see (read once)."""
        if self._shown_programs is None:
            self._shown_programs = set(
                self.session.execute(self._visible_programs(select(Program.id))).scalars()
            )
        return self._shown_programs

    # -- reads ------------------------------------------------------------------------
    def list_strategies(
        self,
        *,
        country: str | None = None,
        region: str | None = None,
        agency: str | None = None,
        status: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> StrategyList:
        """Strategies, by code; ``country`` also finds regional strategies covering it.
        ``withheld`` counts those the filters matched that the audience may not see."""
        require(self.actor, "read")
        stmt = select(Strategy).order_by(Strategy.code)
        problems: list[Detail] = []
        if country:
            iso3 = self._code("country", country, ("query", "country"), problems)
            if iso3:
                stmt = stmt.where(
                    or_(
                        Strategy.iso3 == iso3,
                        Strategy.region_code.in_(self.catalog.country_regions(iso3)),
                    )
                )
        if region:
            code = self._code("region", region, ("query", "region"), problems)
            if code:
                stmt = stmt.where(
                    or_(
                        Strategy.region_code == code,
                        Strategy.iso3.in_(sorted(self.catalog.region_members(code))),
                    )
                )
        if agency:
            found = self._code("agency", agency, ("query", "agency"), problems)
            if found:
                stmt = stmt.where(
                    Strategy.agency_id.in_(sorted(self.catalog.agency_descendants(found)))
                )
        if status:
            stmt = stmt.where(Strategy.status == status)
        if problems:
            raise Invalid("invalid filter", problems)
        matched: Any = stmt.with_only_columns(Strategy.id).order_by(None)  # the filter's ids
        hidden = Withheld(
            **withheld(
                self.session,
                matched,
                self.audience,
                self.catalog,
                marked=Strategy,
            )
        )
        stmt = self._visible(stmt)
        total = self.session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
        stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = list(self.session.execute(stmt).scalars())
        return StrategyList(items=[self._summary(s) for s in rows], total=total, withheld=hidden)

    def get(self, code: str) -> StrategyPublic:
        """A strategy with its whole results framework and its funding by year."""
        require(self.actor, "read")
        return self._public(self._load(code))

    def objective(self, objective_id: int) -> ObjectivePublic:
        require(self.actor, "read")
        o = self._objective(objective_id)
        return self._objective_public(o, self._strategy_of(o).code)

    def indicator(self, indicator_id: int) -> IndicatorPublic:
        require(self.actor, "read")
        i = self._indicator(indicator_id)
        return indicator_public(i, self._strategy_of(self._objective(i.objective_id)).code)

    def sustainment_plan(self, plan_id: int) -> SustainmentPublic:
        """One sustainment plan (the surge path names one: who pays after the surge)."""
        require(self.actor, "read")
        p = self._plan(plan_id)
        return sustainment_public(p, self._strategy_of(self._objective(p.objective_id)).code)

    def commitment(self, commitment_id: int) -> CommitmentPublic:
        require(self.actor, "read")
        c = self._commitment(commitment_id)
        return commitment_public(c, self._strategy_by_id(c.strategy_id).code)

    def objectives_of(self, program: str) -> list[ObjectivePublic]:
        """The strategy objectives a program serves (by the program's id)."""
        require(self.actor, "read")
        pk = self._program_pks([program], ("program",), visible_only=True)[program]
        rows = self.session.execute(
            self._visible(
                select(StrategyObjective)
                .join(ObjectiveProgram, ObjectiveProgram.objective_id == StrategyObjective.id)
                .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
                .where(ObjectiveProgram.program_id == pk)
                .order_by(StrategyObjective.id)
            )
        ).scalars()
        return [self._objective_public(o, self._strategy_of(o).code) for o in rows]

    def programs_by_objective(self) -> dict[int, frozenset[int]]:
        """Every objective's serving programs (surrogate ids), for bulk readers: of the
        strategies and programs the audience may see."""
        require(self.actor, "read")
        out: dict[int, set[int]] = defaultdict(set)
        stmt = (
            select(ObjectiveProgram.objective_id, ObjectiveProgram.program_id)
            .join(StrategyObjective, StrategyObjective.id == ObjectiveProgram.objective_id)
            .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
        )
        if not self.audience.unrestricted:
            stmt = self._visible(stmt).where(
                ObjectiveProgram.program_id.in_(self._visible_programs(select(Program.id)))
            )
        for oid, pid in self.session.execute(stmt):
            out[oid].add(pid)
        return {k: frozenset(v) for k, v in out.items()}

    def indicator_series(
        self, *, strategy: str | None = None, usable_grades: Iterable[str] | None = None
    ) -> list[engine.IndicatorSeries]:
        """Every indicator (of one strategy, if given) with its baseline, targets, the
        measured totals in time order and the programs serving its objective.

        ``usable_grades`` keeps only measurements of those quality grades (monitoring
        rates only data good enough to act on; the rest still shows on pages).
        """
        require(self.actor, "read")
        stmt = (
            select(Indicator, StrategyObjective, Strategy)
            .join(StrategyObjective, StrategyObjective.id == Indicator.objective_id)
            .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
            .order_by(Strategy.code, StrategyObjective.position, StrategyObjective.id, Indicator.id)
        )
        stmt = self._visible(stmt)
        if strategy is not None:
            stmt = stmt.where(Strategy.id == self._load(strategy).id)
        rows = list(self.session.execute(stmt).all())
        ids = [i.id for i, _, _ in rows]
        values: dict[int, list[engine.Observed]] = defaultdict(list)
        grades = set(usable_grades) if usable_grades is not None else None
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for m in self.session.execute(
                select(
                    Measurement.indicator_id,
                    Measurement.period,
                    Measurement.value,
                    Measurement.quality,
                    Measurement.confidence,
                ).where(Measurement.indicator_id.in_(chunk), Measurement.disaggregation_key == "")
            ):
                if grades is not None and m.quality not in grades:
                    continue
                try:
                    period = engine.parse_period(m.period)
                except ValueError:  # never stored: measurements are checked on the way in
                    continue
                values[m.indicator_id].append(
                    engine.Observed(period, m.value, m.quality, m.confidence)
                )
        links = self.programs_by_objective()
        out = []
        for i, o, s in rows:
            baseline = None
            if i.baseline_period is not None and i.baseline_value is not None:
                baseline = (engine.parse_period(i.baseline_period), i.baseline_value)
            out.append(
                engine.IndicatorSeries(
                    indicator_id=i.id,
                    code=i.code,
                    name=i.name,
                    unit=i.unit,
                    kind=i.kind,
                    direction=i.direction,
                    frequency=i.frequency,
                    strategy=s.code,
                    strategy_title=s.title,
                    partner=s.iso3 or s.region_code or "",
                    objective_id=o.id,
                    objective_code=o.code,
                    objective_title=o.title,
                    baseline=baseline,
                    targets={t.fiscal_year: t.value for t in i.targets},
                    values=tuple(sorted(values[i.id], key=lambda v: v.period.sort_key)),
                    programs=links.get(o.id, frozenset()),
                )
            )
        return out

    def may_write(self, code: str) -> bool:
        """Whether the actor may change the strategy (for pages that offer forms)."""
        s = self._load(code)
        return restrict(self.actor, "strategy:write").allows(s.agency_id, self._countries(s))

    def may_measure(self, code: str) -> bool:
        s = self._load(code)
        return restrict(self.actor, "measurement:write").allows(s.agency_id, self._countries(s))

    def program_titles(self, codes: Iterable[str]) -> dict[str, str]:
        """The titles of programs by their ids (pages show the title, the id beside it)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self.session.execute(
            self._visible_programs(
                select(Program.code, Program.title).where(Program.code.in_(wanted))
            )
        )
        return {code: title for code, title in rows}

    # -- strategies -----------------------------------------------------------------------
    def create(self, data: StrategyCreate) -> StrategyPublic:
        """A new strategy, with its whole framework if given: all of it, or nothing."""
        require(self.actor, "strategy:write")
        problems: list[Detail] = []
        loc: Loc = ("body",)
        agency = self._code("agency", data.agency, (*loc, "agency"), problems)
        iso3 = region = None
        if (data.country is None) == (data.region is None):
            problems.append(
                Detail(
                    (*loc, "country"),
                    "name the partner: a country (a country strategy) or a region "
                    "(a regional strategy), not both",
                )
            )
        elif data.country is not None:
            iso3 = self._code("country", data.country, (*loc, "country"), problems)
        else:
            region = self._code("region", data.region or "", (*loc, "region"), problems)
        if data.last_fy < data.first_fy:
            problems.append(Detail((*loc, "last_fy"), f"ends (FY{data.last_fy}) before it starts"))
        elif data.last_fy - data.first_fy > 15:
            problems.append(Detail((*loc, "last_fy"), "a strategy spans at most 16 fiscal years"))
        code = data.id
        if code is not None:
            self._check_code_free(code, (*loc, "id"), problems)
        years = (data.first_fy, data.last_fy)
        countries = (
            {iso3} if iso3 else set(self.catalog.region_members(region)) if region else set()
        )
        plans = [
            self._objective_problems(o, years, countries, (*loc, "objectives", n), problems)
            for n, o in enumerate(data.objectives)
        ]
        codes = [o.code for o in data.objectives if o.code]
        for n, o in enumerate(data.objectives):
            if o.code and codes.count(o.code) > 1:
                problems.append(
                    Detail((*loc, "objectives", n, "code"), f"objective {o.code} appears twice")
                )
        for n, c in enumerate(data.commitments):
            self._commitment_problems(c, years, (*loc, "commitments", n), problems)
        marks = marking_fields(
            self.actor, self.catalog, data.marking, data.releasable_to, loc, problems
        )
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the strategy; nothing was saved", problems
            )
        assert agency is not None  # noqa: S101 - resolved, or a problem was raised above
        if not restrict(self.actor, "strategy:write").allows(agency, countries):
            raise Forbidden(
                f"{self.actor.username} ({self.actor.describe()}) may not write strategies of "
                f"{agency} for {iso3 or region}",
                [Detail((*loc, "agency"), "outside your scope")],
            )
        now = utcnow()
        s = Strategy(
            code=code or self._assign_code(iso3 or region or "X", data.first_fy, data.last_fy),
            title=data.title,
            kind="country" if iso3 else "regional",
            iso3=iso3,
            region_code=region,
            agency_id=agency,
            first_fy=data.first_fy,
            last_fy=data.last_fy,
            theory_of_change=data.theory_of_change,
            status=data.status,
            marking=marks.get("marking", "U"),
            releasable_to=marks.get("releasable_to", ""),
            version=1,
            created_by=self.actor.username,
            created_at=now,
            updated_at=now,
        )
        self.session.add(s)
        self.session.flush()
        entries = [self._entry("create", "strategy", s.id, s.code, None, strategy_snapshot(s))]
        for n, (o_in, program_pks) in enumerate(zip(data.objectives, plans, strict=True)):
            objective = self._new_objective(s, o_in, program_pks, n)
            entries.append(
                self._entry(
                    "create",
                    "strategy_objective",
                    objective.id,
                    f"{s.code}/{objective.code}",
                    None,
                    objective_snapshot(objective, self._codes_of(program_pks)),
                )
            )
        for c_in in data.commitments:
            commitment = self._new_commitment(s, c_in)
            entries.append(
                self._entry(
                    "create",
                    "commitment",
                    commitment.id,
                    f"{s.code}/{commitment.id}",
                    None,
                    commitment_snapshot(commitment),
                )
            )
        audit.record_many(self.session, entries)
        return self._public(s)

    def update(self, code: str, data: StrategyUpdate) -> StrategyPublic:
        """Change a strategy's own fields (``data.version`` must be the stored one)."""
        require(self.actor, "strategy:write")
        s = self._load(code, lock=True)
        self._check_scope(s)
        self._check_version(s.version, data.version, f"strategy {code!r}")
        problems: list[Detail] = []
        loc: Loc = ("body",)
        given = data.model_fields_set
        before = strategy_snapshot(s)
        if "agency" in given and data.agency is not None:
            agency = self._code("agency", data.agency, (*loc, "agency"), problems)
        else:
            agency = s.agency_id
        first = data.first_fy if "first_fy" in given and data.first_fy else s.first_fy
        last = data.last_fy if "last_fy" in given and data.last_fy else s.last_fy
        if last < first:
            problems.append(Detail((*loc, "last_fy"), f"ends (FY{last}) before it starts"))
        elif (first, last) != (s.first_fy, s.last_fy):
            problems += self._years_problems(s, first, last, loc)
        new_code = data.id if data.id is not None and data.id != s.code else None
        if new_code is not None:
            self._check_code_free(new_code, (*loc, "id"), problems)
        marks = marking_fields(
            self.actor,
            self.catalog,
            data.marking if "marking" in given else None,
            data.releasable_to if "releasable_to" in given else None,
            loc,
            problems,
        )
        if problems:
            raise Invalid(f"{len(problems)} problem(s) in the change; nothing was saved", problems)
        for field in ("title", "theory_of_change", "status"):
            value = getattr(data, field)
            if field in given and value is not None:
                setattr(s, field, value)
        for field, stored in marks.items():
            setattr(s, field, stored)
        s.agency_id = agency or s.agency_id
        s.first_fy, s.last_fy = first, last
        self._check_scope(s)  # the strategy as changed must still be the actor's
        if new_code is not None:
            s.code = new_code
        if strategy_snapshot(s) == before:
            return self._public(s)
        s.version += 1
        s.updated_at = utcnow()
        self.session.flush()
        audit.record(
            self.session,
            self._entry("update", "strategy", s.id, s.code, before, strategy_snapshot(s)),
        )
        return self._public(s)

    def delete(self, code: str, version: int | None = None) -> None:
        """Remove a strategy with its framework and measurements (history stays)."""
        require(self.actor, "strategy:write")
        s = self._load(code, lock=True)
        self._check_scope(s)
        if version is not None:
            self._check_version(s.version, version, f"strategy {code!r}")
        before = strategy_snapshot(s)
        ref = s.id
        self.session.delete(s)
        self.session.flush()
        audit.record(self.session, self._entry("delete", "strategy", ref, code, before, None))

    # -- objectives ---------------------------------------------------------------------
    def add_objective(self, data: ObjectiveCreate) -> ObjectivePublic:
        require(self.actor, "strategy:write")
        s = self._load(data.strategy, lock=True)
        self._check_scope(s)
        problems: list[Detail] = []
        if data.code and any(o.code == data.code for o in s.objectives):
            problems.append(
                Detail(("body", "code"), f"strategy {s.code} already has objective {data.code}")
            )
        pks = self._objective_problems(
            data, (s.first_fy, s.last_fy), self._countries(s), ("body",), problems
        )
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the objective; nothing was saved", problems
            )
        o = self._new_objective(s, data, pks, len(s.objectives))
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "create",
                "strategy_objective",
                o.id,
                f"{s.code}/{o.code}",
                None,
                objective_snapshot(o, self._codes_of(pks)),
            ),
        )
        return self._objective_public(o, s.code)

    def update_objective(self, objective_id: int, data: ObjectiveUpdate) -> ObjectivePublic:
        require(self.actor, "strategy:write")
        o = self._objective(objective_id, lock=True)
        s = self._strategy_of(o)
        self._check_scope(s)
        self._check_version(o.version, data.version, f"objective {objective_id}")
        problems: list[Detail] = []
        before = objective_snapshot(o, self._program_codes(o, every=True))
        given = data.model_fields_set
        if "goal_objective" in given and data.goal_objective is not None:
            goal = self._code(
                "objective", data.goal_objective, ("body", "goal_objective"), problems
            )
        else:
            goal = o.goal_objective_id
        pks: dict[str, int] | None = None
        if "programs" in given and data.programs is not None:
            pks = self._link_problems(
                data.programs,
                self._countries(s),
                [("body", "programs", n) for n in range(len(data.programs))],
                problems,
            )
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the objective; nothing was saved", problems
            )
        for field in ("title", "description", "assumptions"):
            value = getattr(data, field)
            if field in given and value is not None:
                setattr(o, field, value)
        o.goal_objective_id = goal or o.goal_objective_id
        if pks is not None:
            self._set_links(o, set(pks.values()))
        self.session.flush()
        after = objective_snapshot(o, self._program_codes(o, every=True))
        if after != before:
            o.version += 1
            after["version"] = o.version
            self._touch(s)
            audit.record(
                self.session,
                self._entry(
                    "update", "strategy_objective", o.id, f"{s.code}/{o.code}", before, after
                ),
            )
        return self._objective_public(o, s.code)

    def delete_objective(self, objective_id: int, version: int | None = None) -> None:
        require(self.actor, "strategy:write")
        o = self._objective(objective_id, lock=True)
        s = self._strategy_of(o)
        self._check_scope(s)
        if version is not None:
            self._check_version(o.version, version, f"objective {objective_id}")
        before = objective_snapshot(o, self._program_codes(o, every=True))
        s.objectives.remove(o)
        self.session.flush()
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "delete", "strategy_objective", objective_id, f"{s.code}/{before['code']}", before
            ),
        )

    def link_program(self, objective_id: int, program: str) -> ObjectivePublic:
        """Add one program to the programs serving an objective (no-op if linked)."""
        require(self.actor, "strategy:write")
        o = self._objective(objective_id, lock=True)
        s = self._strategy_of(o)
        self._check_scope(s)
        problems: list[Detail] = []
        pks = self._link_problems([program], self._countries(s), [("program",)], problems)
        if problems:
            raise Invalid("the program cannot serve this objective", problems)
        pk = pks[program]
        if any(link.program_id == pk for link in o.programs):
            return self._objective_public(o, s.code)
        before = objective_snapshot(o, self._program_codes(o, every=True))
        o.programs.append(ObjectiveProgram(program_id=pk, linked_by=self.actor.username))
        o.version += 1
        self.session.flush()
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "update",
                "strategy_objective",
                o.id,
                f"{s.code}/{o.code}",
                before,
                objective_snapshot(o, self._program_codes(o, every=True)),
            ),
        )
        return self._objective_public(o, s.code)

    # -- indicators ---------------------------------------------------------------------
    def add_indicator(self, data: IndicatorCreate) -> IndicatorPublic:
        require(self.actor, "strategy:write")
        o = self._objective(data.objective, lock=True)
        s = self._strategy_of(o)
        self._check_scope(s)
        problems: list[Detail] = []
        if data.code and any(i.code == data.code for i in o.indicators):
            problems.append(
                Detail(("body", "code"), f"objective {o.code} already has indicator {data.code}")
            )
        self._indicator_problems(data, (s.first_fy, s.last_fy), ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the indicator; nothing was saved", problems
            )
        i = self._new_indicator(o, data)
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "create",
                "indicator",
                i.id,
                f"{s.code}/{i.code}",
                None,
                indicator_snapshot(i),
            ),
        )
        return indicator_public(i, s.code)

    def update_indicator(self, indicator_id: int, data: IndicatorUpdate) -> IndicatorPublic:
        """Change an indicator. Its frequency and breakdowns cannot change under stored
        measurements (they would no longer fit); targets still need a baseline."""
        require(self.actor, "strategy:write")
        i = self._indicator(indicator_id, lock=True)
        o = self._objective(i.objective_id)
        s = self._strategy_of(o)
        self._check_scope(s)
        self._check_version(i.version, data.version, f"indicator {indicator_id}")
        given = data.model_fields_set
        current: dict[str, Any] = {
            "code": i.code,
            "name": i.name,
            "kind": i.kind,
            "unit": i.unit,
            "direction": i.direction,
            "baseline_value": i.baseline_value,
            "baseline_period": i.baseline_period,
            "data_source": i.data_source,
            "frequency": i.frequency,
            "disaggregations": list(i.disaggregations or []),
            "targets": [{"fiscal_year": t.fiscal_year, "value": t.value} for t in i.targets],
        }
        changes = data.model_dump(include=given - {"version"})
        # Fields sent as null keep their value, but for the baseline: null clears it.
        merged = IndicatorIn.model_validate(
            {
                **current,
                **{
                    k: v
                    for k, v in changes.items()
                    if v is not None or k in ("baseline_value", "baseline_period")
                },
            }
        )
        problems: list[Detail] = []
        self._indicator_problems(merged, (s.first_fy, s.last_fy), ("body",), problems)
        stored = list(
            self.session.execute(
                select(Measurement.period, Measurement.disaggregation).where(
                    Measurement.indicator_id == i.id
                )
            )
        )
        if stored and merged.frequency != i.frequency:
            problems.append(
                Detail(
                    ("body", "frequency"),
                    f"the indicator has {len(stored)} measurement(s) collected {i.frequency}: "
                    "delete them before changing how often it is collected",
                )
            )
        used = {k for _, d in stored for k in (d or {})}
        dropped = sorted(used - set(merged.disaggregations))
        if dropped:
            problems.append(
                Detail(
                    ("body", "disaggregations"),
                    f"stored measurements are broken down by {', '.join(dropped)}: "
                    "delete them before dropping that breakdown",
                )
            )
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the indicator; nothing was saved", problems
            )
        before = indicator_snapshot(i)
        self._apply_indicator(i, merged)
        self.session.flush()
        after = indicator_snapshot(i)
        if after != before:
            i.version += 1
            after["version"] = i.version
            self._touch(s)
            audit.record(
                self.session,
                self._entry("update", "indicator", i.id, f"{s.code}/{i.code}", before, after),
            )
        return indicator_public(i, s.code)

    def delete_indicator(self, indicator_id: int, version: int | None = None) -> None:
        require(self.actor, "strategy:write")
        i = self._indicator(indicator_id, lock=True)
        o = self._objective(i.objective_id)
        s = self._strategy_of(o)
        self._check_scope(s)
        if version is not None:
            self._check_version(i.version, version, f"indicator {indicator_id}")
        before = indicator_snapshot(i)
        o.indicators.remove(i)
        self.session.flush()
        self._touch(s)
        audit.record(
            self.session,
            self._entry("delete", "indicator", indicator_id, f"{s.code}/{before['code']}", before),
        )

    # -- sustainment plans ----------------------------------------------------------------
    def add_sustainment(self, data: SustainmentCreate) -> SustainmentPublic:
        require(self.actor, "strategy:write")
        o = self._objective(data.objective, lock=True)
        s = self._strategy_of(o)
        self._check_scope(s)
        if o.sustainment is not None:
            raise Conflict(
                f"objective {o.code} of {s.code} already has sustainment plan "
                f"{o.sustainment.id}: change that one"
            )
        problems: list[Detail] = []
        self._sustainment_problems(data, ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the sustainment plan; nothing was saved", problems
            )
        p = self._new_sustainment(o, data)
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "create",
                "sustainment_plan",
                p.id,
                f"{s.code}/{o.code}",
                None,
                sustainment_snapshot(p),
            ),
        )
        return sustainment_public(p, s.code)

    def update_sustainment(self, plan_id: int, data: SustainmentUpdate) -> SustainmentPublic:
        require(self.actor, "strategy:write")
        p = self._plan(plan_id, lock=True)
        o = self._objective(p.objective_id)
        s = self._strategy_of(o)
        self._check_scope(s)
        self._check_version(p.version, data.version, f"sustainment plan {plan_id}")
        given = data.model_fields_set
        current = {
            "life_cycle_cost": p.life_cycle_cost,
            "transition_on": p.transition_on,
            "paid_by": p.paid_by,
            "description": p.description,
            "partner_shares": [
                {"fiscal_year": x.fiscal_year, "share_bp": x.share_bp} for x in p.shares
            ],
        }
        changes = data.model_dump(include=given - {"version"}, exclude_none=True)
        merged = SustainmentIn.model_validate({**current, **changes})
        problems: list[Detail] = []
        self._sustainment_problems(merged, ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the sustainment plan; nothing was saved", problems
            )
        before = sustainment_snapshot(p)
        p.life_cycle_cost = merged.life_cycle_cost
        p.transition_on = merged.transition_on
        p.paid_by = merged.paid_by
        p.description = merged.description
        self._set_shares(p, merged)
        self.session.flush()
        after = sustainment_snapshot(p)
        if after != before:
            p.version += 1
            after["version"] = p.version
            self._touch(s)
            audit.record(
                self.session,
                self._entry(
                    "update", "sustainment_plan", p.id, f"{s.code}/{o.code}", before, after
                ),
            )
        return sustainment_public(p, s.code)

    def delete_sustainment(self, plan_id: int, version: int | None = None) -> None:
        require(self.actor, "strategy:write")
        p = self._plan(plan_id, lock=True)
        o = self._objective(p.objective_id)
        s = self._strategy_of(o)
        self._check_scope(s)
        if version is not None:
            self._check_version(p.version, version, f"sustainment plan {plan_id}")
        before = sustainment_snapshot(p)
        o.sustainment = None
        self.session.flush()
        self._touch(s)
        audit.record(
            self.session,
            self._entry("delete", "sustainment_plan", plan_id, f"{s.code}/{o.code}", before),
        )

    # -- partner commitments ---------------------------------------------------------------
    def add_commitment(self, data: CommitmentCreate) -> CommitmentPublic:
        require(self.actor, "strategy:write")
        s = self._load(data.strategy, lock=True)
        self._check_scope(s)
        problems: list[Detail] = []
        self._commitment_problems(data, (s.first_fy, s.last_fy), ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the commitment; nothing was saved", problems
            )
        c = self._new_commitment(s, data)
        self._touch(s)
        audit.record(
            self.session,
            self._entry(
                "create", "commitment", c.id, f"{s.code}/{c.id}", None, commitment_snapshot(c)
            ),
        )
        return commitment_public(c, s.code)

    def update_commitment(self, commitment_id: int, data: CommitmentUpdate) -> CommitmentPublic:
        require(self.actor, "strategy:write")
        c = self._commitment(commitment_id, lock=True)
        s = self._strategy_by_id(c.strategy_id)
        self._check_scope(s)
        self._check_version(c.version, data.version, f"commitment {commitment_id}")
        given = data.model_fields_set
        current = {
            "kind": c.kind,
            "description": c.description,
            "fiscal_year": c.fiscal_year,
            "amount": c.amount,
            "personnel": c.personnel,
            "due_on": c.due_on,
            "status": c.status,
        }
        changes = data.model_dump(include=given - {"version"})
        # Optional facts sent as null clear them; description and status keep theirs.
        merged = CommitmentIn.model_validate(
            {
                **current,
                **{
                    k: v
                    for k, v in changes.items()
                    if v is not None or k not in ("description", "status")
                },
            }
        )
        problems: list[Detail] = []
        self._commitment_problems(merged, (s.first_fy, s.last_fy), ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the commitment; nothing was saved", problems
            )
        before = commitment_snapshot(c)
        for field in ("description", "fiscal_year", "amount", "personnel", "due_on", "status"):
            setattr(c, field, getattr(merged, field))
        after = commitment_snapshot(c)
        if after != before:
            c.version += 1
            after["version"] = c.version
            self._touch(s)
            self.session.flush()
            audit.record(
                self.session,
                self._entry("update", "commitment", c.id, f"{s.code}/{c.id}", before, after),
            )
        return commitment_public(c, s.code)

    def delete_commitment(self, commitment_id: int, version: int | None = None) -> None:
        require(self.actor, "strategy:write")
        c = self._commitment(commitment_id, lock=True)
        s = self._strategy_by_id(c.strategy_id)
        self._check_scope(s)
        if version is not None:
            self._check_version(c.version, version, f"commitment {commitment_id}")
        before = commitment_snapshot(c)
        s.commitments.remove(c)
        self.session.flush()
        self._touch(s)
        audit.record(
            self.session,
            self._entry("delete", "commitment", commitment_id, f"{s.code}/{commitment_id}", before),
        )

    # -- validation ---------------------------------------------------------------------
    def _code(self, kind: Kind, value: str, loc: Loc, problems: list[Detail]) -> str | None:
        try:
            return self.catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(Detail(loc, str(exc)))
            return None

    def _objective_problems(
        self,
        data: ObjectiveIn,
        years: tuple[int, int],
        countries: set[str],
        loc: Loc,
        problems: list[Detail],
    ) -> dict[str, int]:
        self._code("objective", data.goal_objective, (*loc, "goal_objective"), problems)
        codes = [i.code for i in data.indicators if i.code]
        for n, ind in enumerate(data.indicators):
            if ind.code and codes.count(ind.code) > 1:
                problems.append(
                    Detail((*loc, "indicators", n, "code"), f"indicator {ind.code} appears twice")
                )
            self._indicator_problems(ind, years, (*loc, "indicators", n), problems)
        if data.sustainment is not None:
            self._sustainment_problems(data.sustainment, (*loc, "sustainment"), problems)
        return self._link_problems(
            data.programs,
            countries,
            [(*loc, "programs", n) for n in range(len(data.programs))],
            problems,
        )

    def _indicator_problems(
        self, data: IndicatorIn, years: tuple[int, int], loc: Loc, problems: list[Detail]
    ) -> None:
        for p in engine.check_indicator(
            frequency=data.frequency,
            baseline_value=data.baseline_value,
            baseline_period=data.baseline_period,
            targets=[(t.fiscal_year, t.value) for t in data.targets],
            first_fy=years[0],
            last_fy=years[1],
        ):
            problems.append(Detail((*loc, *p.field), p.message))
        dims = data.disaggregations
        for n, d in enumerate(dims):
            if dims.index(d) != n:
                problems.append(Detail((*loc, "disaggregations", n), f"{d!r} appears twice"))

    def _sustainment_problems(self, data: SustainmentIn, loc: Loc, problems: list[Detail]) -> None:
        years = [x.fiscal_year for x in data.partner_shares]
        for n, fy in enumerate(years):
            if years.index(fy) != n:
                problems.append(
                    Detail((*loc, "partner_shares", n, "fiscal_year"), f"FY{fy} appears twice")
                )

    def _commitment_problems(
        self, data: CommitmentIn, years: tuple[int, int], loc: Loc, problems: list[Detail]
    ) -> None:
        if data.kind == "cost_share" and data.amount is None:
            problems.append(Detail((*loc, "amount"), "a cost share needs its amount in dollars"))
        if data.kind == "personnel" and data.personnel is None:
            problems.append(
                Detail((*loc, "personnel"), "a personnel commitment needs its number of people")
            )
        if data.fiscal_year is not None and not years[0] <= data.fiscal_year <= years[1]:
            problems.append(
                Detail(
                    (*loc, "fiscal_year"),
                    f"FY{data.fiscal_year} is outside the strategy (FY{years[0]}-FY{years[1]})",
                )
            )

    def _link_problems(
        self, codes: Sequence[str], countries: set[str], locs: Sequence[Loc], problems: list[Detail]
    ) -> dict[str, int]:
        """Surrogate ids of the programs named (``locs``: where each was named); each must
        have a partner the strategy covers."""
        found: dict[str, Program] = {}
        wanted = sorted(set(codes))
        for start in range(0, len(wanted), 500):
            for p in self.session.execute(
                self._visible_programs(
                    select(Program).where(Program.code.in_(wanted[start : start + 500]))
                )
            ).scalars():
                found[p.code] = p
        seen: set[str] = set()
        for code, at in zip(codes, locs, strict=True):
            if code in seen:
                problems.append(Detail(at, f"program {code!r} appears twice"))
                continue
            seen.add(code)
            program = found.get(code)
            if program is None:
                problems.append(Detail(at, f"no program with id {code!r}"))
                continue
            partners = {c.iso3 for c in program.countries}
            for r in program.regions:
                partners |= set(self.catalog.region_members(r.region_code))
            if countries and not partners & countries:
                problems.append(
                    Detail(
                        at,
                        f"program {code!r} has no partner covered by the strategy "
                        f"(its partners: {', '.join(sorted(partners)[:8]) or 'none'})",
                    )
                )
        return {code: found[code].id for code in codes if code in found}

    def _years_problems(self, s: Strategy, first: int, last: int, loc: Loc) -> list[Detail]:
        out: list[Detail] = []
        for o in s.objectives:
            for i in o.indicators:
                outside = [t.fiscal_year for t in i.targets if not first <= t.fiscal_year <= last]
                if outside:
                    out.append(
                        Detail(
                            (*loc, "first_fy" if min(outside) < first else "last_fy"),
                            f"indicator {i.code} has targets for "
                            f"{', '.join(f'FY{y}' for y in outside)}, outside FY{first}-FY{last}: "
                            "change its targets first",
                        )
                    )
                periods = self.session.execute(
                    select(Measurement.period).where(Measurement.indicator_id == i.id)
                ).scalars()
                late = sorted(
                    {p for p in periods if not first <= engine.parse_period(p).fiscal_year <= last}
                )
                if late:
                    out.append(
                        Detail(
                            (*loc, "first_fy"),
                            f"indicator {i.code} has measurements for {', '.join(late[:5])}, "
                            f"outside FY{first}-FY{last}",
                        )
                    )
        return out

    def _check_code_free(self, code: str, loc: Loc, problems: list[Detail]) -> None:
        """Refuse an id in use. Ids are unique across markings, so a strategy the writer
        may not see holds its id too; the refusal is the same whoever holds it (visible or
        not) and says only that the id cannot be used, nothing of the holder."""
        taken = self.session.execute(select(Strategy.id).where(Strategy.code == code)).first()
        if taken is not None:
            problems.append(
                Detail(loc, f"strategy id {code!r} is not available: choose another id")
            )

    # -- building -----------------------------------------------------------------------
    def _new_objective(
        self, s: Strategy, data: ObjectiveIn, program_pks: dict[str, int], position: int
    ) -> StrategyObjective:
        used = {o.code for o in s.objectives}
        code = data.code or _next_code(used, "")
        o = StrategyObjective(
            code=code,
            title=data.title,
            goal_objective_id=self.catalog.resolve("objective", data.goal_objective),
            description=data.description,
            assumptions=data.assumptions,
            position=position,
            version=1,
        )
        s.objectives.append(o)
        self.session.flush()
        self._set_links(o, set(program_pks.values()))
        for ind in data.indicators:
            self._new_indicator(o, ind)
        if data.sustainment is not None:
            self._new_sustainment(o, data.sustainment)
        self.session.flush()
        return o

    def _new_indicator(self, o: StrategyObjective, data: IndicatorIn) -> Indicator:
        used = {i.code for i in o.indicators}
        i = Indicator(code=data.code or _next_code(used, f"{o.code}."), version=1)
        self._apply_indicator(i, data)
        o.indicators.append(i)
        self.session.flush()
        return i

    @staticmethod
    def _apply_indicator(i: Indicator, data: IndicatorIn) -> None:
        i.name, i.kind, i.unit, i.direction = data.name, data.kind, data.unit, data.direction
        i.baseline_value = data.baseline_value
        i.baseline_period = (
            engine.parse_period(data.baseline_period).label if data.baseline_period else None
        )
        i.data_source, i.frequency = data.data_source, data.frequency
        i.disaggregations = list(data.disaggregations)
        wanted = {t.fiscal_year: t.value for t in data.targets}
        current = {t.fiscal_year: t for t in i.targets}
        for fy, row in list(current.items()):
            if fy not in wanted:
                i.targets.remove(row)
        for fy, value in sorted(wanted.items()):
            if fy in current:
                current[fy].value = value
            else:
                i.targets.append(IndicatorTarget(fiscal_year=fy, value=value))
        i.targets.sort(key=lambda t: t.fiscal_year)

    def _new_sustainment(self, o: StrategyObjective, data: SustainmentIn) -> SustainmentPlan:
        p = SustainmentPlan(
            life_cycle_cost=data.life_cycle_cost,
            transition_on=data.transition_on,
            paid_by=data.paid_by,
            description=data.description,
            version=1,
        )
        self._set_shares(p, data)
        o.sustainment = p
        self.session.flush()
        return p

    @staticmethod
    def _set_shares(p: SustainmentPlan, data: SustainmentIn) -> None:
        wanted = {x.fiscal_year: x.share_bp for x in data.partner_shares}
        current = {x.fiscal_year: x for x in p.shares}
        for fy, row in list(current.items()):
            if fy not in wanted:
                p.shares.remove(row)
        for fy, bp in sorted(wanted.items()):
            if fy in current:
                current[fy].share_bp = bp
            else:
                p.shares.append(SustainmentShare(fiscal_year=fy, share_bp=bp))
        p.shares.sort(key=lambda x: x.fiscal_year)

    def _new_commitment(self, s: Strategy, data: CommitmentIn) -> PartnerCommitment:
        c = PartnerCommitment(
            kind=data.kind,
            description=data.description,
            fiscal_year=data.fiscal_year,
            amount=data.amount,
            personnel=data.personnel,
            due_on=data.due_on,
            status=data.status,
            version=1,
        )
        s.commitments.append(c)
        self.session.flush()
        return c

    def _set_links(self, o: StrategyObjective, pks: set[int]) -> None:
        # Links to programs the writer may not see stay: they could not have named them.
        pks = pks | (set(self._program_codes(o, every=True)) - set(self._program_codes(o)))
        for link in list(o.programs):
            if link.program_id not in pks:
                o.programs.remove(link)
        have = {link.program_id for link in o.programs}
        for pk in sorted(pks - have):
            o.programs.append(ObjectiveProgram(program_id=pk, linked_by=self.actor.username))

    def _assign_code(self, partner: str, first: int, last: int) -> str:
        base = f"{partner}-{first}-{last}"
        taken = set(
            self.session.execute(
                select(Strategy.code).where(Strategy.code.like(f"{base}%"))
            ).scalars()
        )
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def _touch(self, s: Strategy) -> None:
        s.updated_at = utcnow()

    # -- loading ------------------------------------------------------------------------
    def _load(self, code: str, lock: bool = False) -> Strategy:
        """The strategy ``code`` if the audience may see it; else "not found", the same
        answer as for a code that names nothing."""
        require(self.actor, "read")
        stmt = self._visible(select(Strategy).where(Strategy.code == code))
        if lock:
            stmt = stmt.with_for_update()
        s = self.session.execute(stmt).scalar_one_or_none()
        if s is None:
            raise NotFound(f"no strategy with id {code!r}")
        return s

    def _strategy_by_id(self, pk: int) -> Strategy:
        s = self.session.get(Strategy, pk)
        if s is None:  # pragma: no cover - children cascade with their strategy
            raise NotFound(f"no strategy {pk}")
        return s

    def _strategy_of(self, o: StrategyObjective) -> Strategy:
        return self._strategy_by_id(o.strategy_id)

    def _shown(self, strategy_id: int) -> bool:
        """Whether the audience may see the strategy (and so its children)."""
        if self.audience.unrestricted:
            return True
        s = self.session.get(Strategy, strategy_id)
        return s is not None and self._may_see(s)

    def _objective_shown(self, objective_id: int) -> bool:
        o = self.session.get(StrategyObjective, objective_id)
        return o is not None and self._shown(o.strategy_id)

    # A child of a hidden strategy is "not found", the same answer as a missing id.
    def _child(
        self, model: type[_C], pk: int, lock: bool, label: str, shown: Callable[[_C], bool]
    ) -> _C:
        require(self.actor, "read")
        row = self.session.get(model, pk, with_for_update=lock)
        if row is None or not shown(row):
            raise NotFound(f"no {label} {pk}")
        return row

    def _objective(self, objective_id: int, lock: bool = False) -> StrategyObjective:
        return self._child(
            StrategyObjective,
            objective_id,
            lock,
            "strategy objective",
            lambda o: self._shown(o.strategy_id),
        )

    def _indicator(self, indicator_id: int, lock: bool = False) -> Indicator:
        return self._child(
            Indicator,
            indicator_id,
            lock,
            "indicator",
            lambda i: self._objective_shown(i.objective_id),
        )

    def _plan(self, plan_id: int, lock: bool = False) -> SustainmentPlan:
        return self._child(
            SustainmentPlan,
            plan_id,
            lock,
            "sustainment plan",
            lambda p: self._objective_shown(p.objective_id),
        )

    def _commitment(self, commitment_id: int, lock: bool = False) -> PartnerCommitment:
        return self._child(
            PartnerCommitment,
            commitment_id,
            lock,
            "partner commitment",
            lambda c: self._shown(c.strategy_id),
        )

    def _program_pks(
        self, codes: Sequence[str], loc: Loc, *, visible_only: bool = False
    ) -> dict[str, int]:
        stmt = select(Program.code, Program.id).where(Program.code.in_(sorted(set(codes))))
        if visible_only:
            stmt = self._visible_programs(stmt)
        found = dict(self.session.execute(stmt).all())
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(f"no program with id {missing[0]!r}", [Detail(loc, "unknown")])
        return found

    def _codes_of(self, pks: dict[str, int]) -> dict[int, str]:
        return {pk: code for code, pk in pks.items()}

    def _program_codes(self, o: StrategyObjective, *, every: bool = False) -> dict[int, str]:
        """The codes of the programs serving ``o`` that the audience may see (``every``:
        all of them, for the audit trail)."""
        pks = [link.program_id for link in o.programs]
        if not pks:
            return {}
        stmt = select(Program.id, Program.code).where(Program.id.in_(pks))
        return dict(self.session.execute(stmt if every else self._visible_programs(stmt)).all())

    # -- scope --------------------------------------------------------------------------
    def _countries(self, s: Strategy) -> set[str]:
        if s.iso3:
            return {s.iso3}
        return set(self.catalog.region_members(s.region_code or ""))

    def _check_scope(self, s: Strategy, action: str = "strategy:write") -> None:
        if restrict(self.actor, action).allows(s.agency_id, self._countries(s)):
            return
        raise Forbidden(
            f"{self.actor.username} ({self.actor.describe()}) may not change strategy "
            f"{s.code} of {s.agency_id} for {s.iso3 or s.region_code}"
        )

    @staticmethod
    def _check_version(stored: int, given: int, what: str) -> None:
        if given != stored:
            raise StaleVersion(
                f"{what} was changed by someone else (you sent version {given}, it is now at "
                f"version {stored}): reload and try again"
            )

    # -- showing ------------------------------------------------------------------------
    def _partner_name(self, s: Strategy) -> str:
        if s.iso3:
            return self.catalog.countries[s.iso3].name
        region = self.catalog.regions.get(s.region_code or "")
        return region.name if region else (s.region_code or "")

    def _goal_names(self) -> dict[str, str]:
        return {k: v.name for k, v in self.catalog.objectives.items()}

    def _objective_public(self, o: StrategyObjective, code: str) -> ObjectivePublic:
        return objective_public(o, code, self._program_codes(o), self._goal_names())

    def _serving(self, s: Strategy) -> set[int]:
        """The programs serving the strategy's objectives that the audience may see."""
        pks = {link.program_id for o in s.objectives for link in o.programs}
        return pks if self.audience.unrestricted else pks & self._program_ids_shown()

    def _summary(self, s: Strategy) -> StrategySummary:
        return StrategySummary(
            id=s.code,
            title=s.title,
            kind=s.kind,
            country=s.iso3,
            region=s.region_code,
            partner_name=self._partner_name(s),
            agency=s.agency_id,
            first_fy=s.first_fy,
            last_fy=s.last_fy,
            status=s.status,
            marking=s.marking,
            releasable_to=decode(s.releasable_to),
            objectives=len(s.objectives),
            indicators=sum(len(o.indicators) for o in s.objectives),
            programs=len(self._serving(s)),
            version=s.version,
        )

    def _public(self, s: Strategy) -> StrategyPublic:
        codes: dict[int, str] = {}
        for o in s.objectives:
            codes.update(self._program_codes(o))
        goal_names = self._goal_names()
        funding, by_objective = self._funding(s)
        return StrategyPublic(
            id=s.code,
            title=s.title,
            kind=s.kind,
            country=s.iso3,
            region=s.region_code,
            partner_name=self._partner_name(s),
            agency=s.agency_id,
            first_fy=s.first_fy,
            last_fy=s.last_fy,
            theory_of_change=s.theory_of_change,
            status=s.status,
            marking=s.marking,
            releasable_to=decode(s.releasable_to),
            objectives=[objective_public(o, s.code, codes, goal_names) for o in s.objectives],
            commitments=[commitment_public(c, s.code) for c in s.commitments],
            funding=funding,
            funding_by_objective=by_objective,
            programs=len(codes),
            version=s.version,
            created_by=s.created_by,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )

    def _funding(self, s: Strategy) -> tuple[list[FundingYear], list[ObjectiveFunding]]:
        """The partner's share of the linked programs' money, by year and objective.

        From the portfolio's money by partner (:func:`ssaplan.portfolio.money.
        partner_money`): a country strategy counts the country's share of each program;
        a regional strategy the region's own share plus its members'. A program serving
        several of the strategy's objectives is split equally among them, so the
        objectives add up to the strategy's total to the dollar.
        """
        serving: dict[int, list[int]] = defaultdict(list)
        for o in s.objectives:
            for link in o.programs:
                serving[link.program_id].append(o.id)
        members = self._countries(s)
        years = engine.years(s.first_fy, s.last_fy)
        by_year: dict[int, list[int]] = {fy: [0, 0, 0] for fy in years}
        by_objective: dict[int, list[int]] = {o.id: [0, 0, 0] for o in s.objectives}
        if serving:
            ids: Any = self._visible_programs(
                select(Program.id).where(Program.id.in_(sorted(serving)))
            )
            for r in partner_money(
                self.session,
                self.catalog,
                program_ids=ids,
                first_fy=s.first_fy,
                last_fy=s.last_fy,
            ):
                mine = (
                    (r.kind == "country" and r.partner == s.iso3)
                    if s.iso3
                    else (r.kind == "region" and r.partner == s.region_code)
                    or (r.kind == "country" and r.partner in members)
                )
                if not mine:
                    continue
                money = (r.money.planned, r.money.obligated, r.money.disbursed)
                for k, v in enumerate(money):
                    by_year[r.fiscal_year][k] += v
                objectives = sorted(serving[r.program_pk])
                for k, v in enumerate(money):
                    for oid, part in zip(
                        objectives, engine.split_equally(v, len(objectives)), strict=True
                    ):
                        by_objective[oid][k] += part
        cost_share: dict[int, int] = defaultdict(int)
        for c in s.commitments:
            if c.kind == "cost_share" and c.fiscal_year is not None and c.amount:
                cost_share[c.fiscal_year] += c.amount
        return (
            [
                FundingYear(
                    fiscal_year=fy,
                    planned=v[0],
                    obligated=v[1],
                    disbursed=v[2],
                    partner_cost_share=cost_share.get(fy, 0),
                )
                for fy, v in by_year.items()
            ],
            [
                ObjectiveFunding(
                    objective=o.id,
                    code=o.code,
                    planned=by_objective[o.id][0],
                    obligated=by_objective[o.id][1],
                    disbursed=by_objective[o.id][2],
                )
                for o in s.objectives
            ],
        )

    def _entry(
        self,
        action: str,
        entity_type: str,
        pk: int,
        entity_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None = None,
    ) -> audit.Entry:
        return audit.Entry(
            self.actor.username,
            action,
            entity_type,
            entity_id,
            before,
            after,
            entity_ref=f"{entity_type}:{pk}",
        )


def _next_code(used: set[str], prefix: str) -> str:
    """The next free code: ``1``, ``2``, ... for objectives; ``1.a``, ``1.b``, ... for
    indicators (prefix ``1.``)."""
    if not prefix:
        n = 1
        while str(n) in used:
            n += 1
        return str(n)
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 0
    while True:
        label = ""
        k = n
        while True:
            label = letters[k % 26] + label
            k = k // 26 - 1
            if k < 0:
                break
        if f"{prefix}{label}" not in used:
            return f"{prefix}{label}"
        n += 1
