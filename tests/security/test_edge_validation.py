"""Unvalidated input answered 500 (issue 10, item 5): each is a 4xx with the envelope now."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import make_user, web_login


@pytest.fixture
def clients(sqlite_store: Store) -> tuple[TestClient, dict[str, str], TestClient]:
    api = TestClient(create_app(sqlite_store), raise_server_exceptions=False)
    creds = make_user(sqlite_store, "ana", "admin")
    token = api.post("/api/auth/token", json=creds).json()["token"]
    web = TestClient(create_app(sqlite_store), raise_server_exceptions=False)
    web_login(web, creds["username"], creds["password"])
    return api, {"Authorization": f"Bearer {token}"}, web


CASES: list[tuple[str, str, str, Any]] = [
    ("api", "GET", "/api/programs?offset=9223372036854775808", None),
    ("api", "GET", "/api/programs?limit=9223372036854775808", None),
    ("api", "POST", "/api/assessment/preview", {"seed": -1}),
    ("api", "POST", "/api/assessment/runs", {"year": 1901}),
    ("web", "GET", "/?fiscal_year=0", None),
    ("web", "GET", "/?fiscal_year=99999999999999999999", None),
    ("web", "GET", "/?q=" + "x" * 201, None),
    ("web", "GET", "/?page=9223372036854775808", None),
]


@pytest.mark.parametrize(("where", "method", "url", "body"), CASES)
def test_bad_input_is_a_client_error_with_the_envelope(
    clients: tuple[TestClient, dict[str, str], TestClient],
    where: str,
    method: str,
    url: str,
    body: Any,
) -> None:
    api, auth, web = clients
    if where == "api":
        r = api.request(method, url, json=body, headers=auth)
        assert r.status_code in (400, 422), (url, r.status_code, r.text[:300])
        assert r.json()["error"]["code"] in ("invalid", "bad_request")
    else:
        r = web.request(method, url)
        assert r.status_code in (400, 422), (url, r.status_code, r.text[:300])
        # Either the error page or, on the overview, its filters with the problem named.
        assert 'class="error"' in r.text or 'id="filter-errors"' in r.text, r.text[:300]
