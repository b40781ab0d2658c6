"""The store: URLs, migrations from empty on both back ends, models in step with migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ssaplan.core.errors import BadRequest
from ssaplan.core.store import (
    Base,
    Store,
    head_revisions,
    migrate,
    normalize_url,
    require_current_schema,
)


def test_postgres_urls_use_the_shipped_driver() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_urls_are_user_errors() -> None:
    with pytest.raises(BadRequest, match="cannot read database URL"):
        Store("not a url")
    with pytest.raises(BadRequest, match="unsupported database"):
        Store("mysql://u@h/db")


def test_uninitialized_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(BadRequest, match="ssaplan --db .* init"):
        require_current_schema(store)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_reach_every_head_and_match_the_models(store: Store) -> None:
    """Upgrading from empty (done by the fixture) yields exactly the tables the models declare."""
    require_current_schema(store)
    tables = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    assert head_revisions()


def test_the_quick_head_reading_agrees_with_alembic() -> None:
    """Commands check the heads without importing alembic; the answer is alembic's."""
    from alembic.script import ScriptDirectory

    from ssaplan.core.store import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revisions() == frozenset(script.get_heads())


def test_a_database_behind_the_code_is_refused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001_foundation')")
    with pytest.raises(BadRequest, match="older than this ssaplan"):
        require_current_schema(store)


def test_migration_history_has_one_head() -> None:
    """Branches built side by side are merged, so the next revision has one parent."""
    assert len(head_revisions()) == 1, f"merge the heads {sorted(head_revisions())}"


def test_migrate_is_idempotent(store: Store) -> None:
    migrate(store)
    migrate(store)
    require_current_schema(store)


def test_a_savepoint_inside_a_failed_transaction_commits_nothing(store: Store) -> None:
    """All-or-nothing holds with nested savepoints too (pysqlite's implicit BEGIN broke it)."""
    from ssaplan.core.models import AppSetting

    with pytest.raises(RuntimeError), store.transaction() as session:
        with session.begin_nested():
            session.add(AppSetting(key="nested", value="written in a savepoint"))
        raise RuntimeError("the outer work failed after the savepoint was released")
    with store.session() as session:
        assert session.get(AppSetting, "nested") is None
