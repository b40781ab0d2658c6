"""``Server-Timing: app;dur=<ms>`` on every response: the time spent in this process.

A plain ASGI wrapper (no ``BaseHTTPMiddleware``: it would cost more than it measures).
The figure runs from the request's arrival in the app to its response's headers,
so it includes any wait for a thread of the pool but not the network or the
client; the benchmarks read it (``benchmarks/bench_portfolio_api.py``).
"""

from __future__ import annotations

import time
from typing import Any

Scope = dict[str, Any]


class ServerTiming:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={ms:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)
