"""Markings on strategies (issue 10, item 8): each reader lists, reads and writes only the
strategies they may see; a strategy's objectives, indicators, sustainment plans,
commitments and measurements are hidden with it (404, the answer for a missing id);
lists say how many they withheld; a write above the writer's ceiling is refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ssaplan.app import create_app
from ssaplan.core import audit
from ssaplan.core.store import Store
from ssaplan.portfolio.visibility import audience_named
from ssaplan.reference.catalog import get_catalog
from ssaplan.strategy.service import StrategyService
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.factories import set_clearance
from tests.strategy.world import add_program, add_strategy, measure

# strategy id -> (marking, releasable_to)
WORLD: dict[str, tuple[str, list[str]]] = {
    "GHA-U": ("U", []),
    "GHA-SBU": ("SBU", []),
    "GHA-CUI-NATO": ("CUI", ["NATO"]),
    "GHA-U-GBR": ("U", ["GBR"]),
}
ALL = set(WORLD)
SEEN = {
    "usg": ALL,
    "u": {"GHA-U", "GHA-U-GBR"},
    "gbr": {"GHA-U", "GHA-CUI-NATO", "GHA-U-GBR"},  # REL TO NATO reaches the UK
    "public": {"GHA-U"},
}
WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "u": {"above_ceiling": 2, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 1},
    "public": {"above_ceiling": 0, "not_releasable": 3},
}
CLEARANCE = {"usg": (None, None), "u": ("U", None), "gbr": (None, "GBR")}


def build_world(store: Store) -> dict[str, dict[str, int]]:
    """The four strategies, each serving P-1, with one measurement; their children's ids."""
    out: dict[str, dict[str, int]] = {}
    with store.transaction() as session:
        add_program(session, id="P-1", countries=["GHA"])
        for code, (marking, rel) in WORLD.items():
            s = add_strategy(
                session,
                ["P-1"],
                id=code,
                title=f"Strategy [{code}]",
                marking=marking,
                releasable_to=rel,
            )
            o = s.objectives[0]
            assert o.sustainment is not None
            out[code] = {
                "objective": o.id,
                "indicator": o.indicators[0].id,
                "plan": o.sustainment.id,
                "commitment": s.commitments[0].id,
            }
            measure(session, o.indicators[0].id, {"FY2026": 55.0})
    with store.session() as session:
        from ssaplan.strategy.models import Measurement

        for ids in out.values():
            ids["measurement"] = session.execute(
                select(Measurement.id).where(Measurement.indicator_id == ids["indicator"])
            ).scalar_one()
    return out


def readers(api: Api) -> dict[str, dict[str, str]]:
    out = {}
    for name, (ceiling, audience) in CLEARANCE.items():
        headers = api.login(f"reader-{name}", "viewer")
        if ceiling or audience:
            set_clearance(api.store, f"reader-{name}", ceiling, audience)
        out[name] = headers
    return out


clear = set_clearance


@pytest.fixture
def world(api: Api) -> tuple[Api, dict[str, dict[str, str]], dict[str, dict[str, int]]]:
    ids = build_world(api.store)
    return api, readers(api), ids


def test_each_reader_lists_exactly_their_strategies_and_what_was_withheld(world: Any) -> None:
    api, heads, _ = world
    for name, headers in heads.items():
        for query in ("", "?country=GHA", "?status=active"):
            r = api.client.get(f"/api/strategies{query}", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert {s["id"] for s in body["items"]} == SEEN[name], (name, query)
            assert body["total"] == len(SEEN[name])
            assert body["withheld"] == WITHHELD[name], (name, query)
        marks = {s["id"]: (s["marking"], s["releasable_to"]) for s in body["items"]}
        assert marks == {k: WORLD[k] for k in SEEN[name]}


def test_the_public_audience_sees_unmarked_strategies_without_a_list(store: Store) -> None:
    build_world(store)
    catalog = get_catalog()
    public = audience_named("public", OPERATOR, catalog)
    with store.session() as session:
        service = StrategyService(session, OPERATOR, audience=public)
        page = service.list_strategies(limit=None)
        assert {s.id for s in page.items} == SEEN["public"]
        assert page.withheld.model_dump() == WITHHELD["public"]
        # The indicator series (monitoring's source) carries the same strategies only.
        assert {x.strategy for x in service.indicator_series()} == SEEN["public"]
        assert set(service.programs_by_objective()) == {
            o.id for o in service.get("GHA-U").objectives
        }


def test_a_hidden_strategy_and_every_child_are_404_like_a_missing_id(world: Any) -> None:
    api, heads, ids = world
    urls = {
        "objective": "/api/strategy-objectives/{}",
        "indicator": "/api/strategy-indicators/{}",
        "plan": "/api/sustainment-plans/{}",
        "commitment": "/api/partner-commitments/{}",
        "measurement": "/api/measurements/{}",
    }
    for name, headers in heads.items():
        for code in ALL:
            expected = 200 if code in SEEN[name] else 404
            r = api.client.get(f"/api/strategies/{code}", headers=headers)
            assert r.status_code == expected, (name, code)
            for part, url in urls.items():
                r = api.client.get(url.format(ids[code][part]), headers=headers)
                assert r.status_code == expected, (name, code, part)
            r = api.client.get(f"/api/measurements?strategy={code}", headers=headers)
            assert r.json()["total"] == (1 if code in SEEN[name] else 0), (name, code)
        # Lists of children: only those of strategies the reader may see.
        objectives = api.client.get("/api/strategy-objectives?program=P-1", headers=headers)
        assert {o["strategy"] for o in objectives.json()["items"]} == SEEN[name], name
        measurements = api.client.get("/api/measurements", headers=headers).json()
        assert {m["strategy"] for m in measurements["items"]} == SEEN[name], name
        performance = api.client.get("/api/monitoring/performance", headers=headers).json()
        assert {i["strategy"] for i in performance["items"]} == SEEN[name], name
    hidden = api.client.get("/api/strategies/GHA-SBU", headers=heads["u"]).json()
    missing = api.client.get("/api/strategies/GHA-NONE", headers=heads["u"]).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "not_found"
    assert "SBU strategy" not in hidden["error"]["message"]
    objective = ids["GHA-SBU"]["objective"]
    hidden = api.client.get(f"/api/strategy-objectives/{objective}", headers=heads["u"]).json()
    assert hidden["error"]["message"] == f"no strategy objective {objective}"


def test_writes_to_a_hidden_strategy_are_404_and_markings_are_checked(world: Any) -> None:
    api, _, ids = world
    writer = api.login("planner-u", "planner", "State/INL")
    clear(api.store, "planner-u", "SBU", None)
    # Above the writer's own ceiling: refused, naming the field.
    from tests.strategy.world import strategy_payload

    body = strategy_payload([], id="GHA-NEW", marking="CUI")
    r = api.client.post("/api/strategies", json=body, headers=writer)
    assert r.status_code == 422, r.text
    assert [d["loc"] for d in r.json()["error"]["details"]] == [["body", "marking"]]
    bad = {**body, "marking": "TOP SECRET", "releasable_to": ["GBR", "Atlantis"]}
    r = api.client.post("/api/strategies", json=bad, headers=writer)
    assert r.status_code == 422
    locs = [d["loc"] for d in r.json()["error"]["details"]]
    assert locs == [["body", "marking"], ["body", "releasable_to", 1]]
    too_many = {**body, "marking": "U", "releasable_to": ["GBR"] * 41}
    assert api.client.post("/api/strategies", json=too_many, headers=writer).status_code == 422
    # Within it: stored by code (names work), listed back.
    ok = {**body, "marking": "sensitive but unclassified", "releasable_to": ["nato", "GBR"]}
    r = api.client.post("/api/strategies", json=ok, headers=writer)
    assert r.status_code == 201, r.text
    assert (r.json()["marking"], r.json()["releasable_to"]) == ("SBU", ["GBR", "NATO"])
    # A CUI strategy is not there for this writer: every write to it and its parts is 404.
    cui = ids["GHA-CUI-NATO"]
    for method, url, payload in (
        ("PATCH", "/api/strategies/GHA-CUI-NATO", {"version": 1, "title": "x"}),
        ("DELETE", "/api/strategies/GHA-CUI-NATO", None),
        ("PATCH", f"/api/strategy-objectives/{cui['objective']}", {"version": 1, "title": "x"}),
        ("DELETE", f"/api/strategy-indicators/{cui['indicator']}", None),
        ("PATCH", f"/api/sustainment-plans/{cui['plan']}", {"version": 1, "paid_by": "x"}),
        ("DELETE", f"/api/partner-commitments/{cui['commitment']}", None),
        ("DELETE", f"/api/measurements/{cui['measurement']}", None),
    ):
        r = api.client.request(method, url, json=payload, headers=writer)
        assert r.status_code == 404, (method, url, r.text)
    m = {"indicator": cui["indicator"], "period": "FY2027", "value": 1, "quality": "A"}
    r = api.client.post("/api/measurements", json={**m, "confidence": "high"}, headers=writer)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["msg"] == f"no indicator {cui['indicator']}"
    # Changing the marking is a new version with an audit record, like any field.
    r = api.client.patch(
        "/api/strategies/GHA-NEW", json={"version": 1, "marking": "U"}, headers=writer
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["releasable_to"] == ["GBR", "NATO"]  # not given: kept
    with api.store.session() as session:
        record = audit.history(session, "strategy", "GHA-NEW")[0]
        assert (record.before["marking"], record.after["marking"]) == ("SBU", "U")
        assert record.after["releasable_to"] == ["GBR", "NATO"]


def test_hidden_programs_are_neither_named_nor_counted(api: Api) -> None:
    with api.store.transaction() as session:
        add_program(session, id="P-OPEN", countries=["GHA"])
        add_program(session, id="P-CUI", countries=["GHA"], marking="CUI")
        add_strategy(session, ["P-OPEN", "P-CUI"], id="GHA-MIX")
    u = api.login("reader-u", "viewer")
    clear(api.store, "reader-u", "U", None)
    everyone = api.client.get("/api/strategies/GHA-MIX", headers=api.login("boss", "admin"))
    mine = api.client.get("/api/strategies/GHA-MIX", headers=u).json()
    assert everyone.json()["objectives"][0]["programs"] == ["P-CUI", "P-OPEN"]
    assert mine["objectives"][0]["programs"] == ["P-OPEN"]
    assert mine["programs"] == 1
    # Each program's share is the same, so the reader's funding is exactly half.
    total = sum(f["planned"] for f in everyone.json()["funding"])
    assert sum(f["planned"] for f in mine["funding"]) * 2 == total
    listed = api.client.get("/api/strategies", headers=u).json()["items"]
    assert [s["programs"] for s in listed] == [1]
    r = api.client.get("/api/strategy-objectives?program=P-CUI", headers=u)
    assert r.status_code == 404


def test_pages_show_the_marking_and_only_what_the_reader_may_see(api: Api) -> None:
    build_world(api.store)
    readers(api)
    client = TestClient(create_app(api.store))
    web_login(client, "reader-u", PASSWORD)
    page = client.get("/strategies")
    assert page.status_code == 200
    assert "Strategy [GHA-U-GBR]" in page.text and "Strategy [GHA-SBU]" not in page.text
    assert "2 strategies matching the filter are withheld from you" in page.text
    assert client.get("/strategies/GHA-SBU").status_code == 404
    one = client.get("/strategies/GHA-U-GBR").text
    assert "UNCLASSIFIED" in one and 'title="GBR">United Kingdom' in one


def test_a_hidden_strategys_id_is_refused_exactly_as_a_visible_taken_one(world: Any) -> None:
    """The id namespace is shared across markings, so a hidden strategy's id cannot be
    reused; the refusal says only that the id is not available: the same status and
    words as for a strategy the writer sees, nothing of the hidden one."""
    api, _, _ = world
    writer = api.login("planner-u", "planner", "State/INL")
    clear(api.store, "planner-u", "U", None)
    from tests.strategy.world import strategy_payload

    def create(code: str) -> tuple[int, Any]:
        r = api.client.post("/api/strategies", json=strategy_payload([], id=code), headers=writer)
        return r.status_code, r.json()

    def rename(code: str) -> tuple[int, Any]:
        r = api.client.patch(
            "/api/strategies/GHA-MINE", json={"version": 1, "id": code}, headers=writer
        )
        return r.status_code, r.json()

    assert create("GHA-MINE")[0] == 201
    # GHA-SBU is above the writer's ceiling; GHA-U they see.
    assert api.client.get("/api/strategies/GHA-SBU", headers=writer).status_code == 404
    for attempt in (create, rename):
        hidden, visible = attempt("GHA-SBU"), attempt("GHA-U")
        assert hidden[0] == visible[0] == 422, (attempt.__name__, hidden)
        assert hidden[1]["error"]["details"] == [
            {
                "loc": ["body", "id"],
                "msg": "strategy id 'GHA-SBU' is not available: choose another id",
            }
        ]
        assert str(hidden[1]).replace("GHA-SBU", "X") == str(visible[1]).replace("GHA-U", "X")
        assert "Strategy [GHA-SBU]" not in str(hidden[1]) and "SBU" not in str(hidden[1]).replace(
            "GHA-SBU", ""
        )
    # Nothing changed: the writer's own strategy keeps its id.
    assert api.client.get("/api/strategies/GHA-MINE", headers=writer).json()["version"] == 1


def test_the_cli_refuses_a_taken_strategy_id_in_the_same_words(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    import json

    from tests.conftest import run_cli
    from tests.strategy.world import strategy_payload

    with store.transaction() as session:
        add_strategy(session, [], id="GHA-TAKEN", marking="CUI")
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps(strategy_payload([], id="GHA-TAKEN")), encoding="utf-8")
    code, _, err = run_cli(capsys, "--db", store.url, "strategies", "add", str(path))
    assert code == 1
    assert "id: strategy id 'GHA-TAKEN' is not available: choose another id" in err
