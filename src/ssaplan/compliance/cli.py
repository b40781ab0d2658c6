"""``ssaplan comply ...``: eligibility, restrictions, rules, units and vetting on the command line.

Thin wrappers over :class:`ssaplan.compliance.service.ComplianceService`, acting as the
local operator (full rights, named in the audit trail). Every command keeps the house
contract: ``--db``, ``--json`` (one object on stdout), exit 0, 1 on a user error, 2 on
bad usage.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssaplan.clikit import CliState, DbOpt, JsonOpt, emit, info, open_store, state

if TYPE_CHECKING:
    from ssaplan.compliance.service import ComplianceService

app = typer.Typer(
    help="Statutory restrictions and human-rights vetting: who may receive assistance.",
    no_args_is_help=True,
)
restrictions_app = typer.Typer(help="The restrictions register.", no_args_is_help=True)
rules_app = typer.Typer(
    help="The compliance rules (a starting point for counsel).", no_args_is_help=True
)
units_app = typer.Typer(help="Units of foreign security forces.", no_args_is_help=True)
vetting_app = typer.Typer(help="Human-rights (Leahy) vetting.", no_args_is_help=True)
credible_app = typer.Typer(
    help="Credible information of gross violations of human rights.", no_args_is_help=True
)
app.add_typer(restrictions_app, name="restrictions")
app.add_typer(rules_app, name="rules")
app.add_typer(units_app, name="units")
app.add_typer(vetting_app, name="vetting")
app.add_typer(credible_app, name="credible")

FiscalYearOpt = Annotated[
    int | None,
    typer.Option("--fiscal-year", "--fy", min=1990, max=2100, help="only this U.S. fiscal year"),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="YYYY-MM-DD", help="judge vetting on this day (default: today)"
    ),
]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from ssaplan.core.errors import BadRequest

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{option}: {value!r} is not a date written YYYY-MM-DD") from None


@contextmanager
def _service(
    st: CliState, *, write: bool = False, today: date | None = None
) -> Iterator[ComplianceService]:
    from ssaplan.compliance.service import ComplianceService
    from ssaplan.core.permissions import Actor

    store = open_store(st)
    try:
        context = store.transaction() if write else store.session()
        with context as session:
            yield ComplianceService(session, Actor.operator(), today=today)
    finally:
        store.dispose()


def _read(path: Path) -> bytes:
    from ssaplan.core.errors import BadRequest

    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from exc


def _write(text: str) -> None:
    sys.stdout.write(text)


def _table(rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> None:
    for row in rows:
        cells = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(row, widths, strict=True)]
        sys.stdout.write(
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"
        )


# -- check -------------------------------------------------------------------------------
@app.command("check")
def check(
    ctx: typer.Context,
    fiscal_year: FiscalYearOpt = None,
    as_of: AsOfOpt = None,
    ineligible: Annotated[
        bool, typer.Option("--ineligible", help="list only the ineligible (text output)")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge every program-year: eligible or not, with every reason and citation.

    A program-year is judged against the restrictions in force during its U.S. fiscal
    year (October to September), per funding account, and the vetting of the units it
    assists. --json prints {"programs": [{"id", "fiscal_year", "eligible", "reasons":
    [{"rule", "citation", "text"}]}]}.
    """
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        verdicts = svc.eligibility(fiscal_year=fiscal_year, as_of=_day(as_of, "--as-of"))
    data = {"programs": [v.as_dict() for v in verdicts]}

    def human() -> None:
        rows: list[tuple[str, ...]] = [("id", "FY", "eligible", "reason")]
        for v in verdicts:
            if ineligible and v.eligible:
                continue
            blocking = [r for r in v.reasons if r.blocking]
            shown = blocking[0] if blocking else (v.reasons[0] if v.reasons else None)
            why = f"{shown.rule}: {shown.text}" if shown else ""
            more = f" (+{len(blocking) - 1} more)" if len(blocking) > 1 else ""
            rows.append(
                (v.program.code, str(v.fiscal_year), "yes" if v.eligible else "NO", why + more)
            )
        _table(rows, (28, 4, 8, 120))
        bad = sum(1 for v in verdicts if not v.eligible)
        info(f"{len(verdicts)} program-years judged; {bad} ineligible")

    emit(st, data, human)


# -- restrictions --------------------------------------------------------------------------
# The register's filters, as `restrictions list` and `restrictions export` take them.
CountryOpt = Annotated[str | None, typer.Option(help="ISO3 or name")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="restriction type, e.g. coup")]
InForceOpt = Annotated[
    str | None, typer.Option("--in-force-on", metavar="YYYY-MM-DD", help="in force on this day")
]


@restrictions_app.command("list")
def restrictions_list(
    ctx: typer.Context,
    country: CountryOpt = None,
    type: TypeOpt = None,
    in_force_on: InForceOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List restrictions with their waivers."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        items = svc.restrictions.search(
            country=country, type=type, in_force_on=_day(in_force_on, "--in-force-on")
        )
    data = {"items": [i.model_dump(mode="json") for i in items], "total": len(items)}

    def human() -> None:
        rows: list[tuple[str, ...]] = [
            ("id", "country", "type", "start", "end", "waivers", "citation")
        ]
        for r in items:
            waivers = "; ".join(
                f"{'|'.join(w.accounts)} {w.start}..{w.end or ''}" for w in r.waivers
            )
            rows.append(
                (
                    str(r.id),
                    f"{r.country_name} ({r.country})",
                    r.type,
                    str(r.start),
                    str(r.end or "open-ended"),
                    waivers or "-",
                    r.citation,
                )
            )
        _table(rows, (5, 28, 26, 10, 10, 30, 60))
        info(f"{len(items)} restrictions")

    emit(st, data, human)


@restrictions_app.command("import")
def restrictions_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            help="country, type, start, end, citation, waiver_accounts, waiver_start, "
            "waiver_end (and optionally waiver_citation, marking, releasable_to)",
        ),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load restrictions from a CSV file, all or nothing.

    A row group with the country, type and start of a stored restriction updates it;
    the others are added. Any problem is named by file, line and column, and nothing
    is written (exit 1).
    """
    st = state(ctx, db, as_json)
    raw = _read(file)
    with _service(st, write=True) as svc:
        report = svc.restrictions.import_csv(raw, name=file.name)

    def human() -> None:
        info(
            f"{report.file}: {report.rows} rows; {len(report.created)} restrictions added, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged"
        )
        for w in report.warnings:
            info(f"  warning: {'.'.join(str(p) for p in w.loc)}: {w.msg}")
        for rid, programs in report.affected_programs.items():
            if programs:
                info(
                    f"  restriction {rid} affects {len(programs)} program(s): {', '.join(programs)}"
                )

    emit(st, report.model_dump(mode="json"), human)


@restrictions_app.command("export")
def restrictions_export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of stdout")
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option(
            help="public, us-government, or a partner country or organization code "
            "(default: everything you may read)"
        ),
    ] = None,
    country: CountryOpt = None,
    type: TypeOpt = None,
    in_force_on: InForceOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the register as the restrictions CSV (with marking and releasable_to), for an
    audience; a last `# ...` row states what it withheld (the import skips it)."""
    import io

    st = state(ctx, db, as_json)
    buffer = io.StringIO(newline="")
    with _service(st) as svc:
        summary = svc.restrictions.export_csv(
            buffer,
            audience=audience,
            country=country,
            type=type,
            in_force_on=_day(in_force_on, "--in-force-on"),
        )
    text = buffer.getvalue()
    by = summary["withheld_by"]
    line = (
        f"{summary['restrictions']} restriction(s) for {summary['audience']}; "
        f"{summary['withheld']} withheld ({by['above_ceiling']} above the marking ceiling, "
        f"{by['not_releasable']} not releasable to {summary['audience']})"
    )
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            from ssaplan.core.errors import BadRequest

            raise BadRequest(f"cannot write {output}: {exc.strerror or exc}") from exc
        summary["file"] = str(output)
        emit(st, summary, lambda: info(f"wrote {output}: {line}"))
        return

    def human() -> None:
        _write(text)
        info(line)

    emit(st, {**summary, "csv": text}, human)


@restrictions_app.command("programs")
def restrictions_programs(
    ctx: typer.Context,
    restriction_id: Annotated[int, typer.Argument(metavar="ID", help="restriction id")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The programs a restriction reaches (blocked, waived or excepted) from this FY."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        restriction = svc.restrictions.input_of(restriction_id)
        first = svc.first_fiscal_year()
        programs = svc.affected_by(None, restriction)
    data = {"restriction": restriction_id, "from_fiscal_year": first, "programs": list(programs)}
    emit(st, data, lambda: _write("".join(f"{p}\n" for p in programs)))


# -- rules ----------------------------------------------------------------------------
@rules_app.command("list")
def rules_list(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The rules in force, each with its citation and summary."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        items = svc.rules.list_rules()
        loaded = svc.rules.loaded()
    data = {"items": [i.model_dump(mode="json") for i in items], "stored": loaded}

    def human() -> None:
        for r in items:
            sys.stdout.write(
                f"{r.id} (v{r.version}) — {r.restriction_type_name}; blocks "
                f"{', '.join(r.blocks_accounts)} for {r.recipients} recipients\n"
                f"  {r.citation}\n  {r.summary}\n"
            )
            for e in r.exceptions:
                sys.stdout.write(f"  exception {e.id}: {e.summary}\n")
        info(
            f"{len(items)} rules ({'stored' if loaded else 'the shipped defaults'}); a starting "
            "point to be reviewed by counsel"
        )

    emit(st, data, human)


@rules_app.command("export")
def rules_export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of stdout")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the rules in force as a rules file (TOML) to edit with counsel."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        text = svc.rules.export_toml()
    if output is not None:
        output.write_text(text, encoding="utf-8")
        emit(st, {"file": str(output)}, lambda: info(f"wrote {output}"))
        return
    emit(st, {"toml": text}, lambda: _write(text))


@rules_app.command("import")
def rules_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE.toml", help="a rules file")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace the rules with a rules file, all or nothing; every problem is named."""
    from ssaplan.core.errors import BadRequest

    st = state(ctx, db, as_json)
    raw = _read(file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{file.name}: not UTF-8 text") from exc
    with _service(st, write=True) as svc:
        report = svc.rules.import_toml(text, name=file.name)
    emit(
        st,
        report.model_dump(mode="json"),
        lambda: info(
            f"{file.name}: {len(report.created)} rules added, {len(report.updated)} changed, "
            f"{len(report.unchanged)} unchanged, {len(report.deleted)} removed"
        ),
    )


# -- units -----------------------------------------------------------------------------
@units_app.command("list")
def units_list(
    ctx: typer.Context,
    country: Annotated[str | None, typer.Option(help="ISO3 or name")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered units of foreign security forces."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        items = svc.vetting.units(country=country)
    data = {"items": [i.model_dump(mode="json") for i in items], "total": len(items)}

    def human() -> None:
        rows: list[tuple[str, ...]] = [("id", "name", "country", "type", "part of")]
        rows += [
            (str(u.id), u.name, u.country_name, u.type_name, u.parent_name or "-") for u in items
        ]
        _table(rows, (5, 44, 24, 26, 40))

    emit(st, data, human)


@units_app.command("add")
def units_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="the unit's name")],
    country: Annotated[str, typer.Option(help="ISO3 or name")],
    type: Annotated[
        str, typer.Option("--type", help="institution type, e.g. armed_forces, police")
    ],
    parent: Annotated[int | None, typer.Option(help="id of the unit it belongs to")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a unit of a foreign security force."""
    from ssaplan.compliance.schemas import UnitCreate

    st = state(ctx, db, as_json)
    with _service(st, write=True) as svc:
        unit = svc.vetting.create_unit(
            UnitCreate(name=name, country=country, type=type, parent=parent)
        )
    emit(st, unit.model_dump(mode="json"), lambda: info(f"unit {unit.id} {unit.name} registered"))


@app.command("assisted")
def assisted(
    ctx: typer.Context,
    fiscal_year: FiscalYearOpt = None,
    country: Annotated[str | None, typer.Option(help="ISO3 or name")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The current list of assisted units per country, with their vetting state today."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        found = svc.assisted_units(fiscal_year=fiscal_year, country=country)
    data = {"countries": [c.model_dump(mode="json") for c in found]}

    def human() -> None:
        for c in found:
            sys.stdout.write(f"{c.name} ({c.country}), FY{c.fiscal_year}\n")
            for u in c.units:
                flag = "cleared" if u.cleared else u.status.upper()
                sys.stdout.write(
                    f"  {u.unit}  {u.name}  [{flag}]  {', '.join(p.id for p in u.programs)}\n"
                )

    emit(st, data, human)


# -- vetting ------------------------------------------------------------------------------
@vetting_app.command("list")
def vetting_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="pending, approved, suspended or denied")
    ] = None,
    program: Annotated[str | None, typer.Option(help="program id")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vetting requests and decisions, newest first."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        items = svc.vetting.requests(status=status, program=program)
    data = {"items": [i.model_dump(mode="json") for i in items], "total": len(items)}

    def human() -> None:
        rows: list[tuple[str, ...]] = [
            ("id", "subject", "program", "status", "requested", "decided", "valid through")
        ]
        rows += [
            (
                str(v.id),
                v.unit_name or v.individual or "",
                v.program or "-",
                v.status,
                str(v.requested),
                str(v.decided or "-"),
                str(v.valid_through or "-"),
            )
            for v in items
        ]
        _table(rows, (5, 40, 28, 10, 10, 10, 13))

    emit(st, data, human)


@vetting_app.command("request")
def vetting_request(
    ctx: typer.Context,
    program: Annotated[str, typer.Option(help="id of the program that would assist them")],
    unit: Annotated[int | None, typer.Option(help="unit id")] = None,
    individual: Annotated[str | None, typer.Option(help="the person's name or identifier")] = None,
    requested: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="default: today")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Request vetting of a unit or an individual for a program."""
    from ssaplan.compliance.schemas import VettingCreate

    st = state(ctx, db, as_json)
    with _service(st, write=True) as svc:
        v = svc.vetting.create_request(
            VettingCreate(
                unit=unit,
                individual=individual,
                program=program,
                requested=_day(requested, "--requested"),
            )
        )
    emit(st, v.model_dump(mode="json"), lambda: info(f"vetting request {v.id} recorded (pending)"))


@vetting_app.command("decide")
def vetting_decide(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(metavar="ID", help="vetting request id")],
    status: Annotated[str, typer.Option(help="approved, suspended or denied")],
    on: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="decision day (default: today)")
    ] = None,
    validity_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="validity of an approval")
    ] = None,
    note: Annotated[str | None, typer.Option(help="a note for the record")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a vetting decision."""
    from ssaplan.compliance.schemas import VettingUpdate

    st = state(ctx, db, as_json)
    with _service(st, write=True) as svc:
        current = svc.vetting.request(request_id)
        v = svc.vetting.update_request(
            request_id,
            VettingUpdate(
                status=status,  # pydantic checks it is one of the four
                decided=_day(on, "--on"),
                validity_days=validity_days,
                note=note,
                version=current.version,
            ),
        )
    emit(
        st,
        v.model_dump(mode="json"),
        lambda: info(
            f"vetting request {v.id}: {v.status} on {v.decided}"
            + (f", valid through {v.valid_through}" if v.valid_through else "")
        ),
    )


@vetting_app.command("expiring")
def vetting_expiring(
    ctx: typer.Context,
    within_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="default: the setting (60)")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approvals valid today that lapse soon."""
    st = state(ctx, db, as_json)
    with _service(st) as svc:
        found = svc.vetting.expiring(within_days=within_days)
    data = {
        "items": [
            {"vetting": v.model_dump(mode="json"), "expires_on": e.isoformat(), "days_left": d}
            for v, e, d in found
        ]
    }

    def human() -> None:
        for v, e, d in found:
            sys.stdout.write(
                f"{v.id}  {v.unit_name or v.individual}  {v.program or '-'}  lapses on {e} "
                f"({d} day{'s' if d != 1 else ''} left)\n"
            )
        info(f"{len(found)} approvals lapse soon")

    emit(st, data, human)


# -- credible information -------------------------------------------------------------------
@credible_app.command("add")
def credible_add(
    ctx: typer.Context,
    unit: Annotated[int, typer.Option(help="unit id")],
    reported: Annotated[str, typer.Option(metavar="YYYY-MM-DD", help="day it was reported")],
    description: Annotated[str, typer.Option(help="what was reported")],
    source: Annotated[str, typer.Option(help="where it came from")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record credible information: the unit is ineligible until remediation is recorded."""
    from ssaplan.compliance.schemas import CredibleCreate

    st = state(ctx, db, as_json)
    day = _day(reported, "--reported")
    assert day is not None  # noqa: S101  (a required option)
    with _service(st, write=True) as svc:
        c = svc.vetting.create_credible(
            CredibleCreate(unit=unit, reported=day, description=description, source=source)
        )
    emit(st, c.model_dump(mode="json"), lambda: info(f"credible information {c.id} recorded"))


@credible_app.command("remediate")
def credible_remediate(
    ctx: typer.Context,
    info_id: Annotated[int, typer.Argument(metavar="ID", help="credible-information record id")],
    on: Annotated[str, typer.Option(metavar="YYYY-MM-DD", help="day the remediation is recorded")],
    steps: Annotated[str, typer.Option(help="the corrective steps taken")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the remediation of credible information (the unit may be assisted again)."""
    from ssaplan.compliance.schemas import CredibleUpdate

    st = state(ctx, db, as_json)
    with _service(st, write=True) as svc:
        current = svc.vetting.credible_one(info_id)
        c = svc.vetting.update_credible(
            info_id,
            CredibleUpdate(
                remediated_on=_day(on, "--on"), remediation=steps, version=current.version
            ),
        )
    emit(
        st,
        c.model_dump(mode="json"),
        lambda: info(f"credible information {c.id} remediated on {c.remediated_on}"),
    )


# -- settings ---------------------------------------------------------------------------
@app.command("settings")
def settings(
    ctx: typer.Context,
    validity_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="default validity of an approval")
    ] = None,
    alert_days: Annotated[
        int | None, typer.Option(min=1, max=365, help="expiry-alert window")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or change the compliance settings (approval validity, expiry alerts)."""
    from ssaplan.compliance.schemas import SettingsUpdate

    st = state(ctx, db, as_json)
    write = validity_days is not None or alert_days is not None
    with _service(st, write=write) as svc:
        if write:
            result = svc.vetting.update_settings(
                SettingsUpdate(validity_days=validity_days, alert_days=alert_days)
            )
        else:
            result = svc.vetting.settings()
    emit(
        st,
        result.model_dump(mode="json"),
        lambda: _write(
            f"approvals valid {result.validity_days} days; alerts {result.alert_days} days ahead\n"
        ),
    )
