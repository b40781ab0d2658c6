"""Users over the API: the inherited resource checks, and what a change of a user does."""

from __future__ import annotations

from typing import Any

from tests.apibase import Api, APIResourceChecks
from tests.conftest import PASSWORD


class TestUsersAPI(APIResourceChecks):
    list_url = "/api/users"
    writer = ("admin", "State")
    reader_role = None  # only admins see users
    supports_delete = False
    malformed_field = "password"

    def create_payload(self) -> dict[str, Any]:
        return {
            "username": "field.officer",
            "password": "long-password-1",
            "role": "planner",
            "agency": "State/INL",
            "full_name": "Field Officer",
        }

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": created["version"],
            "full_name": "Field Officer (INL)",
            "roles": [
                {"role": "planner", "scope_kind": "agency", "scope": "State/INL"},
                {"role": "viewer"},
            ],
        }

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"version": created["version"], "active": False}

    def detail_url(self, created: dict[str, Any]) -> str:
        return f"/api/users/{created['username']}"


def test_a_deactivated_user_is_locked_out(api: Api) -> None:
    admin = api.login("admin1", "admin")
    viewer = api.login("vera", "viewer")
    assert api.client.get("/api/me", headers=viewer).status_code == 200
    user = api.client.get("/api/users/vera", headers=admin).json()
    r = api.client.patch(
        "/api/users/vera", json={"version": user["version"], "active": False}, headers=admin
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["version"] == user["version"] + 1
    assert api.client.get("/api/me", headers=viewer).status_code == 401
    r = api.client.post("/api/auth/token", json={"username": "vera", "password": PASSWORD})
    assert r.status_code == 401
    history = api.client.get("/api/audit?entity_type=user&entity_id=vera", headers=admin).json()
    assert [h["summary"] for h in history["items"] if h["action"] == "update"] == ["active"]


def test_roles_are_replaced_whole_and_checked(api: Api) -> None:
    admin = api.login("admin1", "admin")
    api.login("pat", "planner", "State/INL")
    user = api.client.get("/api/users/pat", headers=admin).json()
    r = api.client.patch(
        "/api/users/pat",
        json={
            "version": user["version"],
            "roles": [
                {"role": "captain"},
                {"role": "planner", "scope_kind": "country", "scope": "Narnia"},
            ],
        },
        headers=admin,
    )
    assert r.status_code == 422
    locs = {tuple(d["loc"]) for d in r.json()["error"]["details"]}
    assert {("roles", "0", "role"), ("roles", "1", "scope")} <= locs
    r = api.client.patch(
        "/api/users/pat", json={"version": user["version"], "roles": []}, headers=admin
    )
    assert r.status_code == 422
    r = api.client.patch(
        "/api/users/pat",
        json={
            "version": user["version"],
            "roles": [{"role": "planner", "scope_kind": "country", "scope": "Kenya"}],
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == [{"role": "planner", "scope_kind": "country", "scope": "KEN"}]
    # The same change again changes nothing: the version stays.
    same = api.client.patch(
        "/api/users/pat",
        json={"version": r.json()["version"], "roles": r.json()["roles"]},
        headers=admin,
    )
    assert same.status_code == 200 and same.json()["version"] == r.json()["version"]


def test_a_patch_needs_the_version(api: Api) -> None:
    admin = api.login("admin1", "admin")
    api.login("vera", "viewer")
    r = api.client.patch("/api/users/vera", json={"full_name": "Vera"}, headers=admin)
    assert r.status_code == 422
    assert ["body", "version"] in [d["loc"] for d in r.json()["error"]["details"]]
    r = api.client.patch("/api/users/nobody", json={"version": 1, "active": False}, headers=admin)
    assert r.status_code == 404
