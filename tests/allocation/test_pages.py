"""The allocation pages through the app: names not codes, forms that write all or nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.allocation.service import AllocationService
from ssaplan.app import create_app
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.conftest import web_login

VIEWER = Actor("t", "viewer")


@pytest.fixture
def client(sqlite_demo: Store) -> TestClient:
    c = TestClient(create_app(sqlite_demo))
    web_login(c, "planner", "planner-demo-pass")
    return c


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def scenarios(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        return AllocationService(s, VIEWER).list_scenarios()


def test_the_demo_baseline_and_what_if_are_listed(client: TestClient, sqlite_demo: Store) -> None:
    page = client.get("/allocation")
    assert page.status_code == 200
    assert "Baseline FY2027-2029 (demo)" in page.text
    assert "FMF cut by 10% (demo)" in page.text
    listed = scenarios(sqlite_demo)
    assert all(s["latest_result"] for s in listed)


def test_result_map_and_diff_show_names(client: TestClient, sqlite_demo: Store) -> None:
    cut, base = scenarios(sqlite_demo)
    rid = base["latest_result"]["id"]
    page = client.get(f"/allocation/results/{rid}")
    assert page.status_code == 200
    assert 'id="by-region"' in page.text and "Bureau of African Affairs" in page.text
    assert "Foreign Military Financing" in page.text  # account names, not only codes
    assert "Kenya" in page.text
    assert page.text.count("<svg") >= 3
    world = client.get(f"/allocation/results/{rid}/map")
    assert world.status_code == 200 and 'data-iso3="KEN"' in world.text
    assert "funded" in world.text
    diff = client.get(
        "/allocation/compare",
        params={"before": rid, "after": cut["latest_result"]["id"]},
    )
    assert diff.status_code == 200
    assert "FMF FY2027 budget cut by 10%" in diff.text
    assert 'id="moves"' in diff.text


def test_the_editor_saves_a_new_version(client: TestClient, sqlite_demo: Store) -> None:
    base = scenarios(sqlite_demo)[-1]
    form = client.get(f"/allocation/scenarios/{base['id']}/edit")
    assert form.status_code == 200
    with sqlite_demo.session() as s:
        d = AllocationService(s, VIEWER).get_scenario(base["id"])["definition"]
    first = d["candidates"][0]["id"]
    data: dict[str, Any] = {
        "csrf": csrf(form.text),
        "version": "1",
        "name": "Edited baseline",
        "reserve_share": "0.1",
        "budget_FMF_2027": "123,000,000",
        "floor_rows": "1",
        "floor_scheme_0": "bureau",
        "floor_region_0": "AF",
        "floor_share_0": "15%",
        "must_fund": [first],
    }
    r = client.post(f"/allocation/scenarios/{base['id']}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    with sqlite_demo.session() as s:
        now = AllocationService(s, VIEWER).get_scenario(base["id"])
    d = now["definition"]
    assert now["version"] == 2 and now["name"] == "Edited baseline"
    assert d["accounts"]["FMF"]["2027"] == 123_000_000 and d["reserve_share"] == 0.1
    assert d["regional_floors"] == [{"scheme": "bureau", "region": "AF", "min_share": 0.15}]
    assert [c["id"] for c in d["candidates"] if c["must_fund"]] == [first]

    bad = {**data, "version": "2", "budget_FMF_2027": "lots", "name": "Broken"}
    r = client.post(f"/allocation/scenarios/{base['id']}/edit", data=bad)
    assert r.status_code == 422 and "accounts.FMF.2027" in r.text
    stale = {**data, "version": "1", "name": "Stale"}
    assert client.post(f"/allocation/scenarios/{base['id']}/edit", data=stale).status_code == 409
    with sqlite_demo.session() as s:
        again = AllocationService(s, VIEWER).get_scenario(base["id"])
    assert again["version"] == 2 and again["name"] == "Edited baseline"


def test_the_new_scenario_form_and_a_what_if(client: TestClient, sqlite_demo: Store) -> None:
    form = client.get("/allocation/scenarios/new")
    token = csrf(form.text)
    data = {
        "csrf": token,
        "name": "Two programs",
        "fiscal_years": "2027-2028",
        "reserve_share": "0",
        "account_rows": "3",
        "account_0": "FMF",
        "budget_0": "10000000",
        "candidate_rows": "8",
        "cand_id_0": "A",
        "cand_title_0": "Coast guard",
        "cand_country_0": "ken",
        "cand_account_0": "FMF",
        "cand_annual_0": "6000000",
        "cand_value_0": "3",
        "cand_id_1": "B",
        "cand_country_1": "TZA",
        "cand_account_1": "FMF",
        "cand_annual_1": "6000000",
        "cand_value_1": "2",
    }
    r = client.post("/allocation/scenarios/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "Coast guard" in page.text and "Kenya" in page.text and "Tanzania" in page.text
    before = len(scenarios(sqlite_demo))
    bad = {**data, "cand_country_1": "XXX", "name": "Bad"}
    r = client.post("/allocation/scenarios/new", data=bad)
    assert r.status_code == 422 and "candidates.1.country" in r.text
    assert len(scenarios(sqlite_demo)) == before
    sid = r_id = int(page.url.path.rsplit("/", 1)[-1])
    r = client.post(
        f"/allocation/scenarios/{sid}/whatif",
        data={"csrf": token, "account": "FMF", "percent": "-50"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert len(scenarios(sqlite_demo)) == before + 1
    assert r_id == sid


def test_a_viewer_sees_no_forms_and_cannot_post(sqlite_demo: Store) -> None:
    c = TestClient(create_app(sqlite_demo))
    web_login(c, "viewer", "viewer-demo-pass")
    page = c.get("/allocation")
    assert page.status_code == 200 and 'id="from-portfolio"' not in page.text
    assert c.get("/allocation/scenarios/new").status_code == 403
    sid = scenarios(sqlite_demo)[0]["id"]
    r = c.post(f"/allocation/scenarios/{sid}/solve", data={"csrf": csrf(page.text)})
    assert r.status_code == 403


def test_build_from_the_portfolio_by_form_and_api(client: TestClient, sqlite_demo: Store) -> None:
    from tests.apibase import Api

    page = client.get("/allocation")
    r = client.post(
        "/allocation/from-portfolio",
        data={"csrf": csrf(page.text), "fiscal_years": "2028-2029", "marks_percent": "90"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    built = client.get(r.headers["location"])
    assert "Portfolio FY2028-2029" in built.text and "90% of planned budget lines" in built.text
    api = Api(sqlite_demo)
    headers = api.login("api-planner", "planner")
    r = api.client.post(
        "/api/allocation/scenarios/from-portfolio",
        json={"fiscal_years": "2027-2029", "name": "From the API"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source"] == "portfolio" and body["candidates"] > 500
    assert body["definition"]["name"] == "From the API"
    assert len(scenarios(sqlite_demo)) == 4
