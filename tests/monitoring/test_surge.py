"""Crisis surges and the flexible reserve, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.core.errors import Conflict, Forbidden, Invalid, StaleVersion
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.monitoring.models import SurgeRequest
from ssaplan.monitoring.schemas import ReserveIn, SurgeCreate, SurgeDecision
from ssaplan.monitoring.surge import SurgeService
from ssaplan.portfolio.service import PortfolioService
from ssaplan.strategy.schemas import ObjectiveCreate
from ssaplan.strategy.service import StrategyService
from tests.strategy.world import ADMIN, add_program, add_strategy


def _world(store: Store) -> tuple[int, int, int]:
    """A Ghana strategy with a sustainment plan; an FY2027 INCLE reserve of $10M."""
    with store.transaction() as session:
        add_program(session, id="P-GHA")
        s = add_strategy(session, ["P-GHA"])
        o = s.objectives[0]
        extra = StrategyService(session, ADMIN).add_objective(
            ObjectiveCreate(strategy=s.id, title="Justice", goal_objective="G3.3")
        )
        SurgeService(session, ADMIN).set_reserve("INCLE", 2027, ReserveIn(amount=10_000_000))
    assert o.sustainment is not None
    return o.id, o.sustainment.id, extra.id


def _request(**kw: Any) -> SurgeCreate:
    data: dict[str, Any] = {
        "title": "Emergency border support",
        "justification": "armed groups crossing the northern border",
        "country": "GHA",
        "account": "INCLE",
        "fiscal_year": 2027,
        "amount": 4_000_000,
        "new_program": {
            "title": "Surge: northern border",
            "agency": "State/INL",
            "start": "2026-11-01",
            "end": "2027-09-30",
        },
        **kw,
    }
    return SurgeCreate.model_validate(data)


def _surges(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(SurgeRequest)).scalar_one())


def test_a_surge_without_its_links_is_refused_and_nothing_is_written(store: Store) -> None:
    objective, plan, other = _world(store)
    with store.transaction() as session, pytest.raises(Invalid) as err:
        SurgeService(session, ADMIN).request(_request())
    found = {d.loc[-1]: d.msg for d in err.value.details}
    assert "must name the strategy objective it serves" in found["objective"]
    assert "who pays after the surge" in found["sustainment_plan"]
    assert err.value.message.startswith("the surge request is refused: a surge must name")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"objective": other, "sustainment_plan": plan}, "not objective"),
        (
            {"objective": objective, "sustainment_plan": plan, "amount": 11_000_000},
            "has $10,000,000 available",
        ),
        (
            {"objective": objective, "sustainment_plan": plan, "account": "FMF"},
            "no flexible reserve for FMF",
        ),
        (
            {"objective": objective, "sustainment_plan": plan, "country": "KEN"},
            "does not cover KEN",
        ),
        ({"objective": objective, "sustainment_plan": plan, "program": "P-GHA"}, "not both"),
        ({"objective": 999, "sustainment_plan": 999}, "no strategy objective 999"),
    ]
    for kw, message in cases:
        with store.transaction() as session, pytest.raises(Invalid) as err:
            SurgeService(session, ADMIN).request(_request(**kw))
        assert message in " ".join(d.msg for d in err.value.details), kw
    assert _surges(store) == 0


def test_an_approved_surge_creates_a_linked_program_and_draws_the_reserve(store: Store) -> None:
    objective, plan, _ = _world(store)
    with store.transaction() as session:
        s = SurgeService(session, ADMIN).request(
            _request(objective=objective, sustainment_plan=plan)
        )
    assert s.status == "requested" and s.paid_after_surge_by.startswith("Ghana")
    with store.session() as session:
        reserve = SurgeService(session, ADMIN).reserves()[0]
    assert (reserve.drawn, reserve.requested, reserve.available) == (0, 4_000_000, 10_000_000)
    with store.transaction() as session:
        done = SurgeService(session, ADMIN).approve(s.id, SurgeDecision(note="go", version=1))
    assert done.status == "approved" and done.program is not None
    with store.session() as session:
        p = PortfolioService(session, ADMIN).get(done.program)
        served = StrategyService(session, ADMIN).objectives_of(done.program)
        reserve = SurgeService(session, ADMIN).reserves()[0]
    assert p.status == "approved" and p.source == "surge" and p.objectives == ["G1.5"]
    assert [(b.fiscal_year, b.account, b.planned) for b in p.budget] == [(2027, "INCLE", 4_000_000)]
    assert [o.id for o in served] == [objective]
    assert (reserve.drawn, reserve.available) == (4_000_000, 6_000_000)
    with store.transaction() as session, pytest.raises(Conflict, match="already approved"):
        SurgeService(session, ADMIN).approve(s.id, SurgeDecision(version=2))
    # The reserve cannot be cut below what surges drew.
    with store.transaction() as session, pytest.raises(Invalid, match="smaller than"):
        SurgeService(session, ADMIN).set_reserve("INCLE", 2027, ReserveIn(amount=1, version=1))
    with store.transaction() as session, pytest.raises(StaleVersion):
        SurgeService(session, ADMIN).set_reserve("INCLE", 2027, ReserveIn(amount=20_000_000))


def test_a_surge_can_extend_a_program_or_be_refused(store: Store) -> None:
    objective, plan, _ = _world(store)
    with store.transaction() as session:
        service = SurgeService(session, ADMIN)
        extend = service.request(
            _request(
                objective=objective,
                sustainment_plan=plan,
                program="P-GHA",
                new_program=None,
                amount=1_000_000,
            )
        )
        refuse = service.request(
            _request(objective=objective, sustainment_plan=plan, amount=6_000_000)
        )
    with store.transaction() as session:
        service = SurgeService(session, ADMIN)
        service.approve(extend.id, SurgeDecision(version=1))
        with pytest.raises(Invalid, match="say why"):
            service.refuse(refuse.id, SurgeDecision(version=1))
        refused = service.refuse(refuse.id, SurgeDecision(note="covered by donors", version=1))
    assert refused.status == "refused" and refused.decision_note == "covered by donors"
    with store.session() as session:
        p = PortfolioService(session, ADMIN).get("P-GHA")
    assert {b.fiscal_year: b.planned for b in p.budget}[2027] == 3_000_000
    # Approval re-checks the reserve: what another approval drew is gone.
    with store.transaction() as session:
        big = SurgeService(session, ADMIN).request(
            _request(objective=objective, sustainment_plan=plan, amount=9_000_000)
        )
        SurgeService(session, ADMIN).set_reserve(
            "INCLE", 2027, ReserveIn(amount=9_500_000, version=1)
        )
    with store.transaction() as session, pytest.raises(Conflict, match="has \\$8,500,000 left"):
        SurgeService(session, ADMIN).approve(big.id, SurgeDecision(version=1))


def test_who_may_request_approve_and_set_the_reserve(store: Store) -> None:
    objective, plan, _ = _world(store)
    dod = Actor("dod", "planner", "DoD")
    with store.transaction() as session, pytest.raises(Forbidden):
        SurgeService(session, dod).request(_request(objective=objective, sustainment_plan=plan))
    inl = Actor("inl", "planner", "State/INL")
    with store.transaction() as session:
        s = SurgeService(session, inl).request(_request(objective=objective, sustainment_plan=plan))
    with store.transaction() as session, pytest.raises(Forbidden):
        SurgeService(session, inl).approve(s.id, SurgeDecision(version=1))
    with store.transaction() as session, pytest.raises(Forbidden):
        SurgeService(session, inl).set_reserve("FMF", 2027, ReserveIn(amount=1))
