"""``ssaplan import ...`` and ``ssaplan export ...``: the command groups for data in and out.

Thin: parse the options, open one transaction, call :class:`~ssaplan.ingest.service.
IngestService` (or :class:`~ssaplan.ingest.exports.ExportService`), render the summary.
See ``docs/formats.md`` for every format and the ``--json`` summaries.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.clikit import CliState, DbOpt, JsonOpt, emit, info, open_store, progress, state
from ssaplan.core.store import Store

import_app = typer.Typer(
    help="Bring data in: IATI, foreign-assistance CSV, indicators, programs.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Send data out: IATI XML, Excel workbook, CSV, country briefs.", no_args_is_help=True
)

FilesArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="FILE...", help="files to import", exists=False, dir_okay=False, show_default=False
    ),
]
SkipOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="write the valid records and list every skipped one with its reason "
        "(default: nothing is written unless every file is valid)",
    ),
]


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


@import_app.command("iati")
def import_iati(
    ctx: typer.Context,
    files: FilesArg,
    as_portfolio: Annotated[
        bool,
        typer.Option(
            "--as-portfolio",
            help="import the activities as programs of the shared portfolio (default: as "
            "other donors' activities, for coordination)",
        ),
    ] = False,
    skip_invalid: SkipOpt = False,
    agency: Annotated[
        str,
        typer.Option(
            help="with --as-portfolio: agency of activities whose publisher is not a known "
            "U.S. agency (iati_agencies.csv)"
        ),
    ] = "State",
    marking: Annotated[
        str | None,
        typer.Option(help="marking of every donor activity imported (U, SBU, CUI; default U)"),
    ] = None,
    releasable_to: Annotated[
        str | None,
        typer.Option(
            "--releasable-to",
            help="partners and organizations the activities may be disclosed to, separated "
            "by ; (e.g. 'GBR;NATO')",
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import IATI activity files (versions 1.01-1.05 and 2.01-2.03)."""
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.service import IngestService

    st = state(ctx, db, as_json)
    with (
        _opened(st) as store,
        progress(f"importing {len(files)} IATI file(s)", total=_size(files)) as advance,
        store.transaction() as session,
    ):
        summary = IngestService(session, Actor.operator()).import_iati(
            files,
            as_portfolio=as_portfolio,
            skip_invalid=skip_invalid,
            fallback_agency=agency,
            progress=advance,
            marking=marking,
            releasable_to=(
                [c.strip() for c in releasable_to.split(";") if c.strip()]
                if releasable_to is not None
                else None
            ),
        )

    def human() -> None:
        versions = ", ".join(f"{v}: {n}" for v, n in sorted(summary["versions"].items()))
        where = "programs" if as_portfolio else "donor activities"
        info(
            f"imported {summary['activities']} activities as {where} from {summary['files']} "
            f"file(s) ({versions or 'none'}): {summary['transactions']} transactions, "
            f"{summary['budgets']} budgets, {summary['planned_disbursements']} planned "
            "disbursements"
        )
        if as_portfolio:
            p = summary["portfolio"]
            fb = summary["agency_fallbacks"]
            info(
                f"portfolio: {p['created']} created, {p['updated']} updated, "
                f"{p['unchanged']} unchanged; {fb['activities']} assigned to fallback agency "
                f"{fb['agency']}"
            )
        _list_skipped(summary["skipped"])
        for w in summary["warnings"]:
            info(f"note: {w}")

    emit(st, summary, human)


@import_app.command("foreign-assistance")
def import_foreign_assistance(
    ctx: typer.Context,
    files: FilesArg,
    skip_invalid: SkipOpt = False,
    all_sectors: Annotated[
        bool,
        typer.Option(
            "--all-sectors",
            help="take every activity of a ledger, not only the security sector",
        ),
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(help="text encoding of the files (default: UTF-8, else Windows-1252)"),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import foreign-assistance CSV: activity ledgers, country totals, CBJ budget tables."""
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.service import IngestService

    st = state(ctx, db, as_json)
    with (
        _opened(st) as store,
        progress(f"importing {len(files)} foreign-assistance file(s)") as _advance,
        store.transaction() as session,
    ):
        summary = IngestService(session, Actor.operator()).import_foreign_assistance(
            files, skip_invalid=skip_invalid, all_sectors=all_sectors, encoding=encoding
        )

    def human() -> None:
        p, f = summary["programs"], summary["figures"]
        info(
            f"read {summary['rows']} rows from {summary['files']} file(s) "
            f"({', '.join(f'{k}: {v}' for k, v in summary['layouts'].items())})"
        )
        info(
            f"programs: {p['created']} created, {p['updated']} updated, {p['unchanged']} "
            f"unchanged; figures: {f['inserted']} added, {f['updated']} updated"
        )
        for key, label in (
            ("out_of_scope", "rows outside the security sector (use --all-sectors)"),
            ("not_countries", "rows for areas that are not countries, not stored"),
            ("unmapped_accounts", "values under accounts not in the catalog"),
        ):
            if summary[key]:
                items = sorted(summary[key].items(), key=lambda kv: -kv[1])
                shown = "; ".join(f"{k} ({v})" for k, v in items[:12])
                more = f"; and {len(items) - 12} more" if len(items) > 12 else ""
                info(f"{sum(summary[key].values())} {label}: {shown}{more}")
        _list_skipped(summary["skipped"])
        for w in summary["warnings"]:
            info(f"note: {w}")

    emit(st, summary, human)


@import_app.command("programs")
def import_programs(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a .xlsx workbook or a .csv file")],
    skip_invalid: SkipOpt = False,
    force: Annotated[
        bool,
        typer.Option(
            help="overwrite programs changed since the file was exported (each is audited)"
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import programs from the planners' workbook (.xlsx) or a CSV."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.service import IngestService

    st = state(ctx, db, as_json)
    if not file.is_file():
        raise BadRequest(f"no such file: {file}")
    with _opened(st) as store, store.transaction() as session:
        summary = IngestService(session, Actor.operator()).import_programs(
            file, skip_invalid=skip_invalid, force=force
        )

    def human() -> None:
        info(
            f"{summary['rows']} rows, {summary['programs']} programs: {summary['created']} "
            f"created, {summary['updated']} updated, {summary['unchanged']} unchanged"
        )
        _list_skipped(summary["skipped"])

    emit(st, summary, human)


OutOpt = Annotated[Path, typer.Option("--out", help="file to write (replaced if it exists)")]
AudienceOpt = Annotated[
    str | None,
    typer.Option(
        "--audience",
        help="who the file is for: public, us-government, or a partner country or "
        "organization code (GBR, NATO); default us-government (IATI: public)",
    ),
]


def _withheld_line(summary: dict[str, Any]) -> str:
    by = summary.get("withheld_by", {})
    return (
        f"for {summary.get('audience')}: {summary.get('withheld', 0)} program(s) withheld "
        f"({by.get('above_ceiling', 0)} above the marking ceiling, "
        f"{by.get('not_releasable', 0)} not releasable to the audience)"
    )


@export_app.command("iati")
def export_iati(
    ctx: typer.Context,
    out: OutOpt,
    reporting_org: Annotated[
        str,
        typer.Option(
            "--reporting-org",
            help="IATI organisation identifier of the publisher (default: US-USAGOV, the "
            "U.S. Government's whole-of-government publisher)",
        ),
    ] = "US-USAGOV",
    reporting_org_name: Annotated[
        str, typer.Option("--reporting-org-name", help="its name")
    ] = "United States Government",
    audience: AudienceOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the portfolio as an IATI 2.03 activity file (by default for the public:
    releasable programs only)."""
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.exports import ExportService

    st = state(ctx, db, as_json)
    with _opened(st) as store, store.session() as session, _replacing(out, "wb") as fh:
        summary = ExportService(session, Actor.operator()).iati(
            fh,
            reporting_org=reporting_org,
            reporting_org_name=reporting_org_name,
            audience=audience or "public",
        )
    summary["out"] = str(out)
    emit(
        st,
        summary,
        lambda: info(
            f"wrote {summary['activities']} activities to {out} (IATI 2.03); "
            + _withheld_line(summary)
        ),
    )


@export_app.command("excel")
def export_excel(
    ctx: typer.Context,
    out: OutOpt,
    audience: AudienceOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the planners' workbook: one row per program and fiscal year, drop-down lists."""
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.exports import ExportService

    st = state(ctx, db, as_json)
    with _opened(st) as store, store.session() as session, _replacing(out, "wb") as fh:
        summary = ExportService(session, Actor.operator()).excel(fh, audience=audience)
    summary["out"] = str(out)
    emit(
        st,
        summary,
        lambda: info(
            f"wrote {summary['programs']} programs ({summary['rows']} rows) to {out}; "
            + _withheld_line(summary)
        ),
    )


@export_app.command("csv")
def export_csv(
    ctx: typer.Context,
    out: OutOpt,
    audience: AudienceOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write programs as CSV (one row per program and fiscal year; formula-safe)."""
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.exports import ExportService

    st = state(ctx, db, as_json)
    with _opened(st) as store, store.session() as session, _replacing(out, "w") as fh:
        summary = ExportService(session, Actor.operator()).csv(fh, audience=audience)
    summary["out"] = str(out)
    emit(
        st,
        summary,
        lambda: info(
            f"wrote {summary['programs']} programs ({summary['rows']} rows) to {out}; "
            + _withheld_line(summary)
        ),
    )


@export_app.command("brief")
def export_brief(
    ctx: typer.Context,
    country: Annotated[
        str, typer.Option("--country", help="the partner country: ISO3 code or name")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (default: standard output)")
    ] = None,
    audience: AudienceOpt = None,
    html: Annotated[bool, typer.Option("--html", help="HTML instead of Markdown")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a country brief: the country's programs, money and status for an audience,
    saying what it withheld (Markdown, or HTML with --html)."""
    import io

    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor
    from ssaplan.ingest.exports import ExportService

    st = state(ctx, db, as_json)
    if out is None and as_json:
        raise BadRequest("--json prints the summary on standard output: give --out FILE")
    fmt = "html" if html else "markdown"
    with _opened(st) as store, store.session() as session:
        buffer = io.StringIO()
        summary = ExportService(session, Actor.operator()).brief(
            buffer, country=country, audience=audience, fmt=fmt
        )
    if out is None:
        sys.stdout.write(buffer.getvalue())
        info(_withheld_line(summary))
        return
    with _replacing(out, "w") as fh:
        fh.write(buffer.getvalue())
    summary["out"] = str(out)
    emit(
        st,
        summary,
        lambda: info(
            f"wrote the brief for {summary['country']} to {out}; " + _withheld_line(summary)
        ),
    )


@contextmanager
def _opened(st: CliState) -> Iterator[Store]:
    """The command's database, closed (connections returned) when the command ends."""
    store = open_store(st)
    try:
        yield store
    finally:
        store.dispose()


@contextmanager
def _replacing(target: Path, mode: str) -> Iterator[Any]:
    """A temporary file next to ``target`` that replaces it only if all went well."""
    directory = target.resolve().parent
    if not directory.is_dir():
        from ssaplan.core.errors import BadRequest

        raise BadRequest(f"cannot write {target}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # what a plain open() would give, not mkstemp's 0600
    try:
        if "b" in mode:
            with os.fdopen(fd, mode) as fh:
                yield fh
        else:
            with os.fdopen(fd, mode, encoding="utf-8", newline="") as fh:
                yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _list_skipped(skipped: list[dict[str, Any]]) -> None:
    for s in skipped:
        who = f" {s['identifier']}" if s.get("identifier") else ""
        line = f" line {s['line']}" if s.get("line") else ""
        info(f"skipped {s['file']}{line}{who}: {s['reason']}")
