"""What schemathesis found (issue 10, item 5): an id past 64 bits and an unknown country
filter were 500s; both are 422 with the envelope now."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import make_user

HUGE = 2**70


@pytest.mark.parametrize(
    "url",
    [
        f"/api/overlaps/marks/{HUGE}",
        f"/api/allocation/scenarios/{HUGE}",
        f"/api/assessment/runs/{HUGE}",
        "/api/compliance/assisted-units?country=Atlantis-not-a-country",
    ],
)
def test_out_of_range_input_is_a_422_with_the_envelope(sqlite_store: Store, url: str) -> None:
    client = TestClient(create_app(sqlite_store), raise_server_exceptions=False)
    creds = make_user(sqlite_store, "ana", "admin")
    token = client.post("/api/auth/token", json=creds).json()["token"]
    r = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422, (url, r.status_code, r.text[:300])
    assert r.json()["error"]["code"] == "invalid"
