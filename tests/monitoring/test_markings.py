"""Markings in monitoring: a reader with a marking ceiling or a foreign audience finds a
program they may not see in no timeline, money figure, count or review (404 for its
review, like a missing id), and surge requests carry their own marking (issue 10, item 8;
docs/markings.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ssaplan.core.errors import Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.core.users import get_user, update_user
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import ReserveIn, SurgeCreate
from ssaplan.monitoring.service import MonitoringService
from ssaplan.monitoring.surge import SurgeService
from tests.apibase import Api
from tests.conftest import OPERATOR
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
