"""The cycle's pages through the app (server-rendered HTML), without a browser."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import PASSWORD, Templates
from tests.conftest import web_login as login
from tests.cycle import world

WAITING = "FY2027-DoD-0002"


@pytest.fixture(scope="module")
def built(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return world.build(templates, tmp_path_factory.mktemp("cycle-pages"))


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Store:
    path = tmp_path / "pages.db"
    shutil.copy(built, path)
    return Store(f"sqlite:///{path}")


def client(store: Store, username: str) -> TestClient:
    c = TestClient(create_app(store))
    login(c, username, PASSWORD)
    return c


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_calendar_pipeline_inbox_and_proposal_pages_render(store: Store) -> None:
    c = client(store, "com-ken")
    cycle = c.get("/cycle")
    assert cycle.status_code == 200
    assert 'href="/cycle" aria-current="page">Cycle</a>' in cycle.text
    assert "FY2027 cycle" in cycle.text and "Patrol boat maintenance (waiting)" in cycle.text
    assert "Kenya" in cycle.text  # names where people read, codes beside them
    assert 'title="DoD/DSCA">Defense Security Cooperation Agency</span>' in cycle.text
    assert c.get("/cycle?stage=draft").text.count('href="/proposals/') == 1
    pipeline = c.get("/cycle/pipeline")
    assert pipeline.status_code == 200 and pipeline.text.count("<svg") >= 5
    # Whom it waits on, by name: the chief of mission in Kenya (COM:KEN as tooltip).
    assert WAITING in pipeline.text and 'title="COM:KEN">Chief of Mission, Kenya' in pipeline.text
    inbox = c.get("/inbox")
    assert inbox.status_code == 200 and WAITING in inbox.text and "concurrence" in inbox.text
    page = c.get(f"/proposals/{WAITING}")
    assert page.status_code == 200
    assert (
        "Chief of Mission, Kenya" in page.text
        and 'action="/proposals/' + WAITING + '/concur"' in page.text
    )
    assert c.get("/proposals/FY2027-DoD-0999").status_code == 404
    # A chief of mission does not draft proposals.
    assert c.get("/proposals/new").status_code == 403


def test_concur_and_comment_from_the_page(store: Store) -> None:
    c = client(store, "com-ken")
    token = csrf(c.get(f"/proposals/{WAITING}").text)
    r = c.post(
        f"/proposals/{WAITING}/comment",
        data={"csrf": token, "body": "Who maintains the boats?"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = c.post(
        f"/proposals/{WAITING}/concur",
        data={"csrf": token, "decision": "concur", "comment": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get(f"/proposals/{WAITING}").text
    assert "Who maintains the boats?" in page and "waiting on <strong" in page
    # Concurring twice from the page: refused with the reason, nothing changed.
    r = c.post(f"/proposals/{WAITING}/concur", data={"csrf": token, "decision": "concur"})
    assert r.status_code == 409 and "already answered" in r.text
    assert (
        c.post(f"/proposals/{WAITING}/concur", data={"csrf": "x", "decision": "concur"}).status_code
        == 403
    )


def test_draft_from_the_form(store: Store) -> None:
    c = client(store, "dod-planner")
    form = c.get("/proposals/new")
    assert form.status_code == 200 and 'name="sustainment_plan"' in form.text
    data = {
        "csrf": csrf(form.text),
        "title": "Counter-drug riverine unit",
        "agency": "DoD/DSCA",
        "account": "10USC333",
        "country": "COL",
        "start": "2026-10-01",
        "end": "2028-09-30",
        "objectives": "G2.6",
        "justification": "Cocaine flows on the rivers.",
        "sustainment_plan": "Colombia funds fuel and crews.",
        "fiscal_year": "2027",
        "fiscal_years": "2027",
        "levels": "1,500,000; 3000000",
    }
    r = c.post("/proposals/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    assert "Counter-drug riverine unit" in page and "Colombia" in page
    r = c.post("/proposals/new", data={**data, "levels": "lots"})
    assert r.status_code == 422 and "levels" in r.text
