"""Markings and releasability: a restricted reader and a foreign liaison see exactly what
they may, in lists, single reads (404), pages, roll-ups and money totals; writes refuse
a marking above the writer's ceiling and unknown releasable-to codes (issue 10, item 8).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssaplan.app import create_app
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import update_user
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import Audience, audience_named, verdict, view_of
from ssaplan.reference.catalog import get_catalog
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.factories import program, set_clearance

# id -> (marking, releasable_to, planned dollars): one budget line each, amounts that
# show in a sum which programs were counted.
WORLD: dict[str, tuple[str, list[str], int]] = {
    "P-U": ("U", [], 1_000),
    "P-SBU": ("SBU", [], 10_000),
    "P-CUI": ("CUI", [], 100_000),
    "P-SBU-GBR": ("SBU", ["GBR"], 1_000_000),
    "P-CUI-NATO": ("CUI", ["NATO"], 10_000_000),
    "P-U-GBR": ("U", ["GBR"], 100_000_000),
}
ALL = set(WORLD)
# What each reader sees, and what is withheld from them by reason.
SEEN = {
    "usg": ALL,
    "sbu": {"P-U", "P-SBU", "P-SBU-GBR", "P-U-GBR"},
    "gbr": {"P-U", "P-SBU-GBR", "P-CUI-NATO", "P-U-GBR"},  # NATO reaches the UK
    "gbr-sbu": {"P-U", "P-SBU-GBR", "P-U-GBR"},
    "ken": {"P-U"},
}
WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "sbu": {"above_ceiling": 2, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 2},
    "gbr-sbu": {"above_ceiling": 2, "not_releasable": 1},
    "ken": {"above_ceiling": 0, "not_releasable": 5},
}
CLEARANCE = {
    "usg": (None, None),
    "sbu": ("SBU", None),
    "gbr": (None, "GBR"),
    "gbr-sbu": ("SBU", "GBR"),
    "ken": (None, "KEN"),
}


def planned(ids: set[str]) -> int:
    return sum(WORLD[i][2] for i in ids)


def build_world(store: Store) -> None:
    with store.transaction() as session:
        svc = PortfolioService(session, OPERATOR)
        for pid, (marking, rel, amount) in WORLD.items():
            svc.create(
                program(
                    id=pid,
                    title=f"Program [{pid}]",
                    marking=marking,
                    releasable_to=rel,
                    countries=["GHA"],
                    budget=[{"fiscal_year": 2026, "planned": amount}],
                )
            )


def readers(api: Api) -> dict[str, dict[str, str]]:
    """Bearer headers of one viewer per clearance."""
    out = {}
    for name, (ceiling, audience) in CLEARANCE.items():
        headers = api.login(f"reader-{name}", "viewer")
        if ceiling or audience:
            set_clearance(api.store, f"reader-{name}", ceiling, audience)
        out[name] = headers
    return out


@pytest.fixture
def world(api: Api) -> tuple[Api, dict[str, dict[str, str]]]:
    build_world(api.store)
    return api, readers(api)


def test_each_reader_sees_exactly_their_programs_and_money(world: Any) -> None:
    api, heads = world
    for name, headers in heads.items():
        r = api.client.get("/api/programs?limit=100", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert {p["id"] for p in body["items"]} == SEEN[name], name
        assert body["total"] == len(SEEN[name])
        # Withheld programs' dollars are in no total (else the totals leak them).
        assert body["totals"]["planned"] == planned(SEEN[name]), name
        assert body["withheld"] == WITHHELD[name], name
        # Search (q) goes through the same filter.
        found = api.client.get("/api/programs?q=CUI", headers=headers).json()
        assert {p["id"] for p in found["items"]} == SEEN[name] & {"P-CUI", "P-CUI-NATO"}


def test_a_record_the_reader_may_not_see_is_404_not_403(world: Any) -> None:
    api, heads = world
    for name, headers in heads.items():
        for pid in ALL:
            r = api.client.get(f"/api/programs/{pid}", headers=headers)
            assert r.status_code == (200 if pid in SEEN[name] else 404), (name, pid)
            h = api.client.get(f"/api/programs/{pid}/history", headers=headers)
            assert h.status_code == (200 if pid in SEEN[name] else 404), (name, pid)
    # The answer for a hidden program is the answer for one that never existed.
    hidden = api.client.get("/api/programs/P-CUI", headers=heads["sbu"]).json()
    missing = api.client.get("/api/programs/NO-SUCH", headers=heads["sbu"]).json()
    assert hidden["error"]["code"] == missing["error"]["code"]
    assert "P-CUI" in hidden["error"]["message"]  # its own id only, nothing about it


def test_summary_country_and_countries_leave_withheld_money_out(world: Any) -> None:
    api, heads = world
    for name, headers in heads.items():
        summary = api.client.get("/api/portfolio/summary", headers=headers).json()
        assert summary["programs"] == len(SEEN[name])
        assert summary["withheld"] == WITHHELD[name]
        assert summary["total"]["planned"] == planned(SEEN[name]), name
        for groups in summary["by"].values():
            assert sum(g["planned"] for g in groups) == planned(SEEN[name])
        country = api.client.get("/api/countries/GHA", headers=headers).json()
        assert country["portfolio"]["total"]["planned"] == planned(SEEN[name])
        rows = api.client.get("/api/countries", headers=headers).json()["items"]
        gha = next(c for c in rows if c["iso3"] == "GHA")
        assert (gha["programs"], gha["planned"]) == (len(SEEN[name]), planned(SEEN[name]))


def test_pages_show_only_what_the_reader_may_see(api: Api) -> None:
    build_world(api.store)
    readers(api)
    client = TestClient(create_app(api.store))
    web_login(client, "reader-sbu", PASSWORD)
    overview = client.get("/?limit=100")
    assert overview.status_code == 200
    country = client.get("/countries/GHA")
    for page in (overview.text, country.text):
        assert "Program [P-SBU-GBR]" in page
        assert "Program [P-CUI" not in page  # neither P-CUI nor P-CUI-NATO
    assert client.get("/programs/P-CUI").status_code == 404
    assert client.get("/programs/P-SBU").status_code == 200
    assert 'href="/data/brief?country=GHA"' in country.text
    brief = client.get("/data/brief?country=GHA")
    assert brief.status_code == 200
    assert "2 program(s) withheld for us-government" in brief.text
    assert "<td>P-SBU-GBR</td>" in brief.text and "P-CUI" not in brief.text
    public = client.get("/data/brief?country=GHA&audience=public").text
    assert "<td>P-U</td>" in public and "P-SBU" not in public


def test_the_overview_says_how_many_programs_it_withheld(api: Api) -> None:
    build_world(api.store)
    readers(api)
    notes = {
        "reader-sbu": "2 programs matching the filter are withheld from you: 2 marked above "
        "your marking ceiling, 0 not releasable to your audience.",
        "reader-gbr-sbu": "3 programs matching the filter are withheld from you: 2 marked "
        "above your marking ceiling, 1 not releasable to your audience.",
    }
    for username, note in notes.items():
        client = TestClient(create_app(api.store))
        web_login(client, username, PASSWORD)
        assert note in " ".join(client.get("/").text.split()), username
    # Narrowed by a filter: the count is of what the filter matched.
    client = TestClient(create_app(api.store))
    web_login(client, "reader-sbu", PASSWORD)
    page = " ".join(client.get("/?q=P-SBU").text.split())
    assert "withheld from you" not in page
    web_login(client := TestClient(create_app(api.store)), "reader-usg", PASSWORD)
    assert "withheld from you" not in client.get("/").text


def test_admin_sets_a_clearance_and_it_is_audited_and_shown(api: Api) -> None:
    admin = api.login("boss", "admin")
    api.login("liaison", "viewer")
    user = api.client.get("/api/users/liaison", headers=admin).json()
    assert (user["marking_ceiling"], user["audience"]) == (None, None)  # sees everything
    r = api.client.patch(
        "/api/users/liaison",
        json={"version": user["version"], "marking_ceiling": "SBU", "audience": "gbr"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["marking_ceiling"], r.json()["audience"]) == ("SBU", "GBR")
    me = api.client.get("/api/me", headers=api.login("liaison", "viewer")).json()
    assert (me["marking_ceiling"], me["audience"]) == ("SBU", "GBR")
    bad = api.client.patch(
        "/api/users/liaison",
        json={"version": r.json()["version"], "marking_ceiling": "TOPSECRET", "audience": "XX"},
        headers=admin,
    )
    assert bad.status_code == 422
    fields = {tuple(d["loc"])[-1] for d in bad.json()["error"]["details"]}
    assert fields == {"marking_ceiling", "audience"}
    audit = api.client.get("/api/audit?entity_type=user&entity_id=liaison", headers=admin).json()
    assert any("marking_ceiling" in (a["summary"] or "") for a in audit["items"])
    # Lifting both again: every marking, U.S. Government.
    back = api.client.patch(
        "/api/users/liaison",
        json={"version": r.json()["version"], "marking_ceiling": "", "audience": "us-government"},
        headers=admin,
    )
    assert (back.json()["marking_ceiling"], back.json()["audience"]) == (None, None)


def test_marking_and_releasable_to_are_validated_versioned_and_capped(api: Api) -> None:
    writer = api.login("planner-sbu", "planner", "State")
    with api.store.transaction() as session:
        from ssaplan.core.users import get_user

        u = get_user(session, "planner-sbu")
        update_user(session, OPERATOR, u.username, version=u.version, marking_ceiling="SBU")
    body = {
        "title": "Border posts",
        "agency": "State/INL",
        "countries": ["GHA"],
        "start": "2026-01-01",
        "end": "2027-01-01",
        "marking": "SBU",
        "releasable_to": ["gbr", "NATO"],
    }
    created = api.client.post("/api/programs", json=body, headers=writer)
    assert created.status_code == 201, created.text
    assert created.json()["releasable_to"] == ["GBR", "NATO"]
    pid, version = created.json()["id"], created.json()["version"]
    # Above the writer's ceiling: refused, naming the field.
    up = api.client.patch(
        f"/api/programs/{pid}", json={"version": version, "marking": "CUI"}, headers=writer
    )
    assert up.status_code == 422
    assert up.json()["error"]["details"][0]["loc"][-1] == "marking"
    bad = api.client.patch(
        f"/api/programs/{pid}",
        json={"version": version, "releasable_to": ["GBR", "ATLANTIS"]},
        headers=writer,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"][-2:] == ["releasable_to", 1]
    ok = api.client.patch(
        f"/api/programs/{pid}", json={"version": version, "releasable_to": []}, headers=writer
    )
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    history = api.client.get(f"/api/programs/{pid}/history", headers=writer).json()["items"]
    assert history[0]["before"]["releasable_to"] == ["GBR", "NATO"]
    assert history[0]["after"]["releasable_to"] == []


# -- the rule as a property: visible + withheld = total, and SQL agrees with Python ----
POOL = [
    (m, rel)
    for m in ("U", "SBU", "CUI")
    for rel in ([], ["GBR"], ["NATO"], ["KEN"], ["DEU", "KEN"], ["EU"])
]


@pytest.fixture(scope="module")
def pool_store(templates: Any, tmp_path_factory: pytest.TempPathFactory) -> Store:
    import shutil

    path = tmp_path_factory.mktemp("pool") / "pool.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    with store.transaction() as session:
        svc = PortfolioService(session, OPERATOR)
        for i, (marking, rel) in enumerate(POOL):
            svc.create(
                program(
                    id=f"POOL-{i:02d}",
                    marking=marking,
                    releasable_to=rel,
                    countries=["GHA"] if i % 2 else ["KEN"],
                    budget=[{"fiscal_year": 2026, "planned": 1 + i}],
                )
            )
    return store


audiences = st.sampled_from([None, "public", "us-government", "GBR", "DEU", "KEN", "FRA", "NATO"])
ceilings = st.sampled_from([None, "U", "SBU", "CUI"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ceiling=ceilings,
    own=st.sampled_from([None, "GBR", "KEN", "NATO"]),
    audience=audiences,
    country=st.sampled_from([None, "GHA", "KEN"]),
)
def test_visible_plus_withheld_is_the_total(
    pool_store: Store, ceiling: str | None, own: str | None, audience: str | None, country: Any
) -> None:
    catalog = get_catalog()
    actor = Actor("prop", "viewer", ceiling=ceiling, audience=own)
    aud: Audience = audience_named(audience, actor, catalog)
    flt = ProgramFilter(country=country)
    with pool_store.session() as session:
        svc = PortfolioService(session, actor, audience=aud)
        page = svc.list_programs(flt, limit=None)
        withheld = svc.withheld(flt)
    matching = [
        (f"POOL-{i:02d}", m, rel)
        for i, (m, rel) in enumerate(POOL)
        if country is None or (country == "GHA") == bool(i % 2)
    ]
    expected = {pid for pid, m, rel in matching if verdict(aud, catalog, m, rel) is None}
    assert {p.id for p in page.items} == expected
    assert page.total + withheld.above_ceiling + withheld.not_releasable == len(matching)
    reasons = [verdict(aud, catalog, m, rel) for _pid, m, rel in matching]
    assert withheld.above_ceiling == reasons.count("above_ceiling")
    assert withheld.not_releasable == reasons.count("not_releasable")
    # No audience shows more than the reader's own view.
    own_view = {
        pid
        for pid, m, rel in matching
        if verdict(Audience((view_of(actor, catalog),)), catalog, m, rel) is None
    }
    assert expected <= own_view


def test_the_admin_page_sets_what_a_user_may_see(api: Api) -> None:
    import re

    api.login("page-admin", "admin")
    api.login("page-liaison", "viewer")
    client = TestClient(create_app(api.store))
    web_login(client, "page-admin", PASSWORD)
    page = client.get("/admin/users/page-liaison").text
    assert "every marking" in page and 'id="clearance-form"' in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    bad = client.post(
        "/admin/users/page-liaison/clearance",
        data={"csrf": token.group(1), "marking_ceiling": "NOPE", "audience": "GBR"},
    )
    assert bad.status_code == 422 and 'data-field="marking_ceiling"' in bad.text
    r = client.post(
        "/admin/users/page-liaison/clearance",
        data={"csrf": token.group(1), "marking_ceiling": "SBU", "audience": "NATO"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    shown = client.get("/admin/users/page-liaison").text
    assert "up to SBU" in shown and 'value="NATO" selected' in shown


def test_the_cli_sets_a_clearance(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tests.conftest import make_user, run_cli

    make_user(store, "cli-liaison", "viewer")
    db = store.engine.url.render_as_string(hide_password=False)
    code, out, err = run_cli(
        capsys, "user", "clearance", "cli-liaison", "--ceiling", "sbu", "--audience", "EU",
        "--db", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert (json.loads(out)["marking_ceiling"], json.loads(out)["audience"]) == ("SBU", "EU")
    code, _out, err = run_cli(
        capsys, "user", "clearance", "cli-liaison", "--audience", "Atlantis", "--db", db
    )
    assert code == 1 and "audience" in err


def test_a_write_s_marking_fields_are_checked_for_every_marked_record() -> None:
    """The one write-side check other domains' marked records use: a known marking (code
    or name), not above the writer's ceiling, and known releasable-to codes."""
    from ssaplan.core.errors import Detail
    from ssaplan.portfolio.visibility import marking_fields

    catalog = get_catalog()
    cleared = Actor("p", "planner", "DOS", ceiling="SBU")
    problems: list[Detail] = []
    got = marking_fields(cleared, catalog, "sbu", ["nato", "GBR"], ("body",), problems)
    assert got == {"marking": "SBU", "releasable_to": ";GBR;NATO;"}
    assert problems == []
    marking_fields(cleared, catalog, "CUI", ["Atlantis"], ("body",), problems)
    assert [p.loc for p in problems] == [("body", "marking"), ("body", "releasable_to", 0)]
    assert "above your marking ceiling (SBU)" in problems[0].msg
    assert "unknown partner or organization 'Atlantis'" in problems[1].msg
    problems.clear()
    assert marking_fields(cleared, catalog, "SECRET-ISH", None, ("b",), problems) == {}
    assert "unknown marking 'SECRET-ISH': give one of CUI, SBU, U" in problems[0].msg
    assert marking_fields(cleared, catalog, None, None, ("b",), []) == {}
