"""A restriction recorded in the compliance register opens an immediate legal-restriction
review of each program it reaches, once, when the review rules next run."""

from __future__ import annotations

from datetime import timedelta

from ssaplan.compliance.schemas import RestrictionCreate
from ssaplan.compliance.service import ComplianceService
from ssaplan.monitoring.reviews import ReviewService
from tests.monitoring.conftest import World
from tests.strategy.world import ADMIN, AS_OF


def _coup_in_togo(world: World) -> None:
    with world.store.transaction() as session:
        ComplianceService(session, ADMIN, today=AS_OF).restrictions.create(
            RestrictionCreate(
                country="TGO",
                type="coup",
                start=AS_OF - timedelta(days=20),
                citation="Sec. 7008, Consolidated Appropriations Act",
            )
        )


def _legal(world: World) -> dict[str, list[str]]:
    with world.store.session() as session:
        reviews = ReviewService(session, ADMIN, as_of=AS_OF).list_reviews().items
    return {r.program: r.reasons for r in reviews if r.trigger == "legal_restriction"}


def test_a_new_restriction_opens_a_review_of_the_programs_it_reaches(world: World) -> None:
    with world.store.transaction() as session:
        ReviewService(session, ADMIN, as_of=AS_OF).run_rules()
    assert _legal(world) == {}
    _coup_in_togo(world)
    with world.store.transaction() as session:
        report = ReviewService(session, ADMIN, as_of=AS_OF).run_rules()
    legal = _legal(world)
    assert list(legal) == ["P-TGO"]  # the Kenyan and other programs are not reached
    assert "new restriction on TGO (coup" in legal["P-TGO"][0]
    assert "Sec. 7008" in legal["P-TGO"][0]
    assert any(r.trigger == "legal_restriction" for r in report.reviews)
    # The change is reviewed once: the next run opens nothing more for it.
    with world.store.transaction() as session:
        again = ReviewService(session, ADMIN, as_of=AS_OF).run_rules()
    assert not any(r.trigger == "legal_restriction" for r in again.reviews)
    assert _legal(world) == legal


def test_only_the_named_rules_run_leaves_restriction_changes_for_later(world: World) -> None:
    _coup_in_togo(world)
    with world.store.transaction() as session:
        ReviewService(session, ADMIN, as_of=AS_OF).run_rules(rules_only=["delivery_late"])
    assert _legal(world) == {}
    with world.store.transaction() as session:
        ReviewService(session, ADMIN, as_of=AS_OF).run_rules(rules_only=["legal_restriction"])
    assert list(_legal(world)) == ["P-TGO"]
