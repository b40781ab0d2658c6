"""Working in the workbench: filters that say what is wrong, the program form (create,
edit, stale version, read-only), the pipeline with reasons, and the pages issue 8 asked
to complete (countries, a country, data in & out)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ssaplan.app import create_app
from ssaplan.core.store import Store
from ssaplan.portfolio.models import Program
from tests.conftest import web_login

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(sqlite_demo: Store) -> FastAPI:
    return create_app(sqlite_demo)


def client_for(app: FastAPI, user: str) -> TestClient:
    client = TestClient(app)
    web_login(client, user, f"{user.replace('-', '')}-demo-pass")
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """The values a browser would submit from a form (inputs, selected options, text)."""
    body = html.split(f'id="{form_id}"', 1)[1].split("</form>", 1)[0]
    out: list[tuple[str, str]] = []
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="checkbox"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        out.append((name.group(1), unescape(value.group(1)) if value else ""))
    for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S):
        out.append((name, unescape(text)))
    for name, inner in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        for value in re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', inner):
            out.append((name, unescape(value)))
    return out


def post(client: TestClient, url: str, fields: list[tuple[str, str]]) -> Any:
    return client.post(url, content=urlencode(fields), headers=FORM, follow_redirects=False)


def test_every_api_filter_is_offered_and_bad_values_are_shown(app: FastAPI) -> None:
    client = client_for(app, "viewer")
    page = client.get("/").text
    for field in (
        "region",
        "country",
        "agency",
        "account",
        "fiscal_year",
        "status",
        "objective",
        "institution_type",
        "purpose",
        "q",
    ):
        assert f'name="{field}"' in page, field
    assert "G1.3 Support legitimate self-defense" in page
    bad = client.get("/?fiscal_year=abc&institution_type=polise")
    assert bad.status_code == 422
    text = unescape(bad.text)
    assert "'abc' is not a fiscal year" in text and "unknown institution type 'polise'" in text
    assert 'data-field="fiscal_year"' in bad.text and 'data-field="institution_type"' in bad.text
    assert 'id="kpi-planned"' not in bad.text  # nothing shown as if the filter applied
    assert client.get("/?sort=bogus").status_code == 422
    police = client.get("/?institution_type=Police and law enforcement").text
    assert 'value="police" selected' in police


def test_sorted_by_a_years_money_the_column_shows_that_money(app: FastAPI) -> None:
    client = client_for(app, "viewer")
    page = client.get("/?fiscal_year=2027&sort=-planned").text
    assert "Planned FY2027" in page
    shown = [
        int(v)
        for v in re.findall(r'<td class="num"><span title="[^"]+" data-dollars="(\d+)"', page)
    ]
    planned = shown[0::3]
    assert planned == sorted(planned, reverse=True) and planned[0] > 0
    # The export links carry exactly the filters on screen.
    assert 'href="/api/export/csv?fiscal_year=2027"' in page
    region = client.get("/?region=ECOWAS&status=implementing").text
    assert "/api/export/excel?region=ECOWAS&amp;status=implementing" in region


def test_names_not_codes_and_money_in_one_format(app: FastAPI) -> None:
    client = client_for(app, "viewer")
    page = client.get("/").text
    assert "Bureau of African Affairs" in page and "Foreign Military Financing" in page
    assert re.search(r'id="kpi-planned"[^>]*>\$\d+\.\dB<', page)
    countries = client.get("/countries?q=guinea").text
    names = re.findall(r'<a href="/countries/[A-Z]{3}">([^<]+)</a>', countries)
    assert "Guinea-Bissau" in names and "Equatorial Guinea" in names
    assert "Bureau of African Affairs" in countries
    by_name = client.get("/countries").text
    listed = re.findall(r'<a href="/countries/[A-Z]{3}">([^<]+)</a>', by_name.split("<h2", 2)[1])
    assert listed == sorted(listed, key=str.casefold)
    rich = client.get("/countries?sort=planned").text.split("<h2", 2)[1]
    money = [int(v) for v in re.findall(r'data-dollars="(\d+)"', rich)]
    assert money == sorted(money, reverse=True)


def test_country_page_lists_regional_programs_assessment_and_donors(app: FastAPI) -> None:
    client = client_for(app, "viewer")
    page = client.get("/countries/GHA").text
    assert 'href="/assessment/countries/GHA"' in page
    assert 'id="regional-programs"' in page  # ECOWAS and AU programs cover Ghana
    assert "Economic Community of West African States" in page or "African Union" in page
    assert 'id="donors"' in page


def test_create_edit_and_a_stale_edit_of_a_program(app: FastAPI, sqlite_demo: Store) -> None:
    client = client_for(app, "planner")
    new = client.get("/programs/new").text
    fields = [(k, v) for k, v in form_fields(new, "program-form") if k not in ("title",)]
    fields += [("title", ""), ("start", "2027-10-01"), ("end", "2026-01-01")]
    fields += [("countries", "KEN"), ("countries", "UGA"), ("shares", "KEN 60, UGA 40")]
    fields += [("budget-0-fiscal_year", "2028"), ("budget-0-planned", "lots")]
    r = post(client, "/programs/new", fields)
    assert r.status_code == 422
    assert 'data-field="title"' in r.text and 'data-field="budget.0.planned"' in r.text
    assert 'value="KEN 60, UGA 40"' in r.text  # what was typed stays
    fields = [(k, v) for k, v in fields if k not in ("title", "end", "budget-0-planned")]
    fields += [("title", "Border police training, Kenya and Uganda"), ("end", "2029-09-30")]
    fields += [("budget-0-planned", "1.5M"), ("budget-1-fiscal_year", "2029")]
    fields += [("budget-1-account", "ESF"), ("budget-1-planned", "250,000")]
    fields += [("delivery-0-name", "Training package"), ("delivery-0-requested_on", "2027-11-01")]
    r = post(client, "/programs/new", fields)
    assert r.status_code == 303, re.findall(r"field-error[^>]*>([^<]+)", r.text)
    pid = r.headers["location"].split("/programs/", 1)[1].split("?")[0]
    page = client.get(r.headers["location"]).text
    assert "Program created." in page and "Kenya" in page and "60%" in page
    assert "$1.5M" in page and "Economic Support Fund" in page and "Training package" in page

    edit = client.get(f"/programs/{pid}/edit").text
    assert 'id="history"' in edit  # the audit history beside the form
    original = form_fields(edit, "program-form")
    changed = [(k, "Border police training (revised)" if k == "title" else v) for k, v in original]
    r = post(client, f"/programs/{pid}/edit", changed)
    assert r.status_code == 303 and r.headers["location"].endswith("saved=v2")
    after = client.get(r.headers["location"]).text
    assert "Saved: version 2." in after
    assert "<code>title</code>: Border police training, Kenya and Uganda → Border police" in after
    # Only the title changed: the form's round trip leaves everything else alone.
    assert after.count("<code>") - after.count("<code>title</code>") < 6
    # Someone else saves first: the old form is refused with an explanation.
    stale = post(client, f"/programs/{pid}/edit", changed)
    assert stale.status_code == 409
    assert 'id="stale"' in stale.text and "You edited version 1" in stale.text
    assert f'href="/programs/{pid}/edit" id="reload"' in stale.text
    with sqlite_demo.session() as session:
        assert session.execute(select(Program.version).where(Program.code == pid)).scalar() == 2


def test_another_agencys_program_says_why_it_is_read_only(app: FastAPI, sqlite_demo: Store) -> None:
    with sqlite_demo.session() as session:
        pid = session.execute(
            select(Program.code).where(Program.agency_id.like("DoD%")).limit(1)
        ).scalar_one()
    client = client_for(app, "planner")
    page = client.get(f"/programs/{pid}").text
    assert 'id="read-only"' in page and "lets you change programs only within" in unescape(page)
    assert 'id="edit-link"' not in page and 'id="status-form"' not in page
    assert client.get(f"/programs/{pid}/edit").status_code == 403


def test_pipeline_offers_next_steps_in_order_and_stopping_needs_a_reason(
    app: FastAPI, sqlite_demo: Store
) -> None:
    with sqlite_demo.session() as session:
        pid, version = session.execute(
            select(Program.code, Program.version)
            .where(Program.agency_id == "State/INL", Program.status == "implementing")
            .limit(1)
        ).one()
    client = client_for(app, "planner")
    page = client.get(f"/programs/{pid}").text
    form = page.split('id="status-form"', 1)[1].split("</form>", 1)[0]
    offered = re.findall(r'<option value="([^"]*)"', form)
    assert offered == ["", "completed", "suspended", "terminated"]
    assert '<option value="" selected>' in form  # nothing pre-selected
    token = csrf(page)
    none = post(client, f"/programs/{pid}/status", [("csrf", token), ("version", str(version))])
    assert none.status_code == 422 and "choose the next status" in none.text
    r = post(
        client,
        f"/programs/{pid}/status",
        [("csrf", token), ("version", str(version)), ("status", "suspended")],
    )
    assert r.status_code == 422 and 'data-field="reason"' in r.text
    r = post(
        client,
        f"/programs/{pid}/status",
        [
            ("csrf", token),
            ("version", str(version)),
            ("status", "suspended"),
            ("reason", "Leahy vetting of the unit is pending"),
        ],
    )
    assert r.status_code == 303
    after = client.get(r.headers["location"]).text
    assert "Status changed to suspended." in after
    assert '<div class="reason">Leahy vetting of the unit is pending</div>' in after


def test_data_page_for_a_viewer_and_the_formats_inside_the_app(app: FastAPI) -> None:
    client = client_for(app, "viewer")
    page = client.get("/data?region=AF").text
    assert 'href="/api/export/csv?region=AF"' in page and 'href="/data/formats"' in page
    assert 'id="import-form"' not in page
    assert client.get("/api/export/csv?region=AF").status_code == 200
    formats = client.get("/data/formats")
    assert formats.status_code == 200 and "<h1>" in formats.text and "IATI" in formats.text
    planner = client_for(app, "planner").get("/data").text
    assert 'value="indicators"' in planner


def test_importing_iati_twice_says_what_was_new_and_updated(app: FastAPI) -> None:
    from tests.ingest.conftest import activity, iati_file, transaction

    client = client_for(app, "planner")
    token = csrf(client.get("/data").text)
    commitment = transaction("2", "2024-01-15", "1000000", "USD")
    xml = iati_file(activity("XM-DAC-41114-A1", commitment), activity("XM-DAC-41114-A2"))
    for expected in (
        "2 activities from 1 file: 2 new, 0 updated",
        "2 activities from 1 file: 0 new, 2 updated",
    ):
        r = client.post(
            "/data/import",
            data={"csrf": token, "kind": "iati"},
            files={"files": ("donor.xml", xml, "application/xml")},
        )
        assert r.status_code == 200, r.text[-2000:]
        assert expected in r.text
    # The activities appear on the country page as another donor's work there.
    country = client.get("/countries/NGA").text
    assert "UNDP" in country and "XM-DAC-41114" in country and "$1.0M" in country
