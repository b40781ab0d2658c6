"""The allocation API: permissions, the error envelope, background solves, comparisons."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.apibase import Api

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scenario.json"
URL = "/api/allocation/scenarios"


def example() -> dict[str, Any]:
    return dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def poll(api: Api, job: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        r = api.client.get(f"/api/allocation/jobs/{job['id']}", headers=headers)
        assert r.status_code == 200, r.text
        now = dict(r.json())
        assert 0 <= now["progress"] <= 1
        if now["state"] in ("done", "failed") or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def test_anonymous_and_readers_are_refused_writes(api: Api) -> None:
    assert api.client.get(URL).status_code == 401
    r = api.client.post(URL, json={"definition": example()})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    viewer = api.login("viewer", "viewer")
    assert api.client.get(URL, headers=viewer).json() == {"items": [], "total": None, "withheld": 0}
    r = api.client.post(URL, json={"definition": example()}, headers=viewer)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    analyst = api.login("analyst", "analyst", "USAID")
    assert api.client.post(URL, json={"definition": example()}, headers=analyst).status_code == 403


def test_create_solve_in_the_background_and_compare(api: Api) -> None:
    planner = api.login("planner", "planner")
    r = api.client.post(URL, json={"definition": example()}, headers=planner)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"{URL}/{created['id']}"
    assert created["definition"]["name"] == "FY2027-28 illustrative plan"

    r = api.client.post(
        f"{URL}/{created['id']}/whatif",
        json={"budget": [{"account": "FMF", "percent": -10, "fiscal_years": [2027]}]},
        headers=planner,
    )
    assert r.status_code == 201, r.text
    cut = r.json()
    assert cut["base_id"] == created["id"]

    result_ids = []
    for sc in (created, cut):
        r = api.client.post(f"{URL}/{sc['id']}/solve", json={"time_limit": 10}, headers=planner)
        assert r.status_code == 202, r.text
        assert r.headers["Location"] == f"/api/allocation/jobs/{r.json()['id']}"
        done = poll(api, r.json(), planner)
        assert done["state"] == "done", done
        result_ids.append(done["result_id"])

    viewer = api.login("viewer", "viewer")
    r = api.client.get(f"/api/allocation/results/{result_ids[0]}", headers=viewer)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "optimal" and body["result"]["objective"] == 180.0
    assert body["result"]["shadow_price_basis"] == "LP relaxation at the optimal integer choice"
    r = api.client.get(
        "/api/allocation/compare",
        params={"before": result_ids[0], "after": result_ids[1]},
        headers=viewer,
    )
    assert r.status_code == 200, r.text
    diff = r.json()
    assert "FMF FY2027 budget cut by 10%" in diff["changes"]
    assert {"UKR-AD", "NGA-CT"} <= {m["id"] for m in diff["moves"]}
    listed = api.client.get("/api/allocation/results", headers=viewer).json()["items"]
    assert {x["id"] for x in listed} == set(result_ids)


def test_bad_input_is_one_envelope_with_json_paths_and_writes_nothing(api: Api) -> None:
    planner = api.login("planner", "planner")
    d = example()
    d["candidates"][0]["levels"][0]["annual"] = -1
    d["candidates"][1]["requires"] = ["C-NOT-THERE"]
    r = api.client.post(URL, json={"definition": d}, headers=planner)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid" and err["message"] == "invalid scenario"
    locs = [".".join(str(x) for x in e["loc"]) for e in err["details"]]
    assert "candidates.0.levels.0.annual" in locs
    assert any(loc.startswith("candidates.1.requires") for loc in locs)
    r = api.client.post(URL, json={"definition": example(), "extra": 1}, headers=planner)
    assert r.status_code == 422
    assert api.client.get(URL, headers=planner).json()["items"] == []


def test_stale_edit_unknown_ids_and_an_empty_portfolio(api: Api) -> None:
    planner = api.login("planner", "planner")
    created = api.client.post(URL, json={"definition": example()}, headers=planner).json()
    d = example()
    d["reserve_share"] = 0.1
    r = api.client.put(
        f"{URL}/{created['id']}", json={"definition": d, "version": 1}, headers=planner
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api.client.put(
        f"{URL}/{created['id']}", json={"definition": example(), "version": 1}, headers=planner
    )
    assert r.status_code == 409
    assert (
        api.client.get(f"{URL}/{created['id']}", headers=planner).json()["definition"][
            "reserve_share"
        ]
        == 0.1
    )
    assert api.client.get(f"{URL}/999", headers=planner).status_code == 404
    assert api.client.get("/api/allocation/jobs/999", headers=planner).status_code == 404
    assert api.client.post(f"{URL}/999/solve", json={}, headers=planner).status_code == 404
    r = api.client.post(f"{URL}/{created['id']}/solve", json={"time_limit": 0}, headers=planner)
    assert r.status_code == 422
    r = api.client.post(
        f"{URL}/from-portfolio", json={"fiscal_years": "2027-2031"}, headers=planner
    )
    assert r.status_code == 400
    assert "no proposed or approved program" in r.json()["error"]["message"]
    r = api.client.post(f"{URL}/from-portfolio", json={"fiscal_years": "soon"}, headers=planner)
    assert r.status_code == 400 and "2027-2031" in r.json()["error"]["message"]
    assert api.client.delete(f"{URL}/{created['id']}", headers=planner).status_code == 204
    assert api.client.get(URL, headers=planner).json()["items"] == []
