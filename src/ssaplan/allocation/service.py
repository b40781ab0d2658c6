"""Allocation workflows: saved scenarios, their results, comparisons and background solves.

Reading needs ``read``; creating, editing and deleting scenarios needs
``allocation:write``; solving and keeping results needs ``allocation:run``. Every
write is one transaction with an audit record; a scenario is validated as a whole
(every problem with its JSON path) before anything is written.

**Who may read a scenario** (docs/markings.md, "Allocation"). A scenario built from
the portfolio sums the programs its builder could see (its candidates, account marks
and country money), and records that audience (``computed_for``); a what-if keeps its
base's. A reader may read a scenario, its results and its jobs only if (1) no program
visible to that audience is hidden from them (:func:`visibility.covers`) and (2) no
candidate is a stored program hidden from them (a typed or uploaded scenario may name
one). Otherwise it is unknown to them, like a missing id, for reads and writes alike;
lists leave it out and count it in ``withheld``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssaplan.allocation import whatif
from ssaplan.allocation.engine.diff import diff_results
from ssaplan.allocation.engine.result import AllocationResult, build_result
from ssaplan.allocation.models import SOURCES, AllocationJob, AllocationRun, AllocationScenario
from ssaplan.allocation.refdata import reference_inputs
from ssaplan.allocation.scenario import Scenario, parse_scenario
from ssaplan.core import audit
from ssaplan.core.errors import BadRequest, Conflict, Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import utcnow
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.visibility import (
    Audience,
    audience_from_json,
    audience_json,
    audience_of,
    covers,
    visible_clause,
)
from ssaplan.reference.catalog import get_catalog

MAX_NAME = 200
BUILT = ("portfolio", "demo")  # sources computed from the stored programs
_BASE_DEPTH = 50  # what-ifs of what-ifs followed back to the scenario they start from


class Listed(list[dict[str, Any]]):
    """A list answer with ``withheld``: how many records the reader may not read were
    left out (a count, never which)."""

    def __init__(self, items: Sequence[dict[str, Any]] = (), withheld: int = 0) -> None:
        super().__init__(items)
        self.withheld = withheld


def parse(definition: Mapping[str, Any]) -> Scenario:
    """A scenario definition checked against the reference data (Invalid with JSON paths)."""
    if not isinstance(definition, Mapping):
        raise Invalid("invalid scenario", [Detail((), "a scenario must be a JSON object")])
    return parse_scenario(dict(definition), **reference_inputs())


def _titles(definition: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(c.get("id")): str(c.get("title") or "")
        for c in definition.get("candidates", [])
        if isinstance(c, Mapping)
    }


class _Settings:
    def __init__(self, gap: float, time_limit: float) -> None:
        self.mip_rel_gap = gap
        self.time_limit = time_limit


class AllocationService:
    """Allocation scenarios and results as one actor works with them, in one session."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.catalog = get_catalog()
        self.audience = audience_of(actor, self.catalog)
        self._covers: dict[Audience, bool] = {}
        self._hidden: frozenset[str] | None = None

    # -- who may read what ------------------------------------------------------------
    def _hidden_codes(self) -> frozenset[str]:
        """Codes of the stored programs the reader may not see (one query, kept)."""
        if self._hidden is None:
            self._hidden = frozenset(
                self.session.execute(
                    select(Program.code).where(~visible_clause(self.audience, self.catalog))
                ).scalars()
            )
        return self._hidden

    def _built_for(self, s: AllocationScenario) -> Audience | None:
        """Whose view of the portfolio ``s`` sums (None: typed, not computed). Built
        scenarios saved before the audience was recorded read as built for every
        program; a what-if follows its base."""
        for _ in range(_BASE_DEPTH):
            if s.computed_for is not None:
                return audience_from_json(s.computed_for)
            if s.source in BUILT:
                return Audience()
            if s.source != "whatif":
                return None
            base = self.session.get(AllocationScenario, s.base_id) if s.base_id else None
            if base is None:
                return Audience()  # its base is gone: assume the widest (fail closed)
            s = base
        return Audience()

    def _may_read(self, definition: Mapping[str, Any], built_for: Audience | None) -> bool:
        if self.audience.unrestricted:
            return True
        if built_for is not None:
            if built_for not in self._covers:
                self._covers[built_for] = covers(
                    self.session, self.catalog, self.audience, built_for
                )
            if not self._covers[built_for]:
                return False
        hidden = self._hidden_codes()
        return not any(
            str(c.get("id")) in hidden
            for c in definition.get("candidates", [])
            if isinstance(c, Mapping)
        )

    def _readable(self, s: AllocationScenario) -> bool:
        return self._may_read(s.definition, self._built_for(s))

    def _result_readable(self, r: AllocationRun) -> bool:
        """A result as its scenario, and its own copy of the definition solved."""
        if self.audience.unrestricted:
            return True
        s = self.session.get(AllocationScenario, r.scenario_id)
        if s is None or not self._readable(s):
            return False
        stored = (r.settings or {}).get("computed_for")
        built_for = audience_from_json(stored) if stored else self._built_for(s)
        return self._may_read(r.definition, built_for)

    def readable_refs(self) -> dict[str, list[str]]:
        """The audit ``entity_ref`` of every scenario and result the reader may read
        (``allocation_scenario:ID``, ``allocation_result:ID``), for the audit trail,
        which shows a scenario's audit records (its name among them) by the same rule
        as the scenario itself. Reads every scenario and result: there are few."""
        scenarios = list(self.session.execute(select(AllocationScenario)).scalars())
        shown = {s.id for s in scenarios if self._readable(s)}
        results = self.session.execute(
            select(AllocationRun).where(AllocationRun.scenario_id.in_(shown))
        ).scalars()
        return {
            "allocation_scenario": [f"allocation_scenario:{i}" for i in sorted(shown)],
            "allocation_result": [
                f"allocation_result:{r.id}" for r in results if self._result_readable(r)
            ],
        }

    # -- scenarios ------------------------------------------------------------------
    def _scenario(self, scenario_id: int, *, lock: bool = False) -> AllocationScenario:
        stmt = select(AllocationScenario).where(AllocationScenario.id == scenario_id)
        if lock:
            stmt = stmt.with_for_update()
        found = self.session.execute(stmt).scalar_one_or_none()
        if found is None or not self._readable(found):
            raise NotFound(f"no allocation scenario {scenario_id}")
        return found

    @staticmethod
    def _summary(s: AllocationScenario) -> dict[str, Any]:
        return {
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "source": s.source,
            "base_id": s.base_id,
            "fiscal_years": list(s.definition.get("fiscal_years", [])),
            "candidates": s.candidates,
            "version": s.version,
            "created_by": s.created_by,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
        }

    def list_scenarios(self, *, limit: int = 200) -> Listed:
        """Saved scenarios the reader may read, newest first, each with its latest
        result's headline; ``withheld`` counts those left out."""
        require(self.actor, "read")
        stmt = select(AllocationScenario).order_by(AllocationScenario.id.desc())
        if self.audience.unrestricted:
            rows = list(self.session.execute(stmt.limit(limit)).scalars())
            hidden = 0
        else:
            every = list(self.session.execute(stmt).scalars())
            shown = [s for s in every if self._readable(s)]
            rows, hidden = shown[:limit], len(every) - len(shown)
        out = [self._summary(s) for s in rows]
        latest = self._latest_results([s["id"] for s in out])
        for s in out:
            s["latest_result"] = latest.get(s["id"])
        return Listed(out, hidden)

    def _latest_results(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        newest = (
            select(AllocationRun.scenario_id, func.max(AllocationRun.id).label("rid"))
            .where(AllocationRun.scenario_id.in_(ids))
            .group_by(AllocationRun.scenario_id)
            .subquery()
        )
        rows = self.session.execute(
            select(AllocationRun).join(newest, AllocationRun.id == newest.c.rid)
        ).scalars()
        return {r.scenario_id: self._result_summary(r) for r in rows if self._result_readable(r)}

    def get_scenario(self, scenario_id: int) -> dict[str, Any]:
        require(self.actor, "read")
        s = self._scenario(scenario_id)
        return {**self._summary(s), "definition": s.definition}

    def create_scenario(
        self,
        definition: Mapping[str, Any],
        *,
        source: str = "api",
        base_id: int | None = None,
        computed_for: Audience | None = None,
    ) -> dict[str, Any]:
        """Validate and keep a scenario; returns it as :meth:`get_scenario` does.

        ``computed_for`` is whose view of the portfolio the definition sums: a scenario
        built from the portfolio (``source`` portfolio or demo) is the writer's own view
        unless given; a what-if keeps its base's."""
        require(self.actor, "allocation:write")
        if source not in SOURCES:
            raise BadRequest(f"unknown scenario source {source!r}")
        parsed = parse(definition)
        if base_id is not None:
            base_for = self._built_for(self._scenario(base_id))
            if computed_for is None and base_for is not None:
                computed_for = base_for
        if computed_for is None and source in BUILT:
            computed_for = self.audience
        years = parsed.problem.fiscal_years
        record = AllocationScenario(
            name=parsed.name[:MAX_NAME],
            description=str(definition.get("description", ""))[:4000],
            source=source,
            base_id=base_id,
            first_fy=years[0],
            last_fy=years[-1],
            candidates=len(parsed.problem.candidates),
            definition=dict(definition),
            computed_for=audience_json(computed_for) if computed_for is not None else None,
            created_by=self.actor.username,
        )
        self.session.add(record)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "allocation_scenario",
                str(record.id),
                None,
                {"name": record.name, "source": source, "candidates": record.candidates},
                summary=f"allocation scenario {record.name!r}: {record.candidates} candidates",
                entity_ref=f"allocation_scenario:{record.id}",
            ),
        )
        return self.get_scenario(record.id)

    def update_scenario(
        self, scenario_id: int, definition: Mapping[str, Any], *, version: int
    ) -> dict[str, Any]:
        """Replace a scenario's definition; refused if ``version`` is not the current one."""
        require(self.actor, "allocation:write")
        s = self._scenario(scenario_id, lock=True)
        if s.version != version:
            raise Conflict(
                f"scenario {scenario_id} was changed by someone else (version {s.version}, "
                f"you edited version {version}): reload it and edit again"
            )
        parsed = parse(definition)
        before = {"name": s.name, "version": s.version, "candidates": s.candidates}
        years = parsed.problem.fiscal_years
        s.name = parsed.name[:MAX_NAME]
        s.description = str(definition.get("description", ""))[:4000]
        s.definition = dict(definition)
        s.first_fy, s.last_fy = years[0], years[-1]
        s.candidates = len(parsed.problem.candidates)
        s.version += 1
        s.updated_at = utcnow()
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "update",
                "allocation_scenario",
                str(s.id),
                before,
                {"name": s.name, "version": s.version, "candidates": s.candidates},
                summary=f"allocation scenario {s.name!r} edited (version {s.version})",
                entity_ref=f"allocation_scenario:{s.id}",
            ),
        )
        return self.get_scenario(s.id)

    def delete_scenario(self, scenario_id: int) -> None:
        require(self.actor, "allocation:write")
        s = self._scenario(scenario_id, lock=True)
        before = {"name": s.name, "version": s.version, "candidates": s.candidates}
        for job in self.session.execute(
            select(AllocationJob).where(AllocationJob.scenario_id == s.id)
        ).scalars():
            if job.state in ("queued", "running"):
                raise Conflict(f"scenario {scenario_id} is being solved (job {job.id}); wait")
            self.session.delete(job)
        for r in self.session.execute(
            select(AllocationRun).where(AllocationRun.scenario_id == s.id)
        ).scalars():
            self.session.delete(r)
        self.session.delete(s)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "delete",
                "allocation_scenario",
                str(scenario_id),
                before,
                None,
                summary=f"allocation scenario {before['name']!r} deleted",
                entity_ref=f"allocation_scenario:{scenario_id}",
            ),
        )

    def what_if(
        self,
        scenario_id: int,
        *,
        budget: Sequence[Mapping[str, Any]] = (),
        restrictions: Sequence[Mapping[str, Any]] = (),
        capacity: Sequence[Mapping[str, Any]] = (),
        draws: Sequence[Mapping[str, Any]] = (),
        name: str | None = None,
    ) -> dict[str, Any]:
        """A new scenario: the base with budget changes, restrictions, crisis draws and
        capacity changes applied (``ssaplan.allocation.whatif``), saved with its base."""
        require(self.actor, "allocation:write")
        base = self._scenario(scenario_id)
        s = parse(base.definition)
        try:
            for b in budget:
                s = whatif.change_budget(
                    s,
                    b["account"],
                    percent=b.get("percent"),
                    amount=b.get("amount"),
                    fiscal_years=b.get("fiscal_years"),
                )
            for r in restrictions:
                s = whatif.restrict(
                    s, r["country"], account=r.get("account"), fiscal_years=r.get("fiscal_years")
                )
            for d in draws:
                s = whatif.draw_reserve(s, d["account"], d["fiscal_year"], d["amount"])
            for c in capacity:
                s = whatif.change_capacity(
                    s, c["country"], percent=c.get("percent"), to=c.get("to")
                )
        except (KeyError, ValueError) as exc:
            raise BadRequest(f"what-if refused: {exc}") from exc
        if not s.changes:
            raise Invalid("invalid what-if", [Detail((), "give at least one change")])
        definition = s.as_dict()
        titles = _titles(base.definition)
        for c in definition["candidates"]:
            if titles.get(c["id"]):
                c["title"] = titles[c["id"]]
        if name:
            definition["name"] = name[:MAX_NAME]
        definition["description"] = "What-if of #{}: {}".format(base.id, "; ".join(s.changes))
        return self.create_scenario(definition, source="whatif", base_id=base.id)

    # -- results --------------------------------------------------------------------
    @staticmethod
    def _result_summary(r: AllocationRun) -> dict[str, Any]:
        return {
            "id": r.id,
            "scenario_id": r.scenario_id,
            "scenario_version": r.scenario_version,
            "name": r.name,
            "status": r.status,
            "objective": r.objective,
            "gap": r.gap,
            "funded": r.funded,
            "spent": r.spent,
            "seconds": r.seconds,
            "created_by": r.created_by,
            "created_at": r.created_at,
        }

    def save_result(
        self,
        scenario_id: int,
        result: AllocationResult,
        *,
        settings: Mapping[str, Any],
        robust: Mapping[str, Any] | None = None,
    ) -> int:
        """Keep a solve of a saved scenario; returns the result's id."""
        require(self.actor, "allocation:run")
        s = self._scenario(scenario_id)
        spent = sum(b.used for b in result.budgets)
        record = AllocationRun(
            scenario_id=s.id,
            scenario_version=s.version,
            name=result.name[:MAX_NAME],
            status=result.status,
            objective=result.objective,
            gap=result.gap,
            funded=len(result.chosen),
            spent=int(spent),
            seconds=round(result.seconds, 3),
            settings=self._stamped(s, settings),
            result=result.as_dict(),
            choice=list(result.choice),
            definition=s.definition,
            robust=dict(robust) if robust else None,
            created_by=self.actor.username,
        )
        self.session.add(record)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "allocation_result",
                str(record.id),
                None,
                {
                    "scenario_id": s.id,
                    "status": record.status,
                    "objective": record.objective,
                    "funded": record.funded,
                },
                summary=f"allocation of {s.name!r}: {record.status}, {record.funded} funded",
                entity_ref=f"allocation_result:{record.id}",
            ),
        )
        return record.id

    def _stamped(self, s: AllocationScenario, settings: Mapping[str, Any]) -> dict[str, Any]:
        """A result's settings with the audience its scenario was built for, so the
        result keeps it whatever later happens to the scenario."""
        out = dict(settings)
        built_for = self._built_for(s)
        if built_for is not None:
            out["computed_for"] = audience_json(built_for)
        return out

    def _run(self, result_id: int) -> AllocationRun:
        found = self.session.get(AllocationRun, result_id)
        if found is None or not self._result_readable(found):
            raise NotFound(f"no allocation result {result_id}")
        return found

    def list_results(self, scenario_id: int | None = None, *, limit: int = 200) -> Listed:
        """Saved results the reader may read, newest first (of one scenario, if given:
        none for a scenario they may not read, as for a missing one); ``withheld``
        counts those left out."""
        require(self.actor, "read")
        stmt = select(AllocationRun).order_by(AllocationRun.id.desc())
        if scenario_id is not None:
            s = self.session.get(AllocationScenario, scenario_id)
            if s is None or not self._readable(s):
                return Listed()  # as for a scenario that never existed
            stmt = stmt.where(AllocationRun.scenario_id == scenario_id)
        if self.audience.unrestricted:
            rows = list(self.session.execute(stmt.limit(limit)).scalars())
            return Listed([self._result_summary(r) for r in rows])
        every = list(self.session.execute(stmt).scalars())
        shown = [r for r in every if self._result_readable(r)]
        return Listed([self._result_summary(r) for r in shown[:limit]], len(every) - len(shown))

    def get_result(self, result_id: int) -> dict[str, Any]:
        """A saved result: its headline, the full result, the scenario solved, robust."""
        require(self.actor, "read")
        r = self._run(result_id)
        return {
            **self._result_summary(r),
            "settings": r.settings,
            "result": r.result,
            "definition": r.definition,
            "robust": r.robust,
        }

    def rebuild(self, result_id: int) -> tuple[Scenario, AllocationResult]:
        """The scenario solved and its result as engine objects (for diffs)."""
        r = self._run(result_id)
        scenario = parse(r.definition)
        settings = _Settings(r.result.get("gap_tolerance", 1e-3), r.settings.get("time_limit", 30))
        if len(r.choice) != len(scenario.problem.candidates):
            raise Conflict(f"result {result_id} does not match its stored scenario")
        result = build_result(
            scenario.problem,
            r.status,
            settings=settings,
            greedy=None,
            choice=np.array(r.choice, dtype=np.int64) if r.objective is not None else None,
            bound=r.result.get("bound"),
            gap=r.gap,
            seconds=r.seconds,
        )
        return scenario, result

    def compare(self, before_id: int, after_id: int) -> dict[str, Any]:
        """What moved between two saved results, and why (names, not only ids)."""
        require(self.actor, "read")
        s0, r0 = self.rebuild(before_id)
        s1, r1 = self.rebuild(after_id)
        diff = diff_results(s0.problem, r0, s1.problem, r1).as_dict()
        titles = {
            **_titles(self._run(before_id).definition),
            **_titles(self._run(after_id).definition),
        }
        for m in diff["moves"]:
            m["title"] = titles.get(m["id"], "")
        diff["before_id"], diff["after_id"] = before_id, after_id
        diff["summary"] = diff_results(s0.problem, r0, s1.problem, r1).summary()
        return diff

    # -- background solves ----------------------------------------------------------
    def create_job(self, scenario_id: int, settings: Mapping[str, Any]) -> int:
        require(self.actor, "allocation:run")
        s = self._scenario(scenario_id)
        parse(s.definition)  # refuse before queueing
        job = AllocationJob(
            scenario_id=s.id,
            state="queued",
            progress=0.0,
            message="waiting for a worker",
            settings=dict(settings),
            created_by=self.actor.username,
        )
        self.session.add(job)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "create",
                "allocation_job",
                str(job.id),
                None,
                {"scenario_id": s.id, "settings": dict(settings)},
                summary=f"solve of allocation scenario {s.name!r} queued",
                entity_ref=f"allocation_job:{job.id}",
            ),
        )
        return job.id

    def get_job(self, job_id: int) -> dict[str, Any]:
        require(self.actor, "read")
        job = self.session.get(AllocationJob, job_id)
        scenario = self.session.get(AllocationScenario, job.scenario_id) if job else None
        if job is None or scenario is None or not self._readable(scenario):
            raise NotFound(f"no allocation job {job_id}")
        return {
            "id": job.id,
            "scenario_id": job.scenario_id,
            "state": job.state,
            "progress": job.progress,
            "message": job.message,
            "settings": job.settings,
            "result_id": job.result_id,
            "error": job.error,
            "created_by": job.created_by,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        }
