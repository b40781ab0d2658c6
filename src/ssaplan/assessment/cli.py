"""``ssaplan assess`` and ``ssaplan import indicators``: thin wrappers over the services."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(p.rglob("*.csv")) if p.is_dir() else [p])
    return out


def import_indicators(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="tidy CSV (iso3, year, measure, value) or a public layout (WGI, FSI, "
            "Freedom House, HDI, CPIA, WJP); a folder imports every CSV in it",
        ),
    ],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="write the valid cells and list the malformed ones"),
    ] = False,
    source: Annotated[
        str | None,
        typer.Option(help="source name for tidy rows without a source column (default: file name)"),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import partner indicator tables; nothing is written if any cell is malformed."""
    from ssaplan.assessment.indicators.reader import read_indicator_file
    from ssaplan.assessment.indicators.service import IndicatorService
    from ssaplan.core.permissions import Actor

    st = state(ctx, db, as_json)
    paths = _files(files)
    store = open_store(st)
    parsed = [read_indicator_file(p, default_source=source) for p in paths]
    with store.transaction() as session:
        summary = IndicatorService(session, Actor.operator()).import_files(
            parsed, skip_invalid=skip_invalid
        )
    data = summary.as_dict()

    def human() -> None:
        for f in summary.by_file:
            info(
                f"{f.file}: {f.layout}, {f.observations} observations ({f.created} new, "
                f"{f.updated} updated, {f.unchanged} unchanged), {f.countries} countries"
            )
        info(
            f"imported {summary.observations} observations of {len(summary.measure_names)} "
            f"measures for {summary.countries} countries from {len(summary.by_file)} file(s)"
        )
        for u in summary.unmatched:
            info(f"  unmatched: {u.file} row {u.row}: {u.name!r} ({u.rows} rows; {u.reason})")
        for u in summary.not_countries:
            info(f"  not a country: {u.file} row {u.row}: {u.name!r} ({u.reason})")
        for p in summary.skipped:
            info(f"  skipped: {p.file} line {p.line} {p.column}: {p.reason}")
        for p in summary.ignored:
            info(f"  ignored: {p.file} line {p.line} {p.column}: {p.reason}")

    emit(st, data, human)


def _framework(spec: str) -> Any:
    """A framework from a CSV file path, or a stored ``name`` / ``name@version``."""
    from ssaplan.assessment.framework import parse_framework

    path = Path(spec)
    if path.suffix.lower() == ".csv" or path.exists():
        from ssaplan.core.errors import BadRequest

        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise BadRequest(f"cannot read framework {spec}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{spec}: the framework file is not UTF-8 text") from exc
        name = re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-") or "framework"
        return parse_framework(text, name=name, where=path.name)
    return spec


def assess(
    ctx: typer.Context,
    year: Annotated[
        int | None,
        typer.Option(
            help="assessment year (default: the latest year covering the most indicators)"
        ),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(
            metavar="FILE.csv|NAME[@VERSION]",
            help="framework CSV (measure, construct, direction, measure_weight, "
            "construct_weight) or a stored framework (default: the current 'default')",
        ),
    ] = None,
    draws: Annotated[
        int, typer.Option(help="Monte Carlo draws of construct weights (0: no sensitivity)")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="seed of the draws: same seed, same numbers")] = 2013,
    save: Annotated[
        bool,
        typer.Option("--save", help="save the assessment as a record (default: only print it)"),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", hidden=True, help="accepted for old scripts: printing is the default"
        ),
    ] = False,
    note: Annotated[str, typer.Option(help="a note kept with the saved assessment")] = "",
    export_framework: Annotated[
        Path | None,
        typer.Option(
            "--export-framework",
            metavar="FILE.csv",
            help="write the framework as CSV to FILE.csv instead of assessing",
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assess partner propensity and priority and print the result; --save keeps it as a record."""
    from ssaplan.assessment.framework import Framework
    from ssaplan.assessment.run import Settings
    from ssaplan.assessment.service import AssessmentService
    from ssaplan.core.permissions import Actor

    st = state(ctx, db, as_json)
    store = open_store(st)
    actor = Actor.operator()
    spec = _framework(framework) if framework else None
    with store.transaction() as session:
        service = AssessmentService(session, actor)
        fw: Framework | None = spec if isinstance(spec, Framework) else None
        if isinstance(spec, str):
            fw = service.policy.framework_spec(spec)
        if export_framework is not None:
            fw = fw or service.policy.framework()
            export_framework.write_text(fw.to_csv(), encoding="utf-8")
            emit(
                st,
                {"framework": fw.label, "sha256": fw.sha256, "file": str(export_framework)},
                lambda: info(f"wrote framework {fw.label} to {export_framework}"),
            )
            return
        run = service.run(year=year, framework=fw, settings=Settings(draws=draws, seed=seed))
        assessment_id = service.save(run, note=note) if save and not dry_run else None
    data = run.as_dict()
    data["id"] = assessment_id

    def human() -> None:
        rows = data["countries"]
        out = [
            f"{'rank':>4}  {'90% interval':<12} {'iso3':<5}{'country':<28}{'propensity':>10}"
            f"{'priority':>9}{'complete':>9}"
        ]
        for r in rows[:25]:
            interval = f"{r['rank_p05']}-{r['rank_p95']}" if r["rank_p05"] else "-"
            out.append(
                f"{r['rank'] or '-':>4}  {interval:<12} {r['iso3']:<5}{r['name'][:27]:<28}"
                f"{_fmt(r['propensity']):>10}{_fmt(r['priority']):>9}"
                f"{r['completeness']:>8.0%}{' !' if r['flagged'] else ''}"
            )
        if len(rows) > 25:
            out.append(f"  ... {len(rows) - 25} more (use --json for all)")
        sys.stdout.write("\n".join(out) + "\n")
        info(run.summary())
        if assessment_id is not None:
            info(f"saved as assessment {assessment_id}")
        else:
            info("not saved (add --save to keep it as a record)")

    emit(st, data, human)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
