"""A program's fields and children are bounded (issue 10, item 1)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import MAX_DESCRIPTION, MAX_MILESTONES
from tests.conftest import make_user


def _program(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Coast guard training",
        "agency": "State",
        "start": "2025-01-01",
        "end": "2026-12-31",
        "countries": ["KEN"],
        **extra,
    }


def test_descriptions_and_milestones_are_bounded(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store))
    creds = make_user(sqlite_store, "planner", "planner")
    auth = {"Authorization": "Bearer " + client.post("/api/auth/token", json=creds).json()["token"]}

    r = client.post(
        "/api/programs", json=_program(description="a" * (MAX_DESCRIPTION + 1)), headers=auth
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"][-1] == "description"

    many = [{"name": f"m{i}"} for i in range(MAX_MILESTONES + 1)]
    r = client.post("/api/programs", json=_program(milestones=many), headers=auth)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"][-1] == "milestones"

    r = client.post(
        "/api/programs",
        json=_program(description="a" * MAX_DESCRIPTION, milestones=many[:5]),
        headers=auth,
    )
    assert r.status_code == 201, r.text
