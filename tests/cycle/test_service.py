"""The workflow from draft to obligation, every refusal of the issue, and the record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound, SsaplanError
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.cycle.analytics import CycleAnalytics
from ssaplan.cycle.schemas import ProposalUpdate
from ssaplan.cycle.service import CycleService
from tests.conftest import OPERATOR
from tests.cycle.conftest import (
    COM_GHA,
    COM_KEN,
    COORDINATOR,
    DOD_PLANNER,
    DOD_REVIEWER,
    DOJ_REVIEWER,
    INL_PLANNER,
    LEGAL,
    STATE_REVIEWER,
    VIEWER,
    at,
    create,
    read,
    step,
)


def audit_count(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def refused(store: Store, code: str, exc: type[SsaplanError], who, when, method, *args, **kw):  # type: ignore[no-untyped-def]
    """Run a step that must be refused; check that nothing changed."""
    before, records = read(store, code, when), audit_count(store)
    with pytest.raises(exc) as info:
        step(store, who, when, method, code, *args, **kw)
    assert read(store, code, when) == before
    assert audit_count(store) == records
    return str(info.value)


def submitted(store: Store, **overrides) -> str:  # type: ignore[no-untyped-def]
    code = create(store, **overrides)
    step(store, DOD_PLANNER, 1, "submit", code)
    return code


def concurred(store: Store, **overrides) -> str:  # type: ignore[no-untyped-def]
    code = submitted(store, **overrides)
    step(store, STATE_REVIEWER, 3, "concur", code, "concur")
    step(store, DOD_REVIEWER, 4, "concur", code, "concur_with_comments", "Add a maintenance plan.")
    step(store, COM_KEN, 6, "concur", code, "concur")
    return code


def test_walk_from_draft_to_obligation(store: Store) -> None:
    code = create(store)
    assert code == "FY2027-DoD-0001"
    p = read(store, code)
    assert (p.stage, p.requested_total, p.waiting_on) == ("draft", 8_000_000, ["DoD/DSCA"])

    step(store, DOD_PLANNER, 1, "submit", code)
    p = read(store, code, 2)
    assert p.stage == "submitted" and p.round == 1 and p.days_in_stage == 1
    assert [c.label for c in p.concurrences] == ["State", "DoD", "Chief of Mission KEN"]
    assert p.waiting_on == ["State", "DoD", "COM:KEN"]

    step(store, STATE_REVIEWER, 3, "concur", code, "concur")
    step(store, DOD_REVIEWER, 4, "concur", code, "concur_with_comments", "Add a maintenance plan.")
    p = read(store, code, 5)
    assert p.stage == "in_review" and p.waiting_on == ["COM:KEN"]
    step(store, COM_KEN, 6, "concur", code, "concur")
    assert read(store, code, 6).waiting_on == ["coordinator"]

    p = step(store, COORDINATOR, 8, "approve", code)
    assert p.stage == "approved" and p.notification.required
    assert (p.notification.rule, p.notification.waiting_days) == ("sec333-notice", 15)

    p = step(store, COORDINATOR, 10, "notify", code, date(2026, 3, 12))
    assert p.stage == "notified" and p.notification.clears_on == date(2026, 3, 27)
    assert p.waiting_on == ["Congress"]
    p = step(store, COORDINATOR, 30, "clear", code, date(2026, 3, 27))
    assert p.stage == "cleared"
    p = step(store, DOD_PLANNER, 40, "obligate", code, 7_500_000, date(2026, 4, 10))
    assert (p.stage, p.obligated_amount, p.waiting_on) == ("obligated", 7_500_000, [])
    # Every step is time-stamped with who took it.
    assert [(s.to_stage, s.at, s.actor) for s in p.steps] == [
        ("draft", at(0), "dod-planner"),
        ("submitted", at(1), "dod-planner"),
        ("in_review", at(3), "state-reviewer"),
        ("approved", at(8), "coordinator"),
        ("notified", at(10), "coordinator"),
        ("cleared", at(30), "coordinator"),
        ("obligated", at(40), "dod-planner"),
    ]
    # ... and audited, with the proposal before and after.
    with store.session() as session:
        history = CycleService(session, VIEWER).history(code)
        actions = [r.action for r in reversed(history)]
        assert actions == [
            "create", "submit", "concur", "concur", "concur", "approve", "notify", "clear",
            "obligate",
        ]  # fmt: skip
        last = history[0]
        assert last.before is not None and last.before["stage"] == "cleared"
        assert last.after is not None and last.after["stage"] == "obligated"


def test_concurring_twice_is_refused(store: Store) -> None:
    code = submitted(store)
    step(store, STATE_REVIEWER, 2, "concur", code, "concur")
    message = refused(store, code, Conflict, STATE_REVIEWER, 3, "concur", "non_concur", "No.")
    assert "already answered" in message and "state-reviewer" in message


def test_concurring_for_another_agency_is_refused(store: Store) -> None:
    code = submitted(store)
    message = refused(store, code, Forbidden, DOJ_REVIEWER, 2, "concur", "concur")
    assert "another agency" in message and "State, DoD, Chief of Mission KEN" in message
    # The chief of mission of another country may not concur either.
    refused(store, code, Forbidden, COM_GHA, 2, "concur", "concur")
    # Legal review is not asked of an unflagged proposal.
    refused(store, code, Forbidden, LEGAL, 2, "concur", "concur")


def test_approving_with_a_missing_concurrence_is_refused(store: Store) -> None:
    code = submitted(store)
    step(store, STATE_REVIEWER, 2, "concur", code, "concur")
    step(store, DOD_REVIEWER, 2, "concur", code, "concur")
    message = refused(store, code, Conflict, COORDINATOR, 3, "approve")
    assert message.endswith("concurrence missing from Chief of Mission KEN")
    # And only a coordinator approves.
    step(store, COM_KEN, 4, "concur", code, "concur")
    refused(store, code, Forbidden, DOD_PLANNER, 5, "approve")


def test_obligating_before_notification_clears_is_refused(store: Store) -> None:
    code = concurred(store)
    step(store, COORDINATOR, 8, "approve", code)
    message = refused(
        store, code, Conflict, DOD_PLANNER, 9, "obligate", 1_000_000, date(2026, 3, 11)
    )
    assert "has not been notified" in message
    step(store, COORDINATOR, 10, "notify", code, date(2026, 3, 12))
    message = refused(
        store, code, Conflict, DOD_PLANNER, 12, "obligate", 1_000_000, date(2026, 3, 14)
    )
    assert "has not cleared" in message
    # Clearance itself waits for the 15 days, and for any hold to be lifted.
    message = refused(store, code, Conflict, COORDINATOR, 20, "clear", date(2026, 3, 26))
    assert "cannot clear before 2026-03-27" in message
    step(store, COORDINATOR, 21, "hold", code, "SFRC hold pending a briefing")
    refused(store, code, Conflict, COORDINATOR, 30, "clear", date(2026, 3, 31))
    message = refused(store, code, Conflict, DOD_PLANNER, 30, "obligate", 1, date(2026, 3, 31))
    assert "Congress holds it" in message
    step(store, COORDINATOR, 31, "hold", code, "briefed", lift=True)
    step(store, COORDINATOR, 31, "clear", code, date(2026, 4, 2))
    p = step(store, DOD_PLANNER, 32, "obligate", code, 8_000_000, date(2026, 4, 3))
    assert p.stage == "obligated"


def test_no_notification_needed_obligates_from_approval(store: Store) -> None:
    code = create(store, account="TREAS-OTA", agency="DoD/DSCA")
    step(store, DOD_PLANNER, 1, "submit", code)
    step(store, COM_KEN, 2, "concur", code, "concur")
    p = step(store, COORDINATOR, 3, "approve", code)
    assert not p.notification.required and p.waiting_on == ["DoD/DSCA"]
    refused(store, code, Conflict, COORDINATOR, 4, "notify", date(2026, 3, 5))
    # More than requested, or in the future: refused.
    refused(store, code, Invalid, DOD_PLANNER, 4, "obligate", 8_000_001, date(2026, 3, 5))
    refused(store, code, Invalid, DOD_PLANNER, 4, "obligate", 100, date(2026, 3, 30))
    assert step(store, DOD_PLANNER, 4, "obligate", code, 100, date(2026, 3, 5)).stage == "obligated"


def test_editing_a_submitted_proposal_without_resubmitting_is_refused(store: Store) -> None:
    code = submitted(store)
    version = read(store, code).version
    change = ProposalUpdate(version=version, title="A different program altogether")
    message = refused(store, code, Conflict, DOD_PLANNER, 2, "update", change)
    assert "cannot be edited in place" in message
    # Recall, edit, resubmit: a new round asks every reviewer again.
    step(store, STATE_REVIEWER, 2, "concur", code, "concur")
    step(store, DOD_PLANNER, 3, "recall", code, "adding a maintenance line")
    p = read(store, code, 3)
    step(store, DOD_PLANNER, 3, "update", code, ProposalUpdate(version=p.version, title="Revised"))
    p = step(store, DOD_PLANNER, 4, "submit", code)
    assert p.round == 2 and p.title == "Revised"
    assert p.waiting_on == ["State", "DoD", "COM:KEN"]
    assert [c.round for c in p.concurrences] == [1, 1, 1, 2, 2, 2]


def test_non_concurrence_returns_it_for_revision_with_the_reason(store: Store) -> None:
    code = submitted(store)
    with pytest.raises(Invalid):  # a non-concurrence needs its reason
        step(store, COM_KEN, 2, "concur", code, "non_concur")
    p = step(store, COM_KEN, 2, "concur", code, "non_concur", "Overlaps the EU's programme.")
    assert p.stage == "revise" and p.waiting_on == ["DoD/DSCA"]
    assert p.steps[-1].note == "Chief of Mission KEN non-concurs: Overlaps the EU's programme."
    # Concurrence on a proposal being revised waits for the resubmission.
    refused(store, code, Conflict, STATE_REVIEWER, 3, "concur", "concur")


def test_legal_review_when_flagged(store: Store) -> None:
    code = submitted(store, vetting_flag=True)
    p = read(store, code)
    assert p.waiting_on == ["State", "DoD", "COM:KEN", "legal"]
    step(store, LEGAL, 2, "concur", code, "concur_with_comments", "Leahy vetting of unit 3 first.")
    assert read(store, code).waiting_on == ["State", "DoD", "COM:KEN"]


def test_other_agencies_may_not_draft_or_move_your_proposal(store: Store) -> None:
    with pytest.raises(Forbidden):
        create(store, who=INL_PLANNER)  # DoD/DSCA's proposal drafted by a State planner
    code = create(store)
    refused(store, code, Forbidden, INL_PLANNER, 1, "submit")
    refused(store, code, Forbidden, VIEWER, 1, "submit")


def test_submission_needs_justification_sustainment_and_objectives(store: Store) -> None:
    code = create(store, justification="", sustainment_plan="  ", objectives=[])
    message = refused(store, code, Invalid, DOD_PLANNER, 1, "submit")
    assert "justification" in message and "sustainment_plan" in message and "objectives" in message


def test_bad_fields_are_reported_together(store: Store) -> None:
    with pytest.raises(Invalid) as exc:
        create(store, account="NOPE", country="Narnia", objectives=["G9.9"], end="2025-01-01")
    where = {d.loc[0] for d in exc.value.details}
    assert {"account", "country", "objectives.0", "end"} <= where


def test_comments_are_threaded(store: Store) -> None:
    code = submitted(store)
    first = step(store, COM_KEN, 2, "comment", code, "Who maintains the boats after FY2028?")
    reply = step(store, DOD_PLANNER, 3, "comment", code, "The navy, see the plan.", first.id)
    p = read(store, code)
    assert [(c.id, c.parent_id, c.author) for c in p.comments] == [
        (first.id, None, "com-ken"),
        (reply.id, first.id, "dod-planner"),
    ]
    other = create(store)
    with pytest.raises(Invalid):
        step(store, COM_KEN, 4, "comment", other, "wrong thread", first.id)
    with pytest.raises(NotFound):
        step(store, COM_KEN, 4, "comment", "FY2027-DoD-9999", "no such proposal")


def test_pipeline_statistics_against_hand_computed_values(store: Store) -> None:
    # A: draft 1 day, submitted 2 days, in_review 5 days, approved (now at day 20: 12 days)
    a = concurred(store)  # drafted 0, submitted 1, in_review 3, COM concurs at 6
    step(store, COORDINATOR, 8, "approve", a)
    # B: draft 2 days, submitted since day 2 (open: 18 days at day 20)
    b = create(store, when=0)
    step(store, DOD_PLANNER, 2, "submit", b)
    # C: draft 5 days, submitted 1 day, revise since day 6 (14 days)
    c = create(store, when=0)
    step(store, DOD_PLANNER, 5, "submit", c)
    step(store, COM_KEN, 6, "concur", c, "non_concur", "no")
    with store.session() as session:
        result = CycleAnalytics(CycleService(session, VIEWER, now=at(20))).pipeline(
            by=("agency",), with_trend=True
        )
    stats = {s.stage: s for s in result.stages}
    # draft stays: 1, 2, 5 -> median 2; p90 = 2 + 0.8*(5-2) = 4.4
    assert (stats["draft"].n, stats["draft"].median_days, stats["draft"].p90_days) == (3, 2.0, 4.4)
    # submitted stays: A 2 (1->3), B 18 (open), C 1 (5->6) -> median 2; p90 = 2 + 0.8*16 = 14.8
    assert (stats["submitted"].median_days, stats["submitted"].p90_days) == (2.0, 14.8)
    # in_review: A 5 (3->8)
    assert (stats["in_review"].n, stats["in_review"].median_days) == (1, 5.0)
    assert (stats["approved"].n, stats["approved"].median_days) == (1, 12.0)
    assert (stats["revise"].n, stats["revise"].median_days) == (1, 14.0)
    assert [(w.id, w.stage, w.days, w.waiting_on) for w in result.waiting_longest] == [
        (b, "submitted", 18.0, ["State", "DoD", "COM:KEN"]),
        (c, "revise", 14.0, ["DoD/DSCA"]),
        (a, "approved", 12.0, ["coordinator"]),
    ]
    assert result.by is not None and [g.group for g in result.by["agency"]] == ["DoD"]
    assert result.trend is not None
    (fy,) = result.trend
    # submitted to approved: A only, 1 -> 8 = 7 days
    assert (fy.fiscal_year, fy.proposals, fy.median_submit_to_approve) == (2027, 3, 7.0)


def test_inbox_of_each_user(store: Store) -> None:
    code = submitted(store)

    def inbox(who, when=3):  # type: ignore[no-untyped-def]
        with store.session() as session:
            items = CycleAnalytics(CycleService(session, who, now=at(when))).inbox().items
        return [(i.kind, i.ref, i.due) for i in items]

    due = at(1 + 21).date()
    assert inbox(STATE_REVIEWER) == [("concurrence", code, due)]
    assert inbox(COM_KEN) == [("concurrence", code, due)]
    assert inbox(COM_GHA) == [] and inbox(DOJ_REVIEWER) == [] and inbox(COORDINATOR) == []
    step(store, STATE_REVIEWER, 2, "concur", code, "concur")
    step(store, DOD_REVIEWER, 2, "concur", code, "concur")
    step(store, COM_KEN, 2, "comment", code, "Please confirm the sustainment budget.")
    assert inbox(STATE_REVIEWER) == []
    assert ("comment", code, None) in inbox(DOD_PLANNER)
    step(store, COM_KEN, 3, "concur", code, "concur")
    assert [k for k, *_ in inbox(COORDINATOR, 4)] == ["review"]
    step(store, COORDINATOR, 4, "approve", code)
    assert [k for k, *_ in inbox(COORDINATOR, 5)] == ["notification"]
    step(store, COORDINATOR, 5, "notify", code, date(2026, 3, 7))
    assert inbox(COORDINATOR, 10) == []  # the waiting period runs
    assert [k for k, *_ in inbox(COORDINATOR, 25)] == ["notification"]  # over: record clearance
    step(store, COORDINATOR, 25, "clear", code, date(2026, 3, 27))
    kinds = [(k, d) for k, _, d in inbox(DOD_PLANNER, 26)]
    assert ("obligation", date(2027, 9, 30)) in kinds  # Section 333: one-year money


def test_calendar_opens_once_and_shows_the_phase(store: Store) -> None:
    cal = step(store, COORDINATOR, 0, "open_calendar", 2027)
    assert cal.current_phase is not None and cal.current_phase.phase == "interagency_review"
    with pytest.raises(Conflict):
        step(store, COORDINATOR, 0, "open_calendar", 2027)
    with pytest.raises(Forbidden):
        step(store, DOD_PLANNER, 0, "open_calendar", 2028)
    with store.session() as session:
        cal = CycleService(session, VIEWER, now=at(100)).calendar()
    assert cal.fiscal_year == 2027 and cal.current_phase
    assert cal.current_phase.phase == "allocation_decision"
    deadlines = {d.availability_years: d.obligate_by for d in cal.obligation_deadlines}
    assert deadlines[1] == date(2027, 9, 30) and deadlines[2] == date(2028, 9, 30)


def test_approved_proposals_are_allocation_candidates(store: Store) -> None:
    code = concurred(store)
    step(store, COORDINATOR, 8, "approve", code)
    with store.session() as session:
        (c,) = CycleService(session, VIEWER).candidates(2027).candidates
    assert (c.id, c.country, c.account, c.fiscal_years) == (code, "KEN", "10USC333", [2027, 2028])
    assert [(lv.annual, lv.value) for lv in c.levels] == [(2_000_000, 3.0), (4_000_000, 5.0)]


def test_the_inbox_lists_vetting_approvals_about_to_lapse(store: Store) -> None:
    """A unit's approval that lapses within compliance's alert window waits on the planners
    who may vet for that partner, with the day it lapses as due."""
    from ssaplan.compliance.schemas import UnitCreate, VettingCreate
    from ssaplan.compliance.service import ComplianceService
    from tests.compliance.conftest import add_program

    add_program(store, "KEN-FMF", countries=["KEN"], agency="DoD/DSCA")
    today = at(0).date()
    with store.transaction() as session:
        svc = ComplianceService(session, OPERATOR, today=today)
        unit = svc.vetting.create_unit(
            UnitCreate(name="Kenya Coast Guard", country="KEN", type="border_management")
        )
        svc.vetting.create_request(
            VettingCreate(
                unit=unit.id,
                program="KEN-FMF",
                status="approved",
                decided=today - timedelta(days=350),
                validity_days=365,
            )
        )

    def inbox(who: Actor) -> list[tuple[str, str, date | None]]:
        with store.session() as session:
            items = CycleAnalytics(CycleService(session, who, now=at(0))).inbox().items
        return [(i.kind, i.ref, i.due) for i in items if i.kind == "vetting"]

    lapses = today - timedelta(days=350) + timedelta(days=364)
    found = inbox(DOD_PLANNER)
    assert len(found) == 1 and found[0][1].startswith("vetting-")
    assert abs((found[0][2] - lapses).days) <= 1  # type: ignore[operator]
    assert inbox(VIEWER) == []  # a viewer does not vet
