"""Workbench pages and the app-wide rules: default-deny, one error shape, overview totals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ssaplan.app import create_app
from ssaplan.core.store import Store
from ssaplan.portfolio.models import BudgetLine, Program
from tests.conftest import web_login as _login

# The only routes anyone may reach without logging in.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/health"),
    ("POST", "/api/auth/token"),
}


def all_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        items = contexts() if callable(contexts) else [route]
        for item in items:
            for method in sorted(getattr(item, "methods", None) or []):
                if method != "HEAD":
                    yield method, item.path


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.fixture
def app(sqlite_demo: Store) -> FastAPI:
    return create_app(sqlite_demo)


def test_every_route_but_login_and_health_needs_a_user(app: FastAPI) -> None:
    client = TestClient(app)
    routes = sorted(set(all_routes(app)))
    assert len(routes) > 15
    for method, path in routes:
        if (method, path) in PUBLIC or path.startswith("/static"):
            continue
        r = client.request(method, _fill(path), follow_redirects=False)
        if path.startswith("/api") or path == "/openapi.json":
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (
                method,
                path,
            )


def test_errors_have_one_shape_in_json_and_html(app: FastAPI) -> None:
    client = TestClient(app)
    _login(client, "viewer", "viewer-demo-pass")
    api = client.get("/api/programs/NOPE").json()["error"]
    page = client.get("/programs/NOPE")
    assert page.status_code == 404
    assert f'data-code="{api["code"]}"' in page.text and api["message"] in page.text.replace(
        "&#39;", "'"
    )
    assert client.get("/api/no/such/route").json()["error"]["code"] == "not_found"


def test_overview_totals_equal_the_budget_lines(app: FastAPI, sqlite_demo: Store) -> None:
    client = TestClient(app)
    _login(client, "viewer", "viewer-demo-pass")
    with sqlite_demo.session() as session:
        sums = session.execute(
            select(
                func.sum(BudgetLine.planned),
                func.sum(BudgetLine.obligated),
                func.sum(BudgetLine.disbursed),
            )
        ).one()
        programs = session.execute(select(func.count()).select_from(Program)).scalar_one()
        af_2027 = session.execute(
            select(func.sum(BudgetLine.planned)).where(BudgetLine.fiscal_year == 2027)
        ).scalar_one()
    html = client.get("/").text
    shown = {k: int(v) for k, v in re.findall(r'id="kpi-(\w+)" data-dollars="(\d+)"', html)}
    assert shown == {"planned": sums[0], "obligated": sums[1], "disbursed": sums[2]}
    assert re.search(r'id="kpi-programs">([\d,]+)<', html).group(1).replace(",", "") == str(
        programs
    )  # type: ignore[union-attr]
    fy = client.get("/?fiscal_year=2027").text
    assert f'id="kpi-planned" data-dollars="{af_2027}"' in fy
    for caption in ("By fiscal year", "By regional bureau", "By funding account", "By agency"):
        assert caption in html


def test_overview_filters_and_pages(app: FastAPI) -> None:
    client = TestClient(app)
    _login(client, "viewer", "viewer-demo-pass")
    r = client.get("/?region=AF&agency=State&sort=-planned&page=2")
    assert r.status_code == 200 and "page 2 of" in r.text
    assert client.get("/?region=NOWHERE").status_code == 422


def test_country_and_program_pages(app: FastAPI) -> None:
    client = TestClient(app)
    _login(client, "viewer", "viewer-demo-pass")
    country = client.get("/countries/NGA")
    assert country.status_code == 200 and "Nigeria" in country.text and "AFRICOM" in country.text
    assert client.get("/countries").status_code == 200
    program_id = re.search(r'href="/programs/([^"]+)"', country.text).group(1)  # type: ignore[union-attr]
    page = client.get(f"/programs/{program_id}")
    assert page.status_code == 200
    assert "Budget" in page.text and "History" in page.text and "demo-loader" in page.text
    assert 'action="/programs/' not in page.text  # viewers get no status form


def test_planner_moves_a_program_and_the_history_shows_it(app: FastAPI, sqlite_demo: Store) -> None:
    client = TestClient(app)
    _login(client, "planner", "planner-demo-pass")
    with sqlite_demo.session() as session:
        pid = (
            session.execute(
                select(Program.code).where(
                    Program.agency_id == "State/PM", Program.status == "proposed"
                )
            )
            .scalars()
            .first()
        )
    page = client.get(f"/programs/{pid}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data: dict[str, Any] = {"csrf": csrf, "version": 1, "status": "approved"}
    assert (
        client.post(f"/programs/{pid}/status", data={**data, "csrf": "forged"}).status_code == 403
    )
    r = client.post(f"/programs/{pid}/status", data=data, follow_redirects=False)
    assert r.status_code == 303
    after = client.get(f"/programs/{pid}").text
    assert "<code>status</code>: proposed → approved" in after
    assert client.post(f"/programs/{pid}/status", data=data).status_code == 409  # stale version


def test_logout_ends_the_session(app: FastAPI) -> None:
    client = TestClient(app)
    _login(client, "viewer", "viewer-demo-pass")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_redirects_only_within_the_site(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in page.text
