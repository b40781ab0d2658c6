"""The compliance pages render on the demo world, and their forms write through the service."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.conftest import web_login

ADMIN = Actor("admin", "admin")


@pytest.fixture
def client(sqlite_demo: Store) -> TestClient:
    client = TestClient(create_app(sqlite_demo))
    web_login(client, "admin", "admin-demo-pass")
    return client


def csrf(page: Any) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def demo_facts(store: Store) -> dict[str, Any]:
    with store.session() as session:
        svc = ComplianceService(session, ADMIN)
        queue = svc.vetting_queue()
        coup = svc.restrictions.search(type="coup")[0]
        return {
            "queue": queue,
            "coup": coup,
            "ineligible": svc.eligibility_public(ineligible_only=True),
        }


def test_every_page_renders(client: TestClient, sqlite_demo: Store) -> None:
    facts = demo_facts(sqlite_demo)
    program = facts["queue"].pending[0].program
    pages = {
        "/compliance": [
            "Statutory restrictions",
            "starting point to be reviewed by counsel",
            "<svg",
            # The map's legend counts kinds of restriction: 0, 1, ... not ranges "0–1".
            ">0</text>",
            ">4 or more</text>",
        ],
        f"/compliance/countries/{facts['coup'].country}": [
            facts["coup"].country_name,
            "coup (7008)",
        ],
        "/compliance/eligibility": ["ineligible", "U.S.C."],  # each reason with its citation
        "/compliance/eligibility?show=all&fiscal_year=2028": ["eligible"],
        "/compliance/vetting": [
            "Requests to decide",
            "lapsing within 60 days",
            "credible information",
        ],
        "/compliance/units": ["22 U.S.C. 2378d", "Registered units", "Credible information"],
        "/compliance/rules": ["A starting point to be reviewed by counsel", "coup_government"],
        f"/compliance/programs/{program}": ["Eligibility by fiscal year", "vetting pending"],
    }
    for url, expected in pages.items():
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        for text in expected:
            assert text in r.text, (url, text)


def test_unknown_country_and_program_are_404_pages(client: TestClient) -> None:
    assert client.get("/compliance/countries/Narnia").status_code == 404
    r = client.get("/compliance/programs/NO-SUCH-PROGRAM")
    assert r.status_code == 404 and 'data-code="not_found"' in r.text


def test_a_vetting_decision_from_the_queue(client: TestClient, sqlite_demo: Store) -> None:
    page = client.get("/compliance/vetting")
    pending = demo_facts(sqlite_demo)["queue"].pending[0]
    r = client.post(
        f"/compliance/vetting/{pending.id}/decide",
        data={
            "csrf": csrf(page),
            "status": "approved",
            "version": pending.version,
            "back": "/compliance/vetting",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/compliance/vetting"
    assert demo_facts(sqlite_demo)["queue"].pending == []
    r = client.post(
        f"/compliance/vetting/{pending.id}/decide",
        data={"status": "denied", "version": 2},
        follow_redirects=False,
    )
    assert r.status_code == 403  # no form token


def test_facts_and_rule_forms(client: TestClient, sqlite_demo: Store) -> None:
    program = demo_facts(sqlite_demo)["ineligible"][0].id
    page = client.get(f"/compliance/programs/{program}")
    token = csrf(page)
    r = client.post(
        f"/compliance/programs/{program}/facts",
        data={
            "csrf": token,
            "version": "0",
            "recipient": "non_government",
            "flags": ["humanitarian"],
        },
        follow_redirects=False,
    )
    assert r.status_code in (303, 409), r.text  # 409 if the demo already set facts on it
    rules = client.get("/compliance/rules")
    r = client.post(
        "/compliance/rules/coup_government",
        data={
            "csrf": csrf(rules),
            "version": "1",
            "summary": "Edited in the test.",
            "citation": "Sec. 7008(a)",
            "blocks_accounts": "FMF, IMET",
            "recipients": "government",
            "waivable": "yes",
            "waiver": "Presidential waiver",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Edited in the test." in client.get("/compliance/rules").text
    r = client.post(
        "/compliance/rules/coup_government",
        data={
            "csrf": csrf(rules),
            "version": "1",
            "summary": "Stale.",
            "citation": "x",
            "blocks_accounts": "FMF",
            "recipients": "government",
            "waivable": "no",
        },
    )
    assert r.status_code == 409 and 'data-code="stale_version"' in r.text


def test_restriction_unit_and_credible_forms(client: TestClient, sqlite_demo: Store) -> None:
    page = client.get("/compliance")
    token = csrf(page)
    r = client.post(
        "/compliance/restrictions",
        data={
            "csrf": token,
            "country": "Guinea",
            "type": "coup",
            "start": "2021-09-05",
            "citation": "illustrative test determination",
            "waiver_accounts": "FMF; IMET",
            "waiver_start": "2025-10-01",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/compliance/countries/GIN")
    r = client.post(
        "/compliance/restrictions/import",
        data={"csrf": token},
        files={"file": ("bad.csv", b"country,type\nGIN,coup\n", "text/csv")},
    )
    assert r.status_code == 422 and "column missing" in r.text
    r = client.post(
        "/compliance/units",
        data={"csrf": token, "name": "Test Battalion", "country": "GIN", "type": "armed_forces"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    unit_id = int(r.headers["location"].rsplit("-", 1)[1])
    r = client.post(
        "/compliance/credible",
        data={"csrf": token, "unit": unit_id, "reported": "2026-01-01", "description": "test"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Test Battalion" in client.get("/compliance/units").text
