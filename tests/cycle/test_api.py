"""The API: permissions, the walk, refusals with their status and nothing changed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import PASSWORD
from tests.cycle.conftest import db_user, proposal_data


class Client:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.http = TestClient(create_app(store))
        self.headers: dict[str, dict[str, str]] = {}

    def user(
        self, name: str, role: str, agency: str, kind: str | None = None, scope: str | None = None
    ) -> None:  # noqa: E501
        db_user(self.store, name, role, agency, kind, scope)
        r = self.http.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.headers[name] = {"Authorization": f"Bearer {r.json()['token']}"}

    def call(self, who: str | None, method: str, url: str, body: Any = None) -> Any:
        headers = self.headers[who] if who else {}
        return self.http.request(method, url, json=body, headers=headers)


def test_the_walk_and_every_refusal_over_the_api(store: Store) -> None:
    c = Client(store)
    c.user("dod-planner", "planner", "DoD/DSCA")
    c.user("state-reviewer", "reviewer", "State")
    c.user("dod-reviewer", "reviewer", "DoD")
    c.user("doj-reviewer", "reviewer", "DOJ")
    c.user("com-ken", "chief_of_mission", "State", "country", "KEN")
    c.user("coordinator", "coordinator", "State/F")
    c.user("viewer", "viewer", "DOJ")

    assert c.call(None, "GET", "/api/proposals").status_code == 401
    r = c.call("viewer", "POST", "/api/proposals", proposal_data())
    assert r.status_code == 403
    r = c.call("dod-planner", "POST", "/api/proposals", {**proposal_data(), "levels": "lots"})
    assert r.status_code == 422 and ["body", "levels"] in [
        d["loc"] for d in r.json()["error"]["details"]
    ]

    r = c.call("dod-planner", "POST", "/api/proposals", proposal_data())
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.headers["Location"] == f"/api/proposals/{pid}"
    version = r.json()["version"]
    r = c.call(
        "dod-planner", "PATCH", f"/api/proposals/{pid}", {"version": version, "title": "Boats"}
    )
    assert r.status_code == 200 and r.json()["title"] == "Boats"
    r = c.call(
        "dod-planner", "PATCH", f"/api/proposals/{pid}", {"version": version, "title": "X y z"}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"

    assert c.call("dod-planner", "POST", f"/api/proposals/{pid}/submit").status_code == 200

    def unchanged(who: str, method: str, url: str, body: Any, status: int, words: str) -> None:
        before = c.call("viewer", "GET", f"/api/proposals/{pid}").json()
        r = c.call(who, method, url, body)
        assert r.status_code == status, r.text
        assert words in r.json()["error"]["message"]
        assert c.call("viewer", "GET", f"/api/proposals/{pid}").json() == before

    now = c.call("viewer", "GET", f"/api/proposals/{pid}").json()["version"]
    unchanged(
        "dod-planner",
        "PATCH",
        f"/api/proposals/{pid}",
        {"version": now, "title": "New"},
        409,
        "edited in place",
    )  # noqa: E501
    concur = f"/api/proposals/{pid}/concur"
    unchanged("doj-reviewer", "POST", concur, {"decision": "concur"}, 403, "another agency")
    assert c.call("state-reviewer", "POST", concur, {"decision": "concur"}).status_code == 200
    unchanged("state-reviewer", "POST", concur, {"decision": "concur"}, 409, "already answered")
    unchanged("coordinator", "POST", f"/api/proposals/{pid}/approve", None, 409, "missing from DoD")
    assert c.call("dod-reviewer", "POST", concur, {"decision": "concur"}).status_code == 200
    r = c.call("com-ken", "POST", concur, {"decision": "concur_with_comments", "comment": "Fine."})
    assert r.status_code == 200 and r.json()["waiting_on"] == ["coordinator"]
    r = c.call("com-ken", "POST", f"/api/proposals/{pid}/comments", {"body": "Keep me posted."})
    assert r.status_code == 201
    assert c.call("coordinator", "POST", f"/api/proposals/{pid}/approve").status_code == 200
    obligate = {"amount": 1000, "obligated_on": "2026-01-05"}
    unchanged(
        "dod-planner", "POST", f"/api/proposals/{pid}/obligate", obligate, 409, "not been notified"
    )  # noqa: E501

    pipeline = c.call("viewer", "GET", "/api/proposals/pipeline?by=agency&trend=true").json()
    assert [w["id"] for w in pipeline["waiting_longest"]] == [pid]
    assert pipeline["by"]["agency"][0]["group"] == "DoD"
    box = c.call("coordinator", "GET", "/api/inbox").json()
    assert [(i["kind"], i["ref"]) for i in box["items"]] == [("notification", pid)]
    box = c.call("dod-planner", "GET", "/api/inbox").json()
    assert [(i["kind"], i["ref"]) for i in box["items"]] == [("comment", pid)]
    history = c.call("viewer", "GET", f"/api/proposals/{pid}/history").json()["items"]
    assert [h["action"] for h in history][:2] == ["approve", "comment"]
    cands = c.call("viewer", "GET", "/api/proposals/candidates").json()["candidates"]
    assert [x["id"] for x in cands] == [pid]
    assert c.call("viewer", "GET", "/api/cycle/rules").status_code == 200
    assert c.call("viewer", "GET", "/api/cycle/calendar").status_code == 404
    assert c.call("viewer", "POST", "/api/cycle/calendar/2027").status_code == 403
    r = c.call("coordinator", "POST", "/api/cycle/calendar/2027")
    assert r.status_code == 201 and r.json()["fiscal_year"] == 2027
    assert c.call("viewer", "GET", "/api/proposals/FY2027-DoD-0099").status_code == 404
