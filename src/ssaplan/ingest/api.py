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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response

from ssaplan.core.deps import StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import file_response
from ssaplan.ingest.exports import ExportService
from ssaplan.ingest.iati_export import DEFAULT_REPORTING_ORG, DEFAULT_REPORTING_ORG_NAME
from ssaplan.ingest.schemas import (
    ForeignAssistanceImportPublic,
    IatiImportPublic,
    ProgramsImportPublic,
)
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.filters import ProgramFilter

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
    flt: Annotated[ProgramFilter, Query()],
    reporting_org: Annotated[str, Query(max_length=100)] = DEFAULT_REPORTING_ORG,
    reporting_org_name: Annotated[str, Query(max_length=200)] = DEFAULT_REPORTING_ORG_NAME,
) -> Response:
    """The (filtered) portfolio as an IATI 2.03 file; programs whose marking is not
    releasable are left out (``X-Withheld`` says how many)."""
    buffer = io.BytesIO()
    with store.session() as session:
        summary = ExportService(session, actor).iati(
            buffer, flt=flt, reporting_org=reporting_org, reporting_org_name=reporting_org_name
        )
    return _download(
        buffer.getvalue(),
        "application/xml",
        "ssaplan-portfolio-iati.xml",
        {"X-Activities": str(summary["activities"]), "X-Withheld": str(summary["withheld"])},
    )


@router.get(
    "/export/excel",
    response_class=Response,
    responses=file_response(XLSX, "the planners' workbook (.xlsx)"),
)
def export_excel(
    store: StoreDep, actor: Exporter, flt: Annotated[ProgramFilter, Query()]
) -> Response:
    """The planners' workbook of the (filtered) portfolio."""
    buffer = io.BytesIO()
    with store.session() as session:
        ExportService(session, actor).excel(buffer, flt=flt)
    return _download(buffer.getvalue(), XLSX, "ssaplan-programs.xlsx")


@router.get(
    "/export/csv",
    response_class=Response,
    responses=file_response("text/csv", "programs by fiscal year (CSV, UTF-8)"),
)
def export_csv(
    store: StoreDep, actor: Exporter, flt: Annotated[ProgramFilter, Query()]
) -> Response:
    """Programs as CSV, one row per program and fiscal year (formula-safe)."""
    buffer = io.StringIO(newline="")
    with store.session() as session:
        ExportService(session, actor).csv(buffer, flt=flt)
    return _download(
        buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8", "ssaplan-programs.csv"
    )


def _download(
    body: bytes, media_type: str, filename: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
