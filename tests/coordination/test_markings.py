"""Markings in coordination (issue 10, item 8): the donor matrix, burden sharing, gaps,
the donor-activity lists and the overlap run's own figures are computed over the
programs and donor activities the reader may see, so a hidden program's or activity's
dollars (or existence) are in no figure they get; reviewers' overlap marks show only
when the reader may see both sides of the pair.

Over the small world (conftest.py), one program and one donor activity are marked:

* SOM_A (DoD, Somalia, DAC 152, $2.6M disbursed, $1.2M of it in FY2025): ``CUI``;
* DEMO-GB-DUP-0001 (UK, Somalia, 151, $1.5M in FY2025 and FY2026): ``CUI`` ``REL TO NATO``.

=========  ===================  ==================  ============  ==================
reader     US Somalia 152       UK Somalia 151      Somalia all   SOM FY2025 burden
=========  ===================  ==================  ============  ==================
US         $5.2M                $3.0M               $9.2M         ours 2.4M / 2.5M
ceiling U  $2.6M                hidden              $3.6M         ours 1.2M / 1.0M
GBR        $2.6M                $3.0M (REL NATO)    $6.6M         ours 1.2M / 2.5M
=========  ===================  ==================  ============  ==================
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.models import OverlapRun
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.regional import RegionalAnalysis
from ssaplan.coordination.schemas import MarkCreate
from ssaplan.coordination.service import CoordinationService
from ssaplan.core.errors import Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, utcnow
from ssaplan.core.users import get_user, update_user
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import encode
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.coordination.conftest import LOADER, World, build_world, donor_rows
from tests.factories import set_clearance

M = 1_000_000
GB_ACTIVITY = "DEMO-GB-DUP-0001"
READERS = {
    "usg": Actor("usg-reader", "viewer"),
    "ceiling-u": Actor("u-reader", "viewer", ceiling="U"),
    "gbr": Actor("gbr-liaison", "viewer", audience="GBR"),
}
US_SOM_152 = {"usg": 5_200_000, "ceiling-u": 2_600_000, "gbr": 2_600_000}
GB_SOM_151 = {"usg": 3_000_000, "ceiling-u": None, "gbr": 3_000_000}
SOMALIA = {"usg": 9_200_000, "ceiling-u": 3_600_000, "gbr": 6_600_000}
SOM_2025 = {
    "usg": (2_400_000, 2_500_000),
    "ceiling-u": (1_200_000, 1_000_000),
    "gbr": (1_200_000, 2_500_000),
}
ACTIVITIES_WITHHELD = {
    "usg": {"above_ceiling": 0, "not_releasable": 0},
    "ceiling-u": {"above_ceiling": 1, "not_releasable": 0},
    "gbr": {"above_ceiling": 0, "not_releasable": 0},
}


def mark(store: Store, world: World) -> None:
    with store.transaction() as session:
        svc = PortfolioService(session, LOADER)
        current = svc.get(world.som_a)
        svc.update(world.som_a, ProgramUpdate(marking="CUI", version=current.version))
        coordination = CoordinationService(session, LOADER)
        coordination.replace_activities(
            [r for r in donor_rows() if r.identifier == GB_ACTIVITY],
            source_file="marked.xml",
            version="2.03",
            imported_at=utcnow(),
            marking="CUI",
            releasable_to=encode(["NATO"]),
        )


@pytest.fixture
def marked(store: Store) -> World:
    world = build_world(store)
    mark(store, world)
    return world


def test_the_matrix_counts_only_what_each_reader_may_see_to_the_dollar(
    store: Store, marked: World
) -> None:
    for name, actor in READERS.items():
        with store.session() as session:
            o = DonorAnalysis(session, actor).overview()
        cells = {(c.donor, c.partner, c.sector): c.usd for c in o.cells}
        assert cells[("US", "SOM", "152")] == US_SOM_152[name], name
        assert cells.get(("DEMO-GB", "SOM", "151")) == GB_SOM_151[name], name
        somalia = {p.partner: p for p in o.partners}["SOM"]
        assert somalia.usd == SOMALIA[name], name
        donors = {d.donor for d in o.donors}
        assert ("DEMO-GB" in donors) == (GB_SOM_151[name] is not None), name
        # Every figure adds up over what the reader sees: no hidden remainder.
        assert sum(d.usd for d in o.donors) == sum(c.usd for c in o.cells), name


def test_burden_sharing_leaves_hidden_money_out(store: Store, marked: World) -> None:
    for name, actor in READERS.items():
        with store.session() as session:
            burden = DonorAnalysis(session, actor).burden(by="partner")
        som = {r.year: (r.ours_usd, r.others_usd) for r in burden.rows if r.group == "SOM"}
        assert som[2025] == SOM_2025[name], name


def test_gaps_and_regional_views_read_only_visible_programs(store: Store, marked: World) -> None:
    for name, actor in READERS.items():
        with store.session() as session:
            view = RegionalAnalysis(session, actor).view(kind="bureau")
            report = GapAnalysis(session, actor).report(partners=["SOM"])
        hidden = name != "usg"
        # SOM_A's $8M planned is in no roll-up of a reader who may not see it.
        full = 8 * 6 + 4 + 3  # six programs of $8M, the regional $4M, Colombia $3M
        assert view.rollup.total_planned == (full - 8 * (1 if hidden else 0)) * M, name
        assert report.as_of  # computed without error over the reader's world


def test_donor_activity_lists_count_withheld_and_hide_records_as_404(
    store: Store, marked: World
) -> None:
    for name, actor in READERS.items():
        with store.session() as session:
            svc = CoordinationService(session, actor)
            listing = svc.list_activities(country="SOM")
            ids = {a.identifier for a in listing.items}
            assert (GB_ACTIVITY in ids) == (GB_SOM_151[name] is not None), name
            assert listing.withheld.model_dump() == ACTIVITIES_WITHHELD[name], name
            donors = {d["ref"] for d in svc.donors_in_country("SOM")}
            assert ("DEMO-GB" in donors) == (GB_SOM_151[name] is not None), name
            if GB_SOM_151[name] is None:
                with pytest.raises(NotFound):
                    svc.get_activity(GB_ACTIVITY)
            else:
                got = svc.get_activity(GB_ACTIVITY)
                assert (got.marking, got.releasable_to) == ("CUI", ["NATO"])


def test_an_import_may_not_replace_or_mark_above_the_importer(store: Store, marked: Any) -> None:
    importer = Actor("u-importer", "admin", ceiling="U")
    with store.transaction() as session, pytest.raises(Invalid, match="not available to you"):
        CoordinationService(session, importer).replace_activities(
            [r for r in donor_rows() if r.identifier == GB_ACTIVITY],
            source_file="again.xml",
            version="2.03",
            imported_at=utcnow(),
        )


def test_api_iati_import_refuses_a_marking_above_the_ceiling_and_an_unknown_one(
    api: Api,
) -> None:
    headers = api.login("importer", "admin")
    with api.store.transaction() as session:
        user = get_user(session, "importer")
        update_user(session, OPERATOR, "importer", version=user.version, marking_ceiling="U")
    for marking, message in (("CUI", "above your marking ceiling"), ("SECRETISH", "unknown")):
        r = api.client.post(
            f"/api/import/iati?marking={marking}",
            files={"files": ("a.xml", b"<iati-activities/>", "application/xml")},
            headers=headers,
        )
        assert r.status_code == 422, r.text
        detail = r.json()["error"]["details"][0]
        assert detail["loc"] == ["query", "marking"] and message in detail["msg"]


# --- the overlap run's own figures ----------------------------------------------------
SKIPPED_ACTIVITY = "DEMO-XX-0004"  # no partner: the run skips it


def hide_the_skipped_activity(store: Store) -> None:
    with store.transaction() as session:
        CoordinationService(session, LOADER).replace_activities(
            [r for r in donor_rows() if r.identifier == SKIPPED_ACTIVITY],
            source_file="skipped.xml",
            version="2.03",
            imported_at=utcnow(),
            marking="CUI",
        )


def test_the_overlap_run_counts_only_what_the_reader_may_see(store: Store, marked: World) -> None:
    """SOM_A (CUI) and the UK activity (CUI, REL TO NATO) are each in a likely pair; the
    skipped DEMO-XX-0004 is CUI too. A reader's run figures are those of the pairs and
    activities they may see, with the pairs withheld counted: no figure reveals a
    hidden record. The older run (its pairs no longer kept) reads the same."""
    hide_the_skipped_activity(store)
    for _ in range(2):
        with store.transaction() as session:
            OverlapService(session, LOADER).run()
    with store.session() as session:
        svc = OverlapService(session, READERS["usg"])
        every = svc.pairs(limit=1000)
        assert every.run is not None
        full_skipped = {s["id"] for s in svc.skipped(every.run.id)}
    full = every.run
    assert full.withheld == 0 and full.pairs == every.total and full.pairs > 0
    assert SKIPPED_ACTIVITY in full_skipped
    hidden_for = {
        "usg": set(),
        "ceiling-u": {marked.som_a, GB_ACTIVITY, SKIPPED_ACTIVITY},
        "gbr": {marked.som_a, SKIPPED_ACTIVITY},  # REL TO NATO reaches the UK
    }
    for name, actor in READERS.items():
        hidden = hidden_for[name]
        with store.session() as session:
            svc = OverlapService(session, actor)
            page = svc.pairs(limit=1000)
            latest, older = svc.runs()[:2]
            skipped = {s["id"] for s in svc.skipped(latest.id)}
        run = page.run
        assert run is not None and run.id == latest.id
        shown = [p for p in every.items if not ({p.a, p.b} & hidden)]
        assert {(p.a, p.b) for p in page.items} == {(p.a, p.b) for p in shown}, name
        assert run.pairs == len(shown) == page.total, name
        assert run.likely == sum(p.likely for p in shown), name
        assert run.withheld == full.pairs - len(shown), name
        compared_hidden = len(hidden - {SKIPPED_ACTIVITY})
        assert run.activities == full.activities - compared_hidden, name
        assert run.skipped == full.skipped - (SKIPPED_ACTIVITY in hidden), name
        assert skipped == full_skipped - hidden, name
        figures = (run.pairs, run.likely, run.activities, run.skipped, run.withheld)
        assert (latest.pairs, latest.likely, latest.activities, latest.skipped) == figures[:4]
        assert (older.pairs, older.likely, older.activities, older.skipped, older.withheld) == (
            figures
        ), name
        if name == "usg":
            assert run == full
            continue
        assert run.withheld > 0, name
        # The engine's own work counts (blocks, candidates) and the world's size cover
        # every record: a restricted reader gets the recounted figures only.
        assert run.stats["pairs"] == run.pairs and run.stats["likely"] == run.likely
        assert run.stats["activities"] == run.activities
        assert "candidates" not in run.stats and "blocks" not in run.stats
        assert run.inputs == {}


def test_a_run_stored_before_its_counts_by_marking_reads_unknown_to_a_restricted_reader(
    store: Store, marked: World
) -> None:
    for _ in range(2):
        with store.transaction() as session:
            OverlapService(session, LOADER).run()
    with store.transaction() as session:
        for record in session.execute(select(OverlapRun)).scalars():
            record.stats = {k: v for k, v in record.stats.items() if k != "marked"}
    with store.session() as session:
        latest, older = OverlapService(session, READERS["ceiling-u"]).runs()[:2]
        full_latest, full_older = OverlapService(session, READERS["usg"]).runs()[:2]
    # The latest run's pairs are kept: recounted. Nothing else can be known for them.
    assert latest.pairs is not None and 0 < latest.withheld == full_latest.pairs - latest.pairs
    assert (latest.activities, latest.skipped) == (None, None)
    assert (older.pairs, older.likely, older.activities, older.withheld) == (None,) * 4
    assert (full_older.pairs, full_older.withheld) == (full_latest.pairs, 0)


def test_the_overlap_page_and_api_state_the_pairs_withheld(api: Api) -> None:
    world = build_world(api.store)
    mark(api.store, world)
    hide_the_skipped_activity(api.store)
    with api.store.transaction() as session:
        OverlapService(session, LOADER).run()
    headers = api.login("u-viewer", "viewer")
    runner = api.login("u-runner", "admin")
    with api.store.transaction() as session:
        for name in ("u-viewer", "u-runner"):
            user = get_user(session, name)
            update_user(session, OPERATOR, name, version=user.version, marking_ceiling="U")
    # A runner below a record's marking: the answer is theirs too.
    ran = api.client.post("/api/overlaps/runs", json={}, headers=runner)
    assert ran.status_code == 201, ran.text
    assert ran.json()["run"]["withheld"] > 0
    assert SKIPPED_ACTIVITY not in {s["id"] for s in ran.json()["skipped"]}
    everything = api.client.get("/api/overlaps?limit=1000", headers=api.login("boss", "admin"))
    body = api.client.get("/api/overlaps?limit=1000", headers=headers).json()
    run = body["run"]
    assert run["pairs"] == body["total"] and run["withheld"] > 0
    assert run["withheld"] == everything.json()["run"]["pairs"] - run["pairs"]
    assert everything.json()["run"]["withheld"] == 0
    runs = api.client.get("/api/overlaps/runs", headers=headers).json()
    assert runs[0]["pairs"] == run["pairs"] and runs[0]["withheld"] == run["withheld"]
    web_login(api.client, "u-viewer", PASSWORD)
    page = api.client.get("/coordination").text
    assert f"{run['pairs']:,} pairs" in page
    assert f"{run['withheld']} pair(s) withheld" in page
    assert f"{run['activities']:,} programs and donor activities compared" in page


# --- reviewers' overlap marks ---------------------------------------------------------
def test_overlap_marks_show_only_pairs_whose_both_sides_the_reader_may_see(api: Api) -> None:
    """A mark names both sides' ids and its note: a reader sees it only when they may
    see both sides. SOM_A (CUI) is hidden from the ceiling-U reader and the GBR liaison;
    the UK activity (CUI, REL TO NATO) from the ceiling-U reader only. A hidden mark is
    left out of the list (counted in ``withheld``) and is 404 by id, for reads and
    writes, with the answer of a mark that never existed; marking a pair with a hidden
    side is refused as for an unknown id."""
    world = build_world(api.store)
    mark(api.store, world)
    with api.store.transaction() as session:
        svc = OverlapService(session, LOADER)
        ids = {
            "som": svc.create_mark(
                MarkCreate(a=world.som_a, b=world.som_b, mark="confirmed", note="hidden SOM_A")
            ).id,
            "gb": svc.create_mark(
                MarkCreate(a=world.som_b, b=GB_ACTIVITY, mark="complementary", note="UK side")
            ).id,
            "ken": svc.create_mark(
                MarkCreate(a=world.ken_a, b=world.ken_b, mark="dismissed", note="both U")
            ).id,
        }
    visible = {
        "usg": {"som", "gb", "ken"},
        "ceiling-u": {"ken"},
        "gbr": {"gb", "ken"},
    }
    headers = {}
    for name, (username, ceiling, audience) in {
        "usg": ("m-usg", None, None),
        "ceiling-u": ("m-ceiling-u", "U", None),
        "gbr": ("m-gbr", None, "GBR"),
    }.items():
        headers[name] = api.login(username, "admin")
        if ceiling or audience:
            set_clearance(api.store, username, ceiling, audience)
    c = api.client
    missing = c.get("/api/overlaps/marks/999", headers=headers["usg"])
    assert missing.status_code == 404, missing.text
    for name, h in headers.items():
        shown = visible[name]
        listing = c.get("/api/overlaps/marks", headers=h)
        assert listing.status_code == 200, listing.text
        body = listing.json()
        assert {m["id"] for m in body["items"]} == {ids[k] for k in shown}, name
        assert body["total"] == len(shown), name
        assert body["withheld"] == 3 - len(shown), name
        notes = {m["note"] for m in body["items"]}
        assert ("hidden SOM_A" in notes) == ("som" in shown), name
        for key, mark_id in ids.items():
            url = f"/api/overlaps/marks/{mark_id}"
            got = c.get(url, headers=h)
            if key in shown:
                assert got.status_code == 200 and got.json()["id"] == mark_id, name
                continue
            # 404 exactly as a mark that never existed
            never = missing.json()["error"] | {"message": f"no overlap mark {mark_id}"}
            assert (got.status_code, got.json()["error"]) == (404, never), (name, key)
            for r in (
                c.patch(url, json={"mark": "dismissed", "version": 1}, headers=h),
                c.delete(url, params={"version": 1}, headers=h),
                c.delete(url, headers=h),
            ):
                assert (r.status_code, r.json()["error"]) == (404, never), (name, key)
    # Marking a pair with a side the writer may not see: refused as an unknown id.
    unknown = c.post(
        "/api/overlaps/marks",
        json={"a": world.ken_a, "b": "NOPE-1", "mark": "confirmed"},
        headers=headers["ceiling-u"],
    ).json()["error"]
    for name, a, b in (
        ("ceiling-u", world.nga_police, world.som_a),
        ("ceiling-u", world.nga_police, GB_ACTIVITY),
        ("gbr", world.nga_police, world.som_a),
    ):
        r = c.post(
            "/api/overlaps/marks", json={"a": a, "b": b, "mark": "confirmed"}, headers=headers[name]
        )
        expected = unknown | {"message": f"no program or donor activity with id {b!r}"}
        assert (r.status_code, r.json()["error"]) == (404, expected), (name, b)
    # The GBR liaison may mark the UK activity (REL TO NATO); the unrestricted reader
    # still sees every mark, untouched by the refused writes.
    r = c.post(
        "/api/overlaps/marks",
        json={"a": world.nga_police, "b": GB_ACTIVITY, "mark": "dismissed"},
        headers=headers["gbr"],
    )
    assert r.status_code == 201, r.text
    everything = c.get("/api/overlaps/marks", headers=headers["usg"]).json()
    assert everything["total"] == 4 and everything["withheld"] == 0
    assert {m["id"]: m["version"] for m in everything["items"]} == {
        **{v: 1 for v in ids.values()},
        r.json()["id"]: 1,
    }
