"""``ssaplan user ...`` and ``ssaplan audit ...``: thin wrappers over core's services."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state
from ssaplan.core.errors import SsaplanError

user_app = typer.Typer(help="Manage users and their roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


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
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import add_user, public

    st = state(ctx, db, as_json)
    secret = _password(username, password)
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


def _password(username: str, given: str | None) -> str:
    secret = given or os.environ.get("SSAPLAN_PASSWORD")
    if not secret:
        if not sys.stdin.isatty():
            raise SsaplanError(
                "no password given: use --password, $SSAPLAN_PASSWORD, or a terminal"
            )
        secret = getpass.getpass(f"password for {username}: ")
    return secret


@user_app.command("reset-password")
def user_reset_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[
        str | None,
        typer.Option(
            help="new password (else $SSAPLAN_PASSWORD, else asked for)", show_default=False
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a new password (checked against the policy); the user's open logins end."""
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import public, reset_password

    st = state(ctx, db, as_json)
    secret = _password(username, password)
    with open_store(st).transaction() as session:
        data = public(reset_password(session, Actor.operator(), username, secret))
    emit(st, data, lambda: info(f"password of {username} reset; their logins were ended"))


@user_app.command("deactivate")
def user_deactivate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lock a user out: their logins end and they cannot log in again (history is kept)."""
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import public, set_active

    st = state(ctx, db, as_json)
    with open_store(st).transaction() as session:
        data = public(set_active(session, Actor.operator(), username, False))
    emit(st, data, lambda: info(f"{username} deactivated"))


@user_app.command("activate")
def user_activate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Let a deactivated user log in again."""
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import public, set_active

    st = state(ctx, db, as_json)
    with open_store(st).transaction() as session:
        data = public(set_active(session, Actor.operator(), username, True))
    emit(st, data, lambda: info(f"{username} activated"))


@user_app.command("clearance")
def user_clearance(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name")],
    ceiling: Annotated[
        str | None,
        typer.Option(
            "--ceiling",
            help='highest marking the user may read (U, SBU, CUI); "" for every marking',
        ),
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option(
            "--audience",
            help="partner country (GBR) or organization (NATO) the user reads for, or "
            "us-government",
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set what a user may see: their marking ceiling and their audience (audited)."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import get_user, public, update_user

    st = state(ctx, db, as_json)
    if ceiling is None and audience is None:
        raise BadRequest("give --ceiling, --audience or both")
    store = open_store(st)
    try:
        with store.transaction() as session:
            version = get_user(session, username).version
            data = public(
                update_user(
                    session,
                    Actor.operator(),
                    username,
                    version=version,
                    marking_ceiling=ceiling,
                    audience=audience,
                )
            )
    finally:
        store.dispose()  # connections returned now, not when collected
    emit(
        st,
        data,
        lambda: info(
            f"{username} reads up to {data['marking_ceiling'] or 'every marking'}, for "
            f"{data['audience'] or 'the U.S. Government'}"
        ),
    )


@user_app.command("list")
def user_list(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List users."""
    from ssaplan.core.permissions import Actor
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


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    against: Annotated[
        Path | None,
        typer.Option(
            help="a checkpoint file (ssaplan audit checkpoint): also prove nothing "
            "before its checkpoints was cut or rewritten"
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the audit trail's hash chain end to end; exit 1 if it was tampered with."""
    from ssaplan.core.audit import verify, verify_against

    st = state(ctx, db, as_json)
    points = _read_checkpoints(against) if against is not None else None
    with open_store(st).session() as session:
        result = verify(session) if points is None else verify_against(session, points)
    data = {
        "ok": result.ok,
        "records": result.records,
        "keyed": result.keyed,
        "first_bad_id": result.first_bad_id,
        "reason": result.reason,
        "checkpoints": len(points) if points is not None else 0,
    }
    if not result.ok:
        emit(st, data, lambda: None)
        where = f" at record {result.first_bad_id}" if result.first_bad_id else ""
        raise SsaplanError(f"audit trail is not intact{where}: {result.reason}")
    against_note = f", matching {len(points)} checkpoint(s)" if points else ""
    emit(
        st,
        data,
        lambda: info(
            f"audit trail intact: {result.records} records ({result.keyed} keyed){against_note}"
        ),
    )


def _read_checkpoints(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SsaplanError(f"cannot read {path}: {exc.strerror}") from exc
    points = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            point = json.loads(line)
            int(point["last_id"]), int(point["records"]), str(point["last_hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SsaplanError(f"{path} line {number} is not a checkpoint") from exc
        points.append(point)
    if not points:
        raise SsaplanError(f"{path} holds no checkpoint")
    return points


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="file to append the checkpoint to (keep it outside the database's reach)"
        ),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append the audit chain's head (last record, its hash, the count) to FILE.

    Later, ``ssaplan audit verify --against FILE`` detects a cut tail or a rewritten
    chain that a plain verify cannot see.
    """
    from ssaplan.core.audit import checkpoint

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        point = checkpoint(session)
    try:
        with file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(point, sort_keys=True) + "\n")
    except OSError as exc:
        raise SsaplanError(f"cannot write {file}: {exc.strerror}") from exc
    emit(
        st,
        point,
        lambda: info(
            f"checkpoint: {point['records']} records, head {point['last_hash'][:12]}… "
            f"appended to {file}"
        ),
    )


def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the backup file to write")],
    force: Annotated[bool, typer.Option(help="overwrite FILE if it exists")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Back up a SQLite database while it is in use (SQLite's online backup API).

    For PostgreSQL the command says how to use pg_dump instead.
    """
    from ssaplan.clikit import db_url
    from ssaplan.core.backup import backup

    st = state(ctx, db, as_json)
    data = backup(db_url(st), file, force=force)
    emit(
        st, data, lambda: info(f"backed up {data['database']} to {file} ({data['bytes']:,} bytes)")
    )


def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a backup made by ssaplan backup")],
    yes: Annotated[bool, typer.Option("--yes", help="replace the database's content")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a SQLite database's content with a backup, then check its audit trail."""
    from ssaplan.clikit import db_url
    from ssaplan.core.audit import verify
    from ssaplan.core.backup import check_backup, restore

    st = state(ctx, db, as_json)
    check_backup(file)
    if not yes:
        raise SsaplanError(
            f"this replaces everything in {db_url(st)} with {file}: add --yes to go ahead"
        )
    data = restore(file, db_url(st))
    with open_store(st).session() as session:
        result = verify(session)
    data["audit"] = {"ok": result.ok, "records": result.records, "reason": result.reason}
    if not result.ok:
        emit(st, data, lambda: None)
        raise SsaplanError(f"restored, but the audit trail is not intact: {result.reason}")
    emit(
        st,
        data,
        lambda: info(
            f"restored {file} into {data['database']}; audit trail intact "
            f"({result.records} records)"
        ),
    )
