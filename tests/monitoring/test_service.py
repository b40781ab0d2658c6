"""Monitoring reads and rule settings through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ssaplan.core.errors import Forbidden, Invalid
from ssaplan.core.permissions import Actor
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.service import MonitoringService
from tests.monitoring.conftest import World
from tests.strategy.world import ADMIN, AS_OF


def test_performance_timelines_and_money_of_the_world(world: World) -> None:
    with world.store.session() as session:
        service = MonitoringService(session, ADMIN, as_of=AS_OF)
        perf = service.performance()
        summary = service.summary()
        off = service.performance(status="off_track")
        unrated = service.performance(status="unrated")
        timelines = service.timelines(program=world.late)
        money = service.money()
    assert [(i.code, i.status, i.off_track_streak) for i in perf] == [
        ("1.a", "off_track", 2),
        ("1.b", None, 0),
    ]
    assert perf[0].programs == [world.off_track] and [p.status for p in perf[0].periods] == [
        "off_track",
        "off_track",
    ]
    assert [i.code for i in off] == ["1.a"] and [i.code for i in unrated] == ["1.b"]
    p = summary.performance
    assert (p.indicators, p.rated, p.off_track, p.off_track_two_periods) == (2, 1, 1, 1)
    assert "On track from 90%" in p.rule and summary.open_reviews == 1  # the crisis review
    assert timelines.deliveries == 1 and timelines.late[0].program == world.late
    assert timelines.late[0].stages[0].stage == "obligation" and "within 270" in timelines.rule
    assert money.current_fy == 2027 and money.total.planned > 0
    incle_2026 = next(b for b in money.expiring if (b.account, b.fiscal_year) == ("INCLE", 2026))
    assert incle_2026.days_left == 364 and incle_2026.unobligated == 6 * 100_000 + 700_000


def test_admins_change_the_rules_and_the_change_is_used(world: World) -> None:
    with world.store.transaction() as session:
        changed = MonitoringService(session, ADMIN).set_rule("indicator_off_track", {"periods": 3})
    assert changed.params["periods"] == 3 and changed.changed_by == "test-admin"
    assert "latest 3 rated periods" in changed.statement
    with world.store.transaction() as session:
        report = ReviewService(session, ADMIN, as_of=AS_OF).run_rules()
    assert "indicator_off_track" not in {r.trigger for r in report.reviews}
    with world.store.transaction() as session:
        MonitoringService(session, ADMIN).set_rule("delivery.INCLE", {"obligation_days": 500})
        MonitoringService(session, ADMIN).set_rule("delivery_late", {"enabled": False})
    with world.store.session() as session:
        service = MonitoringService(session, ADMIN, as_of=AS_OF)
        assert service.timelines(program=world.late).late == []
        sections = {r.section: r for r in service.rule_sections()}
    assert sections["delivery.INCLE"].params["obligation_days"] == 500
    assert sections["delivery_late"].params["enabled"] is False
    with world.store.transaction() as session, pytest.raises(Invalid) as err:
        MonitoringService(session, ADMIN).set_rule("performance", {"at_risk_at": 0.99})
    assert err.value.details[0].loc == ("body", "params", "performance.at_risk_at")
    with world.store.transaction() as session, pytest.raises(Invalid):
        MonitoringService(session, ADMIN).set_rule("delivery.NOPE", {"delivery_days": 3})
    with world.store.transaction() as session, pytest.raises(Forbidden):
        MonitoringService(session, Actor("p", "planner", "State")).set_rule(
            "indicator_off_track", {"periods": 1}
        )
