"""The data page of the workbench: upload files to import, download exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.ingest.api import spooled
from ssaplan.ingest.service import IngestService
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
KINDS = ("iati", "iati-portfolio", "foreign-assistance", "programs")


def _page(request: Request, actor: Actor, **context: Any) -> Response:
    return render(
        request,
        "ingest/data.html",
        {
            "may_import": can(actor, "data:import"),
            "may_export": can(actor, "data:export"),
            **context,
        },
        status=422 if context.get("error") else 200,
    )


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, actor: Annotated[Actor, Depends(requires("read"))]) -> Response:
    """Forms to import files and links to download exports."""
    return _page(request, actor)


@router.post("/data/import", response_class=HTMLResponse, dependencies=[FormCsrf])
def data_import(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("data:import"))],
    files: Annotated[list[UploadFile], File()],
    kind: Annotated[str, Form()] = "iati",
    skip_invalid: Annotated[str, Form()] = "",
) -> Response:
    """Import the uploaded files and show the summary, or every problem found."""
    if kind not in KINDS:
        raise Invalid("unknown import", [Detail(("kind",), f"use one of {', '.join(KINDS)}")])
    skip = bool(skip_invalid)
    try:
        with spooled(files) as (paths, names), unit_of_work(store) as session:
            service = IngestService(session, actor)
            if kind in ("iati", "iati-portfolio"):
                summary = service.import_iati(
                    paths,
                    names=names,
                    as_portfolio=kind == "iati-portfolio",
                    skip_invalid=skip,
                    fallback_agency=actor.agency_id or "State",
                )
            elif kind == "foreign-assistance":
                summary = service.import_foreign_assistance(paths, names=names, skip_invalid=skip)
            else:
                summary = service.import_programs(paths[0], name=names[0], skip_invalid=skip)
    except Invalid as exc:
        return _page(request, actor, error=exc.as_envelope()["error"])
    return _page(request, actor, summary=summary)
