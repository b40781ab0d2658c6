"""The programs API: the inherited resource checks plus filters, paging and errors."""

from __future__ import annotations

from typing import Any

from ssaplan.core.store import Store
from tests.apibase import Api, APIResourceChecks
from tests.factories import program_data


class TestProgramsAPI(APIResourceChecks):
    list_url = "/api/programs"
    writer = ("planner", "State")
    malformed_field = "start"

    def create_payload(self) -> dict[str, Any]:
        return program_data()

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"version": created["version"], "title": "Renamed", "status": "notified"}


def test_create_reports_unknown_codes_per_field(api: Api) -> None:
    headers = api.login("admin1", "admin")
    r = api.client.post(
        "/api/programs",
        json=program_data(account="NOPE", countries=["GHA", "Narnia"]),
        headers=headers,
    )
    assert r.status_code == 422
    details = {tuple(d["loc"]): d["msg"] for d in r.json()["error"]["details"]}
    assert details[("body", "account")].startswith("unknown account 'NOPE'")
    assert ("body", "countries", 1) in details


def test_other_agencies_programs_are_forbidden_to_planners(api: Api) -> None:
    headers = api.login("dodp", "planner", "DoD")
    r = api.client.post("/api/programs", json=program_data(agency="State/INL"), headers=headers)
    assert r.status_code == 403
    assert r.json()["error"]["details"][0]["loc"] == ["body", "agency"]
    r = api.client.post(
        "/api/programs", json=program_data(agency="DoD/DSCA", account="10USC333"), headers=headers
    )
    assert r.status_code == 201


def test_ids_with_slashes_work_in_urls(api: Api) -> None:
    headers = api.login("admin1", "admin")
    r = api.client.post(
        "/api/programs", json=program_data(id="XM-DAC-41114/PRJ-7"), headers=headers
    )
    assert r.status_code == 201 and r.headers["location"] == "/api/programs/XM-DAC-41114/PRJ-7"
    assert api.client.get("/api/programs/XM-DAC-41114/PRJ-7", headers=headers).status_code == 200
    history = api.client.get("/api/programs/XM-DAC-41114/PRJ-7/history", headers=headers).json()
    assert [h["action"] for h in history["items"]] == ["create"]


def test_suspending_or_terminating_needs_a_reason_kept_in_the_audit(api: Api) -> None:
    headers = api.login("planner1", "planner")
    created = api.client.post("/api/programs", json=program_data(), headers=headers).json()
    url = f"/api/programs/{created['id']}"
    for status in ("suspended", "terminated"):
        r = api.client.patch(url, json={"version": 1, "status": status}, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"][0]["loc"] == ["body", "reason"]
        r = api.client.patch(
            url, json={"version": 1, "status": status, "reason": " "}, headers=headers
        )
        assert r.status_code == 422
    r = api.client.patch(
        url,
        json={"version": 1, "status": "suspended", "reason": "vetting found a unit at fault"},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    history = api.client.get(url + "/history", headers=headers).json()["items"]
    assert history[0]["summary"] == "vetting found a unit at fault"
    assert history[0]["after"]["status"] == "suspended"
    # Other changes need no reason (one may still be given and is kept).
    r = api.client.patch(url, json={"version": 2, "status": "approved"}, headers=headers)
    assert r.status_code == 200


def test_delete_with_stale_version_is_refused(api: Api) -> None:
    headers = api.login("admin1", "admin")
    created = api.client.post("/api/programs", json=program_data(), headers=headers).json()
    url = f"/api/programs/{created['id']}"
    assert api.client.delete(url + "?version=9", headers=headers).status_code == 409
    assert api.client.delete(url + "?version=1", headers=headers).status_code == 204
    assert api.client.get(url, headers=headers).status_code == 404


def test_cookie_writes_need_the_csrf_header(api: Api) -> None:
    creds = {"username": "cookie", "password": "test-password-123"}
    api.login("cookie", "admin")
    token = api.tokens["cookie"]
    api.client.cookies.set("ssaplan_session", token)
    r = api.client.post("/api/programs", json=program_data())
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
    assert api.client.get("/api/programs").status_code == 200  # reads need no token
    assert creds["username"] == "cookie"


def test_list_validation_errors_are_specific(api: Api) -> None:
    headers = api.login("reader1", "viewer")
    r = api.client.get("/api/programs?limit=0&sort=sideways&regoin=AF", headers=headers)
    assert r.status_code == 422
    locs = {tuple(d["loc"]) for d in r.json()["error"]["details"]}
    assert {("query", "limit"), ("query", "sort"), ("query", "regoin")} <= locs


def test_summary_and_countries(sqlite_demo: Store) -> None:
    api = Api(sqlite_demo)
    headers = api.login("reader1", "viewer")
    summary = api.client.get("/api/portfolio/summary?region=AF", headers=headers).json()
    listing = api.client.get("/api/programs?region=AF&limit=1", headers=headers).json()
    assert summary["total"]["planned"] == listing["totals"]["planned"]
    assert summary["programs"] == listing["total"]
    for groups in summary["by"].values():
        assert sum(g["planned"] for g in groups) == summary["total"]["planned"]
    countries = api.client.get("/api/countries", headers=headers).json()["items"]
    assert len(countries) >= 249
    nga = api.client.get("/api/countries/nigeria", headers=headers).json()
    assert nga["iso3"] == "NGA" and nga["bureau"] == "AF" and "ECOWAS" in nga["organizations"]
    assert api.client.get("/api/countries/ATLANTIS", headers=headers).status_code == 404


def test_reference_routes(sqlite_demo: Store) -> None:
    api = Api(sqlite_demo)
    headers = api.login("reader1", "viewer")
    kinds = api.client.get("/api/reference", headers=headers).json()["kinds"]
    assert {k["kind"] for k in kinds} >= {
        "institution-types",
        "purposes",
        "objectives",
        "accounts",
        "dac-codes",
    }
    fmf = api.client.get("/api/reference/accounts/fmf", headers=headers).json()
    assert fmf["id"] == "FMF" and fmf["agency"].startswith("State")
    assert api.client.get("/api/reference/nonsense", headers=headers).status_code == 404
    assert api.client.get("/api/reference/accounts/NOPE", headers=headers).status_code == 404
