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

**Keyed chain.** With ``SSAPLAN_AUDIT_KEY`` (or ``SSAPLAN_AUDIT_KEY_FILE``) set, each new
record's hash is an HMAC-SHA256 under that key instead of a plain SHA-256, so someone
who can write to the database but does not hold the key cannot forge a record and
recompute the rest of the chain. The key never enters the database. :func:`verify`
counts keyed and unkeyed records and fails on an unkeyed record after a keyed one.

**Checkpoints.** Truncating the tail and rewinding the head leaves a shorter chain
that is still consistent; only something outside the database can tell. :func:`checkpoint`
returns the head (last id, its hash, the count), which ``ssaplan audit checkpoint FILE``
appends to a file kept elsewhere; :func:`verify_against` proves the chain still holds
every checkpointed record unchanged.

``entity_ref`` names the record's stable identity (``program:42``) where the
human-readable ``entity_id`` can change (a renamed program); history follows it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.elements import ColumnElement

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


def audit_key() -> bytes | None:
    """The chain's key from the settings (environment or key file), if one is set."""
    from ssaplan.core.settings import get_settings

    settings = get_settings()
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode("utf-8")
    if settings.audit_key_file:
        key = Path(settings.audit_key_file).read_bytes().strip()
        if len(key) < 16:
            raise ValueError(f"{settings.audit_key_file} must hold a key of 16 bytes or more")
        return key
    return None


def _digest(prev_hash: str, at: datetime, e: Entry, key: bytes | None = None) -> str:
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
    if key is not None:
        return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()
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


def has_pending(session: Session) -> bool:
    """Whether the session's transaction has written something not yet in the chain."""
    return bool(session.info.get(_PENDING))


def flush_pending(session: Session) -> None:
    """Append the queued records now (before reading the trail inside the same transaction)."""
    pending: list[Entry] = session.info.pop(_PENDING, [])
    session.info.pop(_MARKS, None)
    if pending:
        _append(session, pending)


def _append(session: Session, entries: list[Entry]) -> None:
    head = _lock_head(session)
    prev = head.last_hash
    key = audit_key()
    out: list[AuditRecord] = []
    for e in entries:
        at = utcnow()
        digest = _digest(prev, at, e, key)
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
    keyed: int = 0  # records whose hash is an HMAC under the configured key


def verify(session: Session, batch: int = 5000) -> Verification:
    """Recompute every hash in order; report the first record that does not match.

    With a key configured a record matches as keyed (HMAC) or, only before the first
    keyed record, as plain SHA-256 (records written before the key was set).
    """
    key = audit_key()
    prev = GENESIS
    count = 0
    keyed = 0
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
                    False,
                    count,
                    r.id,
                    "chain broken: a record before it was removed or changed",
                    keyed,
                )
            if key is not None and hmac.compare_digest(_digest(prev, r.at, e, key), r.hash):
                keyed += 1
            elif _digest(prev, r.at, e) != r.hash:
                reason = "record content does not match its hash"
                if key is not None:
                    reason += " (nor its keyed hash: a wrong key, or the record was forged)"
                return Verification(False, count, r.id, reason, keyed)
            elif keyed:
                return Verification(
                    False,
                    count,
                    r.id,
                    "an unkeyed record after keyed ones: written without the key (forged)",
                    keyed,
                )
            prev = r.hash
            count += 1
            last_id = r.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.count != count):
        return Verification(
            False, count, None, "records are missing at the end of the chain", keyed
        )
    return Verification(True, count, keyed=keyed)


def checkpoint(session: Session) -> dict[str, Any]:
    """The chain's head as a checkpoint: keep it outside the database.

    With a key configured the checkpoint carries its own HMAC (``mac``), so an edited
    checkpoint file is detected too.
    """
    flush_pending(session)
    last = session.execute(
        select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)
    ).scalar_one_or_none()
    count = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    point: dict[str, Any] = {
        "at": utcnow().isoformat(),
        "records": int(count),
        "last_id": last.id if last is not None else 0,
        "last_hash": last.hash if last is not None else GENESIS,
    }
    key = audit_key()
    if key is not None:
        point["mac"] = _checkpoint_mac(point, key)
    return point


def _checkpoint_mac(point: dict[str, Any], key: bytes) -> str:
    body = json.dumps(
        {k: point[k] for k in ("at", "records", "last_id", "last_hash")}, sort_keys=True
    )
    return hmac.new(key, b"checkpoint:" + body.encode(), hashlib.sha256).hexdigest()


def verify_against(session: Session, points: Iterable[dict[str, Any]]) -> Verification:
    """:func:`verify`, then check that every checkpoint's record is still there, unchanged,
    with as many records up to it as when the checkpoint was taken."""
    result = verify(session)
    if not result.ok:
        return result
    key = audit_key()
    for point in points:
        where = f"checkpoint of {point.get('at', '?')}"
        if (
            "mac" in point
            and key is not None
            and not hmac.compare_digest(_checkpoint_mac(point, key), str(point["mac"]))
        ):
            return Verification(
                False, result.records, None, f"{where} was edited (its mac does not match)"
            )
        last_id = int(point["last_id"])
        if last_id == 0:
            continue
        row = session.get(AuditRecord, last_id)
        if row is None:
            return Verification(
                False,
                result.records,
                last_id,
                f"{where}: record {last_id} is gone (the tail was cut)",
                result.keyed,
            )
        if row.hash != point["last_hash"]:
            return Verification(
                False,
                result.records,
                last_id,
                f"{where}: record {last_id} changed (the chain was rewritten)",
                result.keyed,
            )
        upto = session.execute(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.id <= last_id)
        ).scalar_one()
        if int(upto) != int(point["records"]):
            return Verification(
                False,
                result.records,
                None,
                f"{where}: {point['records']} records up to {last_id} then, {upto} now",
                result.keyed,
            )
    return result


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


def _criteria(
    entity_type: str | None, entity_id: str | None, actor: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if entity_type:
        where.append(AuditRecord.entity_type == entity_type)
    if entity_id:
        where.append(AuditRecord.entity_id == entity_id)
    if actor:
        where.append(AuditRecord.actor == actor)
    return where


def search(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[AuditRecord]:
    """Records matching all the given criteria, newest first.

    ``where`` narrows the search further in the same query (the records a reader may
    see), so a page holds ``limit`` matching records whatever it leaves out.
    """
    flush_pending(session)
    stmt = select(AuditRecord).where(*_criteria(entity_type, entity_id, actor))
    if where is not None:
        stmt = stmt.where(where)
    if before_id:
        stmt = stmt.where(AuditRecord.id < before_id)
    return list(session.execute(stmt.order_by(AuditRecord.id.desc()).limit(limit)).scalars())


def count(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> int:
    """How many records match the criteria (and ``where``), over every page."""
    flush_pending(session)
    stmt = select(func.count()).select_from(AuditRecord)
    stmt = stmt.where(*_criteria(entity_type, entity_id, actor))
    if where is not None:
        stmt = stmt.where(where)
    return int(session.execute(stmt).scalar_one())
