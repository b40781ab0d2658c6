"""Latency of the portfolio list API over the demo world, beside /api/health.

A real server (``ssaplan serve``, one worker, SQLite) on loopback; clients are asyncio
tasks on httpx, each sending its next request as soon as the last one answered.
/api/health in the same run is the floor: the cost of HTTP, routing and one query.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TITLE = "Portfolio list API: latency at 1 and 20 concurrent clients (demo world, SQLite)"
ROUTES = {
    "health (baseline)": "/api/health",
    "programs, first page": "/api/programs?limit=50",
    "programs, filtered+sorted": "/api/programs?region=AF&fiscal_year=2027&sort=-planned&limit=50",
}


def _ssaplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "ssaplan.cli", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _measure(base: str, path: str, token: str, clients: int, requests: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    per_client = max(1, requests // clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            for _ in range(per_client):
                started = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - started)
                r.raise_for_status()

        await client.get(path)  # warm up
        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "SSAPLAN_DB": db}
        subprocess.run(
            _ssaplan("--db", db, "demo"),
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = _free_port()
        server = subprocess.Popen(
            _ssaplan("--db", db, "serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            token = httpx.post(
                base + "/api/auth/token",
                json={"username": "viewer", "password": "viewer-demo-pass"},
            ).json()["token"]
            for clients in (1, 20):
                requests = (40 if quick else 200) * (1 if clients == 1 else 5)
                for label, path in ROUTES.items():
                    lat = asyncio.run(_measure(base, path, token, clients, requests))
                    lat.sort()
                    rows.append(
                        {
                            "route": label,
                            "clients": clients,
                            "requests": len(lat),
                            "median_ms": statistics.median(lat) * 1000,
                            "p95_ms": lat[int(0.95 * (len(lat) - 1))] * 1000,
                            "req_per_s": len(lat) / max(sum(lat) / clients, 1e-9),
                        }
                    )
        finally:
            server.terminate()
            server.wait(timeout=20)
    return rows
