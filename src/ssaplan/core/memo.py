"""Figures derived from the stored data, kept per process until the next write.

Some pages show figures that cost far more to compute than to show: the portfolio's
money rolled up by bureau, account and agency (every budget line split among its
partners), the count and money of every matching program of a list. They change only
with a write, and every write leaves an audit record in the same transaction, moving
the audit chain's head (``audit_head``: its last hash and length). So a figure is kept
under its key plus the database and the head; a write in any worker of any node moves
the head, and the next request computes afresh. A transaction that writes and is
rolled back leaves the head where it was, and what was computed inside it is keyed by
the head it saw (the hash of a record that never committed), so it is never served;
a transaction with writes not yet in the chain does not use the kept figures at all.

The key must name everything the figure depends on besides the stored data: the
filter, and the actor where what they may see narrows it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.core.audit import has_pending
from ssaplan.core.models import AuditHead

T = TypeVar("T")

_HEAD = select(AuditHead.__table__.c.last_hash, AuditHead.__table__.c.count)
_MEMO: dict[tuple[Any, ...], Any] = {}
MAX_ENTRIES = 512
_COMPUTING = "ssaplan.memo.head"  # session.info: the head a figure is being computed at


def audit_head(session: Session) -> tuple[Any, ...]:
    """Where the audit chain ends as this session sees it (its own writes flushed first)."""
    session.flush()
    row = session.connection().execute(_HEAD).first()
    return tuple(row) if row is not None else ()


def memo(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its result from an earlier call with the same ``key`` on the
    same database while nothing was written since. Callers must not change the result.

    Inside a transaction that has written (its audit records wait for the commit, so the
    head has not moved yet) the figure is computed afresh and not kept."""
    if has_pending(session):
        return compute()
    bind = session.get_bind()
    # A figure computed for a kept one (a list's totals inside its page) is keyed by the
    # head its caller read: one look at the audit chain per request, not one per figure.
    outer = session.info.get(_COMPUTING)
    head = audit_head(session) if outer is None else outer
    full = (str(bind.engine.url), key, head)
    if full in _MEMO:
        found: T = _MEMO[full]
        return found
    session.info[_COMPUTING] = head
    try:
        value = compute()
    finally:
        if outer is None:
            del session.info[_COMPUTING]
    if len(_MEMO) >= MAX_ENTRIES:
        _MEMO.clear()
    _MEMO[full] = value
    return value


def clear() -> None:
    """Forget every kept figure (tests that change data without the audit trail)."""
    _MEMO.clear()
