"""Strategy, monitoring, review and surge pages through the app (server-rendered HTML)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from ssaplan.monitoring.reviews import ReviewService
from tests.conftest import PASSWORD, Templates, make_user, web_login
from tests.monitoring.conftest import World, build_world
from tests.strategy.world import ADMIN, AS_OF


@pytest.fixture
def site(tmp_path: Path, templates: Templates) -> World:
    path = tmp_path / "site.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    w = build_world(store)
    with store.transaction() as session:
        ReviewService(session, ADMIN, as_of=AS_OF).run_rules()
    make_user(store, "boss", "admin")
    make_user(store, "inl", "planner", "State/INL")
    make_user(store, "watcher", "viewer")
    yield w
    store.dispose()


def _client(w: World, user: str) -> TestClient:
    client = TestClient(create_app(w.store))
    web_login(client, user, PASSWORD)
    return client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_strategy_pages_show_the_framework_and_take_measurements(site: World) -> None:
    viewer = _client(site, "watcher")
    listing = viewer.get("/strategies")
    assert listing.status_code == 200 and 'data-strategy="GHA-2025-2029"' in listing.text
    assert 'href="/strategies" aria-current="page">Strategies</a>' in listing.text
    page = viewer.get("/strategies/GHA-2025-2029").text
    assert "Theory of change" in page and "Ghana Immigration Service budget" in page
    assert page.count('<figure class="trend"') == 2 and "svg" in page
    assert 'id="measurement-form"' not in page  # viewers read only
    assert viewer.get("/strategies/NOPE").status_code == 404

    planner = _client(site, "inl")
    page = planner.get("/strategies/GHA-2025-2029").text
    assert 'id="measurement-form"' in page
    ind = re.search(r'<option value="(\d+)">1.b', page)
    assert ind
    r = planner.post(
        "/strategies/GHA-2025-2029/measurements",
        data={
            "csrf": _csrf(page),
            "indicator": ind.group(1),
            "period": "FY2025-Q1",
            "value": "130",
            "quality": "B",
            "confidence": "high",
            "disaggregation": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = planner.post(
        "/strategies/GHA-2025-2029/measurements",
        data={
            "csrf": _csrf(page),
            "indicator": ind.group(1),
            "period": "FY2025",
            "value": "130",
            "quality": "B",
            "confidence": "high",
        },
    )
    assert r.status_code == 422 and "unknown period FY2025" in r.text


def test_the_dashboard_and_a_strategys_performance(site: World) -> None:
    viewer = _client(site, "watcher")
    page = viewer.get("/monitoring")
    assert page.status_code == 200
    html = page.text
    for marker in (
        'id="performance-rule"',
        'id="off-track"',
        'id="late-deliveries"',
        'id="expiring"',
        'id="rules"',
        "P-LATE",
    ):
        assert marker in html, marker
    assert re.search(r'id="kpi-off-track">1 \(1\)<', html)
    # People read names; codes stand beside them as secondary text.
    late = html.split('id="late-deliveries"', 1)[1].split("</table>", 1)[0]
    assert "Maritime interdiction training for the coast guard</a>" in late
    assert "International Narcotics Control and Law Enforcement" in late
    assert '<span class="muted">P-LATE</span>' in late
    perf = viewer.get("/monitoring/strategies/GHA-2025-2029").text
    assert 'data-status="off_track"' in perf and "progress" in perf.lower()


def test_the_review_queue_and_a_decision_from_the_page(site: World) -> None:
    viewer = _client(site, "watcher")
    queue = viewer.get("/reviews").text
    assert 'id="review-queue"' in queue and queue.count("<tr data-review=") == 5
    assert 'id="run-rules"' not in queue  # viewers cannot open reviews
    review_id = re.search(r'<tr data-review="(\d+)" data-trigger="money_not_moving"', queue)
    assert review_id
    page = viewer.get(f"/reviews/{review_id.group(1)}").text
    assert 'id="decision-form"' not in page and "restructure" in page

    planner = _client(site, "inl")
    assert 'id="annual-cycle"' in planner.get("/reviews").text
    page = planner.get(f"/reviews/{review_id.group(1)}").text
    assert 'id="decision-form"' in page
    r = planner.post(
        f"/reviews/{review_id.group(1)}/decision",
        data={
            "csrf": _csrf(page),
            "version": "1",
            "decision": "restructure",
            "rationale": "halve next year's plan",
            "was:2028:INCLE": "2000000",
            "planned:2028:INCLE": "1,000,000",
            "was:2027:INCLE": "2000000",
            "planned:2027:INCLE": "2000000",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    done = planner.get(f"/reviews/{review_id.group(1)}").text
    assert 'id="decision"' in done and "$2,000,000 → $1,000,000" in done
    again = planner.post(
        f"/reviews/{review_id.group(1)}/decision",
        data={
            "csrf": _csrf(page),
            "version": "2",
            "decision": "continue",
            "rationale": "once more, please",
        },
    )
    assert again.status_code == 409 and "is closed" in again.text
    r = planner.post(
        "/reviews/annual", data={"csrf": _csrf(page), "fiscal_year": "2027"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert planner.get("/reviews?trigger=annual").text.count("<tr data-review=") == 6


def test_the_surge_form_refuses_a_surge_without_its_links(site: World) -> None:
    boss = _client(site, "boss")
    page = boss.get("/surges").text
    assert 'id="surge-form"' in page and 'id="reserves"' in page
    r = boss.post(
        "/surges",
        data={
            "csrf": _csrf(page),
            "title": "Radios",
            "justification": "lost in the floods",
            "country": "GHA",
            "account": "INCLE",
            "fiscal_year": "2027",
            "amount": "100000",
            "program": "P-OFF",
        },
    )
    assert r.status_code == 422
    assert "must name the strategy objective it serves" in r.text
    assert "who pays after the surge" in r.text
