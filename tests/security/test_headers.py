"""Security headers on every response, and pages that need no inline script or style
(issue 10, item 4)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import production_settings

SRC = Path(__file__).resolve().parents[2] / "src" / "ssaplan"
EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _check(response_headers: dict[str, str]) -> None:
    csp = response_headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    for name, value in EXPECTED.items():
        assert response_headers[name] == value, name


def test_every_kind_of_answer_carries_the_headers(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store), raise_server_exceptions=False)
    answers = [
        client.get("/login"),  # a page
        client.get("/api/health"),  # public JSON
        client.get("/api/programs"),  # 401
        client.get("/no-such-page"),  # 404 page
        client.get("/static/ssaplan.css"),  # a static file
        client.post(
            "/api/programs", content=b"{}" * 2_000_000, headers={"Content-Type": "application/json"}
        ),  # refused by the guard
    ]
    for r in answers:
        _check({k.lower(): v for k, v in r.headers.items()})
        assert "strict-transport-security" not in r.headers  # local: plain HTTP is fine


def test_production_adds_hsts(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store, production_settings()))
    r = client.get("/api/health")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    _check({k.lower(): v for k, v in r.headers.items()})


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "inline <style>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_or_renderer_needs_inline_script_or_style() -> None:
    found = []
    for path in [*SRC.rglob("*.html"), *SRC.glob("ui/*.py")]:
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                found.append(f"{path.relative_to(SRC)}: {what}: {m.group(0)!r}")
    assert not found, "\n".join(found)
