"""The audit trail: every write records who, when, what, and the before and after.

Services call :func:`record` inside the write's own transaction, so the record and
the change commit together or not at all. Records form a SHA-256 hash chain; the
single :class:`~ssaplan.core.models.AuditHead` row is locked while appending, so
concurrent writers on PostgreSQL still produce one linear chain.

The head lock is taken as late as possible: :func:`record` only queues the entry on
the session, and the queue is appended to the chain just before the transaction
commits. A long import therefore holds the head for the length of its commit, not of
its whole run, and other writers are not stalled behind it. Entries queued inside a
savepoint that rolls back are dropped with it.

``entity_ref`` names the record's stable identity (``program:42``) where the
human-readable ``entity_id`` can change (a renamed program); history follows it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from ssaplan.core.models import AuditHead, AuditRecord
from ssaplan.core.store import utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    """One write to record."""

    actor: str
    action: str  # create | update | delete | import | sync | login ...
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    summary: str = ""
    entity_ref: str | None = None


def jsonable(value: Any) -> Any:
    """A value as plain JSON types, so snapshots hash and compare the same everywhere."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _digest(prev_hash: str, at: datetime, e: Entry) -> str:
    fields: dict[str, Any] = {
        "prev": prev_hash,
        "at": at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "summary": e.summary,
        "before": e.before,
        "after": e.after,
    }
    if e.entity_ref is not None:  # records written before entity_ref existed hash without it
        fields["entity_ref"] = e.entity_ref
    body = json.dumps(
        fields,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS, count=0)
        session.add(head)
        session.flush()
    return head


_PENDING = "ssaplan.audit.pending"
_MARKS = "ssaplan.audit.marks"


def record(session: Session, entry: Entry) -> None:
    """Queue one record for the chain; it is appended when the caller's transaction commits."""
    record_many(session, [entry])


def record_many(session: Session, entries: Iterable[Entry]) -> None:
    """Queue many records at once (bulk imports); appended at commit, in this order."""
    pending: list[Entry] = session.info.setdefault(_PENDING, [])
    for e in entries:
        pending.append(
            Entry(
                e.actor,
                e.action,
                e.entity_type,
                str(e.entity_id),
                jsonable(e.before),
                jsonable(e.after),
                e.summary,
                e.entity_ref,
            )
        )


def flush_pending(session: Session) -> None:
    """Append the queued records now (before reading the trail inside the same transaction)."""
    pending: list[Entry] = session.info.pop(_PENDING, [])
    session.info.pop(_MARKS, None)
    if pending:
        _append(session, pending)


def _append(session: Session, entries: list[Entry]) -> None:
    head = _lock_head(session)
    prev = head.last_hash
    out: list[AuditRecord] = []
    for e in entries:
        at = utcnow()
        digest = _digest(prev, at, e)
        out.append(
            AuditRecord(
                at=at,
                actor=e.actor,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                entity_ref=e.entity_ref,
                summary=e.summary,
                before=e.before,
                after=e.after,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.add_all(out)
    head.last_hash = prev
    head.count += len(out)
    session.flush()


@event.listens_for(Session, "before_commit")
def _append_before_commit(session: Session) -> None:
    flush_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks: dict[int, int] = session.info.setdefault(_MARKS, {})
        marks[id(transaction)] = len(session.info.get(_PENDING, []))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[Entry] | None = session.info.get(_PENDING)
    if pending is None:
        return
    if previous_transaction.nested:
        mark = session.info.get(_MARKS, {}).pop(id(previous_transaction), None)
        if mark is not None:
            del pending[mark:]
    else:
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)


@dataclass(frozen=True)
class Verification:
    """Result of checking the chain end to end."""

    ok: bool
    records: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> Verification:
    """Recompute every hash in order; report the first record that does not match."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditRecord)
                .where(AuditRecord.id > last_id)
                .order_by(AuditRecord.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for r in rows:
            e = Entry(
                r.actor,
                r.action,
                r.entity_type,
                r.entity_id,
                r.before,
                r.after,
                r.summary,
                r.entity_ref,
            )
            if r.prev_hash != prev:
                return Verification(
                    False, count, r.id, "chain broken: a record before it was removed or changed"
                )
            if _digest(prev, r.at, e) != r.hash:
                return Verification(False, count, r.id, "record content does not match its hash")
            prev = r.hash
            count += 1
            last_id = r.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.count != count):
        return Verification(False, count, None, "records are missing at the end of the chain")
    return Verification(True, count)


def history(
    session: Session,
    entity_type: str,
    entity_id: str,
    limit: int = 200,
    *,
    entity_ref: str | None = None,
    legacy_ids: Iterable[str] = (),
) -> list[AuditRecord]:
    """The records of one entity, newest first.

    With ``entity_ref`` the records of that identity whatever it was called; records
    written before identities were recorded match on ``legacy_ids`` (the names it had).
    """
    flush_pending(session)  # this transaction's own writes are part of the history
    if entity_ref is None:
        where: Any = (AuditRecord.entity_type == entity_type) & (AuditRecord.entity_id == entity_id)
    else:
        legacy = sorted(set(legacy_ids))
        where = or_(
            AuditRecord.entity_ref == entity_ref,
            (AuditRecord.entity_ref.is_(None))
            & (AuditRecord.entity_type == entity_type)
            & (AuditRecord.entity_id.in_(legacy)),
        )
    return list(
        session.execute(
            select(AuditRecord).where(where).order_by(AuditRecord.id.desc()).limit(limit)
        ).scalars()
    )


def search(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditRecord]:
    """Records matching all the given criteria, newest first."""
    flush_pending(session)
    stmt = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if entity_type:
        stmt = stmt.where(AuditRecord.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditRecord.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditRecord.actor == actor)
    if before_id:
        stmt = stmt.where(AuditRecord.id < before_id)
    return list(session.execute(stmt).scalars())
