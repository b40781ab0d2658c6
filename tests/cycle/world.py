"""A small cycle world in one SQLite file, built once per test module and copied."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from ssaplan.core.store import Store
from tests.conftest import Templates
from tests.cycle.conftest import (
    COM_KEN,
    COORDINATOR,
    DOD_PLANNER,
    DOD_REVIEWER,
    STATE_REVIEWER,
    create,
    db_user,
    step,
)


def build(templates: Templates, folder: Path) -> Path:
    """Users of every role (password tests.conftest.PASSWORD), a FY2027 calendar, and
    proposals: one obligated, one waiting on the chief of mission, one draft."""
    path = folder / "world.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    db_user(store, "dod-planner", "planner", "DoD/DSCA")
    db_user(store, "state-reviewer", "reviewer", "State/PM")
    db_user(store, "dod-reviewer", "reviewer", "DoD")
    db_user(store, "com-ken", "chief_of_mission", "State", "country", "KEN")
    db_user(store, "coordinator", "coordinator", "State/F")
    step(store, COORDINATOR, 0, "open_calendar", 2027)
    done = create(store, title="Boarding team training (done)")
    step(store, DOD_PLANNER, 1, "submit", done)
    for who in (STATE_REVIEWER, DOD_REVIEWER, COM_KEN):
        step(store, who, 3, "concur", done, "concur")
    step(store, COORDINATOR, 5, "approve", done)
    step(store, COORDINATOR, 6, "notify", done, date(2026, 3, 8))
    step(store, COORDINATOR, 30, "clear", done, date(2026, 4, 1))
    step(store, DOD_PLANNER, 31, "obligate", done, 8_000_000, date(2026, 4, 2))
    waiting = create(store, title="Patrol boat maintenance (waiting)")
    step(store, DOD_PLANNER, 2, "submit", waiting)
    step(store, STATE_REVIEWER, 4, "concur", waiting, "concur")
    step(store, DOD_REVIEWER, 5, "concur", waiting, "concur")
    create(store, title="Coastal radar (draft)")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path
