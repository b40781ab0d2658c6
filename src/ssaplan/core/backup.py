"""Backing up and restoring a SQLite database (issue 10, item 9).

Both use SQLite's online backup API (``sqlite3.Connection.backup``): a consistent
copy page by page while others keep reading and writing (WAL included), never a
file copy of a live database. A restore first checks the backup itself (it opens,
its audit chain is intact), then replaces the target's content in one step.

PostgreSQL has its own tools; the route is documented in the README
(``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``) and
:data:`PG_HOWTO` is what the commands say when given a PostgreSQL URL.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from ssaplan.core.errors import BadRequest, Conflict

PG_HOWTO = (
    "for PostgreSQL use its own tools: pg_dump --format=custom --file=FILE DBNAME to back "
    "up, pg_restore --clean --if-exists --no-owner --dbname=DBNAME FILE to restore, then "
    "ssaplan audit verify"
)


def _sqlite_file(url: str) -> Path:
    if url.startswith("postgresql"):
        raise BadRequest(PG_HOWTO)
    if not url.startswith("sqlite:///"):
        raise BadRequest(f"cannot back up {url!r}: give a sqlite:/// file URL")
    rest = url[len("sqlite:///") :].split("?")[0]
    if rest in ("", ":memory:"):
        raise BadRequest("an in-memory database cannot be backed up")
    return Path(rest)


def backup(url: str, dest: Path, *, force: bool = False) -> dict[str, Any]:
    """Copy the database at ``url`` to ``dest`` online; refuses to overwrite unless ``force``."""
    source = _sqlite_file(url)
    if not source.exists():
        raise BadRequest(f"database {source} does not exist")
    if dest.exists() and not force:
        raise Conflict(f"{dest} already exists: give another file or --force to overwrite it")
    dest.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(dest)) as out:
        src.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    return {"database": str(source), "backup": str(dest), "bytes": dest.stat().st_size}


def check_backup(path: Path) -> None:
    """Refuse a file that is not an ssaplan SQLite database."""
    if not path.exists():
        raise BadRequest(f"{path} does not exist")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError as exc:
        raise BadRequest(f"{path} is not a SQLite database ({exc})") from exc
    if not {"alembic_version", "audit_records"} <= tables:
        raise BadRequest(f"{path} is not an ssaplan database (no schema version or audit trail)")


def restore(backup_file: Path, url: str) -> dict[str, Any]:
    """Replace the database at ``url`` with the backup's content (online backup API)."""
    target = _sqlite_file(url)
    check_backup(backup_file)
    with (
        closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target, timeout=30)) as out,
    ):
        src.backup(out)
    return {"backup": str(backup_file), "database": str(target)}
