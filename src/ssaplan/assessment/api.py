"""Assessments over the API: runs, frameworks, priorities, judgments and indicators.

Reading needs ``read``; running or saving an assessment and entering judgments need
``analysis:run``; changing frameworks and priorities needs ``reference:manage``;
importing indicators needs ``data:import``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from ssaplan.assessment.framework import Framework, framework_from_rows, parse_framework
from ssaplan.assessment.indicators.reader import parse_indicator_bytes
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.policy import PolicyService
from ssaplan.assessment.run import Settings
from ssaplan.assessment.schemas import (
    AssessmentOut,
    FrameworkIn,
    JudgmentIn,
    RunRequest,
    TierIn,
)
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor

router = APIRouter(prefix="/api", tags=["assessment"])
Analyst = Annotated[Actor, Depends(requires("analysis:run"))]
PolicyAdmin = Annotated[Actor, Depends(requires("assessment:policy"))]
Importer = Annotated[Actor, Depends(requires("data:import"))]
MAX_UPLOAD = 200 * 1024 * 1024


def _framework(service: AssessmentService, body: RunRequest) -> Framework | None:
    if body.rows is not None:
        return framework_from_rows(
            [r.model_dump(by_alias=True) for r in body.rows], name="request", version=None
        )
    if body.framework:
        return service.policy.framework_spec(body.framework)
    return None


@router.get("/assessment/runs")
def list_runs(
    store: StoreDep, actor: Reader, year: Annotated[int | None, Query(ge=1900, le=2100)] = None
) -> dict[str, list[dict[str, Any]]]:
    """Saved assessments, newest first."""
    with store.session() as session:
        return {"items": AssessmentService(session, actor).runs(year=year)}


@router.post("/assessment/runs", status_code=201)
def create_run(
    body: RunRequest, store: StoreDep, actor: Analyst, response: Response
) -> AssessmentOut:
    """Run an assessment and save it as a record (who, when, framework, inputs, result)."""
    with unit_of_work(store) as session:
        service = AssessmentService(session, actor)
        run = service.run(
            year=body.year,
            framework=_framework(service, body),
            settings=Settings(draws=body.draws, seed=body.seed),
        )
        assessment_id = service.save(run, note=body.note)
        out = service.get(assessment_id)
    response.headers["Location"] = f"/api/assessment/runs/{assessment_id}"
    return AssessmentOut(**out)


@router.post("/assessment/preview")
def preview_run(body: RunRequest, store: StoreDep, actor: Analyst) -> AssessmentOut:
    """Run an assessment without saving it (same JSON as ``ssaplan assess --json``)."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        run = service.run(
            year=body.year,
            framework=_framework(service, body),
            settings=Settings(draws=body.draws, seed=body.seed),
        )
        return AssessmentOut(**run.as_dict())


@router.get("/assessment/runs/latest")
def latest_run(
    store: StoreDep, actor: Reader, year: Annotated[int | None, Query(ge=1900, le=2100)] = None
) -> AssessmentOut:
    """The most recently saved assessment (of ``year``, if given)."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        assessment_id = service.latest_id(year)
        if assessment_id is None:
            raise NotFound("no assessment has been saved" + (f" for {year}" if year else ""))
        return AssessmentOut(**service.get(assessment_id))


@router.get("/assessment/runs/{assessment_id}")
def get_run(assessment_id: int, store: StoreDep, actor: Reader) -> AssessmentOut:
    """A saved assessment: its record, every country's result and the analyses."""
    with store.session() as session:
        return AssessmentOut(**AssessmentService(session, actor).get(assessment_id))


@router.get("/assessment/runs/{assessment_id}/countries/{iso3}")
def get_run_country(
    assessment_id: int, iso3: str, store: StoreDep, actor: Reader
) -> dict[str, Any]:
    """One country explained: each construct's contribution down to each raw measure
    value, its year and source; judgments with rationale; policy inputs; change."""
    with store.session() as session:
        return AssessmentService(session, actor).country(assessment_id, iso3)


@router.post("/assessment/runs/{assessment_id}/reproduce")
def reproduce_run(assessment_id: int, store: StoreDep, actor: Analyst) -> dict[str, Any]:
    """Recompute a saved assessment from its stored inputs and compare every number."""
    with store.session() as session:
        return AssessmentService(session, actor).reproduce(assessment_id)


@router.get("/assessment/frameworks")
def list_frameworks(store: StoreDep, actor: Reader) -> dict[str, list[dict[str, Any]]]:
    """Every framework version (version 0 of ``default`` is the shipped one)."""
    with store.session() as session:
        return {"items": PolicyService(session, actor).frameworks()}


@router.get("/assessment/frameworks/{name}")
def get_framework(
    name: str, store: StoreDep, actor: Reader, version: Annotated[int | None, Query(ge=0)] = None
) -> dict[str, Any]:
    """A framework version (the latest by default) with its constructs and rows."""
    with store.session() as session:
        return PolicyService(session, actor).framework(name, version).as_dict()


@router.get("/assessment/frameworks/{name}/csv")
def get_framework_csv(
    name: str, store: StoreDep, actor: Reader, version: Annotated[int | None, Query(ge=0)] = None
) -> Response:
    """The framework as CSV: ``measure, construct, direction, measure_weight, construct_weight``."""
    with store.session() as session:
        fw = PolicyService(session, actor).framework(name, version)
    filename = f"{fw.name}-v{fw.version}.csv"
    return Response(
        fw.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.put("/assessment/frameworks/{name}")
def put_framework(
    name: str, body: FrameworkIn, store: StoreDep, actor: PolicyAdmin
) -> dict[str, Any]:
    """Save a new version of a framework (admins). Same content as the latest: no change."""
    if (body.rows is None) == (body.csv is None):
        raise Invalid("invalid framework", [Detail(("body",), "give either rows or csv")])
    if body.csv is not None:
        fw = parse_framework(body.csv, name=name, where="csv")
    else:
        fw = framework_from_rows([r.model_dump(by_alias=True) for r in body.rows or []], name=name)
    with unit_of_work(store) as session:
        return (
            PolicyService(session, actor).save_framework(fw, description=body.description).as_dict()
        )


@router.get("/assessment/priorities")
def get_priorities(store: StoreDep, actor: Reader) -> dict[str, Any]:
    """Priority tiers by country, relevance to objectives, objective importance."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        return {
            "tiers": policy.tiers(),
            "relevance": policy.relevance(),
            "importance": policy.importance(),
        }


@router.put("/assessment/priorities/tiers/{iso3}")
def put_tier(iso3: str, body: TierIn, store: StoreDep, actor: PolicyAdmin) -> dict[str, Any]:
    """Set a country's national-security priority tier (1 highest to 4), or clear it (null)."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        result = policy.set_tier(iso3, body.tier, body.rationale)
        return {"iso3": policy.country(iso3), "tier": result}


@router.put("/assessment/priorities/relevance/{iso3}")
def put_relevance(
    iso3: str, body: dict[str, int], store: StoreDep, actor: PolicyAdmin
) -> dict[str, Any]:
    """Replace a country's relevance to objectives: ``{"G1.1": 3, "G2.4": 1}`` (0-3)."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        result = policy.set_relevance(iso3, body)
        return {"iso3": policy.country(iso3), "relevance": result}


@router.put("/assessment/priorities/importance")
def put_importance(body: dict[str, float], store: StoreDep, actor: PolicyAdmin) -> dict[str, float]:
    """Set objective importance: ``{"G1.1": 2.0}``; returns every objective's importance."""
    with unit_of_work(store) as session:
        return PolicyService(session, actor).set_importance(body)


@router.get("/assessment/judgments")
def list_judgments(
    store: StoreDep,
    actor: Reader,
    country: str | None = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> dict[str, list[dict[str, Any]]]:
    """Assessor judgments with their rationale, filtered by country and year."""
    with store.session() as session:
        items = PolicyService(session, actor).judgments(country, first_year=year, last_year=year)
        return {"items": items}


@router.put("/assessment/judgments/{iso3}/{year}")
def put_judgment(
    iso3: str, year: int, body: JudgmentIn, store: StoreDep, actor: Analyst
) -> dict[str, Any]:
    """Record an assessor judgment (0-10) with its written rationale."""
    with unit_of_work(store) as session:
        return PolicyService(session, actor).set_judgment(
            iso3, year, body.measure, body.value, body.rationale
        )


@router.get("/indicators")
def list_indicators(store: StoreDep, actor: Reader) -> dict[str, list[dict[str, Any]]]:
    """Every imported measure with its source, coverage and years."""
    with store.session() as session:
        return {"items": IndicatorService(session, actor).measures()}


@router.get("/indicators/{iso3}")
def country_indicators(iso3: str, store: StoreDep, actor: Reader) -> dict[str, Any]:
    """Every imported observation of one country, by measure, source and year."""
    with store.session() as session:
        return {"iso3": iso3, "items": IndicatorService(session, actor).country_series(iso3)}


@router.post("/indicators/import")
async def import_indicators(
    store: StoreDep,
    actor: Importer,
    files: Annotated[list[UploadFile], File(description="indicator CSV files")],
    skip_invalid: Annotated[bool, Form()] = False,
    source: Annotated[str | None, Form(max_length=200)] = None,
) -> dict[str, Any]:
    """Import indicator files (same rules as ``ssaplan import indicators``)."""
    parsed = []
    for upload in files:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise BadRequest(f"{upload.filename}: larger than {MAX_UPLOAD // 2**20} MB")
        parsed.append(
            parse_indicator_bytes(data, upload.filename or "upload.csv", default_source=source)
        )
    with unit_of_work(store) as session:
        return (
            IndicatorService(session, actor)
            .import_files(parsed, skip_invalid=skip_invalid)
            .as_dict()
        )
