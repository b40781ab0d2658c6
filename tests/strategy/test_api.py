"""The strategy API: the inherited resource checks, the framework's parts, measurements."""

from __future__ import annotations

from typing import Any

from tests.apibase import Api, APIResourceChecks
from tests.strategy.world import indicator, strategy_payload


class TestStrategiesAPI(APIResourceChecks):
    list_url = "/api/strategies"
    writer = ("planner", "State")
    malformed_field = "first_fy"

    def create_payload(self) -> dict[str, Any]:
        return strategy_payload([], agency="State/INL")

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"version": created["version"], "title": "Renamed strategy"}


class TestMeasurementsAPI(APIResourceChecks):
    list_url = "/api/measurements"
    writer = ("planner", "State")
    malformed_field = "period"
    indicator_id: int = 0

    def _indicator(self, api: Api) -> int:
        headers = api.login("framework-admin", "admin")
        r = api.client.get("/api/strategies/GHA-2025-2029", headers=headers)
        if r.status_code == 404:
            r = api.client.post("/api/strategies", json=strategy_payload([]), headers=headers)
            assert r.status_code == 201, r.text
        return int(r.json()["objectives"][0]["indicators"][0]["id"])

    def _create(self, api: Api) -> dict[str, Any]:
        type(self).indicator_id = self._indicator(api)
        return super()._create(api)

    def create_payload(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator_id or 1,
            "period": "FY2026",
            "value": 61.5,
            "quality": "B",
            "confidence": "medium",
        }

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"version": created["version"], "value": 62.0, "quality": "A"}


def test_the_framework_parts_over_the_api(api: Api) -> None:
    headers = api.login("admin1", "admin")
    prog = {
        "title": "Border posts",
        "agency": "State/INL",
        "account": "INCLE",
        "countries": ["GHA"],
        "start": "2025-10-01",
        "end": "2028-09-30",
    }
    assert (
        api.client.post("/api/programs", json={**prog, "id": "P-1"}, headers=headers).status_code
        == 201
    )
    s = api.client.post("/api/strategies", json=strategy_payload(["P-1"]), headers=headers).json()
    objective = s["objectives"][0]
    r = api.client.get("/api/strategy-objectives", params={"program": "P-1"}, headers=headers)
    assert [o["id"] for o in r.json()["items"]] == [objective["id"]]
    r = api.client.post(
        "/api/strategy-indicators",
        json={**indicator("1.c"), "objective": objective["id"]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    ind = r.json()
    r = api.client.post(
        "/api/strategy-indicators",
        json={
            **indicator("1.d", baseline_value=None, baseline_period=None),
            "objective": objective["id"],
        },
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"] == ["body", "targets"]
    r = api.client.patch(
        f"/api/strategy-indicators/{ind['id']}",
        json={"version": 1, "unit": "percent", "colour": "red"},
        headers=headers,
    )
    assert r.status_code == 422  # unknown fields are refused
    plan = objective["sustainment"]
    r = api.client.patch(
        f"/api/sustainment-plans/{plan['id']}",
        json={"version": plan["version"], "life_cycle_cost": 4_000_000},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["life_cycle_cost"] == 4_000_000
    commitment = s["commitments"][0]
    r = api.client.patch(
        f"/api/partner-commitments/{commitment['id']}",
        json={"version": 1, "status": "met"},
        headers=headers,
    )
    assert r.json()["status"] == "met"
    r = api.client.post(
        "/api/measurements/batch",
        json={
            "items": [
                {
                    "indicator": ind["id"],
                    "period": "FY2025",
                    "value": 50,
                    "quality": "A",
                    "confidence": "high",
                },
                {
                    "indicator": ind["id"],
                    "period": "FY2026",
                    "value": 58,
                    "quality": "B",
                    "confidence": "low",
                },
            ]
        },
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["created"] == 2
    csv = "strategy,indicator,period,value,quality,confidence\nGHA-2025-2029,1.c,FY2027,70,B,high\n"
    r = api.client.post(
        "/api/measurements/import",
        files={"file": ("m.csv", csv.encode(), "text/csv")},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    r = api.client.get("/api/measurements", params={"strategy": s["id"]}, headers=headers)
    assert r.json()["total"] == 3
    for url in (
        "/api/strategy-objectives/x",
        "/api/sustainment-plans/0",
        "/api/partner-commitments/9",
    ):
        assert api.client.get(url, headers=headers).status_code == 404
    assert (
        api.client.delete(
            f"/api/strategy-indicators/{ind['id']}?version=1", headers=headers
        ).status_code
        == 204
    )
    r = api.client.get("/api/measurements", params={"strategy": s["id"]}, headers=headers)
    assert r.json()["total"] == 0
