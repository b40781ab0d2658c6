"""Workbench pages of evaluation: the registry, one evaluation with its event-study and
synthetic-control charts, and the evidence base by kind of program."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from ssaplan.core.deps import StoreDep, requires
from ssaplan.core.permissions import Actor
from ssaplan.evaluation import charts
from ssaplan.evaluation.evidence import EvidenceService
from ssaplan.evaluation.schemas import EstimatePublic, EvaluationStatus, EvaluationType
from ssaplan.evaluation.service import EvaluationService
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
PAGE_SIZE = 50
TYPE_NAMES = {"process": "Process", "performance": "Performance", "impact": "Impact"}
INDEPENDENCE_NAMES = {
    "internal": "Internal (program staff)",
    "independent_office": "Independent evaluation office",
    "external": "External (third party)",
}
METHOD_NAMES = {
    "cs": "Callaway–Sant'Anna difference-in-differences",
    "sa": "Sun–Abraham event study",
    "twfe": "Two-way fixed effects",
    "synth": "Synthetic control",
    "randomized": "Randomized trial",
    "regression_discontinuity": "Regression discontinuity",
    "matching": "Matching",
    "interrupted_time_series": "Interrupted time series",
    "before_after": "Before and after",
    "other": "Other",
}
RESPONSE_NAMES = {
    "pending": "Pending",
    "accepted": "Accepted",
    "partially_accepted": "Partially accepted",
    "rejected": "Rejected",
}
NAMES = {
    "types": TYPE_NAMES,
    "independence": INDEPENDENCE_NAMES,
    "methods": METHOD_NAMES,
    "responses": RESPONSE_NAMES,
}


@router.get("/evaluations", response_class=HTMLResponse)
def registry_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    evaluation_type: Annotated[EvaluationType | None, Query(alias="type")] = None,
    status: EvaluationStatus | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The evaluation registry: planned and completed evaluations, newest first."""
    with store.session() as session:
        listing = EvaluationService(session, actor).list_evaluations(
            evaluation_type=evaluation_type or None,
            status=status or None,
            q=q or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    return render(
        request,
        "evaluation/registry.html",
        {
            "listing": listing,
            "names": NAMES,
            "filters": {"type": evaluation_type or "", "status": status or "", "q": q or ""},
            "page": page,
            "pages": max(1, -(-(listing.total or 0) // PAGE_SIZE)),
            "sub": "registry",
        },
    )


@router.get("/evaluations/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Pooled effects by kind of program and the allocation multipliers they earn."""
    with store.session() as session:
        table = EvidenceService(session, actor).table()
    rows: list[tuple[str, float, float, float, bool]] = []
    for kind in table.kinds:
        rows.append(
            (
                f"{kind.institution_type_name} · {kind.purpose_name} (k={kind.pooled.k})",
                kind.pooled.estimate,
                kind.pooled.ci_low,
                kind.pooled.ci_high,
                True,
            )
        )
    chart = charts.forest(rows, title="Pooled effect by kind of program (SDs of the outcome)")
    return render(
        request,
        "evaluation/evidence.html",
        {"table": table, "chart": chart, "sub": "evidence"},
    )


@router.get("/evaluations/{code}", response_class=HTMLResponse)
def evaluation_page(request: Request, code: str, store: StoreDep, actor: WebReader) -> Response:
    """One evaluation: what it asks, how, by whom, what it found, the charts of its
    estimates, the recommendations with management's responses, documents, history."""
    with store.session() as session:
        service = EvaluationService(session, actor)
        evaluation = service.get(code)
        history = service.history(code)
    figures = [_figure(e) for e in evaluation.estimates]
    return render(
        request,
        "evaluation/evaluation.html",
        {
            "e": evaluation,
            "figures": figures,
            "history": history,
            "names": NAMES,
            "sub": "registry",
        },
    )


def _figure(estimate: EstimatePublic) -> dict[str, Any]:
    """The charts of one estimate's stored analysis (none when it was not computed here)."""
    analysis = estimate.analysis or {}
    out: dict[str, Any] = {"estimate": estimate, "event_study": None, "synth": None}
    if analysis.get("event_study"):
        out["event_study"] = charts.event_study(
            analysis["event_study"],
            title=f"Event study: {estimate.outcome}",
            unit=estimate.unit,
        )
        out["pretrend_p"] = analysis.get("pretrend_p")
    if analysis.get("gaps") and analysis.get("method") == "synth":
        out["synth"] = charts.synth_paths(
            analysis["gaps"],
            treated=str(analysis.get("treated_unit", "treated")),
            start=float(analysis.get("start", 0)),
            title=f"Synthetic control: {estimate.outcome}",
        )
        out["placebo_p"] = analysis.get("placebo_p")
        out["pre_rmspe"] = analysis.get("pre_rmspe")
        out["weights"] = analysis.get("weights", [])[:8]
    return out
