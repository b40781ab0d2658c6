"""What every request passes before a route sees it: a login check and a size limit on
the body, and the security headers on every response (issue 10).

FastAPI reads a request's body (a multipart upload is spooled to disk) *before* the
route's dependencies run, so without this guard an anonymous client's 1 GB upload is
read whole before the 401. :class:`RequestGuard` therefore

- refuses a body larger than its limit from ``Content-Length`` at once (413), and
  counts the bytes of a body sent without one, refusing it as soon as it passes the limit;
- checks the login (bearer token or session cookie) before a byte of the body is read,
  on every route but the two that log in (which get a small limit instead).

The limits are settings: ``SSAPLAN_MAX_BODY_BYTES`` for JSON and forms,
``SSAPLAN_MAX_UPLOAD_BYTES`` for ``multipart/form-data`` uploads; each refusal names
the limit and the setting that changes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import HTTPException

from ssaplan.core.auth import SESSION_COOKIE
from ssaplan.core.errors import envelope
from ssaplan.core.settings import Settings
from ssaplan.core.store import Store
from ssaplan.core.users import actor_for_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The routes that take credentials: anyone may send them, so their bodies stay small.
PUBLIC_WITH_BODY = frozenset({"/login", "/api/auth/token"})
PUBLIC_BODY_BYTES = 64 * 1024


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _too_large(limit: int, setting: str | None) -> str:
    how = (
        f"set {setting} to change it"
        if setting
        else "the login routes take only a username and password"
    )
    return f"the request body is larger than the limit of {human_bytes(limit)} ({how})"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body without ``Content-Length`` passes its limit."""

    def __init__(self, limit: int, setting: str | None) -> None:
        super().__init__(413, _too_large(limit, setting))


class RequestGuard:
    """Login before body, and a size limit on every body (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, store: Store, settings: Settings) -> None:
        self.app = app
        self.store = store
        self.settings = settings

    def _limit(self, path: str, content_type: str) -> tuple[int, str | None]:
        if path in PUBLIC_WITH_BODY:
            return PUBLIC_BODY_BYTES, None
        if content_type.startswith("multipart/"):
            return self.settings.max_upload_bytes, "SSAPLAN_MAX_UPLOAD_BYTES"
        return self.settings.max_body_bytes, "SSAPLAN_MAX_BODY_BYTES"

    def _logged_in(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        candidate = token.strip() if scheme.lower() == "bearer" else ""
        if not candidate:
            for part in headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    candidate = value.strip().strip('"')
        if not candidate:
            return False
        with self.store.session() as session:
            return actor_for_token(session, candidate) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length_header = headers.get("content-length")
        has_body = "transfer-encoding" in headers or (
            length_header is not None and length_header.strip() not in ("", "0")
        )
        if not has_body:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit, setting = self._limit(path, headers.get("content-type", "").lower())
        try:
            declared = int(length_header) if length_header is not None else None
        except ValueError:
            await self._refuse(scope, send, 400, "bad_request", "Content-Length is not a number")
            return
        if declared is not None and declared > limit:
            await self._refuse(scope, send, 413, "too_large", _too_large(limit, setting))
            return
        if path not in PUBLIC_WITH_BODY:
            logged_in = await anyio.to_thread.run_sync(self._logged_in, headers)
            if not logged_in:
                await self._unauthenticated(scope, send)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, setting)
            return message

        await self.app(scope, counting_receive, send)

    async def _unauthenticated(self, scope: Scope, send: Send) -> None:
        path: str = scope["path"]
        if path.startswith("/api"):
            await self._refuse(
                scope,
                send,
                401,
                "unauthenticated",
                "log in first: send 'Authorization: Bearer <token>' (POST /api/auth/token) "
                "or use the session cookie from /login",
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = quote(path + (f"?{query}" if query else ""), safe="")
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", f"/login?next={target}".encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, message: str) -> None:
        import json

        body = json.dumps(envelope(status, code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# -- security headers ---------------------------------------------------------------
# No inline script or style anywhere (the pages use /static only), so the policy can
# forbid both; frame-ancestors 'none' with X-Frame-Options for older browsers.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(production: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if production:  # only over HTTPS, which production requires (SSAPLAN_COOKIE_SECURE)
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Adds :func:`security_headers` to every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.headers = security_headers(production)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in self.names
                ]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
