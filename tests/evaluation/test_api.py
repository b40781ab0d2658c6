"""The registry and the evidence base over the API: the checks every resource inherits,
plus scope, refusals that write nothing, and the evidence routes."""

from __future__ import annotations

from typing import Any

from tests.apibase import Api, APIResourceChecks
from tests.evaluation.test_registry import completed


class TestEvaluationsAPI(APIResourceChecks):
    list_url = "/api/evaluations"
    writer = ("planner", "State")
    malformed_field = "start_date"

    def create_payload(self) -> dict[str, Any]:
        return completed()

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"version": created["version"], "management_response": "Accepted."}


def test_refusals_write_nothing_and_scope_is_the_agency(api: Api) -> None:
    planner = api.login("planner", "planner", "State")
    r = api.client.post(
        "/api/evaluations",
        json=completed(agency="Atlantis", end_date="2000-01-01"),
        headers=planner,
    )
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["error"]["details"]]
    assert ["body", "agency"] in locs and ["body", "end_date"] in locs
    r = api.client.post("/api/evaluations", json=completed(agency="DoD"), headers=planner)
    assert r.status_code == 403 and "evaluation:write" in r.json()["error"]["message"]
    r = api.client.post(
        "/api/evaluations",
        json=completed(estimates=[{**completed()["estimates"][0], "std_error": None}]),
        headers=planner,
    )
    assert r.status_code == 422 and "uncertainty" in r.text
    assert api.client.get("/api/evaluations", headers=planner).json()["total"] == 0


def test_list_filters_history_and_evidence(api: Api) -> None:
    planner = api.login("planner", "planner", "State")
    for title, kind in (("A", "impact"), ("B", "process")):
        r = api.client.post(
            "/api/evaluations",
            json=completed(title=title, evaluation_type=kind),
            headers=planner,
        )
        assert r.status_code == 201 and r.headers["location"].startswith("/api/evaluations/EV-")
    viewer = api.login("viewer", "viewer")
    listing = api.client.get("/api/evaluations?type=impact", headers=viewer).json()
    assert listing["total"] == 1 and listing["items"][0]["title"] == "A"
    assert api.client.get("/api/evaluations?type=nonsense", headers=viewer).status_code == 422
    history = api.client.get(
        f"/api/evaluations/{listing['items'][0]['id']}/history", headers=viewer
    )
    assert [h["action"] for h in history.json()["items"]] == ["create"]
    table = api.client.get("/api/evidence", headers=viewer).json()
    assert [k["institution_type"] for k in table["kinds"]] == ["police"]
    on = api.client.get("/api/evidence/effectiveness", headers=viewer).json()
    off = api.client.get("/api/evidence/effectiveness?use_evidence=false", headers=viewer).json()
    assert on["use_evidence"] and on["kinds"][0]["multiplier"] > 1
    assert not off["use_evidence"] and off["kinds"] == [] and off["default"] == 1.0
    assert api.client.get("/api/evidence").status_code == 401
