"""Allocation over the API: saved scenarios, what-ifs, background solves, results, diffs.

Reading needs ``read``; scenarios (create, edit, delete, what-ifs, building one from the
portfolio) need ``allocation:write``; solving needs ``allocation:run``. A solve is a
background job: ``POST .../solve`` answers 202 with the job, ``GET /api/allocation/jobs/{id}``
reports its progress and, when done, the result's id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ssaplan.allocation import jobs
from ssaplan.allocation.hooks import stored_hooks
from ssaplan.allocation.portfolio import BuildOptions, build_from_portfolio, parse_years
from ssaplan.allocation.schemas import (
    ComparisonPublic,
    FromPortfolio,
    JobPublic,
    ResultHeadline,
    ResultList,
    ResultPublic,
    ScenarioCreate,
    ScenarioList,
    ScenarioPublic,
    ScenarioUpdate,
    SolveRequest,
    WhatIf,
)
from ssaplan.allocation.service import AllocationService
from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest
from ssaplan.core.permissions import Actor
from ssaplan.portfolio.visibility import audience_of
from ssaplan.reference.catalog import get_catalog

router = APIRouter(prefix="/api/allocation", tags=["allocation"])
Writer = Annotated[Actor, Depends(requires("allocation:write"))]
Runner = Annotated[Actor, Depends(requires("allocation:run"))]


@router.get("/scenarios")
def list_scenarios(store: StoreDep, actor: Reader) -> ScenarioList:
    """Saved scenarios, newest first, with their latest result's headline."""
    with store.session() as session:
        items = AllocationService(session, actor).list_scenarios()
    return ScenarioList(
        items=[ScenarioPublic(**s, definition=None) for s in items], withheld=items.withheld
    )


@router.post("/scenarios", status_code=201)
def create_scenario(
    body: ScenarioCreate, store: StoreDep, actor: Writer, response: Response
) -> ScenarioPublic:
    """Save a scenario given in the file format (refused whole, with JSON paths)."""
    with unit_of_work(store) as session:
        out = AllocationService(session, actor).create_scenario(body.definition)
    response.headers["Location"] = f"/api/allocation/scenarios/{out['id']}"
    return ScenarioPublic(**out)


@router.post("/scenarios/from-portfolio", status_code=201)
def scenario_from_portfolio(
    body: FromPortfolio, store: StoreDep, actor: Writer, response: Response
) -> ScenarioPublic:
    """Build a scenario from the stored programs, budget lines and assessment; save it."""
    years = parse_years(body.fiscal_years)
    with unit_of_work(store) as session:
        eligible, evidence = stored_hooks(session, actor)
        built = build_from_portfolio(
            session,
            get_catalog(),
            years,
            options=BuildOptions(
                reserve_share=body.reserve_share,
                marks_percent=body.marks_percent,
                name=body.name,
            ),
            eligible=eligible,
            evidence=evidence,
            audience=audience_of(actor, get_catalog()),
        )
        if not built.scenario["candidates"]:
            raise BadRequest(built.notes[0])
        out = AllocationService(session, actor).create_scenario(built.scenario, source="portfolio")
    response.headers["Location"] = f"/api/allocation/scenarios/{out['id']}"
    return ScenarioPublic(**out)


@router.get("/scenarios/{scenario_id}")
def get_scenario(scenario_id: int, store: StoreDep, actor: Reader) -> ScenarioPublic:
    """A saved scenario with its definition."""
    with store.session() as session:
        return ScenarioPublic(**AllocationService(session, actor).get_scenario(scenario_id))


@router.put("/scenarios/{scenario_id}")
def update_scenario(
    scenario_id: int, body: ScenarioUpdate, store: StoreDep, actor: Writer
) -> ScenarioPublic:
    """Replace a scenario's definition (409 if ``version`` is not the current one)."""
    with unit_of_work(store) as session:
        out = AllocationService(session, actor).update_scenario(
            scenario_id, body.definition, version=body.version
        )
    return ScenarioPublic(**out)


@router.delete("/scenarios/{scenario_id}", status_code=204)
def delete_scenario(scenario_id: int, store: StoreDep, actor: Writer) -> Response:
    """Delete a scenario with its results."""
    with unit_of_work(store) as session:
        AllocationService(session, actor).delete_scenario(scenario_id)
    return Response(status_code=204)


@router.post("/scenarios/{scenario_id}/whatif", status_code=201)
def what_if(
    scenario_id: int, body: WhatIf, store: StoreDep, actor: Writer, response: Response
) -> ScenarioPublic:
    """A what-if (budget change, restriction, crisis draw, capacity change) as a new scenario."""
    with unit_of_work(store) as session:
        out = AllocationService(session, actor).what_if(
            scenario_id,
            budget=[b.model_dump() for b in body.budget],
            restrictions=[r.model_dump() for r in body.restrictions],
            draws=[d.model_dump() for d in body.draws],
            capacity=[c.model_dump() for c in body.capacity],
            name=body.name,
        )
    response.headers["Location"] = f"/api/allocation/scenarios/{out['id']}"
    return ScenarioPublic(**out)


@router.post("/scenarios/{scenario_id}/solve", status_code=202)
def solve(
    scenario_id: int, body: SolveRequest, store: StoreDep, actor: Runner, response: Response
) -> JobPublic:
    """Start solving a saved scenario in the background; poll the job."""
    job_id = jobs.submit(store, actor, scenario_id, body.model_dump())
    response.headers["Location"] = f"/api/allocation/jobs/{job_id}"
    with store.session() as session:
        return JobPublic(**AllocationService(session, actor).get_job(job_id))


@router.get("/jobs/{job_id}")
def get_job(job_id: int, store: StoreDep, actor: Reader) -> JobPublic:
    """A background solve: its state, progress and, when done, the result's id."""
    with store.session() as session:
        return JobPublic(**AllocationService(session, actor).get_job(job_id))


@router.get("/results")
def list_results(
    store: StoreDep,
    actor: Reader,
    scenario_id: Annotated[int | None, Query(ge=1)] = None,
) -> ResultList:
    """Saved results, newest first (of one scenario, if given)."""
    with store.session() as session:
        items = AllocationService(session, actor).list_results(scenario_id)
    return ResultList(items=[ResultHeadline(**x) for x in items], withheld=items.withheld)


@router.get("/results/{result_id}")
def get_result(result_id: int, store: StoreDep, actor: Reader) -> ResultPublic:
    """A saved result: the optimizer's answer and the scenario it solved."""
    with store.session() as session:
        return ResultPublic(**AllocationService(session, actor).get_result(result_id))


@router.get("/compare")
def compare(
    store: StoreDep,
    actor: Reader,
    before: Annotated[int, Query(ge=1, description="the baseline result")],
    after: Annotated[int, Query(ge=1, description="the result to compare with it")],
) -> ComparisonPublic:
    """What moved between two saved results (added, dropped, level changes), and why."""
    with store.session() as session:
        return ComparisonPublic(**AllocationService(session, actor).compare(before, after))
