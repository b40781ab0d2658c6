"""Test data builders with sensible defaults and overrides ('traits' by keyword)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import ProgramCreate


def program_data(**overrides: Any) -> dict[str, Any]:
    """A valid program as the API takes it (JSON-ready)."""
    data: dict[str, Any] = {
        "title": "Maritime interdiction training for the coast guard",
        "description": "Train and equip boarding teams.",
        "agency": "State/INL",
        "account": "INCLE",
        "countries": ["GHA"],
        "institution_type": "border_management",
        "level": "national",
        "purpose": "build_capacity",
        "objectives": ["G1.5", "G2.6"],
        "dac_code": "15210",
        "start": "2025-10-01",
        "end": "2028-09-30",
        "status": "approved",
        "budget": [
            {"fiscal_year": 2026, "planned": 1_000_000, "obligated": 400_000, "disbursed": 100_000},
            {"fiscal_year": 2027, "planned": 2_000_000},
        ],
    }
    data.update(overrides)
    return data


def program(**overrides: Any) -> ProgramCreate:
    data = program_data(**overrides)
    for key in ("start", "end"):
        if isinstance(data.get(key), str):
            data[key] = date.fromisoformat(data[key])
    return ProgramCreate(**data)


def set_clearance(
    store: Store, username: str, ceiling: str | None = None, audience: str | None = None
) -> None:
    """Give a stored user a marking ceiling and/or an audience (what they may read)."""
    from ssaplan.core.users import get_user, update_user
    from tests.conftest import OPERATOR

    with store.transaction() as session:
        user = get_user(session, username)
        update_user(
            session,
            OPERATOR,
            username,
            version=user.version,
            marking_ceiling=ceiling,
            audience=audience,
        )
