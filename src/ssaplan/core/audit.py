"""The audit trail: every write records who, when, what, and the before and after.

Services call :func:`record` inside the write's own transaction, so the record and
the change commit together or not at all. Records form a SHA-256 hash chain; the
single :class:`~ssaplan.core.models.AuditHead` row is locked while appending, so
concurrent writers on PostgreSQL still produce one linear chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "summary": e.summary,
            "before": e.before,
            "after": e.after,
        },
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


def record(session: Session, entry: Entry) -> AuditRecord:
    """Append one record to the chain, in the caller's transaction."""
    return record_many(session, [entry])[0]


def record_many(session: Session, entries: Iterable[Entry]) -> list[AuditRecord]:
    """Append many records at once (bulk imports), in the caller's transaction."""
    head = _lock_head(session)
    prev = head.last_hash
    out: list[AuditRecord] = []
    for e in entries:
        e = Entry(
            e.actor,
            e.action,
            e.entity_type,
            str(e.entity_id),
            jsonable(e.before),
            jsonable(e.after),
            e.summary,
        )
        at = utcnow()
        digest = _digest(prev, at, e)
        out.append(
            AuditRecord(
                at=at,
                actor=e.actor,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
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
    return out


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
            e = Entry(r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after, r.summary)
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
    session: Session, entity_type: str, entity_id: str, limit: int = 200
) -> list[AuditRecord]:
    """The records of one entity, newest first."""
    return list(
        session.execute(
            select(AuditRecord)
            .where(AuditRecord.entity_type == entity_type, AuditRecord.entity_id == entity_id)
            .order_by(AuditRecord.id.desc())
            .limit(limit)
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
