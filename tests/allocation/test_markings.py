"""Markings in allocation: a scenario built from the portfolio holds only the programs
the requesting user may see; a hidden program is no candidate and its dollars are in no
account mark (issue 10, item 8; docs/markings.md)."""

from __future__ import annotations

from ssaplan.allocation.portfolio import build_from_portfolio
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import Audience, audience_of
from ssaplan.reference.catalog import get_catalog
from tests.apibase import Api
from tests.conftest import OPERATOR
from tests.factories import program

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
