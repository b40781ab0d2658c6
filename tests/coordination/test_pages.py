"""The coordination pages: the overlap review queue with its mark forms, the gap report,
the donor heat maps, a partner's picture, burden sharing and the regional map."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ssaplan.app import create_app
from ssaplan.coordination.models import OverlapMark
from ssaplan.core.store import Store
from tests.conftest import PASSWORD, make_user, web_login
from tests.coordination.conftest import World


@pytest.fixture
def pages(sqlite_world: tuple[Store, World]) -> tuple[Store, World, Any]:
    store, world = sqlite_world
    make_user(store, "planner", "planner", "State")
    make_user(store, "viewer", "viewer")
    client = TestClient(create_app(store))
    return store, world, client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _marks(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(OverlapMark)).scalar_one())


def test_review_queue_run_and_mark_from_the_page(pages: tuple[Store, World, Any]) -> None:
    store, world, client = pages
    web_login(client, "planner", PASSWORD)
    page = client.get("/coordination").text
    assert 'id="no-run"' in page and 'id="run-form"' in page
    assert 'href="/coordination"' in client.get("/").text  # the navigation entry
    r = client.post("/coordination/run", data={"csrf": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/coordination").text
    assert 'id="run-info"' in page and "Run #1 by planner" in page
    # names where people read, ids beside them, the reasons listed
    assert "Coast guard boarding team training, Somalia" in page
    assert "Department of Defense" in page and world.som_a in page
    assert "same partner: Somalia" in page and page.count('class="pair"') >= 4
    assert "same institution type: Border management" in page  # not border_management
    # State's planner may mark the three likely pairs with a State program, not DoD-UK
    assert page.count('action="/coordination/marks"') == 3
    dod_uk = page.split(f'data-a="{world.som_a}" data-b="DEMO-GB-DUP-0001"')[1].split("</article>")[
        0
    ]
    assert "United Kingdom (illustrative)" in dod_uk and "<form" not in dod_uk

    data = {
        "csrf": _csrf(page),
        "a": world.som_a,
        "b": world.som_b,
        "mark": "dismissed",
        "note": "two courses, two units",
        "next": "/coordination?show=all",
    }
    assert client.post("/coordination/marks", data={**data, "csrf": "forged"}).status_code == 403
    assert client.post("/coordination/marks", data={**data, "mark": "maybe"}).status_code == 422
    assert _marks(store) == 0
    r = client.post("/coordination/marks", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/coordination?show=all"
    dismissed = client.get("/coordination", params={"mark": "dismissed", "show": "all"}).text
    assert "Marked <strong>dismissed</strong> by planner" in dismissed
    assert "two courses, two units" in dismissed and "badge m-dismissed" in dismissed
    # the likely queue no longer shows it; a stale change is refused, nothing written
    likely = client.get("/coordination").text
    assert f'data-a="{world.som_a}" data-b="{world.som_b}"' not in likely
    mark_id = re.search(r'action="/coordination/marks/(\d+)"', dismissed)
    assert mark_id
    stale = {"csrf": _csrf(dismissed), "version": "3", "mark": "confirmed", "note": ""}
    assert client.post(f"/coordination/marks/{mark_id.group(1)}", data=stale).status_code == 409
    ok = {**stale, "version": "1"}
    r = client.post(f"/coordination/marks/{mark_id.group(1)}", data=ok, follow_redirects=False)
    assert r.status_code == 303
    assert f'data-a="{world.som_a}" data-b="{world.som_b}"' in client.get("/coordination").text

    # a viewer reads the queue but gets no forms
    client.cookies.clear()
    web_login(client, "viewer", PASSWORD)
    page = client.get("/coordination").text
    assert 'class="pair"' in page and 'action="/coordination/marks' not in page
    assert 'id="run-form"' not in page
    assert client.post("/coordination/marks", data=data).status_code == 403


def test_analysis_pages_render_with_names_charts_and_map(pages: tuple[Store, World, Any]) -> None:
    _, world, client = pages
    web_login(client, "viewer", PASSWORD)
    donors = client.get("/coordination/donors").text
    assert 'id="donor-heatmap"' in donors and "svg" in donors and 'id="rca-heatmap"' in donors
    assert "United Kingdom (illustrative)" in donors and "Somalia" in donors
    assert 'href="/coordination/partners/SOM"' in donors

    somalia = client.get("/coordination/partners/SOM").text
    assert "<h1>Somalia" in somalia and 'id="partner-heatmap"' in somalia
    assert re.search(r'id="kpi-usd">\$9\.2', somalia)
    assert 'id="leads"' in somalia and 'id="division"' in somalia
    assert "Government and civil society, general" in somalia

    gaps = client.get("/coordination/gaps", params={"as_of": "2027-06-01"}).text
    assert 'id="expiring"' in gaps and 'id="kpi-unfunded"' in gaps
    burden = client.get("/coordination/burden", params={"by": "partner"}).text
    assert 'id="burden-heatmap"' in burden and 'id="burden-years"' in burden
    assert "Somalia" in burden
    regions = client.get("/coordination/regions").text
    assert 'id="region-map"' in regions and "svg" in regions
    assert "Bureau of African Affairs" in regions and world.regional in regions
    assert 'id="kpi-sums">yes' in regions
    organizations = client.get("/coordination/regions", params={"kind": "organization"}).text
    assert 'id="reconciliation"' in organizations

    assert client.get("/coordination/partners/ZZZ").status_code == 404
    for url in (
        "/coordination/donors?basis=pledged",
        "/coordination/burden?by=agency",
        "/coordination/regions?kind=continent",
        "/coordination/gaps?months=0",
        "/coordination?partner=" + "X" * 61,
        "/coordination/partners/" + "X" * 61,
    ):
        r = client.get(url)
        assert r.status_code == 422 and "text/html" in r.headers["content-type"], url
