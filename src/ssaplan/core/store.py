"""The store: database engine, sessions and schema migrations.

SQLite (WAL mode, foreign keys enforced) is the embedded default; PostgreSQL is the
shared deployment. The same models and Alembic migrations serve both.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from ssaplan.core.errors import BadRequest

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Base of every table; constraint names are stable across SQLite and PostgreSQL."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite drops time zones; this keeps both back ends returning the same value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Accept the URLs people type and return the one SQLAlchemy needs.

    ``postgresql://`` and ``postgres://`` use the psycopg 3 driver we ship.
    """
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


BUSY_TIMEOUT_S = 30
WRITE = "ssaplan_write"  # execution option marking a write transaction


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # pysqlite opens transactions implicitly, only before a data change; a SAVEPOINT
    # issued first becomes the outermost transaction and its RELEASE commits for good.
    # Autocommit at the driver plus an explicit BEGIN (below) gives real transactions.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers (the web app) go on while a writer (an import) works; it is a
    # property of the file, set outside any transaction (a no-op for in-memory databases).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # A writer waits this long for another to finish (BEGIN IMMEDIATE queues writers).
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes SQLite's write lock up front (BEGIN IMMEDIATE): a
    # deferred BEGIN that later writes cannot wait for the lock once another writer has
    # committed (its snapshot is stale) and fails at once with "database is locked".
    # Writers queue instead, for up to the busy timeout; readers never wait (WAL).
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; a clear error if the URL is malformed."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadRequest(
            f"cannot read database URL {url!r}: expected e.g. sqlite:///ssaplan.db "
            "or postgresql://user@host/dbname"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise BadRequest(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
    )


@contextmanager
def planned_per_statement(session: Session) -> Iterator[None]:
    """On PostgreSQL, plan every statement of the block afresh (psycopg's server-side
    prepared statements off for the session's connection, restored after).

    A bulk import grows its tables inside one transaction, which autovacuum cannot see
    into: after five runs psycopg prepares a statement, the server then keeps the
    generic plan it made while the table was small (a sequential scan), and every
    later batch's ``identifier IN (...)`` lookup and delete reads the whole growing
    table. A 200 MB IATI file took 54 s instead of 14 s on the development machine so.
    Planning a statement per batch costs well under a millisecond. SQLite: no change."""
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name != "postgresql" or raw is None:
        yield
        return
    before = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = before


class Store:
    """One database: its engine and a session factory. Cheap to pass around."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads (and for services that manage their own transaction)."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end, or rolls back entirely on any error.

        On SQLite it holds the write lock from its first statement (see ``_sqlite_begin``).
        """
        with self._sessions() as session, session.begin():
            session.connection(execution_options={WRITE: True})
            yield session

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()

    def is_initialized(self) -> bool:
        try:
            return inspect(self.engine).has_table("alembic_version")
        except OperationalError:
            return False


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(store: Store, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (all heads by default)."""
    from alembic import command

    cfg = alembic_config(store.url)
    if store.dialect != "sqlite":
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return
    # SQLite alters a table by rebuilding it (batch mode: copy, drop the old, rename).
    # With foreign keys on, dropping the old table deletes its children's rows (ON DELETE
    # CASCADE), so its documented procedure turns them off outside the transaction and
    # checks them before committing (sqlite.org/lang_altertable.html).
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None  # noqa: S101 - a live pooled connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise BadRequest(
                        f"the migration left {len(broken)} row(s) whose foreign key names "
                        f"nothing (first: table {broken[0][0]}); nothing was changed"
                    )
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def current_revisions(store: Store) -> set[str]:
    """The revisions the database is at (its ``alembic_version`` rows)."""
    with store.engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}


_REVISION = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.M)
# The value runs to the first line that closes it: one string, or a tuple over many lines.
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*(\([^)]*\)|[^\n]+)", re.M)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The newest schema revisions this code knows, read from the scripts' own
    ``revision`` and ``down_revision`` lines.

    Every command checks them, and importing ``alembic.script`` to ask would cost more
    than the rest of a short command's start-up; ``tests/test_migrations`` checks this
    reading agrees with alembic's.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return frozenset(revisions - parents)


def require_current_schema(store: Store) -> None:
    """Refuse to work on a database that was never initialized or is behind the code."""
    if not store.is_initialized():
        raise BadRequest(
            f"database {store.url!r} is not initialized: run `ssaplan --db {store.url} init`"
        )
    missing = head_revisions() - current_revisions(store)
    if missing:
        raise BadRequest(
            f"database schema is older than this ssaplan: run `ssaplan --db {store.url} init` "
            "to upgrade it"
        )
