"""A reusable API test base: declare a resource, inherit the checks every resource needs.

Each subclass sets the URLs and payloads; the base checks anonymous access (401),
missing permission (403), create, update, stale update (409, nothing changed), a
malformed body (422 naming the field) and an unknown id (404) — on SQLite and
PostgreSQL, through the real app.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import make_user


class Api:
    """A client for one app, with bearer tokens for named users."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.client = TestClient(create_app(store))
        self.tokens: dict[str, str] = {}

    def login(self, username: str, role: str, agency: str = "State") -> dict[str, str]:
        if username not in self.tokens:
            creds = make_user(self.store, username, role, agency)
            r = self.client.post("/api/auth/token", json=creds)
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}


class APIResourceChecks:
    """Inherit, set the class attributes and implement the payload methods."""

    list_url: ClassVar[str]
    writer: ClassVar[tuple[str, str]]  # (role, agency) allowed to write
    reader_role: ClassVar[str] = "viewer"
    supports_update: ClassVar[bool] = True
    malformed_field: ClassVar[str]

    def create_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def detail_url(self, created: dict[str, Any]) -> str:
        raise NotImplementedError

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {**self.update_payload(created), "version": created["version"] - 1 or 1}

    # -- the checks --------------------------------------------------------------------
    def _writer(self, api: Api) -> dict[str, str]:
        role, agency = self.writer
        return api.login("writer", role, agency)

    def _create(self, api: Api) -> dict[str, Any]:
        r = api.client.post(self.list_url, json=self.create_payload(), headers=self._writer(api))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def test_anonymous_is_refused_everywhere(self, api: Api) -> None:
        created = self._create(api)
        calls = [("get", self.list_url), ("post", self.list_url), ("get", self.detail_url(created))]
        if self.supports_update:
            calls += [("patch", self.detail_url(created)), ("delete", self.detail_url(created))]
        for method, url in calls:
            r = api.client.request(method.upper(), url, json=self.create_payload())
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.json()["error"]["code"] == "unauthenticated"

    def test_reader_may_read_but_not_write(self, api: Api) -> None:
        created = self._create(api)
        headers = api.login("reader", self.reader_role)
        assert api.client.get(self.list_url, headers=headers).status_code == 200
        assert api.client.get(self.detail_url(created), headers=headers).status_code == 200
        r = api.client.post(self.list_url, json=self.create_payload(), headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        if self.supports_update:
            r = api.client.patch(
                self.detail_url(created), json=self.update_payload(created), headers=headers
            )
            assert r.status_code == 403

    def test_create_then_read_back(self, api: Api) -> None:
        created = self._create(api)
        r = api.client.get(self.detail_url(created), headers=self._writer(api))
        assert r.status_code == 200
        assert r.json() == created

    def test_update_then_stale_update_changes_nothing(self, api: Api) -> None:
        if not self.supports_update:
            pytest.skip("resource has no update")
        created = self._create(api)
        headers = self._writer(api)
        r = api.client.patch(
            self.detail_url(created), json=self.update_payload(created), headers=headers
        )
        assert r.status_code == 200, r.text
        updated = r.json()
        assert updated["version"] == created["version"] + 1
        r = api.client.patch(
            self.detail_url(created), json=self.stale_payload(created), headers=headers
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
        assert api.client.get(self.detail_url(created), headers=headers).json() == updated

    def test_malformed_body_names_the_field(self, api: Api) -> None:
        payload = {**self.create_payload(), self.malformed_field: {"not": "valid"}}
        r = api.client.post(self.list_url, json=payload, headers=self._writer(api))
        assert r.status_code == 422
        locs = [d["loc"] for d in r.json()["error"]["details"]]
        assert any(self.malformed_field in loc for loc in locs), locs

    def test_unknown_id_is_404(self, api: Api) -> None:
        r = api.client.get(self.list_url + "/no-such-thing-xyz", headers=self._writer(api))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
