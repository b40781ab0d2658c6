"""Markings in allocation: a scenario built from the portfolio holds only the programs
the requesting user may see; a hidden program is no candidate and its dollars are in no
account mark (issue 10, item 8; docs/markings.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ssaplan.allocation.engine.solve import AllocationOptimizer
from ssaplan.allocation.models import AllocationScenario
from ssaplan.allocation.portfolio import build_from_portfolio
from ssaplan.allocation.service import AllocationService, parse
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import Audience, audience_of
from ssaplan.reference.catalog import get_catalog
from tests.apibase import Api
from tests.conftest import OPERATOR
from tests.factories import program, set_clearance

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scenario.json"

# id -> (marking, releasable_to, FY2027 planned INCLE dollars)
WORLD = {
    "P-U": ("U", [], 1_000_000),
    "P-CUI": ("CUI", [], 10_000_000),
    "P-NATO": ("SBU", ["NATO"], 100_000_000),
}
READERS = {
    "usg": Actor("usg", "planner", "State"),
    "ceiling-u": Actor("low", "planner", "State", ceiling="U"),
    "gbr": Actor("gbr", "planner", "State", audience="GBR"),
}
SEEN = {"usg": set(WORLD), "ceiling-u": {"P-U"}, "gbr": {"P-U", "P-NATO"}}


def build(store: Store) -> None:
    with store.transaction() as session:
        svc = PortfolioService(session, OPERATOR)
        for pid, (marking, rel, amount) in WORLD.items():
            svc.create(
                program(
                    id=pid,
                    marking=marking,
                    releasable_to=rel,
                    status="approved",
                    budget=[{"fiscal_year": 2027, "planned": amount}],
                )
            )


def test_a_scenario_from_the_portfolio_holds_only_visible_programs(store: Store) -> None:
    build(store)
    catalog = get_catalog()
    with store.session() as session:
        for name, actor in READERS.items():
            built = build_from_portfolio(
                session, catalog, (2027,), audience=audience_of(actor, catalog)
            )
            d = built.scenario
            assert {c["id"] for c in d["candidates"]} == SEEN[name], name
            # The account's mark is the visible programs' planned money, to the dollar.
            assert d["accounts"]["INCLE"]["2027"] == sum(WORLD[p][2] for p in SEEN[name]), name
        every = build_from_portfolio(session, catalog, (2027,), audience=Audience())
    assert {c["id"] for c in every.scenario["candidates"]} == set(WORLD)


def test_the_api_builds_the_scenario_for_the_caller(api: Api) -> None:
    build(api.store)
    headers = api.login("liaison", "planner")
    with api.store.transaction() as session:
        user = get_user(session, "liaison")
        update_user(session, OPERATOR, "liaison", version=user.version, audience="GBR")
    r = api.client.post(
        "/api/allocation/scenarios/from-portfolio",
        json={"fiscal_years": "2027"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    d = r.json()["definition"]
    assert {c["id"] for c in d["candidates"]} == {"P-U", "P-NATO"}
    assert d["accounts"]["INCLE"]["2027"] == 101_000_000


# -- saved scenarios, results and jobs: readable only by those who may see what they sum --
SCENARIOS = "/api/allocation/scenarios"


def _readers(api: Api) -> dict[str, dict[str, str]]:
    """Planners: one without limits, one cleared to U only, one reading for GBR."""
    out = {name: api.login(name, "planner") for name in ("usg", "low", "gbr")}
    set_clearance(api.store, "low", ceiling="U")
    set_clearance(api.store, "gbr", audience="GBR")
    return out


def _typed(candidate_id: str) -> dict[str, Any]:
    d = dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    d["candidates"] = [dict(d["candidates"][0], id=candidate_id)] + d["candidates"][1:]
    d["name"] = f"typed with {candidate_id}"
    return d


def _solve(api: Api, scenario_id: int) -> int:
    """A result of the scenario, saved by the operator (who may read everything)."""
    with api.store.transaction() as session:
        service = AllocationService(session, OPERATOR)
        definition = service.get_scenario(scenario_id)["definition"]
        result = AllocationOptimizer(time_limit=5).solve(parse(definition).problem)
        return service.save_result(scenario_id, result, settings={"time_limit": 5})


def test_a_saved_scenario_is_read_only_by_those_who_may_see_every_program_it_sums(
    api: Api,
) -> None:
    build(api.store)
    h = _readers(api)
    made: dict[str, int] = {}
    for name in ("usg", "low", "gbr"):  # each builds one from their own view
        r = api.client.post(
            f"{SCENARIOS}/from-portfolio",
            json={"fiscal_years": "2027", "name": f"built by {name}"},
            headers=h[name],
        )
        assert r.status_code == 201, r.text
        made[name] = r.json()["id"]
    for cid in ("P-CUI", "NEW-1"):  # typed: naming a stored (CUI) program, or none
        r = api.client.post(SCENARIOS, json={"definition": _typed(cid)}, headers=h["usg"])
        assert r.status_code == 201, r.text
        made[cid] = r.json()["id"]
    r = api.client.post(
        f"{SCENARIOS}/{made['usg']}/whatif",
        json={"budget": [{"account": "INCLE", "percent": -10}]},
        headers=h["usg"],
    )
    assert r.status_code == 201, r.text
    made["whatif"] = r.json()["id"]
    results = {key: _solve(api, sid) for key, sid in made.items() if key != "NEW-1"}

    # usg sees everything; low (U only) sees what was built from U programs and the
    # typed scenario that names no stored program; gbr also what gbr built.
    may_read = {
        "usg": set(made),
        "low": {"low", "NEW-1"},
        "gbr": {"low", "gbr", "NEW-1"},
    }
    for reader, keys in may_read.items():
        listed = api.client.get(SCENARIOS, headers=h[reader]).json()
        assert {s["id"] for s in listed["items"]} == {made[k] for k in keys}, reader
        assert listed["withheld"] == len(made) - len(keys), reader
        for key, sid in made.items():
            r = api.client.get(f"{SCENARIOS}/{sid}", headers=h[reader])
            assert r.status_code == (200 if key in keys else 404), (reader, key)
            if key not in keys:  # the answer of an id that never existed
                assert r.json()["error"]["message"] == f"no allocation scenario {sid}"
        shown = api.client.get("/api/allocation/results", headers=h[reader]).json()
        assert {x["id"] for x in shown["items"]} == {
            rid for k, rid in results.items() if k in keys
        }, reader
        assert shown["withheld"] == len([k for k in results if k not in keys]), reader
        for key, rid in results.items():
            r = api.client.get(f"/api/allocation/results/{rid}", headers=h[reader])
            assert r.status_code == (200 if key in keys else 404), (reader, key)

    # Nothing about a hidden scenario reaches a narrower reader, nor may they change it.
    hidden = made["usg"]
    low = h["low"]
    assert (
        api.client.get(f"/api/allocation/results?scenario_id={hidden}", headers=low).json()["items"]
        == []
    )
    r = api.client.get(
        "/api/allocation/compare",
        params={"before": results["usg"], "after": results["whatif"]},
        headers=low,
    )
    assert r.status_code == 404
    r = api.client.put(
        f"{SCENARIOS}/{hidden}", json={"definition": _typed("X"), "version": 1}, headers=low
    )
    assert r.status_code == 404
    assert api.client.delete(f"{SCENARIOS}/{hidden}", headers=low).status_code == 404
    r = api.client.post(
        f"{SCENARIOS}/{hidden}/whatif",
        json={"budget": [{"account": "INCLE", "percent": -10}]},
        headers=low,
    )
    assert r.status_code == 404
    r = api.client.post(f"{SCENARIOS}/{hidden}/solve", json={"time_limit": 5}, headers=low)
    assert r.status_code == 404
    r = api.client.post(f"{SCENARIOS}/{hidden}/solve", json={"time_limit": 5}, headers=h["usg"])
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    assert api.client.get(f"/api/allocation/jobs/{job}", headers=low).status_code == 404
    # ...and the page says how many are not shown, naming none of them.
    page = api.client.get("/allocation", headers=low)
    assert page.status_code == 200
    assert "4 saved scenarios are not shown" in page.text
    assert "built by usg" not in page.text and "P-CUI" not in page.text


def test_a_scenario_saved_before_the_audience_was_recorded_is_hidden_from_narrow_readers(
    api: Api,
) -> None:
    build(api.store)
    h = _readers(api)
    r = api.client.post(
        f"{SCENARIOS}/from-portfolio", json={"fiscal_years": "2027"}, headers=h["low"]
    )
    sid = r.json()["id"]
    with api.store.transaction() as session:  # as migration 0020 leaves an older one
        session.get(AllocationScenario, sid).computed_for = None  # type: ignore[union-attr]
    assert api.client.get(f"{SCENARIOS}/{sid}", headers=h["usg"]).status_code == 200
    assert api.client.get(f"{SCENARIOS}/{sid}", headers=h["low"]).status_code == 404
