"""The audit trail: every write recorded, and tampering detected."""

from __future__ import annotations

from sqlalchemy import update

from ssaplan.core import audit
from ssaplan.core.models import AuditRecord
from ssaplan.core.store import Store


def _write(store: Store, n: int) -> None:
    with store.transaction() as session:
        audit.record_many(
            session,
            [
                audit.Entry("alice", "update", "program", f"P-{i}", {"v": i}, {"v": i + 1})
                for i in range(n)
            ],
        )


def test_chain_verifies_after_many_writes(store: Store) -> None:
    _write(store, 5)
    _write(store, 3)
    with store.session() as session:
        result = audit.verify(session)
    assert result.ok
    assert result.records >= 8  # the reference sync at init wrote one too


def test_changing_a_record_breaks_the_chain_at_that_record(store: Store) -> None:
    _write(store, 4)
    with store.transaction() as session:
        target = session.query(AuditRecord).filter_by(entity_id="P-2").one().id
        session.execute(update(AuditRecord).where(AuditRecord.id == target).values(actor="mallory"))
    with store.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_id == target


def test_deleting_the_last_record_is_detected(store: Store) -> None:
    _write(store, 3)
    with store.transaction() as session:
        last = session.query(AuditRecord).order_by(AuditRecord.id.desc()).first()
        assert last is not None
        session.delete(last)
    with store.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert "missing" in result.reason


def test_a_failed_transaction_leaves_no_audit_record(store: Store) -> None:
    with store.session() as session:
        before = session.query(AuditRecord).count()
    try:
        with store.transaction() as session:
            audit.record(session, audit.Entry("bob", "create", "program", "X"))
            raise RuntimeError("the write failed after the audit record")
    except RuntimeError:
        pass
    with store.session() as session:
        assert session.query(AuditRecord).count() == before
        assert audit.verify(session).ok
