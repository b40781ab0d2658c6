"""The ``ssaplan`` command: one sub-command group per domain.

See :mod:`ssaplan.clikit` for the contract every command keeps (``--db``, ``--json``,
exit codes).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated, Any

import pydantic
import sqlalchemy.exc
import typer

from ssaplan import __version__
from ssaplan.clikit import CliState, DbOpt, JsonOpt, db_url, emit, info, open_store, state
from ssaplan.core.errors import BadRequest, Detail, Invalid, SsaplanError
from ssaplan.ingest.cli import export_app, import_app
from ssaplan.reference.catalog import ReferenceDataError

app = typer.Typer(
    name="ssaplan",
    help="Plan, allocate, monitor and evaluate security sector assistance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
programs_app = typer.Typer(help="The shared portfolio of programs.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
reference_app = typer.Typer(
    help="Reference data: taxonomy, countries, accounts.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(programs_app, name="programs")
app.add_typer(audit_app, name="audit")
app.add_typer(reference_app, name="reference")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

# Domains register their own commands here, each at its own marker.
# [ingest commands]
# [assessment commands]
from ssaplan.assessment.cli import register as _register_assessment  # noqa: E402

_register_assessment(app, import_app)
# [allocation commands]
from ssaplan.allocation.cli import allocate  # noqa: E402

app.command("allocate")(allocate)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ssaplan {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """Plan, allocate, monitor and evaluate security sector assistance."""
    ctx.obj = CliState(db=db, json=as_json)


# -- set-up ------------------------------------------------------------------------
@app.command()
def init(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Create or upgrade the database and load the reference data. Safe to re-run."""
    from ssaplan.bootstrap import initialize

    st = state(ctx, db, as_json)
    store = open_store(st, require_schema=False)
    report = initialize(store)
    data = {
        "db": store.url,
        "revisions": list(report.revisions),
        "reference": {"inserted": report.reference.inserted, "updated": report.reference.updated},
    }
    emit(
        st,
        data,
        lambda: info(
            f"database {store.url} is ready (schema {', '.join(report.revisions)}; "
            f"{sum(report.reference.inserted.values())} reference rows added, "
            f"{sum(report.reference.updated.values())} updated)"
        ),
    )


@app.command()
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="seed of the generator; same seed, same world")] = 2013,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing (and succeed) if programs already exist")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load the illustrative demo world (generated, labelled as such) and demo users."""
    from ssaplan.bootstrap import initialize
    from ssaplan.demo import load_demo

    st = state(ctx, db, as_json)
    store = open_store(st, require_schema=False)
    initialize(store)
    result = load_demo(store, seed=seed, if_empty=if_empty)

    def human() -> None:
        if result.skipped:
            info(f"{store.url} already holds {result.programs} programs; demo not loaded again")
            return
        sys.stdout.write(
            f"Loaded the ILLUSTRATIVE demo world into {store.url}: {result.programs} programs, "
            f"{result.partners} partners, {result.budget_lines} budget lines "
            f"(FY{result.first_fy}-FY{result.last_fy}).\n"
            "Demo users (shown once; also in the README):\n"
        )
        for u in result.users:
            sys.stdout.write(
                f"  {u['username']:<16} {u['password']:<24} {u['role']:<8} {u['agency']}\n"
            )

    emit(st, result.as_dict(), human)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve the workbench and the JSON API."""
    import uvicorn

    st = state(ctx, db, as_json)
    store = open_store(st)  # refuse early, with a clear message, if not initialized
    store.dispose()
    os.environ["SSAPLAN_DB"] = db_url(st)
    info(f"ssaplan serving {db_url(st)} at http://{host}:{port}  (Ctrl-C stops)")
    uvicorn.run(
        "ssaplan.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


# -- users -------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name (lowercase)")],
    role: Annotated[str, typer.Option(help="viewer, planner, analyst or admin")] = "viewer",
    agency: Annotated[
        str, typer.Option(help="agency id or name, e.g. State, DoD, USAID")
    ] = "State",
    full_name: Annotated[str, typer.Option(help="the person's name")] = "",
    password: Annotated[
        str | None,
        typer.Option(help="password (else $SSAPLAN_PASSWORD, else asked for)", show_default=False),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a user who can log in to the workbench and the API."""
    from ssaplan.core.auth import Actor
    from ssaplan.core.users import add_user, public

    st = state(ctx, db, as_json)
    secret = password or os.environ.get("SSAPLAN_PASSWORD")
    if not secret:
        if not sys.stdin.isatty():
            raise SsaplanError(
                "no password given: use --password, $SSAPLAN_PASSWORD, or a terminal"
            )
        secret = getpass.getpass(f"password for {username}: ")
    store = open_store(st)
    with store.transaction() as session:
        user = add_user(
            session,
            Actor.operator(),
            username=username,
            password=secret,
            role=role,
            agency=agency,
            full_name=full_name,
        )
        data = public(user)
    emit(st, data, lambda: info(f"added {data['username']} ({data['role']}, {data['agency']})"))


@user_app.command("list")
def user_list(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List users."""
    from ssaplan.core.auth import Actor
    from ssaplan.core.users import list_users, public

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        users = [public(u) for u in list_users(session, Actor.operator())]

    def human() -> None:
        for u in users:
            sys.stdout.write(
                f"{u['username']:<20} {u['role']:<8} {u['agency']:<10} {u['full_name']}\n"
            )

    emit(st, {"users": users}, human)


# -- programs ----------------------------------------------------------------------
@programs_app.command("list")
def programs_list(
    ctx: typer.Context,
    country: Annotated[str | None, typer.Option(help="partner country (ISO3 or name)")] = None,
    region: Annotated[
        str | None, typer.Option(help="bureau, combatant command, UN region or organization")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="agency (with its bureaus)")] = None,
    account: Annotated[str | None, typer.Option(help="funding account, e.g. FMF")] = None,
    fiscal_year: Annotated[
        int | None, typer.Option("--fiscal-year", "--fy", help="has a budget line in this FY")
    ] = None,
    status: Annotated[str | None, typer.Option(help="pipeline status")] = None,
    objective: Annotated[str | None, typer.Option(help="objective or goal id, e.g. G1.1")] = None,
    q: Annotated[str | None, typer.Option(help="words in id, title or description")] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="id, title, start, end, status, agency, account, planned, ... (- for descending)"
        ),
    ] = "id",
    limit: Annotated[int | None, typer.Option(help="at most this many (default: all)")] = None,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List programs of the shared portfolio, filtered."""
    from ssaplan.core.auth import Actor
    from ssaplan.portfolio.filters import ProgramFilter
    from ssaplan.portfolio.service import PortfolioService

    st = state(ctx, db, as_json)
    flt = ProgramFilter(
        country=country,
        region=region,
        agency=agency,
        account=account,
        fiscal_year=fiscal_year,
        status=status,
        objective=objective,
        q=q,
    )
    with open_store(st).session() as session:
        page = PortfolioService(session, Actor.operator()).list_programs(
            flt, limit=limit, offset=offset, sort=sort
        )

    def human() -> None:
        widths = (28, 52, 14, 10, 12, 12, 16)
        rows = [("id", "title", "agency", "account", "partners", "status", "planned $")]
        rows += [
            (
                p.id,
                p.title,
                p.agency,
                p.account or "",
                ",".join(p.countries + p.regions),
                p.status,
                f"{p.totals.planned:,}",
            )
            for p in page.items
        ]
        for row in rows:
            cells = [_fit(c, w) for c, w in zip(row, widths, strict=True)]
            sys.stdout.write("  ".join(cells[:-1]) + "  " + cells[-1].rjust(widths[-1]) + "\n")
        info(
            f"{len(page.items)} of {page.total} programs; planned ${page.totals.planned:,}, "
            f"obligated ${page.totals.obligated:,}, disbursed ${page.totals.disbursed:,}"
        )

    emit(st, page.model_dump(mode="json"), human)


@programs_app.command("show")
def programs_show(
    ctx: typer.Context,
    program_id: Annotated[str, typer.Argument(metavar="ID", help="program id")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one program with its budget and deliveries."""
    from ssaplan.core.auth import Actor
    from ssaplan.portfolio.service import PortfolioService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        p = PortfolioService(session, Actor.operator()).get(program_id)

    def human() -> None:
        out = [
            f"{p.id}  {p.title}",
            f"  status {p.status} · {p.agency} · {p.account or 'no account'} · marking {p.marking}",
            f"  partners {', '.join(p.countries + p.regions)} · {p.start} to {p.end}",
            f"  institution {p.institution_type or '-'} · level {p.level or '-'}"
            f" · purpose {p.purpose or '-'}"
            f" · objectives {', '.join(p.objectives) or '-'} · DAC {p.dac_code or '-'}",
        ]
        if p.description:
            out.append(f"  {p.description}")
        out.append("  FY      planned $     obligated $     disbursed $")
        for b in p.budget:
            out.append(f"  {b.fiscal_year}  {b.planned:>13,} {b.obligated:>15,} {b.disbursed:>15,}")
        for m in p.milestones:
            out.append(
                f"  delivery {m.name}: requested {m.requested_on or '-'}, "
                f"approved {m.approved_on or '-'}, "
                f"obligated {m.obligated_on or '-'}, delivered {m.delivered_on or '-'}"
            )
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, p.model_dump(mode="json"), human)


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


# -- audit ------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Check the audit trail's hash chain end to end; exit 1 if it was tampered with."""
    from ssaplan.core.audit import verify

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        result = verify(session)
    data = {
        "ok": result.ok,
        "records": result.records,
        "first_bad_id": result.first_bad_id,
        "reason": result.reason,
    }
    if not result.ok:
        emit(st, data, lambda: None)
        where = f" at record {result.first_bad_id}" if result.first_bad_id else ""
        raise SsaplanError(f"audit trail is not intact{where}: {result.reason}")
    emit(st, data, lambda: info(f"audit trail intact: {result.records} records"))


# -- reference ----------------------------------------------------------------------
REFERENCE_KINDS = (
    "institution_type",
    "level",
    "purpose",
    "country",
    "region",
    "agency",
    "account",
    "objective",
    "dac_code",
    "marking",
)


@reference_app.command("list")
def reference_list(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=", ".join(REFERENCE_KINDS))],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List one kind of reference data (from the shipped files)."""
    from dataclasses import asdict

    from ssaplan.reference.catalog import get_catalog

    st = state(ctx, db, as_json)
    key = kind.strip().lower().replace("-", "_").rstrip("s")
    if key == "countrie":
        key = "country"
    if key not in REFERENCE_KINDS:
        raise SsaplanError(
            f"unknown reference kind {kind!r}: use one of {', '.join(REFERENCE_KINDS)}"
        )
    table = get_catalog().table(key)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = [asdict(v) for v in table.values()]  # type: ignore[call-overload]

    def human() -> None:
        for ident, item in table.items():
            sys.stdout.write(f"{ident:<12} {getattr(item, 'name', '')}\n")

    emit(st, {"kind": key, "items": items}, human)


def _fail(args: list[str], exc: SsaplanError) -> None:
    if "--json" in args:
        emit(CliState(json=True), exc.as_envelope())
    info(f"error: {exc.one_line()}")
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and maps failures to the exit-code contract.

    Typer (standalone mode) answers bad usage with exit 2; our own errors become one
    line on stderr and exit 1 (plus the error envelope on stdout with ``--json``).
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="ssaplan")
    except SsaplanError as exc:
        _fail(args, exc)
    except ReferenceDataError as exc:
        _fail(args, BadRequest(str(exc)))
    except pydantic.ValidationError as exc:
        _fail(
            args,
            Invalid(
                "invalid input",
                [Detail(tuple(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)],
            ),
        )
    except sqlalchemy.exc.OperationalError as exc:
        _fail(args, BadRequest(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}"))


if __name__ == "__main__":  # pragma: no cover
    main()
