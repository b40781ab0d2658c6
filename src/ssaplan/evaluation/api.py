"""The evaluation registry and the evidence base over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ssaplan.core.deps import Reader, StoreDep, requires, unit_of_work
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import AuditPublic, Page, audit_public
from ssaplan.evaluation.evidence import EvidenceService
from ssaplan.evaluation.schemas import (
    EffectivenessPublic,
    EvaluationCreate,
    EvaluationList,
    EvaluationPublic,
    EvaluationStatus,
    EvaluationType,
    EvaluationUpdate,
    EvidenceTable,
)
from ssaplan.evaluation.service import EvaluationService

router = APIRouter(prefix="/api", tags=["evaluation"])
Writer = Annotated[Actor, Depends(requires("evaluation:write"))]


@router.get("/evaluations")
def list_evaluations(
    store: StoreDep,
    actor: Reader,
    evaluation_type: Annotated[EvaluationType | None, Query(alias="type")] = None,
    status: EvaluationStatus | None = None,
    program: Annotated[str | None, Query(max_length=200, description="program id")] = None,
    agency: Annotated[
        str | None, Query(max_length=100, description="agency, with its bureaus")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="words in title, evaluator, findings")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EvaluationList:
    """The evaluation registry, newest first, filtered and paged; ``total`` counts all matches."""
    with store.session() as session:
        return EvaluationService(session, actor).list_evaluations(
            evaluation_type=evaluation_type,
            status=status,
            program=program,
            agency=agency,
            q=q,
            limit=limit,
            offset=offset,
        )


@router.post("/evaluations", status_code=201)
def create_evaluation(
    body: EvaluationCreate, store: StoreDep, actor: Writer, response: Response
) -> EvaluationPublic:
    """Register a planned or completed evaluation of a program or objective."""
    with unit_of_work(store) as session:
        evaluation = EvaluationService(session, actor).create(body)
    response.headers["Location"] = f"/api/evaluations/{evaluation.id}"
    return evaluation


@router.get("/evaluations/{code}/history")
def evaluation_history(code: str, store: StoreDep, actor: Reader) -> Page[AuditPublic]:
    """The evaluation's audit records, newest first: who recorded or changed what."""
    with store.session() as session:
        records = EvaluationService(session, actor).history(code)
        return Page[AuditPublic](items=[audit_public(r) for r in records])


@router.get("/evaluations/{code}")
def get_evaluation(code: str, store: StoreDep, actor: Reader) -> EvaluationPublic:
    """One evaluation with its estimates, recommendations, responses and documents."""
    with store.session() as session:
        return EvaluationService(session, actor).get(code)


@router.patch("/evaluations/{code}")
def update_evaluation(
    code: str, body: EvaluationUpdate, store: StoreDep, actor: Writer
) -> EvaluationPublic:
    """Change an evaluation. ``version`` must be the version you read (409 otherwise, and
    nothing changes); lists (estimates, recommendations, documents) are replaced whole."""
    with unit_of_work(store) as session:
        return EvaluationService(session, actor).update(code, body)


@router.delete("/evaluations/{code}", status_code=204)
def delete_evaluation(
    code: str,
    store: StoreDep,
    actor: Writer,
    version: Annotated[int | None, Query(ge=1, description="refuse if it changed since")] = None,
) -> None:
    """Remove an evaluation from the registry (its history stays in the audit trail)."""
    with unit_of_work(store) as session:
        EvaluationService(session, actor).delete(code, version)


@router.get("/evidence")
def evidence(store: StoreDep, actor: Reader) -> EvidenceTable:
    """Pooled effects by kind of program (institution type x purpose), in SDs of the
    outcome, with the allocation multiplier each earns and the evaluations left out."""
    with store.session() as session:
        return EvidenceService(session, actor).table()


@router.get("/evidence/effectiveness")
def effectiveness(
    store: StoreDep,
    actor: Reader,
    use_evidence: Annotated[
        bool, Query(description="false: every kind counts 1, as if nothing were evaluated")
    ] = True,
) -> EffectivenessPublic:
    """The allocation's default effectiveness by kind of program, with or without evidence."""
    with store.session() as session:
        return EvidenceService(session, actor).effectiveness(use_evidence=use_evidence)
