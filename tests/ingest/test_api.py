"""Uploads and downloads over the API (bearer tokens), and the /data page (cookie login,
CSRF): permissions, summaries, the error envelope, nothing written on failure."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.apibase import Api
from tests.conftest import PASSWORD, make_user, shared_data
from tests.ingest.conftest import activity, db_state, iati_file, xml_counts


@pytest.fixture
def api(store: Store) -> Api:
    return Api(store)


def _files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def test_iati_upload_imports_and_answers_the_summary(api: Api) -> None:
    path = shared_data("iati", "publishers", "es-maec_indonesia__MAEC_IATI_INDONESIA.xml")
    headers = api.login("planner", "planner", "State/INL")
    r = api.client.post(
        "/api/import/iati", files=_files((path.name, path.read_bytes())), headers=headers
    )
    assert r.status_code == 200, r.text
    summary = r.json()
    assert (summary["activities"], summary["transactions"]) == xml_counts(path)
    assert summary["versions"] == {"2.01": 1} and summary["skipped"] == []
    # ... and the activities are there to read.
    r = api.client.get("/api/donor-activities?country=IDN&limit=5", headers=headers)
    assert r.status_code == 200 and r.json()["total"] == summary["activities"]
    first = r.json()["items"][0]["identifier"]
    r = api.client.get(f"/api/donor-activities/{first}", headers=headers)
    assert r.status_code == 200 and r.json()["transactions"]


def test_uploads_need_the_import_permission(api: Api, store: Store) -> None:
    data = iati_file(activity("XM-1-1")).encode()
    r = api.client.post("/api/import/iati", files=_files(("a.xml", data)))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    for role in ("viewer", "analyst"):
        r = api.client.post(
            "/api/import/iati", files=_files(("a.xml", data)), headers=api.login(role, role)
        )
        assert r.status_code == 403, role
    assert db_state(store)["donor_activities"] == 0


def test_a_bad_upload_is_422_with_every_detail_and_writes_nothing(api: Api, store: Store) -> None:
    admin = api.login("admin", "admin")  # logging in writes audit records: before the snapshot
    before = db_state(store)
    good = iati_file(activity("XM-1-1")).encode()
    bad = iati_file(activity("XM-1-2", "<budget><value>1</value></budget>")).encode()
    r = api.client.post(
        "/api/import/iati",
        files=_files(("good.xml", good), ("bad.xml", bad)),
        headers=admin,
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid" and "nothing was written" in error["message"]
    assert error["details"][0]["loc"][:2] == ["bad.xml", "line 12"]
    assert db_state(store) == before
    r = api.client.post(
        "/api/import/iati?skip_invalid=true",
        files=_files(("good.xml", good), ("bad.xml", bad)),
        headers=api.login("admin", "admin"),
    )
    assert r.status_code == 200 and r.json()["activities"] == 1
    assert r.json()["skipped"][0]["identifier"] == "XM-1-2"


def test_a_malicious_upload_is_refused(api: Api, store: Store) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<iati-activities version="2.03"><iati-activity><iati-identifier>&e;'
        b"</iati-identifier></iati-activity></iati-activities>"
    )
    r = api.client.post(
        "/api/import/iati", files=_files(("x.xml", xxe)), headers=api.login("admin", "admin")
    )
    assert r.status_code == 422 and "DTD" in r.json()["error"]["message"]
    assert "root:" not in r.text


def test_iati_as_portfolio_by_a_planner_gets_the_planners_agency(api: Api) -> None:
    text = iati_file(activity("XM-DAC-41114-NG-1"))
    r = api.client.post(
        "/api/import/iati?as_portfolio=true",
        files=_files(("undp.xml", text.encode())),
        headers=api.login("planner", "planner", "State/INL"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["agency_fallbacks"] == {"agency": "State/INL", "activities": 1}
    r = api.client.get(
        "/api/programs/XM-DAC-41114-NG-1", headers=api.login("planner", "planner", "State/INL")
    )
    assert r.json()["agency"] == "State/INL" and r.json()["institution_type"] == "justice"


def test_exports_download_files(sqlite_demo: Store) -> None:
    api = Api(sqlite_demo)
    headers = api.login("t-analyst", "analyst")  # analysts may export
    r = api.client.get("/api/export/iati?country=NGA", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert "attachment" in r.headers["content-disposition"]
    assert int(r.headers["x-activities"]) > 0 and "x-withheld" in r.headers
    assert r.text.count("<iati-activity ") == int(r.headers["x-activities"])
    r = api.client.get("/api/export/excel?agency=DoD", headers=headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    agencies = {row[3] for row in wb["Programs"].iter_rows(min_row=2, values_only=True)}
    assert agencies and all(str(a).startswith("DoD") for a in agencies)
    r = api.client.get("/api/export/csv", headers=headers)
    assert r.status_code == 200 and r.text.startswith("id,title,description,agency")
    # Viewers export what they may read (issue 8: the data page is usable by a viewer).
    viewer = api.login("t-viewer", "viewer")
    r = api.client.get("/api/export/csv?agency=DoD", headers=viewer)
    assert r.status_code == 200 and r.text.startswith("id,title,description,agency")


def test_programs_and_foreign_assistance_uploads(sqlite_demo: Store) -> None:
    api = Api(sqlite_demo)
    admin = api.login("t-admin", "admin")
    csv_text = api.client.get("/api/export/csv?country=GHA", headers=admin).text
    r = api.client.post(
        "/api/import/programs", files=_files(("gha.csv", csv_text.encode())), headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] == r.json()["programs"] > 0
    two = _files(("a.csv", b"x"), ("b.csv", b"y"))
    assert api.client.post("/api/import/programs", files=two, headers=admin).status_code == 400
    path = shared_data("us-assistance", "state_budget_by_country_FY2011.csv")
    r = api.client.post(
        "/api/import/foreign-assistance",
        files=_files((path.name, path.read_bytes())),
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["layouts"] == {path.name: "cbj"}
    r = api.client.get("/api/us-assistance-figures?country=AFG&fiscal_year=2011", headers=admin)
    assert r.status_code == 200 and r.json()["total"] > 0


def test_the_data_page_uploads_with_a_form(store: Store) -> None:
    make_user(store, "planner", "planner", "State")
    client = TestClient(create_app(store))
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token
    client.post(
        "/login",
        data={"username": "planner", "password": PASSWORD, "login_token": token.group(1)},
        follow_redirects=False,
    )
    page = client.get("/data")
    assert page.status_code == 200 and 'action="/data/import"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    data = iati_file(activity("XM-1-1"), activity("XM-1-2")).encode()
    r = client.post(
        "/data/import",
        data={"kind": "iati", "csrf": csrf.group(1)},
        files=_files(("two.xml", data)),
    )
    assert r.status_code == 200 and "Imported" in r.text and ">2<" in r.text
    r = client.post(
        "/data/import", data={"kind": "iati", "csrf": "wrong"}, files=_files(("two.xml", data))
    )
    assert r.status_code == 403
    bad = iati_file(activity("XM-1-3"))[:-40].encode()
    r = client.post(
        "/data/import", data={"kind": "iati", "csrf": csrf.group(1)}, files=_files(("b.xml", bad))
    )
    assert r.status_code == 422 and "truncated file" in r.text


def test_a_planner_may_not_import_other_agencies_programs(api: Api, store: Store) -> None:
    rows = (
        "id,title,agency,country,start,end,fiscal_year,planned\n"
        "INL-1,Police training,State/INL,GHA,2025-10-01,2027-09-30,2026,100\n"
        "DOD-1,Boats,DoD/DSCA,GHA,2025-10-01,2027-09-30,2026,200\n"
    )
    headers = api.login("inl", "planner", "State/INL")
    before = db_state(store)
    r = api.client.post(
        "/api/import/programs", files=_files(("mixed.csv", rows.encode())), headers=headers
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["details"][0]["loc"] == ["mixed.csv", "line 3", "agency"]
    assert db_state(store) == before
    r = api.client.post(
        "/api/import/programs?skip_invalid=true",
        files=_files(("mixed.csv", rows.encode())),
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["created"] == 1
    assert [s["identifier"] for s in r.json()["skipped"]] == ["DOD-1"]
