"""Markings in monitoring: a reader with a marking ceiling or a foreign audience finds a
program they may not see in no timeline, money figure, count or review (404 for its
review, like a missing id), and surge requests carry their own marking (issue 10, item 8;
docs/markings.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssaplan.app import create_app
from ssaplan.core.errors import Conflict, Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import ReserveIn, SurgeCreate, SurgeDecision
from ssaplan.monitoring.service import MonitoringService
from ssaplan.monitoring.surge import SurgeService
from ssaplan.portfolio.models import Program
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.factories import set_clearance
from tests.strategy.world import ADMIN, AS_OF, add_program, add_strategy

# id -> (marking, releasable_to, planned FY2026 dollars, obligated)
WORLD: dict[str, tuple[str, list[str], int]] = {
    "P-U": ("U", [], 1_000),
    "P-CUI": ("CUI", [], 10_000),
    "P-NATO": ("SBU", ["NATO"], 100_000),
}
READERS = {
    "usg": Actor("usg", "admin"),
    "ceiling-u": Actor("ceiling-u", "admin", ceiling="U"),
    "gbr": Actor("gbr", "admin", audience="GBR"),  # NATO reaches the United Kingdom
}
SEEN = {
    "usg": {"P-U", "P-CUI", "P-NATO"},
    "ceiling-u": {"P-U"},
    "gbr": {"P-U", "P-NATO"},
}


def planned(ids: set[str]) -> int:
    return sum(WORLD[i][2] for i in ids)


def build(store: Store) -> None:
    requested = AS_OF - timedelta(days=400)
    with store.transaction() as session:
        for pid, (marking, rel, amount) in WORLD.items():
            add_program(
                session,
                id=pid,
                title=f"Program [{pid}]",
                marking=marking,
                releasable_to=rel,
                budget=[{"fiscal_year": 2026, "planned": amount, "obligated": amount // 10}],
                # one late delivery each: pending far past its standard
                milestones=[{"name": f"Radios {pid}", "requested_on": requested.isoformat()}],
            )
        review = ReviewService(session, ADMIN, as_of=AS_OF)
        for pid in WORLD:
            review.open_review(pid, "manual", [f"look at {pid}"], recommendation="continue")


@pytest.fixture
def world(store: Store) -> Store:
    build(store)
    return store


def test_timelines_money_and_counts_cover_only_what_each_reader_may_see(world: Store) -> None:
    for name, actor in READERS.items():
        seen = SEEN[name]
        with world.session() as session:
            m = MonitoringService(session, actor, as_of=AS_OF)
            money = m.money()
            timelines = m.timelines()
            summary = m.summary()
        # Every dollar in the money pace is a visible program's, to the dollar.
        assert money.total.planned == planned(seen), name
        assert money.total.obligated == planned(seen) // 10, name
        assert sum(g.planned for g in money.by_account) == planned(seen), name
        assert timelines.deliveries == len(seen), name
        assert {g.key for g in timelines.by_program} == seen, name
        assert {x.program for x in timelines.late} == seen, name
        assert summary.money.total.planned == planned(seen), name
        assert summary.open_reviews == len(seen), name


def test_a_hidden_programs_timeline_is_unknown(world: Store) -> None:
    with world.session() as session:
        with pytest.raises(NotFound) as hidden:
            MonitoringService(session, READERS["ceiling-u"], as_of=AS_OF).timelines(program="P-CUI")
        with pytest.raises(NotFound) as missing:
            MonitoringService(session, READERS["ceiling-u"], as_of=AS_OF).timelines(
                program="P-NONE"
            )
        assert (
            MonitoringService(session, READERS["gbr"], as_of=AS_OF)
            .timelines(program="P-NATO")
            .deliveries
            == 1
        )
    assert hidden.value.message == missing.value.message.replace("P-NONE", "P-CUI")


def test_reviews_of_hidden_programs_are_in_no_list_and_404(world: Store) -> None:
    with world.session() as session:
        every = ReviewService(session, ADMIN, as_of=AS_OF).list_reviews()
        ids = {r.program: r.id for r in every.items}
        for name, actor in READERS.items():
            svc = ReviewService(session, actor, as_of=AS_OF)
            page = svc.list_reviews()
            assert {r.program for r in page.items} == SEEN[name], name
            assert page.total == len(SEEN[name]), name
            assert {r.program for r in svc.queue().reviews} == SEEN[name], name
            for pid, rid in ids.items():
                if pid in SEEN[name]:
                    assert svc.get(rid).program == pid
                    continue
                with pytest.raises(NotFound) as err:
                    svc.get(rid)
                assert err.value.message == f"no review {rid}"
                with pytest.raises(NotFound):
                    svc.find_open(pid)
                with pytest.raises(NotFound):
                    svc.open_review(pid, "manual", ["why"])


def test_a_run_reviews_every_program_and_reports_only_the_visible(world: Store) -> None:
    with world.transaction() as session:
        report = ReviewService(session, READERS["ceiling-u"], as_of=AS_OF).open_annual_cycle(2027)
    assert report.programs_checked == 1
    assert {r.program for r in report.reviews} == {"P-U"}
    with world.session() as session:
        # The hidden programs got their annual review all the same (a review is owed).
        annual = ReviewService(session, ADMIN, as_of=AS_OF).list_reviews(trigger="annual")
    assert {r.program for r in annual.items} == set(WORLD)
    with world.transaction() as session:
        again = ReviewService(session, READERS["gbr"], as_of=AS_OF).open_annual_cycle(2027)
    assert (again.programs_checked, again.opened, again.already_open) == (2, 0, 2)


def test_a_review_of_a_hidden_program_is_404_over_the_api(api: Api) -> None:
    build(api.store)
    headers = api.login("liaison", "admin")
    with api.store.transaction() as session:
        user = get_user(session, "liaison")
        update_user(session, OPERATOR, "liaison", version=user.version, audience="GBR")
    with api.store.session() as session:
        ids = {
            r.program: r.id for r in ReviewService(session, ADMIN, as_of=AS_OF).list_reviews().items
        }
    hidden = api.client.get(f"/api/reviews/{ids['P-CUI']}", headers=headers)
    missing = api.client.get("/api/reviews/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"] == f"no review {ids['P-CUI']}"
    assert api.client.get(f"/api/reviews/{ids['P-NATO']}", headers=headers).status_code == 200
    listed = api.client.get("/api/reviews", headers=headers).json()
    assert {r["program"] for r in listed["items"]} == {"P-U", "P-NATO"}
    money = api.client.get("/api/monitoring/money", headers=headers).json()
    assert money["total"]["planned"] == planned({"P-U", "P-NATO"})


# -- surge requests ----------------------------------------------------------------------
def _surge_world(store: Store) -> tuple[int, int]:
    with store.transaction() as session:
        add_program(session, id="P-GHA")
        s = add_strategy(session, ["P-GHA"])
        SurgeService(session, ADMIN).set_reserve("INCLE", 2027, ReserveIn(amount=10_000_000))
    o = s.objectives[0]
    assert o.sustainment is not None
    return o.id, o.sustainment.id


def _request(objective: int, plan: int, **kw: Any) -> SurgeCreate:
    return SurgeCreate.model_validate(
        {
            "title": "Emergency border support",
            "justification": "armed groups crossing the northern border",
            "country": "GHA",
            "account": "INCLE",
            "fiscal_year": 2027,
            "amount": 1_000,
            "objective": objective,
            "sustainment_plan": plan,
            "new_program": {
                "title": "Surge: northern border",
                "agency": "State/INL",
                "start": "2026-11-01",
                "end": "2027-09-30",
            },
            **kw,
        }
    )


def test_surge_requests_are_shown_by_their_marking_with_withheld_counts(store: Store) -> None:
    objective, plan = _surge_world(store)
    marks = {"U": ("U", []), "CUI": ("CUI", []), "NATO": ("SBU", ["NATO"])}
    ids = {}
    with store.transaction() as session:
        for key, (marking, rel) in marks.items():
            s = SurgeService(session, ADMIN).request(
                _request(objective, plan, title=f"Surge {key}", marking=marking, releasable_to=rel)
            )
            ids[key] = s.id
            assert (s.marking, s.releasable_to) == (marking, rel)
    seen = {"usg": {"U", "CUI", "NATO"}, "ceiling-u": {"U"}, "gbr": {"U", "NATO"}}
    held = {
        "usg": {"above_ceiling": 0, "not_releasable": 0},
        "ceiling-u": {"above_ceiling": 2, "not_releasable": 0},
        "gbr": {"above_ceiling": 0, "not_releasable": 1},
    }
    with store.session() as session:
        for name, actor in READERS.items():
            svc = SurgeService(session, actor)
            page = svc.list_requests()
            assert {s.title for s in page.items} == {f"Surge {k}" for k in seen[name]}, name
            assert page.total == len(seen[name])
            assert page.withheld.model_dump() == held[name], name
            for key, sid in ids.items():
                if key in seen[name]:
                    assert svc.get(sid).id == sid
                    continue
                with pytest.raises(NotFound) as err:
                    svc.get(sid)
                assert err.value.message == f"no surge request {sid}"


def test_a_surge_marked_above_the_requesters_ceiling_is_refused(store: Store) -> None:
    objective, plan = _surge_world(store)
    with store.transaction() as session, pytest.raises(Invalid) as err:
        SurgeService(session, READERS["ceiling-u"]).request(
            _request(objective, plan, marking="CUI")
        )
    found = {d.loc: d.msg for d in err.value.details}
    assert "above your marking ceiling" in found[("body", "marking")]
    with store.transaction() as session, pytest.raises(Invalid) as err:
        SurgeService(session, ADMIN).request(_request(objective, plan, releasable_to=["XXX"]))
    assert err.value.details[0].loc[:2] == ("body", "releasable_to")


def test_a_surge_over_the_api_is_422_above_the_ceiling_and_404_when_hidden(api: Api) -> None:
    objective, plan = _surge_world(api.store)
    headers = api.login("low", "admin")
    with api.store.transaction() as session:
        user = get_user(session, "low")
        update_user(session, OPERATOR, "low", version=user.version, marking_ceiling="U")
        hidden = SurgeService(session, ADMIN).request(_request(objective, plan, marking="CUI"))
    body = _request(objective, plan, marking="CUI").model_dump(mode="json", exclude_none=True)
    r = api.client.post("/api/surges", json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert any(d["loc"][-1] == "marking" for d in r.json()["error"]["details"])
    assert api.client.get(f"/api/surges/{hidden.id}", headers=headers).status_code == 404
    listed = api.client.get("/api/surges", headers=headers).json()
    assert listed["items"] == [] and listed["withheld"]["above_ceiling"] == 1


# -- a surge serving an objective of a strategy the reader may not see -------------------
HIDDEN_STRATEGY = "GHA-CUI-SURGE"
HIDDEN_OBJECTIVE = "Covert border objective [CUI]"
HIDDEN_PAYER = "Hidden payer [CUI]"


def _hidden_strategy_world(store: Store) -> tuple[int, int, int]:
    """A CUI strategy (not releasable to anyone) whose objective an unmarked surge request
    filed by unrestricted staff serves; the objective, its plan and the request's ids."""
    from tests.strategy.world import strategy_payload

    payload = strategy_payload([])
    payload["objectives"][0]["title"] = HIDDEN_OBJECTIVE
    payload["objectives"][0]["sustainment"]["paid_by"] = HIDDEN_PAYER
    with store.transaction() as session:
        s = add_strategy(
            session,
            [],
            id=HIDDEN_STRATEGY,
            marking="CUI",
            objectives=payload["objectives"],
        )
        SurgeService(session, ADMIN).set_reserve("INCLE", 2027, ReserveIn(amount=10_000_000))
        o = s.objectives[0]
        assert o.sustainment is not None
        surge = SurgeService(session, ADMIN).request(_request(o.id, o.sustainment.id))
    return o.id, o.sustainment.id, surge.id


def _hidden(text: str) -> list[str]:
    return [x for x in (HIDDEN_STRATEGY, HIDDEN_OBJECTIVE, HIDDEN_PAYER) if x in text]


def test_a_surge_shows_no_objective_of_a_strategy_the_reader_may_not_see(store: Store) -> None:
    objective, plan, sid = _hidden_strategy_world(store)
    with store.session() as session:
        every = SurgeService(session, ADMIN).get(sid)
        assert (every.objective, every.strategy, every.objective_title) == (
            objective,
            HIDDEN_STRATEGY,
            HIDDEN_OBJECTIVE,
        )
        assert (every.sustainment_plan, every.paid_after_surge_by) == (plan, HIDDEN_PAYER)
        for name in ("ceiling-u", "gbr"):
            svc = SurgeService(session, READERS[name])
            # The request itself is unmarked: the reader sees it, but not what it serves.
            for shown in (svc.get(sid), svc.list_requests().items[0]):
                assert shown.id == sid
                assert (shown.objective, shown.strategy, shown.objective_title) == (None, "", "")
                assert (shown.sustainment_plan, shown.paid_after_surge_by) == (None, ""), name
                assert _hidden(shown.model_dump_json()) == [], name


def _clear(store: Store, username: str, **clearance: str) -> None:
    set_clearance(store, username, clearance.get("marking_ceiling"), clearance.get("audience"))


def test_a_hidden_strategys_objective_is_in_no_surge_answer_or_page(api: Api) -> None:
    _, _, sid = _hidden_strategy_world(api.store)
    readers = {"low": {"marking_ceiling": "U"}, "liaison": {"audience": "GBR"}}
    for username, clearance in readers.items():
        headers = api.login(username, "admin")
        _clear(api.store, username, **clearance)
        one = api.client.get(f"/api/surges/{sid}", headers=headers)
        listed = api.client.get("/api/surges", headers=headers)
        assert one.status_code == listed.status_code == 200, one.text
        assert one.json()["objective"] is None and one.json()["strategy"] == ""
        assert [s["id"] for s in listed.json()["items"]] == [sid]
        assert _hidden(one.text) == _hidden(listed.text) == [], username
        client = TestClient(create_app(api.store))
        web_login(client, username, PASSWORD)
        page = client.get("/surges")
        assert page.status_code == 200
        assert f'data-surge="{sid}"' in page.text
        assert "an objective you may not see" in page.text
        assert _hidden(page.text) == [], username
    boss = api.login("boss", "admin")
    assert _hidden(api.client.get(f"/api/surges/{sid}", headers=boss).text) == [
        HIDDEN_STRATEGY,
        HIDDEN_OBJECTIVE,
        HIDDEN_PAYER,
    ]


def test_naming_a_hidden_strategys_objective_is_refused_like_a_missing_one(store: Store) -> None:
    objective, plan, _ = _hidden_strategy_world(store)
    missing_objective, missing_plan = 999_999, 999_998

    def refusal(actor: Actor, o: int, p: int) -> tuple[str, list[tuple[Any, str]]]:
        with store.transaction() as session, pytest.raises(Invalid) as err:
            SurgeService(session, actor).request(_request(o, p))
        return err.value.message, [(d.loc, d.msg) for d in err.value.details]

    for name in ("ceiling-u", "gbr"):
        hidden = refusal(READERS[name], objective, plan)
        missing = refusal(READERS[name], missing_objective, missing_plan)
        assert hidden[1] == [
            (("body", "objective"), f"no strategy objective {objective}"),
            (("body", "sustainment_plan"), f"no sustainment plan {plan}"),
        ], name
        assert missing[1] == [
            (("body", "objective"), f"no strategy objective {missing_objective}"),
            (("body", "sustainment_plan"), f"no sustainment plan {missing_plan}"),
        ], name
        assert hidden[0] == missing[0].replace(str(missing_objective), str(objective))


def test_naming_a_hidden_strategys_objective_over_the_api_is_the_missing_ids_422(
    api: Api,
) -> None:
    objective, plan, _ = _hidden_strategy_world(api.store)
    headers = api.login("low", "admin")
    _clear(api.store, "low", marking_ceiling="U")

    def answer(o: int, p: int) -> Any:
        body = _request(o, p).model_dump(mode="json", exclude_none=True)
        r = api.client.post("/api/surges", json=body, headers=headers)
        assert r.status_code == 422, r.text
        return r.json()["error"]

    hidden, missing = answer(objective, plan), answer(999_999, 999_998)
    assert hidden["details"] == [
        {"loc": ["body", "objective"], "msg": f"no strategy objective {objective}"},
        {"loc": ["body", "sustainment_plan"], "msg": f"no sustainment plan {plan}"},
    ]
    assert [d["loc"] for d in missing["details"]] == [d["loc"] for d in hidden["details"]]
    assert hidden["code"] == missing["code"]
    assert hidden["message"] == missing["message"].replace("999999", str(objective))
    assert _hidden(str(hidden)) == []


def _programs(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Program)).scalar_one())


def test_approving_a_surge_for_an_objective_the_approver_may_not_see_is_refused(
    store: Store,
) -> None:
    _, _, sid = _hidden_strategy_world(store)
    with store.session() as session:
        programs = _programs(session)
    for name in ("ceiling-u", "gbr"):
        with store.transaction() as session, pytest.raises(Conflict) as err:
            SurgeService(session, READERS[name]).approve(sid, SurgeDecision(version=1))
        assert "objective you may not see" in err.value.message
        assert _hidden(err.value.one_line()) == [], name
    with store.session() as session:
        assert _programs(session) == programs  # nothing created
        assert SurgeService(session, ADMIN).reserves()[0].drawn == 0
        assert SurgeService(session, ADMIN).get(sid).status == "requested"
    # Someone who may see the objective approves it.
    with store.transaction() as session:
        done = SurgeService(session, ADMIN).approve(sid, SurgeDecision(version=1))
    assert done.status == "approved"


def test_approving_a_surge_for_a_program_the_approver_may_not_see_is_refused(
    store: Store,
) -> None:
    objective, plan = _surge_world(store)
    with store.transaction() as session:
        add_program(session, id="P-GHA-CUI", marking="CUI")
        sid = (
            SurgeService(session, ADMIN)
            .request(_request(objective, plan, program="P-GHA-CUI", new_program=None))
            .id
        )
    with store.transaction() as session, pytest.raises(Conflict) as err:
        SurgeService(session, READERS["ceiling-u"]).approve(sid, SurgeDecision(version=1))
    assert "program you may not see" in err.value.message
    assert "P-GHA-CUI" not in err.value.one_line()
