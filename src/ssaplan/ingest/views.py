"""The data page of the workbench: import files (every importer, indicators included),
download exports of what the user may read, and read the formats documentation."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.ingest.api import spooled
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.filters import filter_from_params
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
KINDS = ("iati", "iati-portfolio", "foreign-assistance", "programs", "indicators")
FORMATS_DOC = Path(__file__).parent / "formats.md"


def _page(request: Request, actor: Actor, **context: Any) -> Response:
    params = dict(request.query_params)
    query = ""
    try:
        flt = filter_from_params(params)
        query = urlencode({k: v for k, v in flt.model_dump().items() if v not in (None, "")})
    except Invalid as exc:
        context.setdefault("error", exc.as_envelope()["error"])
    return render(
        request,
        "ingest/data.html",
        {
            "may_import": can(actor, "data:import"),
            "may_export": can(actor, "data:export"),
            "may_program": can(actor, "program:write"),
            "query": query,
            **context,
        },
        status=422 if context.get("error") else 200,
    )


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, actor: Annotated[Actor, Depends(requires("read"))]) -> Response:
    """Forms to import files and links to download exports (with the overview's filters
    when given, e.g. ``/data?region=AF``)."""
    return _page(request, actor)


def human_summary(kind: str, s: dict[str, Any]) -> list[str]:
    """What an import did, in sentences ("198 activities: 190 new, 8 updated")."""
    out: list[str] = []
    files = s.get("files", 0)
    of_files = f" from {files} file{'s' if files != 1 else ''}" if files else ""
    if kind == "iati":
        total = int(s.get("activities", 0))
        updated = int(s.get("replaced", 0))
        out.append(
            f"{total} activit{'y' if total == 1 else 'ies'}{of_files}: "
            f"{total - updated} new, {updated} updated"
        )
        out.append(
            f"{s.get('transactions', 0)} transactions, {s.get('budgets', 0)} budgets, "
            f"{s.get('planned_disbursements', 0)} planned disbursements"
        )
    elif kind == "iati-portfolio":
        p = s.get("portfolio", {})
        total = sum(int(v) for v in p.values())
        out.append(
            f"{total} programs{of_files}: {p.get('created', 0)} new, {p.get('updated', 0)} "
            f"updated, {p.get('unchanged', 0)} unchanged"
        )
        fallback = s.get("agency_fallbacks", {})
        if fallback.get("activities"):
            out.append(
                f"{fallback['activities']} activities of publishers that are not a known U.S. "
                f"agency were given the agency {fallback.get('agency')}"
            )
    elif kind == "foreign-assistance":
        p = s.get("programs", {})
        f = s.get("figures", {})
        out.append(
            f"{s.get('rows', 0)} rows{of_files}: programs {p.get('created', 0)} new, "
            f"{p.get('updated', 0)} updated, {p.get('unchanged', 0)} unchanged; published "
            f"figures {f.get('inserted', 0)} new, {f.get('updated', 0)} updated"
        )
    elif kind == "programs":
        out.append(
            f"{s.get('programs', 0)} programs from {s.get('rows', 0)} rows: "
            f"{s.get('created', 0)} new, {s.get('updated', 0)} updated, "
            f"{s.get('unchanged', 0)} unchanged"
        )
    elif kind == "indicators":
        out.append(
            f"{s.get('observations', 0)} observations{of_files}: {s.get('created', 0)} new, "
            f"{s.get('updated', 0)} updated, {s.get('unchanged', 0)} unchanged; "
            f"{s.get('measures', 0)} measures for {s.get('countries', 0)} countries"
        )
        for f in s.get("by_file", []) or []:
            out.append(
                f"{f.get('file')}: {f.get('layout')}, {f.get('created', 0)} new, "
                f"{f.get('updated', 0)} updated, {f.get('unchanged', 0)} unchanged"
            )
        if s.get("unmatched"):
            out.append(f"{len(s['unmatched'])} names matched no measure (listed below)")
    skipped = s.get("skipped") or []
    if skipped:
        out.append(f"{len(skipped)} skipped (listed below)")
    return out


@router.post("/data/import", response_class=HTMLResponse, dependencies=[FormCsrf])
def data_import(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("data:import"))],
    files: Annotated[list[UploadFile], File()],
    kind: Annotated[str, Form()] = "iati",
    skip_invalid: Annotated[str, Form()] = "",
) -> Response:
    """Import the uploaded files and show what happened, or every problem found."""
    if kind not in KINDS:
        raise Invalid("unknown import", [Detail(("kind",), f"use one of {', '.join(KINDS)}")])
    skip = bool(skip_invalid)
    try:
        with spooled(files) as (paths, names), unit_of_work(store) as session:
            summary = _import(session, actor, kind, paths, names, skip)
    except Invalid as exc:
        return _page(request, actor, error=exc.as_envelope()["error"], kind=kind)
    return _page(request, actor, summary=summary, sentences=human_summary(kind, summary), kind=kind)


def _import(
    session: Any, actor: Actor, kind: str, paths: list[Path], names: list[str], skip: bool
) -> dict[str, Any]:
    if kind == "indicators":
        from ssaplan.assessment.indicators.reader import read_indicator_file
        from ssaplan.assessment.indicators.service import IndicatorService

        parsed = [
            replace(read_indicator_file(path), file=name)
            for path, name in zip(paths, names, strict=True)
        ]
        result = IndicatorService(session, actor).import_files(parsed, skip_invalid=skip)
        return dict(result.as_dict())
    service = IngestService(session, actor)
    if kind in ("iati", "iati-portfolio"):
        return service.import_iati(
            paths,
            names=names,
            as_portfolio=kind == "iati-portfolio",
            skip_invalid=skip,
            fallback_agency=actor.agency_id or "State",
        )
    if kind == "foreign-assistance":
        return service.import_foreign_assistance(paths, names=names, skip_invalid=skip)
    return service.import_programs(paths[0], name=names[0], skip_invalid=skip)


@lru_cache(maxsize=1)
def _formats_html() -> Markup:
    # The document ships in the package; raw HTML in it is escaped, not passed through.
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(md.render(FORMATS_DOC.read_text(encoding="utf-8")))  # noqa: S704


@router.get("/data/formats", response_class=HTMLResponse)
def formats_page(request: Request, actor: Annotated[Actor, Depends(requires("read"))]) -> Response:
    """The formats documentation (every format in and out, its mapping and its errors)."""
    return render(request, "ingest/formats.html", {"doc": _formats_html()})


@router.get("/data/brief", response_class=HTMLResponse)
def brief_page(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("data:export"))],
    country: Annotated[str, Query(min_length=1, max_length=200)],
    audience: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A country brief as a page of its own (printable; HTML of the export), for
    ``audience`` (default: the reader's own view), saying what it withheld."""
    import io

    from ssaplan.ingest.exports import ExportService

    buffer = io.StringIO()
    with store.session() as session:
        ExportService(session, actor).brief(buffer, country=country, audience=audience, fmt="html")
    return HTMLResponse(buffer.getvalue())
