"""The assessment API with bearer tokens: permissions, contracts, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ssaplan.assessment.indicators.reader import read_indicator_file
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.core.store import Store
from tests.apibase import Api
from tests.assessment.conftest import SMALL_FRAMEWORK, SMALL_TIDY
from tests.conftest import OPERATOR

Write = Callable[[str, str], Path]
ROWS = [
    {
        "measure": "gov",
        "construct": "governance",
        "direction": 1,
        "measure_weight": 2,
        "construct_weight": 3,
    },
    {
        "measure": "corr",
        "construct": "governance",
        "direction": -1,
        "measure_weight": 1,
        "construct_weight": 3,
    },
    {
        "measure": "hdi",
        "construct": "capacity",
        "direction": 1,
        "measure_weight": 1,
        "construct_weight": 1,
    },
]


@pytest.fixture
def api(store: Store, write: Write) -> Api:
    with store.transaction() as session:
        IndicatorService(session, OPERATOR).import_files(
            [read_indicator_file(write("t.csv", SMALL_TIDY))]
        )
    return Api(store)


def test_every_route_refuses_anonymous_callers(api: Api) -> None:
    calls = [
        ("get", "/api/assessment/runs"),
        ("post", "/api/assessment/runs"),
        ("post", "/api/assessment/preview"),
        ("get", "/api/assessment/runs/latest"),
        ("get", "/api/assessment/runs/1"),
        ("get", "/api/assessment/runs/1/countries/KEN"),
        ("post", "/api/assessment/runs/1/reproduce"),
        ("get", "/api/assessment/frameworks"),
        ("get", "/api/assessment/frameworks/default"),
        ("get", "/api/assessment/frameworks/default/csv"),
        ("put", "/api/assessment/frameworks/default"),
        ("get", "/api/assessment/priorities"),
        ("put", "/api/assessment/priorities/tiers/KEN"),
        ("put", "/api/assessment/priorities/relevance/KEN"),
        ("put", "/api/assessment/priorities/importance"),
        ("get", "/api/assessment/judgments"),
        ("put", "/api/assessment/judgments/KEN/2020"),
        ("get", "/api/indicators"),
        ("get", "/api/indicators/KEN"),
        ("post", "/api/indicators/import"),
    ]
    for method, url in calls:
        r = getattr(api.client, method)(url)
        assert r.status_code == 401, (method, url, r.status_code)
        assert r.json()["error"]["code"] == "unauthenticated"


def test_analysts_run_and_save_viewers_read(api: Api) -> None:
    viewer, analyst = api.login("vi", "viewer"), api.login("an", "analyst", "USAID")
    body = {"rows": ROWS, "draws": 300, "note": "api run"}
    assert api.client.post("/api/assessment/runs", json=body, headers=viewer).status_code == 403
    r = api.client.post("/api/assessment/runs", json=body, headers=analyst)
    assert r.status_code == 201, r.text
    run = r.json()
    assert r.headers["Location"] == f"/api/assessment/runs/{run['id']}"
    assert {"year", "framework", "countries"} <= set(run) and run["year"] == 2020
    by = {c["iso3"]: c for c in run["countries"]}
    assert by["KEN"]["propensity"] == pytest.approx(25) and by["TZA"]["completeness"] == 0.75
    assert by["TZA"]["constructs"]["capacity"] is None and by["KEN"]["priority"] is None
    assert by["UGA"]["rank"] == 1 and by["UGA"]["rank_p05"] >= 1
    assert run["created_by"] == "an" and run["note"] == "api run"

    got = api.client.get(f"/api/assessment/runs/{run['id']}", headers=viewer).json()
    assert got["countries"] == run["countries"]
    latest = api.client.get("/api/assessment/runs/latest?year=2020", headers=viewer).json()
    assert latest["id"] == run["id"]
    listing = api.client.get("/api/assessment/runs", headers=viewer).json()["items"]
    assert [x["id"] for x in listing] == [run["id"]]
    detail = api.client.get(f"/api/assessment/runs/{run['id']}/countries/Kenya", headers=viewer)
    assert (
        detail.status_code == 200
        and detail.json()["constructs"][0]["measures"][0]["source"] == "test"
    )
    assert (
        api.client.post(f"/api/assessment/runs/{run['id']}/reproduce", headers=viewer).status_code
        == 403
    )
    check = api.client.post(f"/api/assessment/runs/{run['id']}/reproduce", headers=analyst).json()
    assert check["identical"] is True
    assert api.client.get("/api/assessment/runs/999", headers=viewer).status_code == 404
    preview = api.client.post(
        "/api/assessment/preview", json={"rows": ROWS, "draws": 0}, headers=analyst
    )
    assert preview.status_code == 200 and preview.json()["id"] is None


def test_bad_requests_get_specific_errors(api: Api) -> None:
    analyst = api.login("an", "analyst", "USAID")
    rows = [dict(r) for r in ROWS]
    rows[0]["measure_weight"] = -2
    r = api.client.post("/api/assessment/runs", json={"rows": rows}, headers=analyst)
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"loc": ["rows", 0, "measure_weight"], "msg": "-2 is negative"}
    ]
    r = api.client.post("/api/assessment/runs", json={"draws": -5}, headers=analyst)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"][-1] == "draws"
    r = api.client.post("/api/assessment/runs", json={}, headers=analyst)  # default framework
    assert r.status_code == 422 and "have no imported indicator" in r.json()["error"]["message"]
    r = api.client.get("/api/assessment/runs/latest?year=1999", headers=analyst)
    assert r.status_code == 404


def test_admins_version_frameworks_and_export_csv(api: Api) -> None:
    admin, analyst = api.login("ad", "admin"), api.login("an", "analyst", "USAID")
    url = "/api/assessment/frameworks/small"
    assert api.client.put(url, json={"csv": SMALL_FRAMEWORK}, headers=analyst).status_code == 403
    r = api.client.put(url, json={"csv": SMALL_FRAMEWORK, "description": "test"}, headers=admin)
    assert r.status_code == 200 and r.json()["label"] == "small@1"
    r = api.client.put(url, json={"rows": ROWS[:2]}, headers=admin)
    assert r.json()["label"] == "small@2"
    r = api.client.put(url, json={"rows": ROWS, "csv": SMALL_FRAMEWORK}, headers=admin)
    assert r.status_code == 422
    r = api.client.put(
        url,
        json={
            "csv": SMALL_FRAMEWORK.replace("2,3", "0,0")
            .replace("1,3", "0,0")
            .replace("1,1\n", "1,0\n")
        },
        headers=admin,
    )
    assert r.status_code == 422 and "all construct weights are zero" in str(
        r.json()["error"]["details"]
    )
    csv = api.client.get(f"{url}/csv?version=1", headers=analyst)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "measure,construct,direction,measure_weight,construct_weight"
    assert "small-v1.csv" in csv.headers["content-disposition"]
    labels = [
        f["label"]
        for f in api.client.get("/api/assessment/frameworks", headers=analyst).json()["items"]
    ]
    assert labels == ["default@0 (shipped)", "small@1", "small@2"]
    run = api.client.post(
        "/api/assessment/runs", json={"framework": "small@1", "draws": 0}, headers=analyst
    ).json()
    assert run["framework"] == "small@1"


def test_priorities_and_judgments(api: Api) -> None:
    admin, analyst = api.login("ad", "admin"), api.login("an", "analyst", "USAID")
    base = "/api/assessment/priorities"
    assert api.client.put(f"{base}/tiers/KEN", json={"tier": 1}, headers=analyst).status_code == 403
    r = api.client.put(f"{base}/tiers/Kenya", json={"tier": 1, "rationale": "r"}, headers=admin)
    assert r.json() == {"iso3": "KEN", "tier": {"tier": 1, "rationale": "r"}, "version": 1}
    r = api.client.put(f"{base}/tiers/Atlantis", json={"tier": 1}, headers=admin)
    assert (
        r.status_code == 422
        and "unknown country 'Atlantis'" in r.json()["error"]["details"][0]["msg"]
    )
    assert api.client.put(f"{base}/tiers/KEN", json={"tier": 5}, headers=admin).status_code == 422
    r = api.client.put(f"{base}/relevance/KEN", json={"G1.1": 3, "G2.4": 0}, headers=admin)
    assert r.json()["relevance"] == {"G1.1": 3}
    r = api.client.put(f"{base}/importance", json={"G1.1": 2.5}, headers=admin)
    assert r.json()["G1.1"] == 2.5 and r.json()["G1.2"] == 1
    got = api.client.get(base, headers=analyst).json()
    assert got["tiers"]["KEN"]["tier"] == 1 and got["relevance"] == {"KEN": {"G1.1": 3}}

    url = "/api/assessment/judgments/KEN/2020"
    body = {"measure": "judgment: political will", "value": 7, "rationale": "Parliament passed it."}
    assert api.client.put(url, json=body, headers=api.login("vi", "viewer")).status_code == 403
    r = api.client.put(url, json=body, headers=analyst)
    assert r.status_code == 200 and r.json()["assessed_by"] == "an"
    r = api.client.put(url, json={**body, "rationale": ""}, headers=analyst)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["rationale"]
    items = api.client.get("/api/assessment/judgments?country=KEN", headers=analyst).json()["items"]
    assert [(j["measure"], j["value"]) for j in items] == [("judgment: political will", 7.0)]


def test_indicator_upload_and_listing(api: Api) -> None:
    planner, viewer = api.login("pl", "planner"), api.login("vi", "viewer")
    files = {"files": ("more.csv", b"iso3,year,measure,value\nFRA,2020,gov,4\n", "text/csv")}
    assert api.client.post("/api/indicators/import", files=files, headers=viewer).status_code == 403
    r = api.client.post(
        "/api/indicators/import", files=files, data={"source": "mine"}, headers=planner
    )
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["countries"]) == (1, 1)
    bad = {"files": ("bad.csv", b"iso3,year,measure,value\nFRA,2020,gov,x\n", "text/csv")}
    r = api.client.post("/api/indicators/import", files=bad, headers=planner)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == [
        "bad.csv",
        "line 2",
        "value",
    ]
    measures = api.client.get("/api/indicators", headers=viewer).json()["items"]
    assert {(m["measure"], m["source"]) for m in measures} >= {("gov", "mine"), ("gov", "test")}
    series = api.client.get("/api/indicators/France", headers=viewer).json()["items"]
    assert series == [
        {"measure": "gov", "source": "mine", "year": 2020, "value": 4.0, "std_error": None}
    ]
    assert api.client.get("/api/indicators/Atlantis", headers=viewer).status_code == 404
