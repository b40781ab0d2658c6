"""Reviews through the service, on SQLite and PostgreSQL: every rule raises its review,
the annual cycle reviews every program, and every decision changes the program."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ssaplan.core.errors import Conflict, Forbidden, Invalid, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import DecisionIn
from ssaplan.monitoring.service import MonitoringService
from ssaplan.portfolio.service import PortfolioService
from tests.monitoring.conftest import World
from tests.strategy.world import ADMIN, AS_OF


def _service(session: Any, actor: Actor = ADMIN) -> ReviewService:
    return ReviewService(session, actor, as_of=AS_OF)


def _open(world: World) -> dict[tuple[str, str], Any]:
    with world.store.session() as session:
        return {(r.program, r.trigger): r for r in _service(session).list_reviews().items}


def _decide(world: World, review: Any, decision: str, **kw: Any) -> Any:
    body = DecisionIn.model_validate(
        {
            "decision": decision,
            "rationale": f"because of {decision} reasons",
            "version": review.version,
            **kw,
        }
    )
    with world.store.transaction() as session:
        return _service(session).decide(review.id, body)


def test_each_review_rule_raises_its_review(world: World) -> None:
    with world.store.transaction() as session:
        report = _service(session).run_rules()
    assert report.programs_checked == 7
    opened = _open(world)
    assert set(opened) == {
        (world.off_track, "indicator_off_track"),
        (world.slow, "money_not_moving"),
        (world.late, "delivery_late"),
        (world.crisis, "crisis_event"),
        (world.dropped, "assessment_drop"),
    }
    off = opened[(world.off_track, "indicator_off_track")]
    assert off.recommendation == "restructure" and off.immediate and off.source == "rules"
    assert "off track 2 periods running (FY2025: 45 vs 50, FY2026: 45 vs 60" in off.reasons[0]
    assert "off track in its latest 2 rated periods" in off.rule
    assert "fell 13.0 points" in opened[(world.dropped, "assessment_drop")].reasons[0]
    assert "obligation pending 400 days" in opened[(world.late, "delivery_late")].reasons[0]
    # Running again opens nothing new: one open review per program and trigger.
    with world.store.transaction() as session:
        again = _service(session).run_rules()
    assert (again.opened, again.refreshed, again.already_open) == (0, 0, 5)
    with world.store.session() as session:
        queue = _service(session).queue()
    keys = [(r.program, r.trigger) for r in queue.reviews]
    assert keys == sorted(keys) and len(keys) == 5
    assert all(
        set(r.model_dump()) == {"program", "trigger", "recommendation", "reasons"}
        for r in queue.reviews
    )


def test_other_domains_open_immediate_reviews(world: World) -> None:
    with world.store.transaction() as session:
        r = MonitoringService(session, ADMIN, as_of=AS_OF).open_review(
            world.quiet,
            "legal_restriction",
            ["Sec. 7008 restriction from FY2027"],
            source="compliance",
        )
    assert (r.trigger, r.recommendation, r.immediate, r.status) == (
        "legal_restriction",
        "suspend",
        True,
        "open",
    )
    with world.store.transaction() as session:
        again = _service(session).open_review(
            world.quiet, "legal_restriction", ["Sec. 7008 restriction from FY2027", "and CSPA"]
        )
    assert again.id == r.id and again.reasons == ["Sec. 7008 restriction from FY2027", "and CSPA"]
    with world.store.transaction() as session:
        report = _service(session).open_many(
            {world.quiet: ["more"], world.completed: ["too late"]}, "legal_restriction"
        )
    assert (report.programs_checked, report.refreshed) == (2, 1)  # the completed one is skipped
    with world.store.transaction() as session:
        manual = _service(session).open_review(world.slow, "manual", ["the ambassador asked"])
    assert manual.recommendation == "restructure"  # the rules' call for its facts
    assert manual.reasons[0] == "the ambassador asked" and "[money not moving]" in manual.reasons[1]
    with world.store.transaction() as session, pytest.raises(Conflict, match="completed"):
        _service(session).open_review(world.completed, "manual", ["why not"])
    with world.store.transaction() as session, pytest.raises(Invalid):
        _service(session).open_review(world.quiet, "annual", [" "])
    with world.store.transaction() as session, pytest.raises(Forbidden):
        _service(session, Actor("v", "viewer")).open_review(world.quiet, "manual", ["x"])


def test_the_annual_cycle_reviews_every_program_once(world: World) -> None:
    with world.store.transaction() as session:
        report = _service(session).open_annual_cycle(2027)
    assert report.opened == 6 and report.programs_checked == 6  # not the completed program
    annual = {r.program: r for r in report.reviews}
    assert world.completed not in annual
    assert annual[world.quiet].recommendation == "continue"
    assert annual[world.off_track].recommendation == "restructure"
    assert annual[world.crisis].recommendation == "restructure"
    assert all(not r.immediate and r.cycle == 2027 for r in annual.values())
    with world.store.transaction() as session:
        again = _service(session).open_annual_cycle(2027)
    assert (again.opened, again.already_open) == (0, 6)
    with world.store.transaction() as session:
        nxt = _service(session).open_annual_cycle(2028)
    assert nxt.opened == 6
    with world.store.session() as session:
        old = _service(session).list_reviews(status="superseded", trigger="annual").items
    assert len(old) == 6 and all("FY2028" in r.rationale for r in old)


def test_an_annual_review_recommends_scaling_up_what_is_ahead(world: World) -> None:
    from tests.strategy.world import add_program, add_strategy, indicator_id, measure

    with world.store.transaction() as session:
        star = add_program(session, id="P-STAR", countries=["SEN"])
        s = add_strategy(session, [star.id], country="SEN", title="Senegal")
        measure(session, indicator_id(s, "1.a"), {"FY2025": 55.0, "FY2026": 66.0})
    with world.store.transaction() as session:
        report = _service(session).open_annual_cycle(2027)
    star_review = next(r for r in report.reviews if r.program == "P-STAR")
    assert star_review.recommendation == "scale_up"


def test_continue_changes_nothing_and_a_closed_review_refuses_a_decision(world: World) -> None:
    with world.store.transaction() as session:
        r = _service(session).open_review(world.quiet, "manual", ["routine"])
    with world.store.session() as session:
        before = PortfolioService(session, ADMIN).get(world.quiet)
    done = _decide(world, r, "continue")
    assert done.status == "decided" and done.decision == "continue" and done.changes.budget == []
    with pytest.raises(Conflict, match="is closed: decided \\(continue\\)"):
        _decide(world, done, "terminate")
    with world.store.session() as session:
        after = PortfolioService(session, ADMIN).get(world.quiet)
        assert after.version == before.version and after.status == "implementing"
        assert _service(session).get(r.id).decision == "continue"


def test_scale_up_raises_future_money_and_refuses_otherwise(world: World) -> None:
    with world.store.transaction() as session:
        r = _service(session).open_review(world.quiet, "manual", ["doing well"])
    for kw, message in (
        ({}, "scaling up needs the new planned amounts"),
        ({"budget": [{"fiscal_year": 2027, "planned": 1_000_000}]}, "must raise planned money"),
        ({"budget": [{"fiscal_year": 2026, "planned": 5_000_000}]}, "FY2026 has ended"),
        ({"budget": [{"fiscal_year": 2027, "planned": 50_000}]}, "already obligated"),
        ({"budget": [{"fiscal_year": 2027, "account": "NOPE", "planned": 5}]}, "unknown account"),
    ):
        with pytest.raises(Invalid) as err:
            _decide(world, r, "scale_up", **kw)
        assert message in " ".join(d.msg for d in err.value.details), kw
    done = _decide(
        world,
        r,
        "scale_up",
        budget=[
            {"fiscal_year": 2027, "planned": 3_000_000},
            {"fiscal_year": 2029, "planned": 1_000_000},
        ],
    )
    assert [(b.fiscal_year, b.planned_before, b.planned_after) for b in done.changes.budget] == [
        (2027, 2_000_000, 3_000_000),
        (2029, 0, 1_000_000),
    ]
    with world.store.session() as session:
        p = PortfolioService(session, ADMIN).get(world.quiet)
    assert {b.fiscal_year: b.planned for b in p.budget} == {
        2025: 1_000_000,
        2026: 1_000_000,
        2027: 3_000_000,
        2028: 2_000_000,
        2029: 1_000_000,
    }
    assert p.status == "implementing"


def test_restructure_sets_the_amounts_given(world: World) -> None:
    with world.store.session() as session:
        r = _service(session).list_reviews(program=world.slow).items
    assert r == []
    with world.store.transaction() as session:
        _service(session).run_rules()
    review = _open(world)[(world.slow, "money_not_moving")]
    done = _decide(world, review, "restructure", budget=[{"fiscal_year": 2028, "planned": 500_000}])
    assert done.changes.status_before == done.changes.status_after == "implementing"
    with world.store.session() as session:
        p = PortfolioService(session, ADMIN).get(world.slow)
    assert {b.fiscal_year: b.planned for b in p.budget}[2028] == 500_000


def test_suspend_moves_the_program_and_records_the_reason(world: World) -> None:
    review = _open(world)[(world.crisis, "crisis_event")]
    with pytest.raises(Invalid, match="takes no budget"):
        _decide(world, review, "suspend", budget=[{"fiscal_year": 2027, "planned": 1}])
    done = _decide(world, review, "suspend")
    assert done.changes.status_before == "implementing" and done.changes.status_after == "suspended"
    with world.store.session() as session:
        history = PortfolioService(session, ADMIN).history(world.crisis)
    decision = next(h for h in history if h.action == "review decision")
    assert "suspend — because of suspend reasons" in decision.summary
    suspended = next(
        h for h in history if h.action == "update" and h.after and h.after["status"] == "suspended"
    )
    # The pipeline wants a reason to suspend: the review's decision and rationale are it.
    assert "decided suspend: because of suspend reasons" in (suspended.summary or "")
    # A suspended program continues only at a status it resumes at.
    with world.store.transaction() as session:
        again = _service(session).open_review(world.crisis, "manual", ["calm again"])
    with pytest.raises(Invalid, match="cannot be carried out") as err:
        _decide(world, again, "continue")
    assert err.value.details[0].loc == ("body", "resume_status")
    resumed = _decide(world, again, "continue", resume_status="implementing")
    assert resumed.changes.status_after == "implementing"


def test_terminate_zeroes_future_money_and_supersedes_the_rest(world: World) -> None:
    with world.store.transaction() as session:
        _service(session).run_rules()
        _service(session).open_review(world.off_track, "manual", ["second opinion"])
    review = _open(world)[(world.off_track, "indicator_off_track")]
    done = _decide(world, review, "terminate")
    assert done.changes.status_after == "terminated"
    assert [(b.fiscal_year, b.planned_after) for b in done.changes.budget] == [(2028, 0)]
    with world.store.session() as session:
        p = PortfolioService(session, ADMIN).get(world.off_track)
        others = _service(session).list_reviews(status=None, program=world.off_track).items
    assert p.status == "terminated"
    assert {b.fiscal_year: b.planned for b in p.budget} == {
        2025: 1_000_000,
        2026: 1_000_000,
        2027: 2_000_000,
        2028: 0,
    }
    assert {r.trigger: r.status for r in others} == {
        "indicator_off_track": "decided",
        "manual": "superseded",
    }
    with world.store.transaction() as session, pytest.raises(Conflict, match="terminated"):
        _service(session).open_review(world.off_track, "manual", ["reopen?"])


def test_decisions_respect_scope_version_and_the_pipeline(world: World) -> None:
    review = _open(world)[(world.crisis, "crisis_event")]
    dod = Actor("dod", "planner", "DoD")
    with world.store.transaction() as session, pytest.raises(Forbidden):
        _service(session, dod).decide(
            review.id,
            DecisionIn(decision="suspend", rationale="not my program at all", version=1),
        )
    with world.store.transaction() as session, pytest.raises(StaleVersion):
        _service(session).decide(
            review.id, DecisionIn(decision="suspend", rationale="stale version here", version=9)
        )
    inl = Actor("inl", "planner", "State/INL")
    done = None
    with world.store.transaction() as session:
        done = _service(session, inl).decide(
            review.id,
            DecisionIn(decision="terminate", rationale="planner of the agency", version=1),
        )
    assert done.decided_by == "inl"
    with world.store.session() as session:
        kinds = {
            r.action
            for r in session.execute(
                select(AuditRecord).where(AuditRecord.entity_type == "review")
            ).scalars()
        }
    assert {"create", "decide"} <= kinds
