"""A small monitored world: one program for each review rule, on both back ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from ssaplan.assessment.models import Assessment
from ssaplan.core.store import Store
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import CrisisIn
from tests.strategy.world import ADMIN, AS_OF, add_program, add_strategy, indicator_id, measure


@dataclass(frozen=True)
class World:
    store: Store
    strategy: str
    off_track: str  # its objective's indicator is off track two periods running
    slow: str  # last year's money barely obligated
    late: str  # a delivery pending far past its standard
    crisis: str  # in a country with a recent crisis
    dropped: str  # in a country whose assessment fell
    quiet: str  # nothing wrong
    completed: str


def save_assessment_drop(store: Store, iso3: str, previous: float, current: float) -> None:
    """A saved assessment whose year-over-year changes show ``iso3`` falling."""
    with store.transaction() as session:
        session.add(
            Assessment(
                year=2026,
                framework_name="default",
                framework_version=1,
                framework_sha256="0" * 64,
                framework_rows=[],
                settings={},
                analyses={
                    "changes": [
                        {
                            "iso3": iso3,
                            "previous": previous,
                            "current": current,
                            "delta": current - previous,
                            "drivers": [],
                        },
                        {
                            "iso3": "GHA",
                            "previous": 50.0,
                            "current": 51.0,
                            "delta": 1.0,
                            "drivers": [],
                        },
                    ]
                },
                created_by="test",
            )
        )


def build_world(store: Store) -> World:
    with store.transaction() as session:
        off = add_program(session, id="P-OFF")
        quiet = add_program(session, id="P-QUIET", objectives=["G3.3"])
        slow = add_program(
            session,
            id="P-SLOW",
            budget=[
                {"fiscal_year": 2026, "planned": 1_000_000, "obligated": 300_000},
                {"fiscal_year": 2027, "planned": 2_000_000},
                {"fiscal_year": 2028, "planned": 2_000_000},
            ],
        )
        requested = AS_OF - timedelta(days=400)
        late = add_program(
            session,
            id="P-LATE",
            milestones=[
                {
                    "name": "Radios",
                    "requested_on": requested.isoformat(),
                    "approved_on": (requested + timedelta(days=30)).isoformat(),
                }
            ],
        )
        crisis = add_program(session, id="P-KEN", countries=["KEN"])
        dropped = add_program(session, id="P-TGO", countries=["TGO"])
        completed = add_program(session, id="P-DONE", status="completed")
        s = add_strategy(session, [off.id])
        measure(session, indicator_id(s, "1.a"), {"FY2025": 45.0, "FY2026": 45.0})
    save_assessment_drop(store, "TGO", 60.0, 47.0)
    with store.transaction() as session:
        ReviewService(session, ADMIN, as_of=AS_OF).record_crisis(
            CrisisIn(
                country="KEN",
                occurred_on=AS_OF - timedelta(days=5),
                kind="unrest",
                severity="moderate",
                description="protests close the border posts",
            )
        )
    return World(
        store, s.id, off.id, slow.id, late.id, crisis.id, dropped.id, quiet.id, completed.id
    )


@pytest.fixture
def world(store: Store) -> World:
    return build_world(store)
