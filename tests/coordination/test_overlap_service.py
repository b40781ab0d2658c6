"""Overlap review through the service: stored runs, the queue, reviewers' marks and the
rules they follow (re-runs respect marks, renames keep them, bad input writes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ssaplan.coordination.models import OverlapMark, OverlapPair, OverlapRun
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.schemas import MarkCreate, MarkUpdate, PairPublic
from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.coordination.conftest import World

ADMIN = Actor("reviewer", "admin")
VIEWER = Actor("viewer", "viewer")
DOJ_PLANNER = Actor("doj-planner", "planner", "DOJ")
DOD_PLANNER = Actor("dod-planner", "planner", "DoD")


def _run(store: Store, actor: Actor = ADMIN) -> None:
    with store.transaction() as session:
        OverlapService(session, actor).run()


def _pairs(store: Store, **filters: object) -> dict[tuple[str, str], PairPublic]:
    with store.session() as session:
        page = OverlapService(session, VIEWER).pairs(limit=1000, **filters)  # type: ignore[arg-type]
    return {(p.a, p.b): p for p in page.items}


def _count(store: Store, model: type) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_run_finds_planted_duplicates_and_spares_the_hard_negative(
    store: Store, world: World
) -> None:
    with store.session() as session:
        assert OverlapService(session, VIEWER).latest_run() is None
        assert OverlapService(session, VIEWER).pairs().items == []
    _run(store)
    pairs = _pairs(store)
    # the same course by two agencies, a paraphrase across agencies, and another donor's
    som = pairs[(world.som_a, world.som_b)]
    assert som.likely and som.kind == "program-program" and som.score >= 0.65
    assert "same partner: Somalia" in som.reasons
    assert any(r.startswith("descriptions similar") for r in som.reasons)
    assert (som.a_owner, som.b_owner) == ("Department of Defense", "Department of State")
    assert pairs[(world.ken_a, world.ken_b)].likely
    donor = pairs[(world.som_a, "DEMO-GB-DUP-0001")]
    assert donor.likely and donor.kind == "program-donor"
    assert donor.b_owner == "United Kingdom (illustrative)"
    assert "DEMO-GB-DUP-0001:institution_inferred" in donor.flags
    # the same words for the police and the army: not a likely pair
    hard = pairs.get((world.nga_army, world.nga_police))
    assert hard is None or not hard.likely
    # best first; filters
    scores = [p.score for p in pairs.values()]
    assert scores == sorted(scores, reverse=True)
    in_kenya = {world.ken_a, world.ken_b, world.regional, "DEMO-DE-0002"}
    assert set(_pairs(store, partner="KEN")) == {k for k in pairs if in_kenya & set(k)}
    assert set(_pairs(store, kind="program-donor")) == {
        k for k, p in pairs.items() if p.kind == "program-donor"
    }
    assert all(p.likely for p in _pairs(store, likely=True).values())
    assert set(_pairs(store, owner="DOJ")) == {(world.ken_a, world.ken_b)}
    with store.session() as session:
        run = OverlapService(session, VIEWER).latest_run()
        assert run is not None and not run.stale
        assert run.activities == 12  # 8 programs + 4 of 5 donor activities
        skipped = OverlapService(session, VIEWER).skipped(run.id)
    assert skipped == [
        {"id": "DEMO-XX-0004", "reason": "no country and no region: no partner to compare"}
    ]


def test_marks_persist_and_re_runs_respect_them(store: Store, world: World) -> None:
    _run(store)
    with store.transaction() as session:
        service = OverlapService(session, ADMIN)
        dismissed = service.create_mark(
            MarkCreate(a=world.som_b, b=world.som_a, mark="dismissed", note=" not the same ")
        )
        confirmed = service.create_mark(
            MarkCreate(a="DEMO-GB-DUP-0001", b=world.som_a, mark="confirmed")
        )
    # the pair is given in either order; a is the program
    assert (dismissed.a, dismissed.b, dismissed.note) == (world.som_a, world.som_b, "not the same")
    assert (confirmed.a, confirmed.b) == (world.som_a, "DEMO-GB-DUP-0001")
    # marks apply to the stored run at once
    som = _pairs(store)[(world.som_a, world.som_b)]
    assert not som.likely and som.mark is not None and som.mark.mark == "dismissed"
    assert som.reasons[-1].startswith("reviewer marked: dismissed (reviewer, ")
    assert set(_pairs(store, mark="dismissed")) == {(world.som_a, world.som_b)}
    assert (world.som_a, world.som_b) not in _pairs(store, mark="unmarked")
    assert (world.som_a, world.som_b) in _pairs(store, likely=False)

    # a re-run keeps them: the dismissed pair stays reported and is never likely
    _run(store)
    pairs = _pairs(store)
    assert not pairs[(world.som_a, world.som_b)].likely
    assert pairs[(world.som_a, "DEMO-GB-DUP-0001")].mark.mark == "confirmed"  # type: ignore[union-attr]
    assert _count(store, OverlapRun) == 2
    with store.session() as session:
        runs = OverlapService(session, VIEWER).runs()
        kept = session.execute(select(OverlapPair.run_id).distinct()).scalars().all()
    assert [r.pairs_kept for r in runs] == [True, False] and kept == [runs[0].id]

    # a renamed program keeps its marks; the queue shows its new id
    with store.transaction() as session:
        portfolio = PortfolioService(session, ADMIN)
        version = portfolio.get(world.som_a).version
        portfolio.update(world.som_a, ProgramUpdate(id="DOD-SOM-RENAMED", version=version))
    with store.session() as session:
        run = OverlapService(session, VIEWER).latest_run()
        assert run is not None and run.stale  # a program changed after the run
    renamed = _pairs(store)[("DOD-SOM-RENAMED", world.som_b)]
    assert renamed.mark is not None and renamed.mark.a == "DOD-SOM-RENAMED"
    _run(store)
    after = _pairs(store)[("DOD-SOM-RENAMED", world.som_b)]
    assert not after.likely and after.mark is not None

    # changing a mark: version checked, audited before and after
    with store.transaction() as session:
        changed = OverlapService(session, ADMIN).update_mark(
            dismissed.id, MarkUpdate(mark="complementary", note="coordinated", version=1)
        )
    assert (changed.mark, changed.version) == ("complementary", 2)
    assert _pairs(store)[("DOD-SOM-RENAMED", world.som_b)].likely  # no longer dismissed
    with store.session() as session:
        trail = session.execute(
            select(AuditRecord)
            .where(AuditRecord.entity_type == "overlap_mark")
            .order_by(AuditRecord.id)
        ).scalars()
        records = [
            (r.action, (r.before or {}).get("mark"), (r.after or {}).get("mark")) for r in trail
        ]
        run_audits = session.execute(
            select(func.count()).where(AuditRecord.entity_type == "overlap_run")
        ).scalar_one()
    assert records == [
        ("create", None, "dismissed"),
        ("create", None, "confirmed"),
        ("update", "dismissed", "complementary"),
    ]
    assert run_audits == 3

    # removing one: the next run scores the pair without it
    with store.transaction() as session:
        OverlapService(session, ADMIN).delete_mark(confirmed.id, version=1)
    assert _pairs(store)[("DOD-SOM-RENAMED", "DEMO-GB-DUP-0001")].mark is None


def test_bad_marks_are_refused_and_write_nothing(store: Store, world: World) -> None:
    _run(store)
    with store.transaction() as session:
        first = OverlapService(session, ADMIN).create_mark(
            MarkCreate(a=world.ken_a, b=world.ken_b, mark="confirmed")
        )
    audits = _count(store, AuditRecord)

    def refused(exc: type[Exception], actor: Actor, call: str, *args: object) -> str:
        with pytest.raises(exc) as info, store.transaction() as session:
            getattr(OverlapService(session, actor), call)(*args)
        return str(info.value)

    assert "NOPE-1" in refused(
        NotFound, ADMIN, "create_mark", MarkCreate(a=world.ken_a, b="NOPE-1", mark="confirmed")
    )
    assert "two different" in refused(
        Invalid, ADMIN, "create_mark", MarkCreate(a=world.ken_a, b=world.ken_a, mark="dismissed")
    )
    assert "already marked confirmed" in refused(
        Conflict, ADMIN, "create_mark", MarkCreate(a=world.ken_b, b=world.ken_a, mark="dismissed")
    )
    assert "version" in refused(
        StaleVersion, ADMIN, "update_mark", first.id, MarkUpdate(mark="dismissed", version=7)
    )
    assert "no overlap mark 999" in refused(
        NotFound, ADMIN, "update_mark", 999, MarkUpdate(mark="dismissed", version=1)
    )
    # default-deny: a viewer may not mark; a DoD planner may not mark a DOJ/State pair
    refused(
        Forbidden, VIEWER, "create_mark", MarkCreate(a=world.som_a, b=world.som_b, mark="dismissed")
    )
    refused(Forbidden, VIEWER, "run")
    assert "neither is a program inside your scope" in refused(
        Forbidden, DOD_PLANNER, "update_mark", first.id, MarkUpdate(mark="dismissed", version=1)
    )
    with pytest.raises(Invalid), store.session() as session:
        OverlapService(session, VIEWER).pairs(mark="maybe")
    assert _count(store, AuditRecord) == audits and _count(store, OverlapMark) == 1
    with store.session() as session:
        assert OverlapService(session, VIEWER).get_mark(first.id).mark == "confirmed"

    # inside the scope it works: the DoD planner marks a pair with a DoD program
    with store.transaction() as session:
        service = OverlapService(session, DOD_PLANNER)
        service.create_mark(MarkCreate(a=world.som_a, b=world.som_b, mark="confirmed"))
    donor_pair = _pairs(store)[(world.som_a, "DEMO-GB-DUP-0001")]
    with store.session() as session:
        assert OverlapService(session, DOD_PLANNER).may_review(donor_pair.a_ref, donor_pair.b_ref)
        assert not OverlapService(session, DOJ_PLANNER).may_review(
            donor_pair.a_ref, donor_pair.b_ref
        )
    with store.session() as session:
        assert not OverlapService(session, DOJ_PLANNER).may_review(
            "donor:DEMO-GB-DUP-0001", "donor:DEMO-DE-0001"
        )
