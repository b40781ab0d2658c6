"""Markings on evaluations (issue 10, item 8): each reader lists and reads only the
evaluations they may see (a hidden one is 404, like a missing id), lists say how many
they withheld, and the evidence base pools only the reader's evaluations, so a hidden
estimate moves no pooled effect or multiplier they get."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from ssaplan.evaluation.engine.evidence import effectiveness_multiplier, pool_effects
from ssaplan.evaluation.evidence import EvidenceService, effectiveness
from ssaplan.evaluation.schemas import EvaluationCreate
from ssaplan.evaluation.service import EvaluationService
from ssaplan.portfolio.visibility import audience_named, audience_of
from ssaplan.reference.catalog import get_catalog
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.evaluation.test_registry import completed
from tests.factories import set_clearance

# title -> (marking, releasable_to, standardized effect, its SE): all police x
# build_capacity, so one pool holds what each reader may see.
WORLD: dict[str, tuple[str, list[str], float, float]] = {
    "E-U": ("U", [], 0.30, 0.05),
    "E-SBU": ("SBU", [], 0.90, 0.06),
    "E-CUI-NATO": ("CUI", ["NATO"], 0.60, 0.08),
    "E-U-GBR": ("U", ["GBR"], 0.10, 0.05),
}
ALL = set(WORLD)
SEEN = {
    "usg": ALL,
    "u": {"E-U", "E-U-GBR"},
    "gbr": {"E-U", "E-CUI-NATO", "E-U-GBR"},  # REL TO NATO reaches the UK
    "public": {"E-U"},
}
WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "u": {"above_ceiling": 2, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 1},
    "public": {"above_ceiling": 0, "not_releasable": 3},
}
CLEARANCE = {"usg": (None, None), "u": ("U", None), "gbr": (None, "GBR")}


def pooled(titles: set[str]) -> tuple[float, float]:
    """The pooled effect and its SE over exactly these evaluations (the engine's pool)."""
    order = sorted(titles, key=list(WORLD).index)  # the registry's order (by id)
    p = pool_effects([WORLD[t][2] for t in order], [WORLD[t][3] for t in order])
    return p.estimate, p.std_error


def build_world(store: Store) -> dict[str, str]:
    """The four impact evaluations (and a planned SBU one); title -> id."""
    out = {}
    with store.transaction() as session:
        service = EvaluationService(session, OPERATOR)
        for title, (marking, rel, effect, se) in WORLD.items():
            estimate = {
                **completed()["estimates"][0],
                "estimate": effect * 8.0,
                "std_error": se * 8.0,
                "outcome_sd": 8.0,
            }
            e = service.create(
                EvaluationCreate(
                    **completed(
                        title=title, estimates=[estimate], marking=marking, releasable_to=rel
                    )
                )
            )
            out[title] = e.id
    return out


def readers(api: Api) -> dict[str, dict[str, str]]:
    out = {}
    for name, (ceiling, audience) in CLEARANCE.items():
        out[name] = api.login(f"reader-{name}", "viewer")
        if ceiling or audience:
            set_clearance(api.store, f"reader-{name}", ceiling, audience)
    return out


@pytest.fixture
def world(api: Api) -> tuple[Api, dict[str, dict[str, str]], dict[str, str]]:
    ids = build_world(api.store)
    return api, readers(api), ids


def test_each_reader_lists_exactly_their_evaluations_and_what_was_withheld(world: Any) -> None:
    api, heads, ids = world
    for name, headers in heads.items():
        for query in ("", "?type=impact", "?q=E-"):
            body = api.client.get(f"/api/evaluations{query}", headers=headers).json()
            assert {e["title"] for e in body["items"]} == SEEN[name], (name, query)
            assert body["total"] == len(SEEN[name])
            assert body["withheld"] == WITHHELD[name], (name, query)
        marks = {e["title"]: (e["marking"], e["releasable_to"]) for e in body["items"]}
        assert marks == {t: WORLD[t][:2] for t in SEEN[name]}
        for title, code in ids.items():
            expected = 200 if title in SEEN[name] else 404
            assert api.client.get(f"/api/evaluations/{code}", headers=headers).status_code == (
                expected
            ), (name, title)
            history = api.client.get(f"/api/evaluations/{code}/history", headers=headers)
            assert history.status_code == expected, (name, title)
    hidden = api.client.get(f"/api/evaluations/{ids['E-SBU']}", headers=heads["u"]).json()
    missing = api.client.get("/api/evaluations/EV-99999", headers=heads["u"]).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "not_found"
    assert hidden["error"]["message"] == f"no evaluation with id {ids['E-SBU']!r}"


def test_the_evidence_base_pools_only_what_the_reader_may_see(world: Any) -> None:
    api, heads, _ = world
    everything = pooled(ALL)
    for name, headers in heads.items():
        table = api.client.get("/api/evidence", headers=headers).json()
        (police,) = table["kinds"]
        assert police["pooled"]["k"] == len(SEEN[name])
        estimate, se = pooled(SEEN[name])
        assert police["pooled"]["estimate"] == pytest.approx(estimate, abs=1e-6), name
        assert police["pooled"]["std_error"] == pytest.approx(se, abs=1e-6), name
        assert {e["title"] for e in police["entries"]} == SEEN[name]
        assert table["withheld"] == WITHHELD[name]
        multiplier = api.client.get("/api/evidence/effectiveness", headers=headers).json()
        assert multiplier["kinds"][0]["k"] == len(SEEN[name])
        assert multiplier["kinds"][0]["multiplier"] == pytest.approx(police["multiplier"])
    # The hidden SBU and CUI evaluations move the figure: the ceiling-U reader's pool is
    # the full pool without them, not the full pool.
    u = api.client.get("/api/evidence", headers=heads["u"]).json()["kinds"][0]["pooled"]
    assert u["estimate"] == pytest.approx(pooled(ALL - {"E-SBU", "E-CUI-NATO"})[0], abs=1e-6)
    assert everything[0] - u["estimate"] > 0.2


def test_the_public_and_the_allocation_see_the_readers_pool(store: Store) -> None:
    build_world(store)
    catalog = get_catalog()
    public = audience_named("public", OPERATOR, catalog)
    from ssaplan.allocation.hooks import stored_hooks
    from ssaplan.allocation.portfolio import ProgramFacts
    from ssaplan.core.permissions import Actor

    with store.session() as session:
        table = EvidenceService(session, OPERATOR, audience=public).table()
        assert [e.title for e in table.kinds[0].entries] == ["E-U"]
        assert table.withheld.model_dump() == WITHHELD["public"]
        listing = EvaluationService(session, OPERATOR, audience=public).list_evaluations()
        assert {e.title for e in listing.items} == SEEN["public"]
        # The allocation's multiplier for a ceiling-U planner comes from their pool.
        planner = Actor("planner-u", "planner", "State", ceiling="U")
        mine = effectiveness(session, audience=audience_of(planner, catalog)).of(
            "police", "build_capacity"
        )
        p = pool_effects([WORLD[t][2] for t in ("E-U", "E-U-GBR")], [0.05, 0.05])
        assert mine == pytest.approx(effectiveness_multiplier(p.estimate, p.std_error, p.tau2))
        assert mine != pytest.approx(effectiveness(session).of("police", "build_capacity"))
        _, evidence = stored_hooks(session, planner)
        facts = ProgramFacts("P-1", "T", "State", "INCLE", "GHA", "build_capacity", None, "police")
        assert evidence(facts) == pytest.approx(mine)


def test_writes_refuse_a_marking_above_the_writers_ceiling(world: Any) -> None:
    api, _, ids = world
    writer = api.login("planner-sbu", "planner", "State/INL")
    set_clearance(api.store, "planner-sbu", "SBU", None)
    body = completed(title="New one", marking="CUI")
    r = api.client.post("/api/evaluations", json=body, headers=writer)
    assert r.status_code == 422, r.text
    assert [d["loc"] for d in r.json()["error"]["details"]] == [["body", "marking"]]
    r = api.client.post(
        "/api/evaluations",
        json={**body, "marking": "SECRET", "releasable_to": ["Atlantis"]},
        headers=writer,
    )
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["error"]["details"]]
    assert locs == [["body", "marking"], ["body", "releasable_to", 0]]
    r = api.client.post(
        "/api/evaluations",
        json={**body, "marking": "SBU", "releasable_to": ["gbr"]},
        headers=writer,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["marking"], created["releasable_to"]) == ("SBU", ["GBR"])
    # A CUI evaluation is not there for this writer.
    cui = ids["E-CUI-NATO"]
    r = api.client.patch(f"/api/evaluations/{cui}", json={"version": 1}, headers=writer)
    assert r.status_code == 404
    assert api.client.delete(f"/api/evaluations/{cui}", headers=writer).status_code == 404
    # Changing the marking alone is a new version, audited; other fields stay.
    r = api.client.patch(
        f"/api/evaluations/{created['id']}",
        json={"version": 1, "releasable_to": []},
        headers=writer,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["marking"], r.json()["releasable_to"]) == (2, "SBU", [])
    history = api.client.get(f"/api/evaluations/{created['id']}/history", headers=writer).json()
    change = history["items"][0]
    assert change["before"]["releasable_to"] == ["GBR"] and change["after"]["releasable_to"] == []


def test_pages_show_the_marking_and_only_what_the_reader_may_see(api: Api) -> None:
    ids = build_world(api.store)
    readers(api)
    client = TestClient(create_app(api.store))
    web_login(client, "reader-u", PASSWORD)
    registry = client.get("/evaluations").text
    assert ">E-U-GBR</a>" in registry and ">E-SBU</a>" not in registry
    assert "2 evaluation(s) matching the filter are withheld from you" in registry
    assert client.get(f"/evaluations/{ids['E-SBU']}").status_code == 404
    page = client.get(f"/evaluations/{ids['E-U-GBR']}").text
    assert "UNCLASSIFIED" in page and 'title="GBR">United Kingdom' in page
    evidence = client.get("/evaluations/evidence").text
    assert "2 completed impact evaluation(s) are withheld from you" in evidence
