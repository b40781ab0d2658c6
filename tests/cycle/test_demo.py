"""The demo step: a cycle in progress with proposals in every stage."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.core.store import Store
from ssaplan.cycle.analytics import CycleAnalytics
from ssaplan.cycle.demo import load
from ssaplan.cycle.models import STAGES
from ssaplan.cycle.service import CycleService
from tests.conftest import Templates


def test_the_demo_cycle_has_every_stage_and_realistic_waits(
    templates: Templates, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    figures = load(DemoContext(store, 2013, date(2026, 10, 1), 2025, 2029, lambda _: None))
    assert figures["cycle_fiscal_year"] == 2027
    with store.session() as session:
        service = CycleService(session, Actor.operator())
        stages = {p.stage for p in service.list_proposals(fiscal_year=2027).proposals}
        assert stages == set(STAGES)
        result = CycleAnalytics(service).pipeline(fiscal_year=2027, with_trend=True)
    medians = {s.stage: s.median_days for s in result.stages}
    assert all(1 <= (medians[s] or 0) <= 200 for s in ("submitted", "in_review", "approved"))
    assert result.waiting_longest and all(w.waiting_on for w in result.waiting_longest)
    assert result.trend is not None and [t.fiscal_year for t in result.trend] == [2025, 2026, 2027]
    store.dispose()
