"""Bodies are bounded and logins are checked before a body is read (issue 10, item 1)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.settings import Settings
from ssaplan.core.store import Store
from tests.conftest import make_user

CHUNK = b"x" * 65536
PART = (
    b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.xml"\r\n'
    b"Content-Type: application/xml\r\n\r\n"
)


def _asgi_call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: int
) -> tuple[int, int, bytes]:
    """Drive the app as a server would, with a body of ``chunks`` chunks.

    Returns (status, chunks the app read, response body).
    """
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= chunks:
            return {"type": "http.disconnect"}
        read += 1
        body = PART + CHUNK[len(PART) :] if read == 1 else CHUNK
        return {"type": "http.request", "body": body, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    # A thread of its own: a browser test in the same worker may leave an event loop
    # running in this one (Playwright's sync API), where asyncio.run() is refused.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(app(scope, receive, send))
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], read, body


def test_anonymous_upload_is_refused_before_its_body_is_read(sqlite_store: Store) -> None:
    app = create_app(sqlite_store)
    headers = [
        (b"content-type", b"multipart/form-data; boundary=xyz"),
        (b"transfer-encoding", b"chunked"),
    ]
    status, read, body = _asgi_call(app, "/api/import/iati", headers, chunks=1000)  # 64 MB
    assert status == 401
    assert read == 0  # not one chunk of the 64 MB was read
    assert b"unauthenticated" in body


def test_declared_oversize_body_is_refused_at_once_naming_the_setting(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store))
    creds = make_user(sqlite_store, "alice", "planner")
    token = client.post("/api/auth/token", json=creds).json()["token"]
    big = b'{"description": "' + b"a" * (3 * 1024**2) + b'"}'
    r = client.post(
        "/api/programs",
        content=big,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    error = r.json()["error"]
    assert error["code"] == "too_large"
    assert "2 MiB" in error["message"] and "SSAPLAN_MAX_BODY_BYTES" in error["message"]


def test_an_anonymous_big_json_body_is_not_read(sqlite_store: Store) -> None:
    app = create_app(sqlite_store)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1048576")]
    status, read, _ = _asgi_call(app, "/api/programs", headers, chunks=16)
    assert (status, read) == (401, 0)


def test_a_body_without_length_is_cut_off_at_the_limit(sqlite_store: Store) -> None:
    settings = Settings(max_upload_bytes=1024**2)
    app = create_app(sqlite_store, settings)
    client = TestClient(app)
    creds = make_user(sqlite_store, "imp", "admin")
    token = client.post("/api/auth/token", json=creds).json()["token"]
    headers = [
        (b"content-type", b"multipart/form-data; boundary=xyz"),
        (b"transfer-encoding", b"chunked"),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    status, read, body = _asgi_call(app, "/api/import/iati", headers, chunks=1000)
    assert status == 413
    assert read <= 1024**2 // len(CHUNK) + 1  # stopped at the limit, not at 64 MB
    assert b"SSAPLAN_MAX_UPLOAD_BYTES" in body and b"1 MiB" in body


def test_the_login_route_takes_only_a_small_body(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store))
    r = client.post(
        "/api/auth/token",
        content=b"{" + b" " * 200_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert "64 KiB" in r.json()["error"]["message"]


def test_a_browser_form_without_login_goes_to_the_login_page(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store))
    r = client.post("/data/import", data={"kind": "iati"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("limit", [10_000])
def test_the_body_limit_is_a_setting(sqlite_store: Store, limit: int) -> None:
    client = TestClient(create_app(sqlite_store, Settings(max_body_bytes=limit)))
    creds = make_user(sqlite_store, "bob", "planner")
    token = client.post("/api/auth/token", json=creds).json()["token"]
    r = client.post(
        "/api/programs",
        json={"description": "a" * 20_000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 413
    r = client.post("/api/programs", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422  # under the limit the route answers as before
