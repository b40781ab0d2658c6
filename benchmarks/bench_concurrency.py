"""Load test: 50 readers and 10 editors on the same programs for 60 s, on SQLite and on
PostgreSQL, through a real server (``ssaplan serve --workers 2``) on loopback.

Readers list programs and read single programs; editors read a program and change it
with the version they read, appending a token of their own to its description (on a
409 they read again and retry). Afterwards every program is checked:

- **5xx** must be 0;
- **lost updates** must be 0: every accepted write's token is in the final description,
  in the order of its version; the final version is the first plus the accepted writes;
  and the audit trail holds exactly one update record per accepted write.

Where the time goes (profiled with cProfile on the server): each write is one short
transaction (SQLite: BEGIN IMMEDIATE queues writers; PostgreSQL: row lock with
SELECT ... FOR UPDATE, then the audit head row at commit). Readers never wait for
writers (WAL on SQLite, MVCC on PostgreSQL); latency is dominated by Python work per
request (validation, serialization) on two shared cores, with the client on them too.
``/api/health`` under the same load is the baseline.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TITLE = "Concurrent writers: 50 readers + 10 editors on the same programs (SQLite, PostgreSQL)"
READERS, EDITORS, PROGRAMS = 50, 10, 20
PASSWORD = "load test only, 2026"  # passes the password policy


def _ssaplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "ssaplan.cli", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> list[str]:
    """An initialized database with an admin and the programs editors will share."""
    from ssaplan import domains
    from ssaplan.bootstrap import initialize
    from ssaplan.core.permissions import Actor
    from ssaplan.core.store import Store
    from ssaplan.core.users import add_user
    from ssaplan.portfolio.demo import generate
    from ssaplan.portfolio.filters import ProgramFilter
    from ssaplan.portfolio.service import PortfolioService

    domains.install()
    store = Store(url)
    initialize(store)
    actor = Actor("bench", "admin")
    programs = generate(2013)[:200]
    with store.transaction() as session:
        PortfolioService(session, actor).upsert_many(programs, source="bench")
        add_user(session, actor, username="bench", password=PASSWORD, role="admin", agency="State")
    with store.session() as session:
        page = PortfolioService(session, actor).list_programs(ProgramFilter(), limit=PROGRAMS)
    store.dispose()
    return [p.id for p in page.items]


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(0.95 * len(values)))] * 1000


async def _load(base: str, token: str, codes: list[str], seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=READERS + EDITORS + 2)
    stats: dict[str, Any] = {
        "read_ms": [],
        "write_ms": [],
        "health_ms": [],
        "accepted": {c: [] for c in codes},
        "conflicts": 0,
        "server_errors": 0,
        "other": 0,
    }
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as c:
        start = {code: (await c.get(f"/api/programs/{code}")).json() for code in codes}

        async def timed(kind: str, method: str, url: str, **kw: Any) -> httpx.Response:
            started = time.perf_counter()
            r = await c.request(method, url, **kw)
            stats[kind].append(time.perf_counter() - started)
            if r.status_code >= 500:
                stats["server_errors"] += 1
            return r

        async def reader(i: int) -> None:
            rng = random.Random(i)
            while time.monotonic() < deadline:
                if rng.random() < 0.5:
                    await timed("read_ms", "GET", "/api/programs?limit=50")
                else:
                    await timed("read_ms", "GET", f"/api/programs/{rng.choice(codes)}")

        async def editor(i: int) -> None:
            rng = random.Random(1000 + i)
            n = 0
            while time.monotonic() < deadline:
                code = rng.choice(codes)
                got = await timed("read_ms", "GET", f"/api/programs/{code}")
                if got.status_code != 200:
                    stats["other"] += 1
                    continue
                current = got.json()
                n += 1
                token = f"|e{i}.{n}"
                r = await timed(
                    "write_ms",
                    "PATCH",
                    f"/api/programs/{code}",
                    json={
                        "description": current["description"] + token,
                        "version": current["version"],
                    },
                )
                if r.status_code == 200:
                    stats["accepted"][code].append((r.json()["version"], token))
                elif r.status_code == 409:
                    stats["conflicts"] += 1
                elif r.status_code < 500:
                    stats["other"] += 1

        async def health() -> None:
            while time.monotonic() < deadline:
                await timed("health_ms", "GET", "/api/health")
                await asyncio.sleep(0.05)

        await asyncio.gather(
            *(reader(i) for i in range(READERS)),
            *(editor(i) for i in range(EDITORS)),
            health(),
        )
        lost = 0
        for code in codes:
            final = (await c.get(f"/api/programs/{code}")).json()
            accepted = sorted(stats["accepted"][code])
            # Each accepted write appended its token to the state it read: the final text
            # is the first one with every accepted token, in version order, and nothing else.
            expected = start[code]["description"] + "".join(t for _v, t in accepted)
            versions = [v for v, _t in accepted]
            first = start[code]["version"]
            consecutive = versions == list(range(first + 1, first + 1 + len(accepted)))
            if (
                final["description"] != expected
                or not consecutive
                or final["version"] != first + len(accepted)
            ):
                lost += 1
            history = (await c.get(f"/api/programs/{code}/history")).json()["items"]
            updates = [h for h in history if h["action"] == "update"]
            if len(updates) != len(accepted):
                lost += 1
        stats["lost"] = lost
    return stats


def _run(url: str, label: str, seconds: float) -> dict[str, Any]:
    codes = _prepare(url)
    port = _free_port()
    env = {**os.environ, "SSAPLAN_DB": url}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the server's lifetime, closed in finally
    server = subprocess.Popen(
        _ssaplan("--db", url, "serve", "--port", str(port), "--workers", "2"),
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > 300 or server.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the server at {base} did not start:\n{tail}")
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/auth/token", json={"username": "bench", "password": PASSWORD}
        ).json()["token"]
        try:
            s = asyncio.run(_load(base, token, codes, seconds))
        except httpx.HTTPError as exc:  # the server's own account of what happened
            log.seek(0)
            tail = log.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"{exc!r} from the server at {base}; its log ends:\n{tail}") from exc
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    accepted = sum(len(v) for v in s["accepted"].values())
    return {
        "database": label,
        "seconds": seconds,
        "accepted writes": accepted,
        "409 (stale, retried)": s["conflicts"],
        "5xx (must be 0)": s["server_errors"],
        "lost updates (must be 0)": s["lost"],
        "reads": len(s["read_ms"]),
        "p95 read ms": round(_p95(s["read_ms"]), 1),
        "p95 write ms": round(_p95(s["write_ms"]), 1),
        "p95 /api/health ms (baseline)": round(_p95(s["health_ms"]), 1),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    seconds = 10.0 if quick else 60.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(_run(f"sqlite:///{Path(tmp) / 'load.db'}", "SQLite", seconds))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import pgtemp  # a sibling script

    if pgtemp.pg_bin() is None:
        rows.append({"database": "PostgreSQL", "seconds": 0, "accepted writes": "not installed"})
        return rows
    admin = pgtemp.start()
    try:
        rows.append(_run(admin, "PostgreSQL", seconds))
    finally:
        pgtemp.stop()
    return rows
