"""A reusable API test base: declare a resource, inherit the checks every resource needs.

Each subclass sets the URLs and payloads; the base checks anonymous access (401),
missing permission (403), create, update, stale update (409, nothing changed), a
malformed body (422 naming the field) and an unknown id (404) — on SQLite and
PostgreSQL, through the real app.

Most resources are created by ``POST`` to their list and changed by ``PATCH`` (programs,
users). Policy inputs are upserts by key: ``PUT`` to the thing's own URL creates it the
first time and changes it after; such a resource sets ``create_method = "put"``,
``create_status = 200`` and ``update_method = "put"`` and names its URL in
``create_url``. Where the write answers in another shape than the list's items, the
resource says how to read one back (``read_back``).
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

    list_url: ClassVar[str]  # GET: the resource's list (or the page that holds it)
    writer: ClassVar[tuple[str, str]]  # (role, agency) allowed to write
    # A role that may read but not write; None when reading needs the writer's
    # permission too (users): then that role must be refused reads as well.
    reader_role: ClassVar[str | None] = "viewer"
    refused_role: ClassVar[str] = "viewer"  # used when reader_role is None
    supports_update: ClassVar[bool] = True
    supports_delete: ClassVar[bool] = True
    malformed_field: ClassVar[str]
    create_method: ClassVar[str] = "post"
    create_status: ClassVar[int] = 201
    update_method: ClassVar[str] = "patch"

    def create_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def detail_url(self, created: dict[str, Any]) -> str:
        """The created resource's own URL: by default its id below the list."""
        return f"{self.list_url}/{created['id']}"

    def create_url(self) -> str:
        """Where the resource is created (its list, or for upserts its own URL)."""
        return self.list_url

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        """A change based on the version that was current before the update."""
        return {**self.update_payload(created), "version": created["version"] - 1 or 1}

    def read_back(self, api: Api, created: dict[str, Any], headers: dict[str, str]) -> Any:
        """The resource as it is now, in the shape its writes answer with."""
        r = api.client.get(self.detail_url(created), headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    def unknown_url(self) -> str:
        """The URL of a thing that does not exist (it must be routed, and answer 404)."""
        return self.list_url + "/no-such-thing-xyz"

    # -- the checks --------------------------------------------------------------------
    def _writer(self, api: Api) -> dict[str, str]:
        role, agency = self.writer
        return api.login("writer", role, agency)

    def _write(
        self, api: Api, method: str, url: str, payload: Any, headers: dict[str, str] | None
    ) -> Any:
        return api.client.request(method.upper(), url, json=payload, headers=headers)

    def _create(self, api: Api) -> dict[str, Any]:
        r = self._write(
            api, self.create_method, self.create_url(), self.create_payload(), self._writer(api)
        )
        assert r.status_code == self.create_status, r.text
        created = dict(r.json())
        assert created["version"] == 1, created  # a new thing starts at version 1
        return created

    def _writes(self, created: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """Every write the resource has: (method, URL, payload)."""
        writes: list[tuple[str, str, Any]] = [
            (self.create_method, self.create_url(), self.create_payload())
        ]
        if self.supports_update:
            writes.append(
                (self.update_method, self.detail_url(created), self.update_payload(created))
            )
        if self.supports_delete:
            writes.append(("delete", self.detail_url(created), None))
        return writes

    def test_anonymous_is_refused_everywhere(self, api: Api) -> None:
        created = self._create(api)
        reads = [("get", self.list_url, None), ("get", self.detail_url(created), None)]
        for method, url, payload in reads + self._writes(created):
            r = self._write(api, method, url, payload, None)
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.json()["error"]["code"] == "unauthenticated"

    def test_reader_may_read_but_not_write(self, api: Api) -> None:
        created = self._create(api)
        headers = api.login("reader", self.reader_role or self.refused_role)
        read = 200 if self.reader_role else 403
        for url in (self.list_url, self.detail_url(created)):
            assert api.client.get(url, headers=headers).status_code == read, url
        for method, url, payload in self._writes(created):
            r = self._write(api, method, url, payload, headers)
            assert r.status_code == 403, (method, url, r.status_code)
            assert r.json()["error"]["code"] == "forbidden"
        assert self.read_back(api, created, self._writer(api)) == created

    def test_create_then_read_back(self, api: Api) -> None:
        created = self._create(api)
        assert self.read_back(api, created, self._writer(api)) == created

    def test_update_then_stale_update_changes_nothing(self, api: Api) -> None:
        if not self.supports_update:
            pytest.skip("resource has no update")
        created = self._create(api)
        headers = self._writer(api)
        r = self._write(
            api, self.update_method, self.detail_url(created), self.update_payload(created), headers
        )
        assert r.status_code == 200, r.text
        updated = r.json()
        assert updated["version"] == created["version"] + 1
        assert updated != {**created, "version": updated["version"]}, "the update changed nothing"
        assert self.read_back(api, created, headers) == updated
        r = self._write(
            api, self.update_method, self.detail_url(created), self.stale_payload(created), headers
        )
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "stale_version"
        assert self.read_back(api, created, headers) == updated

    def test_malformed_body_names_the_field(self, api: Api) -> None:
        payload = {**self.create_payload(), self.malformed_field: {"not": "valid"}}
        r = self._write(api, self.create_method, self.create_url(), payload, self._writer(api))
        assert r.status_code == 422
        locs = [d["loc"] for d in r.json()["error"]["details"]]
        assert any(self.malformed_field in loc for loc in locs), locs

    def test_unknown_fields_are_refused(self, api: Api) -> None:
        payload = {**self.create_payload(), "no_such_field": 1}
        r = self._write(api, self.create_method, self.create_url(), payload, self._writer(api))
        assert r.status_code == 422, r.text
        locs = [d["loc"] for d in r.json()["error"]["details"]]
        assert any("no_such_field" in loc for loc in locs), locs

    def test_unknown_id_is_404(self, api: Api) -> None:
        r = api.client.get(self.unknown_url(), headers=self._writer(api))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
