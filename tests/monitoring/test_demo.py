"""The demo world has strategies, measured indicators, late deliveries and programs that trip
every review rule — on both back ends."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from ssaplan.core.store import Store
from ssaplan.monitoring.models import Review, SurgeRequest
from ssaplan.monitoring.rules import REVIEW_RULES
from ssaplan.monitoring.service import MonitoringService
from ssaplan.strategy.models import Measurement, Strategy
from tests.conftest import run_cli
from tests.strategy.world import ADMIN


def test_the_demo_world_trips_every_review_rule(demo_store: Store) -> None:
    with demo_store.session() as session:
        strategies = session.execute(select(func.count()).select_from(Strategy)).scalar_one()
        measurements = session.execute(select(func.count()).select_from(Measurement)).scalar_one()
        triggers = Counter(session.execute(select(Review.trigger)).scalars())
        decided = session.execute(
            select(func.count()).select_from(Review).where(Review.status == "decided")
        ).scalar_one()
        surges = Counter(session.execute(select(SurgeRequest.status)).scalars())
        regional = session.execute(
            select(func.count()).select_from(Strategy).where(Strategy.kind == "regional")
        ).scalar_one()
    assert strategies >= 10 and regional == 1 and measurements >= 300
    assert set(REVIEW_RULES) <= set(triggers), triggers
    assert decided >= 2 and surges == {"approved": 1, "requested": 1}


def test_the_demo_world_monitors_late_deliveries_and_money(demo_store: Store) -> None:
    from datetime import date

    with demo_store.session() as session:
        summary = MonitoringService(session, ADMIN, as_of=date(2026, 10, 1)).summary()
    assert summary.performance.off_track_two_periods >= 5
    assert summary.performance.on_track > summary.performance.off_track
    assert len(summary.timelines.late) >= 3 and summary.timelines.deliveries > 500
    assert summary.money.expiring and summary.money.expired
    assert summary.open_reviews >= 6


def test_review_json_on_the_demo_world(
    sqlite_demo: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "--db", sqlite_demo.url, "review", "--json")
    assert code == 0, err
    reviews = json.loads(out)["reviews"]
    assert {r["trigger"] for r in reviews} >= set(REVIEW_RULES)
    assert all(list(r) == ["program", "trigger", "recommendation", "reasons"] for r in reviews)
