"""Migration 0018 (markings on strategies and evaluations) keeps every row: on SQLite it
rebuilds both tables, and their children (ON DELETE CASCADE) must survive the rebuild."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ssaplan.core.store import Store, migrate
from ssaplan.reference.catalog import get_catalog
from ssaplan.strategy.models import Strategy
from tests.conftest import OPERATOR


def test_the_migration_keeps_every_strategy_and_evaluation_with_its_children(
    blank_store: Store,
) -> None:
    """Adding the marking columns rebuilds both tables on SQLite: their children's rows
    (ON DELETE CASCADE) must survive it."""
    store = blank_store
    migrate(store, "0017_merge_trust")
    from ssaplan.reference.service import sync

    with store.transaction() as session:
        sync(session, OPERATOR, get_catalog())
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO strategies (id, code, title, kind, iso3, agency_id, first_fy, "
                "last_fy, theory_of_change, status, version, created_by, created_at, "
                "updated_at) VALUES (7, 'GHA-OLD', 'Old', 'country', 'GHA', 'State', 2025, "
                "2029, '', 'active', 1, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO strategy_objectives (id, strategy_id, code, title, "
                "goal_objective_id, description, assumptions, position, version) "
                "VALUES (70, 7, '1', 'O', 'G1.5', '', '', 0, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO evaluations (id, code, title, evaluation_type, status, agency_id, "
                "questions, design, evaluator, independence, findings, management_response, "
                "version, created_by, created_at, updated_at) VALUES (3, 'EV-00003', 'E', "
                "'impact', 'planned', 'State', '[]', '', '', 'internal', '', '', 1, 'x', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO evaluation_recommendations (id, evaluation_id, position, text, "
                "response, response_text, action) VALUES (30, 3, 0, 'R', 'pending', '', '')"
            )
        )
    migrate(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM strategy_objectives")).scalar_one() == 1
        rows = conn.execute(text("SELECT count(*) FROM evaluation_recommendations"))
        assert rows.scalar_one() == 1
        for table in ("strategies", "evaluations"):
            marks = conn.execute(text(f"SELECT marking, releasable_to FROM {table}")).all()  # noqa: S608
            assert [tuple(r) for r in marks] == [("U", "")]
    with store.session() as session:
        assert session.get(Strategy, 7) is not None


def test_a_rebuilt_table_still_never_reuses_an_id(tmp_path: Path) -> None:
    """The marking migrations rebuild tables on SQLite (batch mode, which reflects the old
    table and loses AUTOINCREMENT unless told): every table the models declare
    ``sqlite_autoincrement`` must keep it, or a deleted record's id comes back (issue 10,
    item 6)."""
    from ssaplan.core.store import Base
    from ssaplan.domains import import_models

    import_models()
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        migrate(store)
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            schema = {name: sql for name, sql in rows}
    finally:
        store.dispose()
    declared = sorted(
        name
        for name, table in Base.metadata.tables.items()
        if table.dialect_options["sqlite"].get("autoincrement")
    )
    assert declared, "the models declare no AUTOINCREMENT table: the test reads nothing"
    lost = [name for name in declared if "AUTOINCREMENT" not in schema[name].upper()]
    assert lost == []
