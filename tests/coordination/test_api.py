"""Coordination over the API: permissions (default-deny), the overlap run and its queue,
marks (create, conflict, stale update, bad bodies), and the analyses' typed JSON."""

from __future__ import annotations

from typing import Any

from tests.apibase import Api
from tests.coordination.conftest import World


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    return dict(error)


def test_runs_queue_and_marks_with_their_permissions(api: Api, world: World) -> None:
    c = api.client
    # anonymous: refused everywhere
    for method, url in (
        ("GET", "/api/overlaps"),
        ("POST", "/api/overlaps/runs"),
        ("POST", "/api/overlaps/marks"),
        ("GET", "/api/coordination/donors"),
    ):
        _error(c.request(method, url, json={}), 401, "unauthenticated")
    viewer = api.login("viewer", "viewer")
    analyst = api.login("analyst", "analyst", "USAID")
    planner = api.login("planner", "planner", "State")
    dod = api.login("dod", "planner", "DoD")

    empty = c.get("/api/overlaps", headers=viewer).json()
    assert empty == {"run": None, "items": [], "total": 0, "limit": 50, "offset": 0}
    _error(c.post("/api/overlaps/runs", json={}, headers=viewer), 403, "forbidden")
    _error(c.post("/api/overlaps/runs", json={"within": True}, headers=analyst), 422, "invalid")
    r = c.post("/api/overlaps/runs", json={}, headers=analyst)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["run"]["id"] == 1 and run["run"]["created_by"] == "analyst"
    assert run["skipped"] == [
        {"id": "DEMO-XX-0004", "reason": "no country and no region: no partner to compare"}
    ]

    page = c.get("/api/overlaps", params={"likely": "true", "limit": 100}, headers=viewer).json()
    pairs = {(p["a"], p["b"]): p for p in page["items"]}
    som = pairs[(world.som_a, world.som_b)]
    assert som["likely"] and som["mark"] is None and "same partner: Somalia" in som["reasons"]
    assert page["run"]["likely"] == page["total"]
    assert c.get("/api/overlaps/runs", headers=viewer).json()[0]["pairs_kept"] is True

    body = {"a": world.som_a, "b": world.som_b, "mark": "dismissed", "note": "different units"}
    _error(c.post("/api/overlaps/marks", json=body, headers=viewer), 403, "forbidden")
    _error(c.post("/api/overlaps/marks", json=body, headers=analyst), 403, "forbidden")
    bad = _error(
        c.post("/api/overlaps/marks", json={**body, "mark": "maybe"}, headers=planner),
        422,
        "invalid",
    )
    assert any("mark" in d["loc"] for d in bad["details"])
    _error(
        c.post("/api/overlaps/marks", json={**body, "b": "NOPE-1"}, headers=planner),
        404,
        "not_found",
    )
    r = c.post("/api/overlaps/marks", json=body, headers=planner)
    assert r.status_code == 201, r.text
    mark = r.json()
    assert r.headers["Location"] == f"/api/overlaps/marks/{mark['id']}"
    assert (mark["a"], mark["b"], mark["mark"], mark["version"]) == (
        world.som_a,
        world.som_b,
        "dismissed",
        1,
    )
    _error(c.post("/api/overlaps/marks", json=body, headers=planner), 409, "conflict")
    # the queue shows the mark, and the pair is no longer likely
    again = c.get("/api/overlaps", params={"mark": "dismissed"}, headers=viewer).json()
    assert [(p["a"], p["likely"], p["mark"]["note"]) for p in again["items"]] == [
        (world.som_a, False, "different units")
    ]
    url = f"/api/overlaps/marks/{mark['id']}"
    _error(
        c.patch(url, json={"mark": "confirmed", "version": 5}, headers=planner),
        409,
        "stale_version",
    )
    _error(c.patch(url, json={"mark": "confirmed"}, headers=planner), 422, "invalid")
    r = c.patch(url, json={"mark": "confirmed", "version": 1}, headers=dod)  # DoD's program
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["marked_by"] == "dod"
    assert c.get(url, headers=viewer).json()["mark"] == "confirmed"
    assert c.get("/api/overlaps/marks", headers=viewer).json()["total"] == 1
    _error(c.get("/api/overlaps/marks/999", headers=viewer), 404, "not_found")
    _error(c.delete(url, params={"version": 1}, headers=planner), 409, "stale_version")
    assert c.delete(url, params={"version": 2}, headers=planner).status_code == 204
    assert c.get("/api/overlaps/marks", headers=viewer).json()["total"] == 0


def test_analyses_answer_typed_json_and_refuse_bad_queries(api: Api, world: World) -> None:
    c = api.client
    viewer = api.login("viewer", "viewer")
    donors = c.get("/api/coordination/donors", headers=viewer).json()
    assert [d["donor"] for d in donors["donors"]] == ["US", "DEMO-GB", "DEMO-DE"]
    assert donors["note"]["basis"] == "disbursed" and donors["negative_cells"] == 0
    committed = c.get("/api/coordination/donors", params={"basis": "committed"}, headers=viewer)
    assert committed.json()["note"]["basis_label"] == "obligated / committed"
    burden = c.get(
        "/api/coordination/burden", params={"by": "region", "kind": "bureau"}, headers=viewer
    ).json()
    assert {r["group"] for r in burden["rows"]} == {"AF"} and burden["kind"] == "bureau"
    gaps = c.get(
        "/api/coordination/gaps",
        params={"as_of": "2027-06-01", "partner": ["SOM"]},
        headers=viewer,
    ).json()
    assert gaps["horizon"] == "2028-06-01" and gaps["uncovered_cells"]
    assert all(g["partner"] == "SOM" for g in gaps["uncovered_cells"])
    regions = c.get("/api/coordination/regions", headers=viewer).json()
    assert regions["rollup"]["sums_to_total"] and regions["cross_border"][0]["id"] == world.regional
    somalia = c.get("/api/coordination/partners/SOM", headers=viewer).json()
    assert somalia["usd"] == 9_200_000 and somalia["overlaps"] == []  # no run yet

    for url, params in (
        ("/api/coordination/burden", {"by": "agency"}),
        ("/api/coordination/donors", {"vocabulary": "dac7"}),
        ("/api/coordination/donors", {"first_fy": "1900"}),
        ("/api/coordination/gaps", {"months": "0"}),
        ("/api/coordination/regions", {"kind": "continent"}),
    ):
        _error(c.get(url, params=params, headers=viewer), 422, "invalid")
    _error(
        c.get(
            "/api/coordination/donors", params={"first_fy": 2027, "last_fy": 2026}, headers=viewer
        ),
        422,
        "invalid",
    )
    _error(c.get("/api/coordination/partners/ZZZ", headers=viewer), 404, "not_found")
    long_code = "/api/coordination/partners/" + "X" * 61
    _error(c.get(long_code, headers=viewer), 422, "invalid")
    _error(c.get("/api/overlaps", params={"partner": "X" * 61}, headers=viewer), 422, "invalid")
    _error(
        c.get("/api/coordination/regions", params={"region": "XX"}, headers=viewer),
        404,
        "not_found",
    )
