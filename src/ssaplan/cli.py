"""The ``ssaplan`` command: set-up commands here, then every domain's from the registry.

See :mod:`ssaplan.clikit` for the contract every command keeps (``--db``, ``--json``,
exit codes).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated, Any

# The imports below (typer, SQLAlchemy, pydantic: most of a short command's start-up)
# create a few hundred thousand objects that live as long as the process, so the cyclic
# collector's passes over them are wasted work. It is off while they run; then they are
# moved out of its sight (``gc.freeze``: later collections skip them; a reference cycle
# made during these imports is then never collected, a few objects at most) and it is
# on again, as it was. About 6 % of ``ssaplan programs list`` (benchmarks/bench_cli.py).
_COLLECTING = gc.isenabled()
gc.disable()
try:
    import typer
    from typer.core import TyperGroup

    from ssaplan import __version__, domains
    from ssaplan.clikit import (
        CliState,
        DbOpt,
        JsonOpt,
        close_stores,
        db_url,
        emit,
        info,
        open_store,
        state,
    )
    from ssaplan.core.errors import BadRequest, Conflict, Detail, Invalid, SsaplanError
    from ssaplan.core.spec import load
finally:
    gc.freeze()
    if _COLLECTING:
        gc.enable()


class DomainGroup(TyperGroup):
    """The root group: its own commands plus every domain's, each imported only when used.

    A domain's command or group mounts at its declared path (``Command.path``); a
    command declared under another domain's group (``("import", "indicators")``) is
    added to that group when the group is loaded.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        own = set(super().list_commands(ctx))
        return sorted(own | {c.path[0] for c in domains.commands()})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None:
            found = _mount(cmd_name)
            if found is not None:
                self.add_command(found, cmd_name)
        return found


def _click(target: str, name: str) -> Any:
    """The click command of a declared target: a Typer group, or one command function."""
    obj = load(target)
    if isinstance(obj, typer.Typer):
        obj.rich_markup_mode = None  # plain help everywhere, as the root's
        return typer.main.get_group(obj)
    single = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    single.command(name)(obj)
    return typer.main.get_command(single)


def _mount(name: str) -> Any:
    """The click command for top-level ``name`` with every command declared under it."""
    entries = [c for c in domains.commands() if c.path[0] == name]
    heads = [c for c in entries if len(c.path) == 1]
    if not heads:
        return None
    command = _click(heads[0].target, name)
    for extra in entries:
        if len(extra.path) == 2 and isinstance(command, TyperGroup):
            command.add_command(_click(extra.target, extra.path[1]), extra.path[1])
    return command


app = typer.Typer(
    name="ssaplan",
    cls=DomainGroup,
    help="Plan, allocate, monitor and evaluate security sector assistance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="worker processes (default: one per core; SQLite in WAL mode serves "
            "readers from every worker at once)",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve the workbench and the JSON API."""
    import uvicorn

    from ssaplan.core import serving

    st = state(ctx, db, as_json)
    store = open_store(st)  # refuse early, with a clear message, if not initialized
    if not os.environ.get("SSAPLAN_SECRET_KEY"):
        from ssaplan.core.auth import local_secret

        with store.transaction() as session:  # made once here, not raced by the workers
            local_secret(session)
    store.dispose()
    os.environ["SSAPLAN_DB"] = db_url(st)
    if workers is None:
        workers = default_workers()
    info(
        f"ssaplan serving {db_url(st)} at http://{host}:{port} with {workers} worker"
        f"{'s' if workers != 1 else ''}  (Ctrl-C stops)"
    )
    if workers > 1 and serving.supported():
        # A socket per worker: the kernel spreads connections (core/serving.py).
        problem = serving.port_free(host, port)
        if problem is not None:
            raise BadRequest(f"{problem}; choose another --port or stop what uses it")
        code = serving.serve(host, port, workers, log_level="warning")
        if code:
            raise typer.Exit(code)
        return
    uvicorn.run(
        serving.APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _fail(args: list[str], exc: SsaplanError) -> None:
    if "--json" in args:
        emit(CliState(json=True), exc.as_envelope())
    info(f"error: {exc.one_line()}")
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and maps failures to the exit-code contract.

    Typer (standalone mode) answers bad usage with exit 2; our own errors become one
    line on stderr and exit 1 (plus the error envelope on stdout with ``--json``).
    Every database the command opened is closed when it ends, however it ends.
    """
    args = sys.argv[1:] if argv is None else argv
    domains.install()
    try:
        _run(args)
    finally:
        close_stores()


def _run(args: list[str]) -> None:
    import pydantic
    import sqlalchemy.exc

    from ssaplan.reference.catalog import ReferenceDataError

    try:
        app(args=args, prog_name="ssaplan")
    except SsaplanError as exc:
        _fail(args, exc)
    except ReferenceDataError as exc:
        _fail(args, BadRequest(str(exc)))
    except sqlalchemy.exc.IntegrityError as exc:
        _fail(
            args,
            Conflict(
                "the change conflicts with one made at the same time (or an existing record); "
                f"nothing was saved: {str(exc.orig).strip().splitlines()[0]}"
            ),
        )
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
