"""Defences of the login (issue 10): throttling and a bound on concurrent hashing.

- **Throttling.** Failed logins are counted per account and per client address over a
  sliding window (``SSAPLAN_LOGIN_WINDOW_SECONDS``, default 15 minutes). Past
  ``SSAPLAN_LOGIN_FAILURES_PER_ACCOUNT`` (5) or ``SSAPLAN_LOGIN_FAILURES_PER_ADDRESS`` (20)
  failures, further attempts are refused with 429 and ``Retry-After`` *before* the
  password is hashed, so guessing costs the attacker time and the server nothing. A
  successful login clears its account's count. The counts live in the process: behind
  a load balancer with N workers an attacker gets up to N times the budget (stated in
  the README).
- **Bounded hashing.** Argon2 spends ~64 MiB per check; at most
  ``SSAPLAN_MAX_CONCURRENT_HASHES`` (4) run at once, others wait up to
  :data:`HASH_WAIT_SECONDS` and are then answered 429, so a burst of logins cannot
  push the server's memory past a fixed bound.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from ssaplan.core.errors import TooManyRequests
from ssaplan.core.settings import Settings

HASH_WAIT_SECONDS = 10.0
MAX_TRACKED = 100_000  # keys remembered at most; the oldest windows are dropped first


class LoginGuard:
    """Per-process failure counts and the hashing semaphore of one app."""

    def __init__(self, settings: Settings) -> None:
        self.per_account = settings.login_failures_per_account
        self.per_address = settings.login_failures_per_address
        self.window = float(settings.login_window_seconds)
        self.production = settings.environment == "production"
        self._hashes = threading.BoundedSemaphore(settings.max_concurrent_hashes)
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, username: str, address: str | None) -> None:
        """Refuse (429) when the account or the address has failed too often lately."""
        now = self._now()
        with self._lock:
            for key, limit, what in self._keys(username, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = int(times[0] + self.window - now) + 1
                    raise TooManyRequests(
                        f"too many failed logins for this {what}: try again in {wait} s "
                        f"(the limit is {limit} per {int(self.window)} s)",
                        wait,
                    )

    def failed(self, username: str, address: str | None) -> None:
        now = self._now()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
                for key in oldest[: MAX_TRACKED // 10]:
                    del self._failures[key]
            for key, _limit, _what in self._keys(username, address):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"account:{username.strip().lower()}", None)

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int, str]]:
        keys = [(f"account:{username.strip().lower()}", self.per_account, "account")]
        if address:
            keys.append((f"address:{address}", self.per_address, "client address"))
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
