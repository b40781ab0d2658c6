"""Builders for strategy and monitoring tests: programs, a strategy with its framework,
measurements — written through the services, as users would."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ssaplan.core.permissions import Actor
from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.portfolio.service import PortfolioService
from ssaplan.strategy.measurements import MeasurementService
from ssaplan.strategy.schemas import MeasurementIn, StrategyCreate, StrategyPublic
from ssaplan.strategy.service import StrategyService
from tests.factories import program

ADMIN = Actor("test-admin", "admin")
AS_OF = date(2026, 10, 1)  # the first day of FY2027: FY2026 has just ended

HEALTHY_BUDGET = [
    {"fiscal_year": 2025, "planned": 1_000_000, "obligated": 950_000, "disbursed": 800_000},
    {"fiscal_year": 2026, "planned": 1_000_000, "obligated": 900_000, "disbursed": 500_000},
    {"fiscal_year": 2027, "planned": 2_000_000, "obligated": 100_000},
    {"fiscal_year": 2028, "planned": 2_000_000},
]


def add_program(session: Session, **overrides: Any) -> ProgramPublic:
    """A program (by default: Ghana, State/INL, INCLE, implementing, money moving)."""
    data: dict[str, Any] = {
        "status": "implementing",
        "start": "2024-10-01",
        "budget": HEALTHY_BUDGET,
        **overrides,
    }
    return PortfolioService(session, ADMIN).create(program(**data))


def indicator(code: str, **overrides: Any) -> dict[str, Any]:
    """An annual indicator: baseline 40 in FY2024, targets 50, 60, 70, 80, 90."""
    return {
        "code": code,
        "name": f"Indicator {code}",
        "kind": "effectiveness",
        "unit": "%",
        "baseline_value": 40.0,
        "baseline_period": "FY2024",
        "data_source": "ministry reports",
        "frequency": "annual",
        "targets": [
            {"fiscal_year": fy, "value": 40.0 + 10 * (fy - 2024)} for fy in range(2025, 2030)
        ],
        **overrides,
    }


def strategy_payload(programs: list[str], **overrides: Any) -> dict[str, Any]:
    """A Ghana strategy FY2025-FY2029: one objective (G1.5) with an annual and a
    quarterly indicator, a sustainment plan, and partner commitments."""
    payload: dict[str, Any] = {
        "title": "Ghana border security strategy",
        "country": "GHA",
        "agency": "State/INL",
        "first_fy": 2025,
        "last_fy": 2029,
        "theory_of_change": "If border units are trained and equipped, control improves.",
        "status": "active",
        "objectives": [
            {
                "code": "1",
                "title": "Border control",
                "goal_objective": "G1.5",
                "assumptions": "trained staff stay",
                "programs": programs,
                "indicators": [
                    indicator("1.a"),
                    indicator(
                        "1.b",
                        name="Officers trained",
                        kind="performance",
                        unit="officers",
                        frequency="quarterly",
                        baseline_value=100.0,
                        baseline_period="FY2024-Q4",
                        disaggregations=["sex"],
                        targets=[
                            {"fiscal_year": fy, "value": 100.0 + 100 * (fy - 2024)}
                            for fy in range(2025, 2030)
                        ],
                    ),
                ],
                "sustainment": {
                    "life_cycle_cost": 3_000_000,
                    "transition_on": "2029-09-30",
                    "paid_by": "Ghana Immigration Service budget",
                    "partner_shares": [
                        {"fiscal_year": 2025, "share_bp": 1000},
                        {"fiscal_year": 2029, "share_bp": 8000},
                    ],
                },
            }
        ],
        "commitments": [
            {
                "kind": "cost_share",
                "description": "Ghana pays for fuel",
                "fiscal_year": 2026,
                "amount": 250_000,
            },
            {"kind": "legislation", "description": "Pass the border law", "due_on": "2027-06-30"},
        ],
    }
    payload.update(overrides)
    return payload


def add_strategy(session: Session, programs: list[str], **overrides: Any) -> StrategyPublic:
    return StrategyService(session, ADMIN).create(
        StrategyCreate.model_validate(strategy_payload(programs, **overrides))
    )


def measure(
    session: Session,
    indicator_id: int,
    values: dict[str, float],
    *,
    quality: str = "B",
    actor: Actor = ADMIN,
) -> None:
    """Totals of an indicator by period label."""
    MeasurementService(session, actor).save_many(
        [
            MeasurementIn.model_validate(
                {
                    "indicator": indicator_id,
                    "period": period,
                    "value": value,
                    "quality": quality,
                    "confidence": "medium",
                }
            )
            for period, value in values.items()
        ]
    )


def indicator_id(s: StrategyPublic, code: str) -> int:
    return next(i.id for o in s.objectives for i in o.indicators if i.code == code)
