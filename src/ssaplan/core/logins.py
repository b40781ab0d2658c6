"""Defences of the login (issue 10): throttling and a bound on concurrent hashing.

- **Throttling.** Failed logins are counted per account and per client address over a
  sliding window (``SSAPLAN_LOGIN_WINDOW_SECONDS``, default 15 minutes). Past
  ``SSAPLAN_LOGIN_FAILURES_PER_ACCOUNT`` (5) or ``SSAPLAN_LOGIN_FAILURES_PER_ADDRESS`` (20)
  failures, further attempts are refused with 429 and ``Retry-After`` *before* the
  password is hashed, so guessing costs the attacker time and the server nothing. A
  successful login clears its account's count.
- **One budget for everyone.** The counts live in the database (``login_failures``),
  so every worker process and every server sharing the database enforces the same
  budget. The check is one indexed read; a failure is written in the same short
  transaction as its audit record (its own transaction, committed before the 401, so
  the failed request cannot roll it back), a success's clearing in the login's own
  transaction. The table stays small: each write prunes rows older than the window,
  each key keeps at most its limit of rows (enough to decide and to say when to come
  back) and the table at most :data:`MAX_ROWS` (the oldest go first). Times are the
  servers' clocks, so servers sharing a database need synchronized clocks (NTP).
  Attempts already past the check when the budget runs out are still answered (at
  most the few hashes in flight per worker).
- **Bounded hashing.** Argon2 spends ~64 MiB per check; at most
  ``SSAPLAN_MAX_CONCURRENT_HASHES`` (4) run at once *per process* (memory is per
  process), others wait up to :data:`HASH_WAIT_SECONDS` and are then answered 429, so
  a burst of logins cannot push a worker's memory past a fixed bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from ssaplan.core.errors import TooManyRequests
from ssaplan.core.models import LoginFailure
from ssaplan.core.settings import Settings
from ssaplan.core.store import Store

HASH_WAIT_SECONDS = 10.0
MAX_ROWS = 100_000  # failures remembered at most; the oldest are dropped first
KEY_LENGTH = 200  # the column's width
# PostgreSQL: writers of the table take this transaction-scoped advisory lock first, so
# concurrent prunes never lock the same rows in different orders (SQLite's BEGIN
# IMMEDIATE already runs one writer at a time). Failures are audited, and the audit
# chain serializes writers at commit anyway, so the lock costs no throughput.
PG_LOCK = 0x55A9_1001


class LoginGuard:
    """The login's failure budget (in the database) and this process's hashing slots."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self.per_account = settings.login_failures_per_account
        self.per_address = settings.login_failures_per_address
        self.window = float(settings.login_window_seconds)
        self.production = settings.environment == "production"
        self._hashes = threading.BoundedSemaphore(settings.max_concurrent_hashes)
        self._now = time.time  # wall clock: shared by every process using the database

    def _at(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    def check(self, username: str, address: str | None) -> None:
        """Refuse (429) when the account or the address has failed too often lately."""
        now = self._now()
        cutoff = self._at(now - self.window)
        with self.store.session() as session:
            for key, limit, what in self._keys(username, address):
                # The newest ``limit`` failures in the window: all of them, the budget is
                # spent, and it frees up when the oldest of them leaves the window.
                times = list(
                    session.execute(
                        select(LoginFailure.at)
                        .where(LoginFailure.key == key, LoginFailure.at > cutoff)
                        .order_by(LoginFailure.at.desc())
                        .limit(limit)
                    ).scalars()
                )
                if len(times) >= limit:
                    wait = max(1, int(times[-1].timestamp() + self.window - now) + 1)
                    raise TooManyRequests(
                        f"too many failed logins for this {what}: try again in {wait} s "
                        f"(the limit is {limit} per {int(self.window)} s)",
                        wait,
                    )

    def failed(self, session: Session, username: str, address: str | None) -> None:
        """Count one failure, in the caller's write transaction (``store.transaction()``)."""
        now = self._now()
        self._lock(session)
        session.execute(delete(LoginFailure).where(LoginFailure.at <= self._at(now - self.window)))
        last = 0
        for key, limit, _what in self._keys(username, address):
            row = LoginFailure(key=key, at=self._at(now))
            session.add(row)
            session.flush()
            last = max(last, row.id)
            keep = (
                select(LoginFailure.id)
                .where(LoginFailure.key == key)
                .order_by(LoginFailure.at.desc(), LoginFailure.id.desc())
                .limit(limit)
            )
            session.execute(
                delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.id.not_in(keep))
            )
        # Ids only grow, so this leaves at most MAX_ROWS rows (an indexed range).
        session.execute(delete(LoginFailure).where(LoginFailure.id <= last - MAX_ROWS))

    def succeeded(self, session: Session, username: str) -> None:
        """Clear the account's count, in the login's write transaction."""
        self._lock(session)
        session.execute(delete(LoginFailure).where(LoginFailure.key == _account(username)))

    def _lock(self, session: Session) -> None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int, str]]:
        keys = [(_account(username), self.per_account, "account")]
        if address:
            keys.append((f"address:{address}"[:KEY_LENGTH], self.per_address, "client address"))
        return keys

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """A slot for one password hash; 429 if none frees up in time."""
        if not self._hashes.acquire(timeout=HASH_WAIT_SECONDS):
            raise TooManyRequests("the server is busy checking other logins: try again", 2)
        try:
            yield
        finally:
            self._hashes.release()


def _account(username: str) -> str:
    return f"account:{username.strip().lower()}"[:KEY_LENGTH]
