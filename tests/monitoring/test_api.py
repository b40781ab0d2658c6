"""The monitoring API: the inherited resource checks for reviews and surges, decisions,
rules, crises, and the typed monitoring reads."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.apibase import Api, APIResourceChecks
from tests.factories import program_data
from tests.strategy.world import strategy_payload

PROGRAM = program_data(id="P-API", status="implementing")


def _setup(api: Api) -> dict[str, Any]:
    headers = api.login("setup-admin", "admin")
    if api.client.get("/api/programs/P-API", headers=headers).status_code == 404:
        assert api.client.post("/api/programs", json=PROGRAM, headers=headers).status_code == 201
        r = api.client.post("/api/strategies", json=strategy_payload(["P-API"]), headers=headers)
        assert r.status_code == 201, r.text
        r = api.client.put("/api/reserves/INCLE/2027", json={"amount": 50_000_000}, headers=headers)
        assert r.status_code == 200, r.text
    s = api.client.get("/api/strategies/GHA-2025-2029", headers=headers).json()
    return dict(s["objectives"][0])


class TestReviewsAPI(APIResourceChecks):
    list_url = "/api/reviews"
    writer = ("planner", "State")
    supports_update = False
    supports_delete = False  # a review is decided, never deleted
    malformed_field = "reasons"

    def _create(self, api: Api) -> dict[str, Any]:
        _setup(api)
        return super()._create(api)

    def create_payload(self) -> dict[str, Any]:
        return {"program": "P-API", "trigger": "manual", "reasons": ["asked by post"]}


class TestSurgesAPI(APIResourceChecks):
    list_url = "/api/surges"
    writer = ("planner", "State")
    supports_update = False
    supports_delete = False  # a surge is decided, never deleted
    malformed_field = "amount"
    links: ClassVar[dict[str, int]] = {}

    def _create(self, api: Api) -> dict[str, Any]:
        objective = _setup(api)
        type(self).links = {"objective": objective["id"], "plan": objective["sustainment"]["id"]}
        return super()._create(api)

    def create_payload(self) -> dict[str, Any]:
        return {
            "title": "Urgent radios",
            "justification": "the border posts lost their radios",
            "country": "GHA",
            "account": "INCLE",
            "fiscal_year": 2027,
            "amount": 1_000_000,
            "objective": self.links.get("objective", 1),
            "sustainment_plan": self.links.get("plan", 1),
            "program": "P-API",
        }


def test_deciding_over_the_api(api: Api) -> None:
    _setup(api)
    headers = api.login("admin1", "admin")
    r = api.client.post(
        "/api/reviews",
        json={"program": "P-API", "trigger": "legal_restriction", "reasons": ["new restriction"]},
        headers=headers,
    )
    assert r.status_code == 201 and r.headers["location"] == f"/api/reviews/{r.json()['id']}"
    review = r.json()
    assert review["recommendation"] == "suspend" and review["trigger"] == "legal_restriction"
    url = f"/api/reviews/{review['id']}/decision"
    bad = api.client.post(
        url,
        json={"decision": "scale_up", "rationale": "needs money", "version": 1},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == ["body", "budget"]
    r = api.client.post(
        url,
        json={"decision": "suspend", "rationale": "until counsel clears it", "version": 1},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["changes"]["status_after"] == "suspended"
    again = api.client.post(
        url,
        json={"decision": "terminate", "rationale": "changed my mind", "version": 2},
        headers=headers,
    )
    assert again.status_code == 409 and "is closed" in again.json()["error"]["message"]
    program = api.client.get("/api/programs/P-API", headers=headers).json()
    assert program["status"] == "suspended"
    r = api.client.get("/api/reviews", params={"status": "all"}, headers=headers)
    assert r.json()["items"][0]["decision"] == "suspend"
    assert api.client.get("/api/reviews/queue", headers=headers).json() == {"reviews": []}


def test_rules_crises_and_the_annual_cycle_over_the_api(api: Api) -> None:
    _setup(api)
    admin = api.login("admin1", "admin")
    planner = api.login("planner1", "planner")
    rules = api.client.get("/api/monitoring/rules", headers=planner).json()["items"]
    assert {r["section"] for r in rules} >= {"performance", "delivery", "delivery.FMF", "money"}
    r = api.client.put(
        "/api/monitoring/rules/money_not_moving",
        json={"params": {"min_obligated_share": 0.6}},
        headers=planner,
    )
    assert r.status_code == 403
    r = api.client.put(
        "/api/monitoring/rules/money_not_moving",
        json={"params": {"min_obligated_share": 2}},
        headers=admin,
    )
    assert r.status_code == 422
    r = api.client.put(
        "/api/monitoring/rules/money_not_moving",
        json={"params": {"min_obligated_share": 0.6}},
        headers=admin,
    )
    assert r.status_code == 200 and "less than 60%" in r.json()["statement"]
    r = api.client.post(
        "/api/crises",
        json={
            "country": "Ghana",
            "occurred_on": "2026-11-20",
            "kind": "coup",
            "severity": "severe",
            "description": "the army took power",
        },
        headers=planner,
    )
    assert r.status_code == 201 and r.json()["country"] == "GHA"
    assert r.json()["reviews_opened"] == 1
    assert api.client.get("/api/crises", headers=planner).json()["total"] == 1
    r = api.client.post("/api/reviews/annual", json={"fiscal_year": 2027}, headers=planner)
    assert r.status_code == 200 and r.json()["opened"] == 1
    r = api.client.post("/api/reviews/run", headers=planner)
    assert r.status_code == 200
    queue = api.client.get("/api/reviews/queue", headers=planner).json()["reviews"]
    assert {q["trigger"] for q in queue} >= {"annual", "crisis_event"}


def test_monitoring_reads_are_typed_and_open_to_readers(api: Api) -> None:
    _setup(api)
    viewer = api.login("viewer1", "viewer")
    summary = api.client.get("/api/monitoring/summary", headers=viewer).json()
    assert set(summary) == {
        "as_of",
        "performance",
        "off_track",
        "timelines",
        "money",
        "open_reviews",
    }
    perf = api.client.get("/api/monitoring/performance", headers=viewer).json()
    assert perf["total"] == 2 and perf["items"][0]["status"] is None
    assert (
        api.client.get(
            "/api/monitoring/performance", params={"status": "sideways"}, headers=viewer
        ).status_code
        == 422
    )
    assert api.client.get("/api/monitoring/timelines", headers=viewer).json()["deliveries"] == 0
    assert api.client.get("/api/monitoring/money", headers=viewer).json()["total"]["planned"] > 0
    assert (
        api.client.get("/api/reserves", headers=viewer).json()["items"][0]["amount"] == 50_000_000
    )
    assert api.client.post("/api/reviews/run", headers=viewer).status_code == 403
