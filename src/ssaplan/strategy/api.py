"""Strategies over the API: strategies, objectives, indicators, sustainment plans,
partner commitments and measurements.

Reading needs ``read``; writing the framework needs ``strategy:write`` and entering
measurements ``measurement:write``, each within the strategy's scope. Every update
carries the ``version`` it was based on (409 if it changed since).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import Page
from ssaplan.strategy.measurements import MeasurementService
from ssaplan.strategy.schemas import (
    CommitmentCreate,
    CommitmentPublic,
    CommitmentUpdate,
    ImportReport,
    IndicatorCreate,
    IndicatorPublic,
    IndicatorUpdate,
    MeasurementBatch,
    MeasurementIn,
    MeasurementPublic,
    MeasurementUpdate,
    ObjectiveCreate,
    ObjectivePublic,
    ObjectiveUpdate,
    StrategyCreate,
    StrategyList,
    StrategyPublic,
    StrategyStatus,
    StrategyUpdate,
    SustainmentCreate,
    SustainmentPublic,
    SustainmentUpdate,
)
from ssaplan.strategy.service import StrategyService

router = APIRouter(prefix="/api", tags=["strategy"])
Writer = Annotated[Actor, Depends(requires("strategy:write"))]
Measurer = Annotated[Actor, Depends(requires("measurement:write"))]
VersionQuery = Annotated[int | None, Query(ge=1, description="refuse if it changed since")]
MAX_UPLOAD = 20 * 1024 * 1024


def _id(text: str, what: str) -> int:
    """A numeric id from the path; anything else names nothing (404, not 422)."""
    if not text.isdigit() or len(text) > 12:
        raise NotFound(f"no {what} {text!r}")
    return int(text)


# -- strategies ---------------------------------------------------------------------------
@router.get("/strategies")
def list_strategies(
    store: StoreDep,
    actor: Reader,
    country: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    agency: Annotated[str | None, Query(max_length=100)] = None,
    status: StrategyStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StrategyList:
    """Strategies the caller may see; ``country`` also finds regional strategies that cover
    it. ``withheld`` counts matches the caller may not see (by reason, never which)."""
    with store.session() as session:
        return StrategyService(session, actor).list_strategies(
            country=country,
            region=region,
            agency=agency,
            status=status,
            limit=limit,
            offset=offset,
        )


@router.post("/strategies", status_code=201)
def create_strategy(
    body: StrategyCreate, store: StoreDep, actor: Writer, response: Response
) -> StrategyPublic:
    """Add a strategy, optionally with its whole results framework, all or nothing."""
    with unit_of_work(store) as session:
        strategy = StrategyService(session, actor).create(body)
    response.headers["Location"] = f"/api/strategies/{strategy.id}"
    return strategy


@router.get("/strategies/{code}")
def get_strategy(code: str, store: StoreDep, actor: Reader) -> StrategyPublic:
    """A strategy with its results framework and its funding by fiscal year."""
    with store.session() as session:
        return StrategyService(session, actor).get(code)


@router.patch("/strategies/{code}")
def update_strategy(
    code: str, body: StrategyUpdate, store: StoreDep, actor: Writer
) -> StrategyPublic:
    """Change a strategy's own fields (``id`` renames it)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).update(code, body)


@router.delete("/strategies/{code}", status_code=204)
def delete_strategy(
    code: str, store: StoreDep, actor: Writer, version: VersionQuery = None
) -> None:
    """Remove a strategy with its framework and measurements (its history stays)."""
    with unit_of_work(store) as session:
        StrategyService(session, actor).delete(code, version)


# -- objectives ---------------------------------------------------------------------------
@router.get("/strategy-objectives")
def list_objectives(
    store: StoreDep,
    actor: Reader,
    program: Annotated[str, Query(min_length=1, max_length=200, description="a program's id")],
) -> Page[ObjectivePublic]:
    """The strategy objectives a program serves."""
    with store.session() as session:
        items = StrategyService(session, actor).objectives_of(program)
        return Page[ObjectivePublic](items=items, total=len(items))


@router.post("/strategy-objectives", status_code=201)
def create_objective(body: ObjectiveCreate, store: StoreDep, actor: Writer) -> ObjectivePublic:
    """Add an objective (with indicators, sustainment and programs) to a strategy."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).add_objective(body)


@router.get("/strategy-objectives/{objective_id}")
def get_objective(objective_id: str, store: StoreDep, actor: Reader) -> ObjectivePublic:
    """One objective with its indicators, sustainment plan and programs."""
    with store.session() as session:
        return StrategyService(session, actor).objective(_id(objective_id, "strategy objective"))


@router.patch("/strategy-objectives/{objective_id}")
def update_objective(
    objective_id: str, body: ObjectiveUpdate, store: StoreDep, actor: Writer
) -> ObjectivePublic:
    """Change an objective; ``programs`` replaces the programs serving it."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).update_objective(
            _id(objective_id, "strategy objective"), body
        )


@router.delete("/strategy-objectives/{objective_id}", status_code=204)
def delete_objective(
    objective_id: str, store: StoreDep, actor: Writer, version: VersionQuery = None
) -> None:
    """Remove an objective with its indicators and their measurements."""
    with unit_of_work(store) as session:
        StrategyService(session, actor).delete_objective(
            _id(objective_id, "strategy objective"), version
        )


# -- indicators ---------------------------------------------------------------------------
@router.post("/strategy-indicators", status_code=201)
def create_indicator(body: IndicatorCreate, store: StoreDep, actor: Writer) -> IndicatorPublic:
    """Add an indicator to an objective; targets need a baseline."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).add_indicator(body)


@router.get("/strategy-indicators/{indicator_id}")
def get_indicator(indicator_id: str, store: StoreDep, actor: Reader) -> IndicatorPublic:
    """One indicator with its baseline and targets."""
    with store.session() as session:
        return StrategyService(session, actor).indicator(_id(indicator_id, "indicator"))


@router.patch("/strategy-indicators/{indicator_id}")
def update_indicator(
    indicator_id: str, body: IndicatorUpdate, store: StoreDep, actor: Writer
) -> IndicatorPublic:
    """Change an indicator (targets and breakdowns are replaced whole)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).update_indicator(
            _id(indicator_id, "indicator"), body
        )


@router.delete("/strategy-indicators/{indicator_id}", status_code=204)
def delete_indicator(
    indicator_id: str, store: StoreDep, actor: Writer, version: VersionQuery = None
) -> None:
    """Remove an indicator with its measurements."""
    with unit_of_work(store) as session:
        StrategyService(session, actor).delete_indicator(_id(indicator_id, "indicator"), version)


# -- sustainment plans ------------------------------------------------------------------------
@router.post("/sustainment-plans", status_code=201)
def create_sustainment(
    body: SustainmentCreate, store: StoreDep, actor: Writer
) -> SustainmentPublic:
    """Add the sustainment plan of an objective (one per objective)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).add_sustainment(body)


@router.get("/sustainment-plans/{plan_id}")
def get_sustainment(plan_id: str, store: StoreDep, actor: Reader) -> SustainmentPublic:
    """One sustainment plan: life-cycle cost, partner share by year, transition."""
    with store.session() as session:
        return StrategyService(session, actor).sustainment_plan(_id(plan_id, "sustainment plan"))


@router.patch("/sustainment-plans/{plan_id}")
def update_sustainment(
    plan_id: str, body: SustainmentUpdate, store: StoreDep, actor: Writer
) -> SustainmentPublic:
    """Change a sustainment plan (partner shares are replaced whole)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).update_sustainment(
            _id(plan_id, "sustainment plan"), body
        )


@router.delete("/sustainment-plans/{plan_id}", status_code=204)
def delete_sustainment(
    plan_id: str, store: StoreDep, actor: Writer, version: VersionQuery = None
) -> None:
    """Remove a sustainment plan."""
    with unit_of_work(store) as session:
        StrategyService(session, actor).delete_sustainment(
            _id(plan_id, "sustainment plan"), version
        )


# -- partner commitments ----------------------------------------------------------------------
@router.post("/partner-commitments", status_code=201)
def create_commitment(body: CommitmentCreate, store: StoreDep, actor: Writer) -> CommitmentPublic:
    """Add a partner commitment (cost share, legislation, personnel, other)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).add_commitment(body)


@router.get("/partner-commitments/{commitment_id}")
def get_commitment(commitment_id: str, store: StoreDep, actor: Reader) -> CommitmentPublic:
    """One partner commitment."""
    with store.session() as session:
        return StrategyService(session, actor).commitment(_id(commitment_id, "commitment"))


@router.patch("/partner-commitments/{commitment_id}")
def update_commitment(
    commitment_id: str, body: CommitmentUpdate, store: StoreDep, actor: Writer
) -> CommitmentPublic:
    """Change a partner commitment (e.g. mark it met or missed)."""
    with unit_of_work(store) as session:
        return StrategyService(session, actor).update_commitment(
            _id(commitment_id, "commitment"), body
        )


@router.delete("/partner-commitments/{commitment_id}", status_code=204)
def delete_commitment(
    commitment_id: str, store: StoreDep, actor: Writer, version: VersionQuery = None
) -> None:
    """Remove a partner commitment."""
    with unit_of_work(store) as session:
        StrategyService(session, actor).delete_commitment(_id(commitment_id, "commitment"), version)


# -- measurements ---------------------------------------------------------------------------
@router.get("/measurements")
def list_measurements(
    store: StoreDep,
    actor: Reader,
    indicator: Annotated[int | None, Query(ge=1)] = None,
    strategy: Annotated[str | None, Query(max_length=100)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[MeasurementPublic]:
    """Measurements, by indicator, period and breakdown."""
    with store.session() as session:
        return MeasurementService(session, actor).list_measurements(
            indicator=indicator, strategy=strategy, period=period, limit=limit, offset=offset
        )


@router.post("/measurements", status_code=201)
def create_measurement(
    body: MeasurementIn, store: StoreDep, actor: Measurer, response: Response
) -> MeasurementPublic:
    """Enter one measurement (409 if the period and breakdown already have a value)."""
    with unit_of_work(store) as session:
        created = MeasurementService(session, actor).create(body)
    response.headers["Location"] = f"/api/measurements/{created.id}"
    return created


@router.post("/measurements/batch")
def save_measurements(body: MeasurementBatch, store: StoreDep, actor: Measurer) -> ImportReport:
    """Enter many measurements at once, all or nothing (stored values are replaced)."""
    with unit_of_work(store) as session:
        report = MeasurementService(session, actor).save_many(body.items, summary="API batch")
    return ImportReport(
        file="",
        rows=len(body.items),
        created=len(report.created),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
    )


@router.post("/measurements/import")
async def import_measurements(
    store: StoreDep, actor: Measurer, file: Annotated[UploadFile, File()]
) -> ImportReport:
    """Import a measurements CSV (see docs/monitoring.md), all or nothing."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise BadRequest(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    with unit_of_work(store) as session:
        return MeasurementService(session, actor).import_csv(data, file.filename or "upload.csv")


@router.get("/measurements/{measurement_id}")
def get_measurement(measurement_id: str, store: StoreDep, actor: Reader) -> MeasurementPublic:
    """One measurement."""
    with store.session() as session:
        return MeasurementService(session, actor).get(_id(measurement_id, "measurement"))


@router.patch("/measurements/{measurement_id}")
def update_measurement(
    measurement_id: str, body: MeasurementUpdate, store: StoreDep, actor: Measurer
) -> MeasurementPublic:
    """Correct a measurement's value, grade, confidence or source."""
    with unit_of_work(store) as session:
        return MeasurementService(session, actor).update(_id(measurement_id, "measurement"), body)


@router.delete("/measurements/{measurement_id}", status_code=204)
def delete_measurement(
    measurement_id: str, store: StoreDep, actor: Measurer, version: VersionQuery = None
) -> None:
    """Remove a measurement."""
    with unit_of_work(store) as session:
        MeasurementService(session, actor).delete(_id(measurement_id, "measurement"), version)
