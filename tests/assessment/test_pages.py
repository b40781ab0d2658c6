"""Assessment pages through the app (server-rendered HTML), without a browser."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import web_login as login


@pytest.fixture
def viewer(assessed: Store) -> TestClient:
    client = TestClient(create_app(assessed))
    login(client, "viewer", "viewer-demo-pass")
    return client


def test_pages_render_for_viewers(viewer: TestClient) -> None:
    table = viewer.get("/assessment")
    assert table.status_code == 200
    assert table.text.count('<tr data-iso3="') >= 190 and 'id="run-form"' not in table.text
    assert 'href="/assessment" aria-current="page">Assessment</a>' in table.text
    for url in (
        "/assessment/quadrant",
        "/assessment/map",
        "/assessment/map?color=priority",
        "/assessment/countries/KEN",
        "/assessment/framework",
        "/assessment?sort=priority",
        "/assessment?sort=name",
    ):
        r = viewer.get(url)
        assert r.status_code == 200, url
    world = viewer.get("/assessment/map").text
    assert "<svg" in world and 'data-iso3="KEN"' in world
    assert 'id="not-drawn"' in world and "Tuvalu" in world  # too small for 1:110m
    country = viewer.get("/assessment/countries/KEN").text
    assert "demo (illustrative)" in country and "ILLUSTRATIVE" in country
    assert 'id="judgment-form"' not in country and 'id="tier-form"' not in country
    assert viewer.get("/assessment/countries/ATA").status_code == 404
    assert viewer.get("/assessment?id=999").status_code == 404


def test_analysts_run_from_the_page_and_admins_set_tiers(assessed: Store) -> None:
    client = TestClient(create_app(assessed))
    login(client, "analyst", "analyst-demo-pass")
    page = client.get("/assessment").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and 'id="run-form"' in page
    r = client.post(
        "/assessment/run", data={"csrf": "wrong", "draws": "100"}, follow_redirects=False
    )
    assert r.status_code == 403
    r = client.post(
        "/assessment/run",
        data={"csrf": csrf.group(1), "draws": "100", "note": "from the page"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/assessment?id=")
    assert "from the page" in client.get(r.headers["location"]).text
    r = client.post(
        "/assessment/countries/KEN/judgment",
        data={
            "csrf": csrf.group(1),
            "measure": "judgment: political will",
            "year": "2026",
            "value": "9",
            "rationale": "Entered from the page for the test.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post("/assessment/countries/KEN/tier", data={"csrf": csrf.group(1), "tier": "1"})
    assert r.status_code == 403

    admin = TestClient(create_app(assessed))
    login(admin, "admin", "admin-demo-pass")
    page = admin.get("/assessment/countries/KEN").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token and 'id="tier-form"' in page
    shown = re.search(r'name="version" value="(\d+)"', page)
    assert shown
    form = {"csrf": token.group(1), "tier": "1", "rationale": "test", "version": shown.group(1)}
    r = admin.post("/assessment/countries/KEN/tier", data=form, follow_redirects=False)
    assert r.status_code == 303
    current = re.search(r'id="current-tier">([^<]*)<', admin.get("/assessment/countries/KEN").text)
    assert current and current.group(1).strip() == "1 — test"
    # The same form sent again (from a page read before that change) is stale.
    stale = {**form, "tier": "4", "rationale": "from an old page"}
    r = admin.post("/assessment/countries/KEN/tier", data=stale, follow_redirects=False)
    assert r.status_code == 409 and "changed by someone else" in r.text
    current = re.search(r'id="current-tier">([^<]*)<', admin.get("/assessment/countries/KEN").text)
    assert current and current.group(1).strip() == "1 — test"


def test_pages_without_an_assessment_explain_what_to_do(store: Store) -> None:
    from tests.conftest import make_user

    make_user(store, "vi", "viewer")
    client = TestClient(create_app(store))
    login(client, "vi", "test-password-123")
    for url in (
        "/assessment",
        "/assessment/quadrant",
        "/assessment/map",
        "/assessment/countries/KEN",
    ):
        r = client.get(url)
        assert r.status_code == 200 and 'id="no-assessment"' in r.text, url
