"""Assessments over the API: runs, frameworks, priorities, judgments and indicators.

Reading needs ``read``; running or saving an assessment and entering judgments need
``analysis:run``; changing frameworks and priorities needs ``assessment:policy``;
importing indicators needs ``data:import``. Every answer has a declared shape
(``assessment.schemas``); policy inputs answer with their new ``version``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile

from ssaplan.assessment.framework import Framework, framework_from_rows, parse_framework
from ssaplan.assessment.indicators.reader import parse_indicator_bytes
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.policy import PolicyService
from ssaplan.assessment.run import Settings
from ssaplan.assessment.schemas import (
    AssessmentPublic,
    AssessmentSummary,
    CountryExplainedPublic,
    CountryIndicatorsPublic,
    CountryRelevancePublic,
    CountryTierPublic,
    FrameworkPublic,
    FrameworkSummary,
    FrameworkUpdate,
    ImportancePublic,
    ImportanceUpdate,
    IndicatorImportPublic,
    IndicatorMeasurePublic,
    JudgmentPublic,
    JudgmentUpdate,
    PolicyVersions,
    PrioritiesPublic,
    RelevanceUpdate,
    ReproductionPublic,
    RunCreate,
    TierUpdate,
)
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import Page, file_response

router = APIRouter(prefix="/api", tags=["assessment"])
Analyst = Annotated[Actor, Depends(requires("analysis:run"))]
PolicyAdmin = Annotated[Actor, Depends(requires("assessment:policy"))]
Importer = Annotated[Actor, Depends(requires("data:import"))]
MAX_UPLOAD = 200 * 1024 * 1024


def _framework(service: AssessmentService, body: RunCreate) -> Framework | None:
    if body.rows is not None:
        return framework_from_rows(
            [r.model_dump(by_alias=True) for r in body.rows], name="request", version=None
        )
    if body.framework:
        return service.policy.framework_spec(body.framework)
    return None


@router.get("/assessment/runs")
def list_runs(
    store: StoreDep,
    actor: Reader,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AssessmentSummary]:
    """Saved assessments, newest first; ``total`` counts every match."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        runs = service.runs(year=year, limit=limit, offset=offset)
        return Page[AssessmentSummary](
            items=[AssessmentSummary.model_validate(r) for r in runs],
            total=service.count_runs(year=year),
        )


@router.post("/assessment/runs", status_code=201)
def create_run(
    body: RunCreate, store: StoreDep, actor: Analyst, response: Response
) -> AssessmentPublic:
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
    return AssessmentPublic.model_validate(out)


@router.post("/assessment/preview")
def preview_run(body: RunCreate, store: StoreDep, actor: Analyst) -> AssessmentPublic:
    """Run an assessment without saving it (same JSON as ``ssaplan assess --json``)."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        run = service.run(
            year=body.year,
            framework=_framework(service, body),
            settings=Settings(draws=body.draws, seed=body.seed),
        )
        return AssessmentPublic.model_validate(run.as_dict())


@router.get("/assessment/runs/latest")
def latest_run(
    store: StoreDep, actor: Reader, year: Annotated[int | None, Query(ge=1900, le=2100)] = None
) -> AssessmentPublic:
    """The most recently saved assessment (of ``year``, if given)."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        assessment_id = service.latest_id(year)
        if assessment_id is None:
            raise NotFound("no assessment has been saved" + (f" for {year}" if year else ""))
        return AssessmentPublic.model_validate(service.get(assessment_id))


@router.get("/assessment/runs/{assessment_id}")
def get_run(assessment_id: int, store: StoreDep, actor: Reader) -> AssessmentPublic:
    """A saved assessment: its record, every country's result and the analyses."""
    with store.session() as session:
        return AssessmentPublic.model_validate(AssessmentService(session, actor).get(assessment_id))


@router.get("/assessment/runs/{assessment_id}/countries/{iso3}")
def get_run_country(
    assessment_id: int, iso3: str, store: StoreDep, actor: Reader
) -> CountryExplainedPublic:
    """One country explained: each construct's contribution down to each raw measure
    value, its year and source; judgments with rationale; policy inputs; change."""
    with store.session() as session:
        return CountryExplainedPublic.model_validate(
            AssessmentService(session, actor).country(assessment_id, iso3)
        )


@router.post("/assessment/runs/{assessment_id}/reproduce")
def reproduce_run(assessment_id: int, store: StoreDep, actor: Analyst) -> ReproductionPublic:
    """Recompute a saved assessment from its stored inputs and compare every number."""
    with store.session() as session:
        return ReproductionPublic.model_validate(
            AssessmentService(session, actor).reproduce(assessment_id)
        )


@router.get("/assessment/frameworks")
def list_frameworks(store: StoreDep, actor: Reader) -> Page[FrameworkSummary]:
    """Every framework version (version 0 of ``default`` is the shipped one)."""
    with store.session() as session:
        items = [
            FrameworkSummary.model_validate(f) for f in PolicyService(session, actor).frameworks()
        ]
        return Page[FrameworkSummary](items=items, total=len(items))


@router.get("/assessment/frameworks/{name}")
def get_framework(
    name: str, store: StoreDep, actor: Reader, version: Annotated[int | None, Query(ge=0)] = None
) -> FrameworkPublic:
    """A framework version (the latest by default) with its constructs and rows."""
    with store.session() as session:
        return FrameworkPublic.model_validate(
            PolicyService(session, actor).framework(name, version).as_dict()
        )


@router.get(
    "/assessment/frameworks/{name}/csv",
    response_class=Response,
    responses=file_response("text/csv", "the framework table (CSV, UTF-8)"),
)
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
    name: str, body: FrameworkUpdate, store: StoreDep, actor: PolicyAdmin
) -> FrameworkPublic:
    """Save a new version of a framework (admins). Same content as the latest: no change.

    With ``base_version``, the change is refused (409) if a version newer than it has
    been saved since (0: the shipped default)."""
    if (body.rows is None) == (body.csv is None):
        raise Invalid("invalid framework", [Detail(("body",), "give either rows or csv")])
    if body.csv is not None:
        fw = parse_framework(body.csv, name=name, where="csv")
    else:
        fw = framework_from_rows([r.model_dump(by_alias=True) for r in body.rows or []], name=name)
    with unit_of_work(store) as session:
        saved = PolicyService(session, actor).save_framework(
            fw, description=body.description, base_version=body.base_version
        )
        return FrameworkPublic.model_validate(saved.as_dict())


@router.get("/assessment/priorities")
def get_priorities(store: StoreDep, actor: Reader) -> PrioritiesPublic:
    """Priority tiers by country, relevance to objectives, objective importance, and the
    version of each (send it back with a change to have a stale change refused)."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        return PrioritiesPublic.model_validate(
            {
                "tiers": policy.tiers(),
                "relevance": policy.relevance(),
                "importance": policy.importance(),
                "versions": PolicyVersions.model_validate(policy.versions()),
            }
        )


@router.get("/assessment/priorities/tiers/{iso3}")
def get_tier(iso3: str, store: StoreDep, actor: Reader) -> CountryTierPublic:
    """A country's priority tier (null: none) and its version (0: never set)."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        code = policy.country(iso3, in_url=True)
        return CountryTierPublic.model_validate(
            {"iso3": code, "tier": policy.tier(code), "version": policy.tier_version(code)}
        )


@router.put("/assessment/priorities/tiers/{iso3}")
def put_tier(iso3: str, body: TierUpdate, store: StoreDep, actor: PolicyAdmin) -> CountryTierPublic:
    """Set a country's national-security priority tier (1 highest to 4), or clear it (null).
    With ``version``, refused (409) if the tier changed since that version."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        result = policy.set_tier(iso3, body.tier, body.rationale, version=body.version)
        code = policy.country(iso3)
        return CountryTierPublic.model_validate(
            {"iso3": code, "tier": result, "version": policy.tier_version(code)}
        )


@router.get("/assessment/priorities/relevance/{iso3}")
def get_relevance(iso3: str, store: StoreDep, actor: Reader) -> CountryRelevancePublic:
    """A country's relevance to objectives and its version (0: never set)."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        code = policy.country(iso3, in_url=True)
        return CountryRelevancePublic(
            iso3=code,
            relevance=policy.relevance(code).get(code, {}),
            version=policy.relevance_version(code),
        )


@router.put("/assessment/priorities/relevance/{iso3}")
def put_relevance(
    iso3: str, body: RelevanceUpdate, store: StoreDep, actor: PolicyAdmin
) -> CountryRelevancePublic:
    """Replace a country's relevance to objectives: ``{"G1.1": 3, "G2.4": 1}`` (0-3).
    With ``version``, refused (409) if the country's relevance changed since."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        result = policy.set_relevance(iso3, body.objectives(), version=body.version)
        code = policy.country(iso3)
        return CountryRelevancePublic(
            iso3=code, relevance=result, version=policy.relevance_version(code)
        )


@router.put("/assessment/priorities/importance")
def put_importance(body: ImportanceUpdate, store: StoreDep, actor: PolicyAdmin) -> ImportancePublic:
    """Set objective importance: ``{"G1.1": 2.0}``; returns every objective's importance
    and the new ``version``. With ``version``, refused (409) if importance changed since."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        values = policy.set_importance(body.objectives(), version=body.version)
        return ImportancePublic.model_validate({**values, "version": policy.importance_version()})


@router.get("/assessment/judgments")
def list_judgments(
    store: StoreDep,
    actor: Reader,
    country: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> Page[JudgmentPublic]:
    """Assessor judgments with their rationale, filtered by country and year."""
    with store.session() as session:
        items = PolicyService(session, actor).judgments(country, first_year=year, last_year=year)
        return Page[JudgmentPublic](
            items=[JudgmentPublic.model_validate(j) for j in items], total=len(items)
        )


@router.get("/assessment/judgments/{iso3}/{year}")
def country_year_judgments(
    iso3: str, year: Annotated[int, Path(ge=1900, le=2100)], store: StoreDep, actor: Reader
) -> Page[JudgmentPublic]:
    """A country's judgments of one year (one per judgment measure), with their versions."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        code = policy.country(iso3, in_url=True)
        items = policy.judgments(code, first_year=year, last_year=year)
        return Page[JudgmentPublic](
            items=[JudgmentPublic.model_validate(j) for j in items], total=len(items)
        )


@router.put("/assessment/judgments/{iso3}/{year}")
def put_judgment(
    iso3: str, year: int, body: JudgmentUpdate, store: StoreDep, actor: Analyst
) -> JudgmentPublic:
    """Record an assessor judgment (0-10) with its written rationale. With ``version``,
    refused (409) if the judgment changed since that version (0: it did not exist)."""
    with unit_of_work(store) as session:
        return JudgmentPublic.model_validate(
            PolicyService(session, actor).set_judgment(
                iso3, year, body.measure, body.value, body.rationale, version=body.version
            )
        )


@router.get("/indicators")
def list_indicators(store: StoreDep, actor: Reader) -> Page[IndicatorMeasurePublic]:
    """Every imported measure with its source, coverage and years."""
    with store.session() as session:
        items = [
            IndicatorMeasurePublic.model_validate(m)
            for m in IndicatorService(session, actor).measures()
        ]
        return Page[IndicatorMeasurePublic](items=items, total=len(items))


@router.get("/indicators/{iso3}")
def country_indicators(iso3: str, store: StoreDep, actor: Reader) -> CountryIndicatorsPublic:
    """Every imported observation of one country, by measure, source and year."""
    with store.session() as session:
        items = IndicatorService(session, actor).country_series(iso3)
        return CountryIndicatorsPublic.model_validate(
            {"iso3": iso3, "items": items, "total": len(items)}
        )


@router.post("/indicators/import")
async def import_indicators(
    store: StoreDep,
    actor: Importer,
    files: Annotated[list[UploadFile], File(description="indicator CSV files")],
    skip_invalid: Annotated[bool, Form()] = False,
    source: Annotated[str | None, Form(max_length=200)] = None,
) -> IndicatorImportPublic:
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
        summary = IndicatorService(session, actor).import_files(parsed, skip_invalid=skip_invalid)
        return IndicatorImportPublic.model_validate(summary.as_dict())
