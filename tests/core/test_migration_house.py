"""Migration 0005 (the house) carries existing data over: programs keep their ids as
codes, money keeps every dollar (now by account and partner share), deliveries keep
their ids, users keep their roles, and the audit chain stays intact."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from ssaplan.core import audit
from ssaplan.core.store import Store, migrate
from ssaplan.portfolio.schemas import MilestoneIn
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR
from tests.factories import program

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _legacy_world(store: Store) -> None:
    """Rows as the 0004 schema held them (string program ids, one role per user)."""
    migrate(store, "0004_merge")
    from ssaplan.reference.catalog import get_catalog
    from ssaplan.reference.service import sync

    with store.transaction() as session:
        sync(session, OPERATOR, get_catalog())
        # Today's audit code writes entity_ref, which 0004 has not got: leave it out here.
        session.info.pop("ssaplan.audit.pending", None)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, full_name, agency_id, role, password_hash, "
                "active, created_at, version) VALUES "
                "(1, 'pat', '', 'State/INL', 'planner', 'x', true, :now, 1), "
                "(2, 'val', '', 'DOJ', 'viewer', 'x', true, :now, 1)"
            ),
            {"now": NOW},
        )
        for code, account in (("OLD-A", "FMF"), ("OLD-B", None)):
            conn.execute(
                text(
                    "INSERT INTO programs (id, title, description, agency_id, account_id, "
                    "start_date, end_date, status, marking, source, version, created_at, "
                    "updated_at) VALUES (:id, 'T', '', 'State', :acc, '2025-10-01', "
                    "'2027-09-30', 'approved', 'U', 'manual', 3, :now, :now)"
                ),
                {"id": code, "acc": account, "now": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO program_countries (program_id, iso3) VALUES "
                "('OLD-A', 'KEN'), ('OLD-A', 'UGA'), ('OLD-A', 'TZA'), ('OLD-B', 'GHA')"
            )
        )
        conn.execute(
            text("INSERT INTO program_regions (program_id, region_code) VALUES ('OLD-B', 'ECOWAS')")
        )
        conn.execute(
            text(
                "INSERT INTO budget_lines (program_id, fiscal_year, planned, obligated, disbursed) "
                "VALUES ('OLD-A', 2026, 1000001, 10, 0), ('OLD-A', 2027, 7, 0, 0), "
                "('OLD-B', 2026, 500, 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO milestones (id, program_id, name) VALUES "
                "(41, 'OLD-A', 'Boats'), (42, 'OLD-B', 'Radios')"
            )
        )
        # An audit record as 0004 wrote it: no entity_ref, hashed without one.
        entry = audit.Entry("pat", "update", "program", "OLD-A", {"v": 2}, {"v": 3})
        digest = audit._digest(audit.GENESIS, NOW, entry)
        # PostgreSQL needs the JSON text cast; SQLite would make CAST(... AS JSON) numeric.
        values = (
            "CAST(:before AS JSON), CAST(:after AS JSON)"
            if conn.dialect.name == "postgresql"
            else ":before, :after"
        )
        conn.execute(
            text(
                "INSERT INTO audit_records (at, actor, action, entity_type, entity_id, summary, "  # noqa: S608 - fixed text
                "before, after, prev_hash, hash) VALUES (:at, 'pat', 'update', 'program', "
                f"'OLD-A', '', {values}, :prev, :hash)"
            ),
            {
                "at": NOW,
                "before": '{"v": 2}',
                "after": '{"v": 3}',
                "prev": audit.GENESIS,
                "hash": digest,
            },
        )
        conn.execute(
            text("INSERT INTO audit_head (id, last_hash, count) VALUES (1, :h, 1)"), {"h": digest}
        )


def test_the_house_migration_keeps_every_record_and_dollar(blank_store: Store) -> None:
    store = blank_store
    _legacy_world(store)
    migrate(store)
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        a, b = service.get("OLD-A"), service.get("OLD-B")
        assert a.version == 3 and a.shares == {"KEN": 3334, "TZA": 3333, "UGA": 3333}
        assert [(x.fiscal_year, x.account, x.planned) for x in a.budget] == [
            (2026, "FMF", 1000001),
            (2027, "FMF", 7),
        ]
        assert b.shares == {"GHA": 5000, "ECOWAS": 5000}
        assert [(x.fiscal_year, x.account) for x in b.budget] == [(2026, None)]
        assert [m.id for m in a.milestones] == [41] and [m.id for m in b.milestones] == [42]
        assert sum(r.money.planned for r in service.partner_money()) == 1000001 + 7 + 500
        history = service.history("OLD-A")
        assert [r.summary or r.action for r in history] == ["update"]  # the legacy record
        assert audit.verify(session).ok
        roles = session.execute(
            text(
                "SELECT user_id, role, scope_kind, scope_id FROM role_assignments ORDER BY user_id"
            )
        ).all()
    assert [tuple(r) for r in roles] == [
        (1, "planner", "agency", "State/INL"),
        (2, "viewer", "all", ""),
    ]
    with store.transaction() as session:
        new = PortfolioService(session, OPERATOR).create(
            program(id="NEW-1", milestones=[MilestoneIn(name="Vehicles")])
        )
    assert new.milestones[0].id > 42  # the id sequence continues past the copied ids
