"""Strategies and their frameworks through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.strategy.models import Indicator, Strategy, StrategyObjective
from ssaplan.strategy.schemas import (
    IndicatorCreate,
    IndicatorUpdate,
    ObjectiveCreate,
    ObjectiveUpdate,
    StrategyCreate,
    StrategyUpdate,
    SustainmentCreate,
)
from ssaplan.strategy.service import StrategyService
from tests.strategy.world import (
    ADMIN,
    add_program,
    add_strategy,
    indicator,
    indicator_id,
    measure,
    strategy_payload,
)


def _count(session: Any, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_strategy_with_its_framework_and_funding_by_year(store: Store) -> None:
    with store.transaction() as session:
        ghana = add_program(session, id="P-GHA")
        shared = add_program(
            session,
            id="P-SHARED",
            countries=["GHA", "TGO"],
            shares={"GHA": 7500, "TGO": 2500},
            budget=[{"fiscal_year": 2026, "planned": 1_000_001, "obligated": 400_000}],
        )
        s = add_strategy(session, [ghana.id, shared.id])
    assert s.id == "GHA-2025-2029" and s.kind == "country" and s.partner_name == "Ghana"
    o = s.objectives[0]
    assert o.goal_objective == "G1.5" and o.goal_objective_name.startswith("Maintain control")
    assert [i.code for i in o.indicators] == ["1.a", "1.b"]
    assert o.indicators[1].disaggregations == ["sex"] and len(o.indicators[1].targets) == 5
    assert o.sustainment is not None and o.sustainment.paid_by.startswith("Ghana")
    assert o.programs == ["P-GHA", "P-SHARED"] and s.programs == 2
    years = {f.fiscal_year: f for f in s.funding}
    assert sorted(years) == [2025, 2026, 2027, 2028, 2029]
    # Ghana's share only: all of P-GHA, 75% of P-SHARED (largest remainder, to the dollar).
    assert years[2026].planned == 1_000_000 + 750_001 and years[2026].obligated == 900_000 + 300_000
    assert years[2026].partner_cost_share == 250_000 and years[2029].planned == 0
    assert s.funding_by_objective[0].planned == sum(f.planned for f in s.funding)
    with store.session() as session:
        again = StrategyService(session, ADMIN).get(s.id)
        assert again == s
        listed = StrategyService(session, ADMIN).list_strategies(country="Ghana")
        assert [x.id for x in listed.items] == [s.id] and listed.items[0].indicators == 2
        assert [x.code for x in StrategyService(session, ADMIN).objectives_of("P-SHARED")] == ["1"]
        assert StrategyService(session, ADMIN).list_strategies(country="KEN").total == 0
        types = {r.entity_type for r in audit.search(session, actor="test-admin", limit=50)}
    assert {"strategy", "strategy_objective", "commitment"} <= types


def test_a_regional_strategy_counts_the_region_and_its_members(store: Store) -> None:
    with store.transaction() as session:
        regional = add_program(session, id="P-ECOWAS", countries=[], regions=["ECOWAS"])
        member = add_program(session, id="P-GHA")
        s = add_strategy(
            session,
            [regional.id, member.id],
            country=None,
            region="ECOWAS",
            title="West Africa maritime strategy",
        )
    assert s.kind == "regional" and s.region == "ECOWAS" and s.id == "ECOWAS-2025-2029"
    assert {f.fiscal_year: f.planned for f in s.funding}[2027] == 4_000_000
    with store.session() as session:
        service = StrategyService(session, ADMIN)
        assert [x.id for x in service.list_strategies(country="GHA").items] == [s.id]
        assert [x.id for x in service.list_strategies(region="ECOWAS").items] == [s.id]


def test_targets_without_baselines_and_other_bad_frameworks_write_nothing(store: Store) -> None:
    with store.transaction() as session:
        add_program(session, id="P-GHA")
        add_program(session, id="P-KEN", countries=["KEN"])
    bad = strategy_payload(["P-GHA", "P-KEN", "NOPE"])
    bad["objectives"][0]["indicators"] = [
        indicator("1.a", baseline_value=None, baseline_period=None),
        indicator("1.a", targets=[{"fiscal_year": 2035, "value": 1.0}]),
    ]
    bad["objectives"][0]["goal_objective"] = "G9.9"
    bad["commitments"] = [{"kind": "cost_share", "description": "money"}]
    with store.transaction() as session, pytest.raises(Invalid) as err:
        StrategyService(session, ADMIN).create(StrategyCreate.model_validate(bad))
    found = {tuple(d.loc): d.msg for d in err.value.details}
    o = ("body", "objectives", 0)
    assert "targets without a baseline" in found[(*o, "indicators", 0, "targets")]
    assert "appears twice" in found[(*o, "indicators", 1, "code")]
    assert "outside the strategy" in found[(*o, "indicators", 1, "targets", 0, "fiscal_year")]
    assert "unknown objective 'G9.9'" in found[(*o, "goal_objective")]
    assert "no partner covered by the strategy" in found[(*o, "programs", 1)]
    assert "no program with id 'NOPE'" in found[(*o, "programs", 2)]
    assert "needs its amount" in found[("body", "commitments", 0, "amount")]
    with store.session() as session:
        assert _count(session, Strategy) == 0 and _count(session, Indicator) == 0
    neither = strategy_payload([], region="AF")
    with store.transaction() as session, pytest.raises(Invalid, match="problem"):
        StrategyService(session, ADMIN).create(StrategyCreate.model_validate(neither))


def test_planners_write_strategies_of_their_own_agency_only(store: Store) -> None:
    dod = Actor("dod-planner", "planner", "DoD")
    inl = Actor("inl-planner", "planner", "State/INL")
    with store.transaction() as session, pytest.raises(Forbidden):
        StrategyService(session, dod).create(StrategyCreate.model_validate(strategy_payload([])))
    with store.transaction() as session:
        s = StrategyService(session, inl).create(
            StrategyCreate.model_validate(strategy_payload([]))
        )
    with store.transaction() as session, pytest.raises(Forbidden):
        StrategyService(session, dod).update(s.id, StrategyUpdate(title="Mine now", version=1))
    with store.transaction() as session, pytest.raises(Forbidden):
        StrategyService(session, Actor("v", "viewer")).delete(s.id)
    with store.session() as session:
        assert StrategyService(session, inl).may_write(s.id)
        assert not StrategyService(session, dod).may_write(s.id)


def test_updates_carry_versions_and_renames_keep_the_framework(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
    with store.transaction() as session:
        changed = StrategyService(session, ADMIN).update(
            s.id, StrategyUpdate(id="GHA-BORDER", title="Renamed", version=1)
        )
    assert changed.id == "GHA-BORDER" and changed.version == 2 and len(changed.objectives) == 1
    with store.transaction() as session, pytest.raises(StaleVersion):
        StrategyService(session, ADMIN).update("GHA-BORDER", StrategyUpdate(title="x", version=1))
    with store.transaction() as session, pytest.raises(NotFound):
        StrategyService(session, ADMIN).get(s.id)
    # Shrinking the years under existing targets is refused with the reason.
    with store.transaction() as session, pytest.raises(Invalid, match="problem") as err:
        StrategyService(session, ADMIN).update(
            "GHA-BORDER", StrategyUpdate(last_fy=2027, version=2)
        )
    assert "targets for FY2028, FY2029" in err.value.details[0].msg


def test_objectives_indicators_and_plans_are_edited_on_their_own(store: Store) -> None:
    with store.transaction() as session:
        first = add_program(session, id="P-1")
        second = add_program(session, id="P-2")
        s = add_strategy(session, [first.id])
    with store.transaction() as session:
        service = StrategyService(session, ADMIN)
        o = service.add_objective(
            ObjectiveCreate.model_validate(
                {
                    "strategy": s.id,
                    "title": "Justice",
                    "goal_objective": "Rule of law",
                    "programs": [second.id],
                }
            )
        )
        assert o.code == "2" and o.goal_objective == "G3.3" and o.programs == ["P-2"]
        added = service.add_indicator(
            IndicatorCreate.model_validate({**indicator("x"), "code": None, "objective": o.id})
        )
        assert added.code == "2.a"
        plan = service.add_sustainment(
            SustainmentCreate.model_validate(
                {
                    "objective": o.id,
                    "life_cycle_cost": 500_000,
                    "transition_on": "2029-09-30",
                    "paid_by": "Ministry of Justice",
                }
            )
        )
        with pytest.raises(Conflict, match="already has sustainment plan"):
            service.add_sustainment(
                SustainmentCreate.model_validate(
                    {
                        "objective": o.id,
                        "life_cycle_cost": 1,
                        "transition_on": "2029-09-30",
                        "paid_by": "x",
                    }
                )
            )
        linked = service.update_objective(
            o.id, ObjectiveUpdate(programs=["P-1", "P-2"], version=o.version)
        )
        assert linked.programs == ["P-1", "P-2"] and linked.version == o.version + 1
        assert service.link_program(o.id, "P-1").programs == ["P-1", "P-2"]  # already linked
        assert service.sustainment_plan(plan.id).objective == o.id
        with pytest.raises(Invalid, match="problem"):
            service.update_indicator(
                added.id, IndicatorUpdate(baseline_value=None, baseline_period=None, version=1)
            )
    with store.transaction() as session:
        StrategyService(session, ADMIN).delete_objective(o.id)
    with store.session() as session:
        assert _count(session, StrategyObjective) == 1


def test_an_indicator_keeps_its_frequency_and_breakdowns_under_measurements(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
        quarterly = indicator_id(s, "1.b")
        measure(session, quarterly, {"FY2025-Q1": 120.0})
    with store.transaction() as session, pytest.raises(Invalid) as err:
        StrategyService(session, ADMIN).update_indicator(
            quarterly, IndicatorUpdate(frequency="annual", disaggregations=[], version=1)
        )
    msgs = " ".join(d.msg for d in err.value.details)
    assert "collected quarterly" in msgs
    with store.transaction() as session:
        done = StrategyService(session, ADMIN).update_indicator(
            quarterly, IndicatorUpdate(name="Officers certified", version=1)
        )
    assert done.name == "Officers certified" and done.version == 2
    with store.session() as session:
        series = StrategyService(session, ADMIN).indicator_series(strategy=s.id)
        assert [v.period.label for v in series[1].values] == ["FY2025-Q1"]
        assert series[1].baseline is not None and series[1].targets[2025] == 200.0


def test_history_of_framework_writes_is_audited(store: Store) -> None:
    with store.transaction() as session:
        s = add_strategy(session, [])
        StrategyService(session, ADMIN).delete(s.id, version=1)
    with store.session() as session:
        actions = [
            (r.entity_type, r.action)
            for r in session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars()
        ]
    assert ("strategy", "create") in actions and ("strategy", "delete") in actions
    assert ("commitment", "create") in actions
