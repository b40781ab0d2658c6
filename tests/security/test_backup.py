"""ssaplan backup / restore on SQLite (issue 10, item 9): a restored database passes
audit verify; PostgreSQL URLs get the pg_dump route."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ssaplan.core import audit
from ssaplan.core.models import AuditRecord
from ssaplan.core.store import Store
from tests.conftest import run_cli


def _count(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_backup_then_restore_brings_back_the_state_and_an_intact_chain(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(sqlite_store.engine.url)
    with sqlite_store.transaction() as session:
        audit.record(session, audit.Entry("pat", "update", "program", "P1", summary="before"))
    saved = _count(sqlite_store)
    dest = tmp_path / "backup.db"
    code, out, err = run_cli(capsys, "backup", str(dest), "--db", url, "--json")
    assert code == 0, err
    assert json.loads(out)["bytes"] > 0
    code, _, err = run_cli(capsys, "backup", str(dest), "--db", url)
    assert code == 1 and "--force" in err  # never overwrites by surprise

    with sqlite_store.transaction() as session:  # work done after the backup
        audit.record(session, audit.Entry("pat", "update", "program", "P1", summary="after"))
    assert _count(sqlite_store) == saved + 1

    code, _, err = run_cli(capsys, "restore", str(dest), "--db", url)
    assert code == 1 and "--yes" in err
    code, out, err = run_cli(capsys, "restore", str(dest), "--db", url, "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["audit"] == {"ok": True, "records": saved, "reason": ""}
    sqlite_store.dispose()
    assert _count(sqlite_store) == saved
    code, _, err = run_cli(capsys, "audit", "verify", "--db", url)
    assert code == 0, err


def test_restore_refuses_a_file_that_is_not_a_backup(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = run_cli(
        capsys, "restore", str(junk), "--db", str(sqlite_store.engine.url), "--yes"
    )
    assert code == 1 and "not a SQLite database" in err
    assert _count(sqlite_store) > 0  # untouched


def test_postgresql_gets_the_pg_dump_route(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(
        capsys, "backup", str(tmp_path / "x"), "--db", "postgresql+psycopg://u@localhost/db"
    )
    assert code == 1 and "pg_dump" in err


def test_the_documented_pg_dump_route_restores_an_intact_chain(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's PostgreSQL route, run as written (pg_dump, pg_restore, audit verify)."""
    import shutil
    import subprocess

    if store.dialect != "postgresql":
        pytest.skip("the SQLite route is tested above")
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    url = store.engine.url
    conn = ["-h", str(url.host), "-p", str(url.port), "-U", str(url.username)]
    with store.transaction() as session:
        audit.record(session, audit.Entry("pat", "update", "program", "P1", summary="before"))
    saved = _count(store)
    dump = tmp_path / "ssaplan.dump"
    subprocess.run(  # noqa: S603 - fixed arguments, test database
        ["pg_dump", *conn, "--format=custom", f"--file={dump}", str(url.database)], check=True
    )
    with store.transaction() as session:
        audit.record(session, audit.Entry("pat", "update", "program", "P1", summary="after"))
    store.dispose()
    subprocess.run(  # noqa: S603 - fixed arguments, test database
        [
            "pg_restore",
            *conn,
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={url.database}",
            str(dump),
        ],
        check=True,
    )
    assert _count(store) == saved
    with store.session() as session:
        result = audit.verify(session)  # what `ssaplan audit verify` runs
    assert result.ok and result.records == saved
