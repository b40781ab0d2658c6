"""Data in and out over the API: file uploads for imports, file downloads for exports.

Uploads are ``multipart/form-data`` with one or more ``files``; they are spooled to a
temporary folder (at most :data:`MAX_UPLOAD` bytes each), imported in one transaction
and deleted. The answer is the same summary the CLI prints with ``--json``.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response

from ssaplan.core.deps import AudienceQuery, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import file_response
from ssaplan.ingest.exports import ExportService
from ssaplan.ingest.schemas import (
    ExportQuery,
    ForeignAssistanceImportPublic,
    IatiExportQuery,
    IatiImportPublic,
    ProgramsImportPublic,
)
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.visibility import withheld_headers

router = APIRouter(prefix="/api", tags=["data"])

Importer = Annotated[Actor, Depends(requires("data:import"))]
Exporter = Annotated[Actor, Depends(requires("data:export"))]
Files = Annotated[list[UploadFile], File(description="one or more files")]

SkipInvalid = Annotated[
    bool,
    Query(
        description="write the valid records and list the skipped ones (default: all or nothing)"
    ),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 1024**3  # 1 GiB per file; the IATI reader streams, so size costs time, not memory
CHUNK = 1024 * 1024


@contextmanager
def spooled(uploads: list[UploadFile]) -> Iterator[tuple[list[Path], list[str]]]:
    """The uploads as files in a private temporary folder, with their original names."""
    if not uploads:
        raise BadRequest("no file uploaded: send one or more 'files' parts")
    folder = Path(tempfile.mkdtemp(prefix="ssaplan-upload-"))
    try:
        paths, names = [], []
        for i, upload in enumerate(uploads):
            name = PurePath(upload.filename or f"upload-{i}").name or f"upload-{i}"
            path = folder / f"{i:04d}-{name}"
            size = 0
            with path.open("wb") as out:
                while chunk := upload.file.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_UPLOAD:
                        raise BadRequest(
                            f"{name} is larger than {MAX_UPLOAD // 1024**2} MB: import it with "
                            "the command line (ssaplan import ...)"
                        )
                    out.write(chunk)
            paths.append(path)
            names.append(name)
        yield paths, names
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/import/iati", response_model=IatiImportPublic, response_model_exclude_unset=True)
def import_iati(
    store: StoreDep,
    actor: Importer,
    files: Files,
    skip_invalid: SkipInvalid = False,
    as_portfolio: Annotated[
        bool, Query(description="import as programs of the shared portfolio")
    ] = False,
    marking: Annotated[
        str | None,
        Query(max_length=200, description="marking of every donor activity (default U)"),
    ] = None,
    releasable_to: Annotated[
        list[str] | None,
        Query(
            max_length=40,
            description="partners (ISO3) and organizations the donor activities may be "
            "disclosed to",
        ),
    ] = None,
) -> dict[str, Any]:
    """Import IATI activity files (1.01-1.05, 2.01-2.03) as donor activities, or as
    programs (``as_portfolio``; publishers that are not a known U.S. agency get your
    agency)."""
    with spooled(files) as (paths, names), unit_of_work(store) as session:
        return IngestService(session, actor).import_iati(
            paths,
            names=names,
            as_portfolio=as_portfolio,
            skip_invalid=skip_invalid,
            fallback_agency=actor.agency_id or "State",
            marking=marking,
            releasable_to=releasable_to,
        )


@router.post(
    "/import/foreign-assistance",
    response_model=ForeignAssistanceImportPublic,
    response_model_exclude_unset=True,
)
def import_foreign_assistance(
    store: StoreDep,
    actor: Importer,
    files: Files,
    skip_invalid: SkipInvalid = False,
    all_sectors: Annotated[
        bool, Query(description="take every ledger activity, not only the security sector")
    ] = False,
) -> dict[str, Any]:
    """Import U.S. foreign-assistance CSV files (activity ledgers, country totals, budget
    tables by country and account)."""
    with spooled(files) as (paths, names), unit_of_work(store) as session:
        return IngestService(session, actor).import_foreign_assistance(
            paths, names=names, skip_invalid=skip_invalid, all_sectors=all_sectors
        )


@router.post(
    "/import/programs", response_model=ProgramsImportPublic, response_model_exclude_unset=True
)
def import_programs(
    store: StoreDep, actor: Importer, files: Files, skip_invalid: SkipInvalid = False
) -> dict[str, Any]:
    """Import programs from the planners' workbook (.xlsx) or a CSV (one file)."""
    if len(files) != 1:
        raise BadRequest("send exactly one workbook or CSV file")
    with spooled(files) as (paths, names), unit_of_work(store) as session:
        return IngestService(session, actor).import_programs(
            paths[0], name=names[0], skip_invalid=skip_invalid
        )


@router.get(
    "/export/iati",
    response_class=Response,
    responses=file_response("application/xml", "an IATI 2.03 activity file"),
)
def export_iati(
    store: StoreDep,
    actor: Exporter,
    query: Annotated[IatiExportQuery, Query()],
) -> Response:
    """The (filtered) portfolio as an IATI 2.03 file for ``audience`` (default: the
    public, releasable markings only); what was left out is counted in ``X-Withheld``
    (and by reason in ``X-Withheld-By``) and stated in an XML comment."""
    buffer = io.BytesIO()
    with store.session() as session:
        summary = ExportService(session, actor).iati(
            buffer,
            flt=query.filter(),
            reporting_org=query.reporting_org,
            reporting_org_name=query.reporting_org_name,
            audience=query.audience or "public",
        )
    return _download(
        buffer.getvalue(),
        "application/xml",
        "ssaplan-portfolio-iati.xml",
        {"X-Activities": str(summary["activities"]), **withheld_headers(summary)},
    )


@router.get(
    "/export/excel",
    response_class=Response,
    responses=file_response(XLSX, "the planners' workbook (.xlsx)"),
)
def export_excel(
    store: StoreDep,
    actor: Exporter,
    query: Annotated[ExportQuery, Query()],
) -> Response:
    """The planners' workbook of the (filtered) portfolio for ``audience``; a
    ``Withheld`` sheet and the ``X-Withheld`` headers say what it left out."""
    buffer = io.BytesIO()
    with store.session() as session:
        summary = ExportService(session, actor).excel(
            buffer, flt=query.filter(), audience=query.audience
        )
    return _download(buffer.getvalue(), XLSX, "ssaplan-programs.xlsx", withheld_headers(summary))


@router.get(
    "/export/csv",
    response_class=Response,
    responses=file_response("text/csv", "programs by fiscal year (CSV, UTF-8)"),
)
def export_csv(
    store: StoreDep,
    actor: Exporter,
    query: Annotated[ExportQuery, Query()],
) -> Response:
    """Programs as CSV, one row per program and fiscal year (formula-safe), for
    ``audience``; a last ``# ...`` row and the ``X-Withheld`` headers say what it left
    out."""
    buffer = io.StringIO(newline="")
    with store.session() as session:
        summary = ExportService(session, actor).csv(
            buffer, flt=query.filter(), audience=query.audience
        )
    return _download(
        buffer.getvalue().encode("utf-8"),
        "text/csv; charset=utf-8",
        "ssaplan-programs.csv",
        withheld_headers(summary),
    )


@router.get(
    "/export/brief",
    response_class=Response,
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}},
            "description": "a country brief (Markdown, or HTML with format=html)",
        },
        404: {"description": "no such country"},
    },
)
def export_brief(
    store: StoreDep,
    actor: Exporter,
    country: Annotated[str, Query(min_length=1, max_length=200, description="ISO3 or name")],
    audience: AudienceQuery = None,
    format: Annotated[Literal["markdown", "html"], Query()] = "markdown",  # noqa: A002 - the parameter's public name
) -> Response:
    """A country brief: the country's programs, money and status, for ``audience``,
    with a sentence (and the ``X-Withheld`` headers) saying what it withheld."""
    buffer = io.StringIO()
    with store.session() as session:
        summary = ExportService(session, actor).brief(
            buffer, country=country, audience=audience, fmt=format
        )
    media = "text/html; charset=utf-8" if format == "html" else "text/markdown; charset=utf-8"
    ext = "html" if format == "html" else "md"
    return _download(
        buffer.getvalue().encode("utf-8"),
        media,
        f"ssaplan-brief-{summary['country']}.{ext}",
        withheld_headers(summary),
    )


def _download(
    body: bytes, media_type: str, filename: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
