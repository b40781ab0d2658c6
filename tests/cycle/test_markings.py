"""Markings on cycle proposals (issue 10, item 8; docs/markings.md): each reader lists,
reads, counts and moves only the proposals they may see; a hidden proposal is 404 with
the answer for a code that never existed, for reads and for every step; lists say how
many they withheld (counts, never which); a marking above the writer's ceiling is 422."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ssaplan.app import create_app
from ssaplan.core.errors import NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, migrate
from ssaplan.cycle.analytics import CycleAnalytics
from ssaplan.cycle.schemas import ProposalUpdate
from ssaplan.cycle.service import CycleService
from ssaplan.reference.catalog import get_catalog
from tests.conftest import OPERATOR, PASSWORD, run_cli, web_login
from tests.cycle.conftest import (
    COM_KEN,
    COORDINATOR,
    DOD_PLANNER,
    DOD_REVIEWER,
    DOJ_REVIEWER,
    LEGAL,
    STATE_REVIEWER,
    actor,
    at,
    create,
    db_user,
    proposal_data,
    step,
)
from tests.factories import set_clearance

# code -> (marking, releasable_to, dollars a year requested for FY2027)
WORLD: dict[str, tuple[str, list[str], int]] = {
    "FY2027-DoD-0001": ("U", [], 1_000_000),
    "FY2027-DoD-0002": ("CUI", [], 20_000_000),
    "FY2027-DoD-0003": ("SBU", ["NATO"], 300_000_000),
}
U, CUI, NATO = WORLD
ALL = set(WORLD)
SEEN = {
    "usg": ALL,
    "u": {U},
    "gbr": {U, NATO},  # REL TO NATO reaches the United Kingdom
}
WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "u": {"above_ceiling": 2, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 1},
}
CLEARANCE: dict[str, tuple[str | None, str | None]] = {
    "usg": (None, None),
    "u": ("U", None),
    "gbr": (None, "GBR"),
}
# Coordinators (they may approve and see every review in their inbox), cleared as above.
READERS = {
    name: replace(COORDINATOR, username=f"coord-{name}", ceiling=ceiling, audience=audience)
    for name, (ceiling, audience) in CLEARANCE.items()
}
REVIEWERS = {
    ("agency", "State"): STATE_REVIEWER,
    ("agency", "DoD"): DOD_REVIEWER,
    ("agency", "DOJ"): DOJ_REVIEWER,
    ("agency", "State/F"): actor("f-reviewer", "reviewer", "State/F"),
    ("chief_of_mission", "KEN"): COM_KEN,
    ("legal", "legal"): LEGAL,
}


def title(code: str) -> str:
    return f"Proposal [{WORLD[code][0]} {code}]"


def concur_all(store: Store, code: str, when: float) -> None:
    """Every reviewer the proposal waits on concurs."""
    with store.session() as session:
        service = CycleService(session, OPERATOR)
        asked = [(c.reviewer_kind, c.reviewer) for c in service.pending(service.load(code))]
    for who in asked:
        step(store, REVIEWERS[who], when, "concur", code, "concur")


def build(store: Store) -> None:
    """The FY2027 calendar and three DoD proposals for Kenya, one per marking, each
    submitted with every concurrence in (waiting on the coordinator to approve)."""
    step(store, COORDINATOR, 0, "open_calendar", 2027)
    for n, (code, (marking, rel, annual)) in enumerate(WORLD.items()):
        made = create(
            store,
            DOD_PLANNER,
            n,
            title=title(code),
            marking=marking,
            releasable_to=rel,
            levels=[{"annual": annual}],
            fiscal_years=[2027],
        )
        assert made == code
        step(store, DOD_PLANNER, n + 1, "submit", code)
        concur_all(store, code, n + 2)
        step(store, COMMENTER, n + 3, "comment", code, f"a question on {code}")


COMMENTER = replace(STATE_REVIEWER, username="state-commenter")


clear = set_clearance


def db_readers(store: Store) -> None:
    """Coordinators in the database (for the API, the pages and the CLI), cleared."""
    for name, (ceiling, audience) in CLEARANCE.items():
        db_user(store, f"coord-{name}", "coordinator", "State/F")
        if ceiling or audience:
            clear(store, f"coord-{name}", ceiling, audience)


@pytest.fixture
def world(store: Store) -> Store:
    build(store)
    db_readers(store)
    return store


def token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# -- lists and reads ---------------------------------------------------------------------
def test_each_reader_lists_exactly_their_proposals_and_what_was_withheld(world: Store) -> None:
    client = TestClient(create_app(world))
    for name in CLEARANCE:
        headers = token(client, f"coord-{name}")
        for query in ("", "?fiscal_year=2027", "?stage=in_review"):
            r = client.get(f"/api/proposals{query}", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert {p["id"] for p in body["proposals"]} == SEEN[name], (name, query)
            assert body["withheld"] == WITHHELD[name], (name, query)
        marks = {p["id"]: (p["marking"], p["releasable_to"]) for p in body["proposals"]}
        assert marks == {c: WORLD[c][:2] for c in SEEN[name]}
        # A filter that matches nothing withholds nothing.
        r = client.get("/api/proposals?stage=obligated", headers=headers).json()
        assert r == {"proposals": [], "withheld": {"above_ceiling": 0, "not_releasable": 0}}


def test_a_hidden_proposal_is_404_like_a_missing_code_for_every_read(world: Store) -> None:
    client = TestClient(create_app(world))
    for name in CLEARANCE:
        headers = token(client, f"coord-{name}")
        for code in ALL:
            expected = 200 if code in SEEN[name] else 404
            for url in (f"/api/proposals/{code}", f"/api/proposals/{code}/history"):
                assert client.get(url, headers=headers).status_code == expected, (name, url)
        for code in SEEN[name]:
            p = client.get(f"/api/proposals/{code}", headers=headers).json()
            assert (p["marking"], p["releasable_to"]) == WORLD[code][:2]
    headers = token(client, "coord-u")
    hidden = client.get(f"/api/proposals/{CUI}", headers=headers).json()
    missing = client.get("/api/proposals/FY2027-DoD-0999", headers=headers).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "not_found"
    assert hidden["error"]["message"] == f"no proposal {CUI!r}"
    assert missing["error"]["message"] == "no proposal 'FY2027-DoD-0999'"


def test_pipeline_inbox_and_candidates_count_only_what_each_reader_may_see(
    world: Store,
) -> None:
    for name, reader in READERS.items():
        seen = SEEN[name]
        with world.session() as session:
            service = CycleService(session, reader, now=at(10))
            analytics = CycleAnalytics(service)
            pipe = analytics.pipeline(fiscal_year=2027, by=("agency",), with_trend=True)
            box = analytics.inbox()
        stays = {s.stage: s.n for s in pipe.stages}
        # Each proposal stayed once in draft and in submitted, and is in review now.
        assert stays["draft"] == stays["submitted"] == stays["in_review"] == len(seen), name
        assert {w.id for w in pipe.waiting_longest} == seen, name
        assert pipe.by is not None
        assert [g.group for g in pipe.by["agency"]] == ["DoD"]
        assert sum(s.n for s in pipe.by["agency"][0].stages if s.stage == "draft") == len(seen)
        assert pipe.trend is not None
        assert [(t.fiscal_year, t.proposals) for t in pipe.trend] == [(2027, len(seen))], name
        assert pipe.withheld.model_dump() == WITHHELD[name], name
        # Every concurrence is in: each visible proposal waits on the coordinator's review.
        assert {(i.kind, i.ref) for i in box.items} == {("review", c) for c in seen}, name
    # Approved, they are the allocation's candidates: each reader's money is theirs only.
    for n, code in enumerate(sorted(ALL)):
        step(world, COORDINATOR, 20 + n, "approve", code)
    for name, reader in READERS.items():
        with world.session() as session:
            found = CycleService(session, reader, now=at(30)).candidates(2027)
        assert {c.id for c in found.candidates} == SEEN[name], name
        dollars = sum(lv.annual for c in found.candidates for lv in c.levels)
        assert dollars == sum(WORLD[c][2] for c in SEEN[name]), name
        assert found.withheld.model_dump() == WITHHELD[name], name


def test_the_proposer_inbox_leaves_out_comments_on_proposals_they_may_no_longer_see(
    world: Store,
) -> None:
    planner = replace(DOD_PLANNER, ceiling="U")
    with world.session() as session:
        unlimited = CycleAnalytics(CycleService(session, DOD_PLANNER, now=at(10))).inbox()
        limited = CycleAnalytics(CycleService(session, planner, now=at(10))).inbox()
    assert {i.ref for i in unlimited.items if i.kind == "comment"} == ALL
    assert {i.ref for i in limited.items if i.kind == "comment"} == {U}


def test_pages_show_each_reader_their_proposals_banners_and_what_was_withheld(
    world: Store,
) -> None:
    for name in CLEARANCE:
        client = TestClient(create_app(world))
        web_login(client, f"coord-{name}", PASSWORD)
        page = client.get("/cycle")
        assert page.status_code == 200
        for code in ALL:
            assert (title(code) in page.text) == (code in SEEN[name]), (name, code)
        held = sum(WITHHELD[name].values())
        assert (f"{held} proposal(s) withheld from you" in page.text) == bool(held), name
        assert 'href="/cycle?fy=2027&amp;stage=in_review"' in page.text
        kpi = page.text.split("stage=in_review")[1].split("</a>")[0]
        assert f'<span class="value">{len(SEEN[name])}</span>' in kpi, name
        for code in ALL:
            r = client.get(f"/proposals/{code}")
            assert r.status_code == (200 if code in SEEN[name] else 404), (name, code)
            assert title(code) not in r.text or code in SEEN[name]
        for url in ("/cycle/pipeline", "/inbox"):
            r = client.get(url)
            assert r.status_code == 200
            for code in ALL - SEEN[name]:
                assert code not in r.text, (name, url, code)
    client = TestClient(create_app(world))
    web_login(client, "coord-gbr", PASSWORD)
    nato = client.get(f"/proposals/{NATO}").text
    banner = nato.split('id="marking"')[1].split("</div>")[0]
    assert "SENSITIVE BUT UNCLASSIFIED" in banner
    assert "REL TO" in banner and "North Atlantic Treaty Organization" in banner
    assert 'title="NATO"' in banner  # the code as secondary text
    plain = client.get(f"/proposals/{U}").text
    assert "UNCLASSIFIED" in plain.split('id="marking"')[1].split("</div>")[0]


def test_the_command_line_reads_as_the_user_it_names(
    world: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    db = world.engine.url.render_as_string(hide_password=False)
    for name in CLEARANCE:
        user = f"coord-{name}"
        code, out, err = run_cli(capsys, "--db", db, "proposals", "list", "--as", user, "--json")
        assert code == 0, err
        body = json.loads(out)
        assert {p["id"] for p in body["proposals"]} == SEEN[name], name
        assert body["withheld"] == WITHHELD[name], name
        code, out, err = run_cli(capsys, "--db", db, "proposals", "list", "--as", user)
        assert code == 0
        held = sum(WITHHELD[name].values())
        assert (f"{held} proposal(s) withheld" in err) == bool(held), (name, err)
        for pid in ALL:
            code, out, err = run_cli(capsys, "--db", db, "proposals", "show", pid, "--as", user)
            if pid in SEEN[name]:
                assert code == 0 and f"marking {WORLD[pid][0]}" in out, (name, pid, err)
            else:
                assert code == 1 and f"no proposal {pid!r}" in err, (name, pid, err)
        code, out, err = run_cli(capsys, "--db", db, "inbox", "--as", user, "--json")
        assert code == 0, err
        assert {i["ref"] for i in json.loads(out)["items"]} == SEEN[name], name
        code, out, err = run_cli(
            capsys, "--db", db, "proposals", "pipeline", "--as", user, "--json"
        )
        assert code == 0, err
        assert {w["id"] for w in json.loads(out)["waiting_longest"]} == SEEN[name], name


# -- writes ------------------------------------------------------------------------------
def test_every_step_on_a_hidden_proposal_is_404_like_a_missing_code(world: Store) -> None:
    # An admin may take every step, but sees only unmarked proposals.
    admin = Actor("admin-u", "admin", "DoD/DSCA", ceiling="U")
    verbs: list[tuple[str, tuple[Any, ...]]] = [
        ("get", ()),
        ("history", ()),
        ("update", (ProposalUpdate(version=1, title="Renamed"),)),
        ("submit", ()),
        ("recall", ("why",)),
        ("withdraw", ("why",)),
        ("concur", ("concur",)),
        ("comment", ("a word",)),
        ("approve", ()),
        ("reject", ("no",)),
        ("notify", (date(2026, 3, 20),)),
        ("hold", ("a hold",)),
        ("clear", (date(2026, 3, 20),)),
        ("obligate", (1_000, date(2026, 3, 20))),
    ]
    for verb, args in verbs:
        messages = []
        for code in (CUI, NATO, "FY2027-DoD-0999"):
            with world.transaction() as session, pytest.raises(NotFound) as err:
                getattr(CycleService(session, admin, now=at(10)), verb)(code, *args)
            messages.append(err.value.message.replace(code, "X"))
        assert messages == ["no proposal 'X'"] * 3, verb
    # Nothing changed: the hidden proposals are as they were.
    with world.session() as session:
        service = CycleService(session, OPERATOR, now=at(10))
        for code in (CUI, NATO):
            p = service.get(code)
            assert (p.stage, p.title, len(p.comments)) == ("in_review", title(code), 1)


def test_steps_over_the_api_and_the_pages_are_404_for_a_hidden_proposal(world: Store) -> None:
    client = TestClient(create_app(world))
    headers = token(client, "coord-u")
    for verb, body in (
        ("approve", None),
        ("reject", {"note": "no"}),
        ("comments", {"body": "a word"}),
        ("concur", {"decision": "concur"}),
    ):
        r = client.post(f"/api/proposals/{CUI}/{verb}", json=body, headers=headers)
        assert r.status_code == 404, (verb, r.text)
        assert r.json()["error"]["message"] == f"no proposal {CUI!r}"
    # The visible one still moves.
    assert client.post(f"/api/proposals/{U}/approve", headers=headers).status_code == 200
    web = TestClient(create_app(world))
    web_login(web, "coord-u", PASSWORD)
    page = web.get(f"/proposals/{U}").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    r = web.post(f"/proposals/{CUI}/reject", data={"csrf": csrf, "note": "no"})
    assert r.status_code == 404
    with world.session() as session:
        assert CycleService(session, OPERATOR).get(CUI).stage == "in_review"


def test_a_writer_marks_a_proposal_up_to_their_ceiling_and_the_change_is_audited(
    world: Store,
) -> None:
    client = TestClient(create_app(world))
    db_user(world, "planner-sbu", "planner", "DoD/DSCA")
    clear(world, "planner-sbu", "SBU", None)
    headers = token(client, "planner-sbu")
    above = proposal_data(marking="CUI")
    r = client.post("/api/proposals", json=above, headers=headers)
    assert r.status_code == 422, r.text
    assert [d["loc"] for d in r.json()["error"]["details"]] == [["marking"]]
    bad = proposal_data(marking="TOP SECRET", releasable_to=["GBR", "Atlantis"])
    r = client.post("/api/proposals", json=bad, headers=headers)
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["error"]["details"]] == [
        ["marking"],
        ["releasable_to", 1],
    ]
    too_many = proposal_data(releasable_to=["GBR"] * 41)
    r = client.post("/api/proposals", json=too_many, headers=headers)
    assert r.status_code == 422
    # By name or code; the list as codes.
    good = proposal_data(marking="sensitive but unclassified", releasable_to=["gbr", "NATO"])
    r = client.post("/api/proposals", json=good, headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    # The next number past every proposal, seen or not: the three hidden ones' codes are
    # neither taken again nor described.
    assert made["id"] == "FY2027-DoD-0004"
    assert (made["marking"], made["releasable_to"]) == ("SBU", ["GBR", "NATO"])
    code = made["id"]
    r = client.patch(
        f"/api/proposals/{code}",
        json={"version": made["version"], "marking": "CUI"},
        headers=headers,
    )
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["error"]["details"]] == [["marking"]]
    r = client.patch(
        f"/api/proposals/{code}",
        json={"version": made["version"], "marking": "U", "releasable_to": []},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["marking"], r.json()["releasable_to"]) == ("U", [])
    history = client.get(f"/api/proposals/{code}/history", headers=headers).json()["items"]
    change = history[0]
    assert change["action"] == "update"
    assert (change["before"]["marking"], change["before"]["releasable_to"]) == (
        "SBU",
        ["GBR", "NATO"],
    )
    assert (change["after"]["marking"], change["after"]["releasable_to"]) == ("U", [])
    assert history[-1]["after"]["marking"] == "SBU"
    # Unmarked by default.
    r = client.post("/api/proposals", json=proposal_data(), headers=headers)
    assert (r.json()["marking"], r.json()["releasable_to"]) == ("U", [])


def test_the_form_marks_a_new_proposal(world: Store) -> None:
    db_user(world, "planner-form", "planner", "DoD/DSCA")
    clear(world, "planner-form", "SBU", None)
    web = TestClient(create_app(world))
    web_login(web, "planner-form", PASSWORD)
    form = web.get("/proposals/new").text
    options = form.split('name="marking"')[1].split("</select>")[0]
    assert 'value="SBU"' in options and 'value="CUI"' not in options  # not above the ceiling
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    data = {k: v for k, v in proposal_data().items() if not isinstance(v, list | dict)}
    r = web.post(
        "/proposals/new",
        data={
            **data,
            "csrf": csrf,
            "objectives": "G1.5",
            "levels": "2000000",
            "fiscal_years": "2027",
            "marking": "SBU",
            "releasable_to": "GBR, NATO",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with world.session() as session:
        p = CycleService(session, OPERATOR).get(r.headers["location"].rsplit("/", 1)[1])
    assert (p.marking, p.releasable_to) == ("SBU", ["GBR", "NATO"])


# -- the migration -----------------------------------------------------------------------
def test_the_migration_marks_every_proposal_u_and_keeps_its_children(
    blank_store: Store, tmp_path: Path
) -> None:
    """0020 rebuilds ``proposals`` on SQLite: concurrences, comments and steps (ON DELETE
    CASCADE) survive, existing proposals read U with no list, and ids are not reused."""
    store = blank_store
    migrate(store, "0019_merge_marks")
    from ssaplan.reference.service import sync

    with store.transaction() as session:
        sync(session, OPERATOR, get_catalog())
    now = "2026-03-02 09:00:00"
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO proposals (id, code, fiscal_year, title, description, agency_id, "
                "account_id, country_iso3, start_date, end_date, objectives, justification, "
                "sustainment_plan, levels, fiscal_years, requested_total, restriction_flag, "
                "vetting_flag, stage, stage_since, round, hold, hold_reason, created_by, "
                "created_at, updated_at, version) VALUES (5, 'FY2027-DoD-0005', 2027, 'Old', "
                "'', 'DoD', '10USC333', 'KEN', '2026-10-01', '2027-09-30', '[]', '', '', "
                "'[]', '[2027]', 0, false, false, 'submitted', :now, 1, false, '', 'x', :now, "
                ":now, 1)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO proposal_concurrences (id, proposal_id, round, reviewer_kind, "
                "reviewer, rules, requested_at, comment) VALUES (50, 5, 1, 'agency', 'State', "
                "'[]', :now, '')"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO proposal_comments (id, proposal_id, author, body, at) "
                "VALUES (51, 5, 'x', 'a word', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO proposal_steps (id, proposal_id, to_stage, at, actor, note) "
                "VALUES (52, 5, 'submitted', :now, 'x', '')"
            ),
            {"now": now},
        )
    migrate(store)
    with store.engine.connect() as conn:
        for table in ("proposal_concurrences", "proposal_comments", "proposal_steps"):
            count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            assert count == 1, table
        marks = conn.execute(text("SELECT marking, releasable_to FROM proposals")).all()
        assert [tuple(r) for r in marks] == [("U", "")]
        if store.dialect == "sqlite":
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'proposals'")
            ).scalar_one()
            assert "AUTOINCREMENT" in sql.upper()
            assert "ck_proposals_stage_known" in sql and "ck_proposals_dates_ordered" in sql
    with store.session() as session:
        p = CycleService(session, OPERATOR).get("FY2027-DoD-0005")
    assert (p.marking, p.releasable_to, len(p.concurrences), len(p.comments)) == ("U", [], 1, 1)
