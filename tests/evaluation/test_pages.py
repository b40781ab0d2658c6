"""Evaluation pages through the app (server-rendered HTML), without a browser."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import PASSWORD
from tests.conftest import web_login as login


def test_registry_evaluation_and_evidence_pages(registry: Store) -> None:
    client = TestClient(create_app(registry))
    login(client, "viewer", PASSWORD)
    home = client.get("/evaluations")
    assert home.status_code == 200
    assert 'href="/evaluations" aria-current="page">Evaluation</a>' in home.text
    rows = re.findall(r'<a href="/evaluations/(EV-\d+)">', home.text)
    assert rows == ["EV-00003", "EV-00002", "EV-00001"]  # newest first
    # Names where people read, codes as secondary text.
    assert "Bureau of International Narcotics and Law Enforcement Affairs" in home.text
    assert "Police and law enforcement · Build and sustain capacity" in home.text
    assert "Department of Homeland Security" in home.text
    assert "1 / 2" in home.text  # open recommendations of the first evaluation

    impact = client.get("/evaluations?type=impact").text
    assert "Planned review of border posts" not in impact and "Partner A" in impact

    page = client.get("/evaluations/EV-00001").text
    assert "<svg" in page and 'class="chart event-study"' in page
    assert page.count('class="point pre"') >= 1 and page.count('class="point post"') >= 1
    assert "Pre-trend test" in page and "Callaway–Sant&#39;Anna" in page
    assert "Stop the radio component." in page and "Pending" in page

    synth = client.get("/evaluations/EV-00002").text
    assert 'class="chart synth"' in synth and "placebo-in-space p =" in synth
    assert "synthetic Partner A" in synth or "synthetic control" in synth

    evidence = client.get("/evaluations/evidence").text
    assert 'id="evidence"' in evidence and 'class="chart forest"' in evidence
    assert "Armed forces · Enable contribution to common challenges" in evidence
    assert evidence.count('class="num multiplier"') == 2

    missing = client.get("/evaluations/EV-09999")
    assert missing.status_code == 404 and "no evaluation with id" in missing.text
    assert client.get("/evaluations?type=bogus").status_code == 422


def test_pages_need_a_login(registry: Store) -> None:
    client = TestClient(create_app(registry))
    r = client.get("/evaluations", follow_redirects=False)
    assert r.status_code in (303, 401)
