"""Stored strategy records shown back: the public shapes and the audit snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ssaplan.core.audit import jsonable
from ssaplan.portfolio.visibility import decode
from ssaplan.strategy.models import (
    Indicator,
    Measurement,
    PartnerCommitment,
    Strategy,
    StrategyObjective,
    SustainmentPlan,
)
from ssaplan.strategy.schemas import (
    CommitmentPublic,
    IndicatorPublic,
    MeasurementPublic,
    ObjectivePublic,
    SharePublic,
    SustainmentPublic,
    TargetPublic,
)


def indicator_public(i: Indicator, strategy_code: str) -> IndicatorPublic:
    return IndicatorPublic(
        id=i.id,
        objective=i.objective_id,
        strategy=strategy_code,
        code=i.code,
        name=i.name,
        kind=i.kind,
        unit=i.unit,
        direction=i.direction,
        baseline_value=i.baseline_value,
        baseline_period=i.baseline_period,
        data_source=i.data_source,
        frequency=i.frequency,
        disaggregations=list(i.disaggregations or []),
        targets=[TargetPublic(fiscal_year=t.fiscal_year, value=t.value) for t in i.targets],
        version=i.version,
    )


def sustainment_public(p: SustainmentPlan, strategy_code: str) -> SustainmentPublic:
    return SustainmentPublic(
        id=p.id,
        objective=p.objective_id,
        strategy=strategy_code,
        life_cycle_cost=p.life_cycle_cost,
        transition_on=p.transition_on,
        paid_by=p.paid_by,
        description=p.description,
        partner_shares=[
            SharePublic(fiscal_year=s.fiscal_year, share_bp=s.share_bp) for s in p.shares
        ],
        version=p.version,
    )


def objective_public(
    o: StrategyObjective,
    strategy_code: str,
    program_codes: Mapping[int, str],
    goal_names: Mapping[str, str],
) -> ObjectivePublic:
    return ObjectivePublic(
        id=o.id,
        strategy=strategy_code,
        code=o.code,
        title=o.title,
        goal_objective=o.goal_objective_id,
        goal_objective_name=goal_names.get(o.goal_objective_id, ""),
        description=o.description,
        assumptions=o.assumptions,
        # Only the programs the reader may see (``program_codes`` holds those).
        programs=sorted(
            program_codes[link.program_id]
            for link in o.programs
            if link.program_id in program_codes
        ),
        indicators=[indicator_public(i, strategy_code) for i in o.indicators],
        sustainment=sustainment_public(o.sustainment, strategy_code) if o.sustainment else None,
        version=o.version,
    )


def commitment_public(c: PartnerCommitment, strategy_code: str) -> CommitmentPublic:
    return CommitmentPublic(
        id=c.id,
        strategy=strategy_code,
        kind=c.kind,
        description=c.description,
        fiscal_year=c.fiscal_year,
        amount=c.amount,
        personnel=c.personnel,
        due_on=c.due_on,
        status=c.status,
        version=c.version,
    )


def measurement_public(m: Measurement, strategy_code: str) -> MeasurementPublic:
    return MeasurementPublic(
        id=m.id,
        indicator=m.indicator_id,
        strategy=strategy_code,
        period=m.period,
        disaggregation={str(k): str(v) for k, v in (m.disaggregation or {}).items()},
        value=m.value,
        quality=m.quality,
        confidence=m.confidence,
        source=m.source,
        note=m.note,
        collected_on=m.collected_on,
        entered_by=m.entered_by,
        entered_at=m.entered_at,
        version=m.version,
    )


def _plain(value: Any) -> dict[str, Any]:
    return cast(dict[str, Any], jsonable(value))


def strategy_snapshot(s: Strategy) -> dict[str, Any]:
    """The strategy's own fields for the audit trail (children are audited apart)."""
    return _plain(
        {
            "id": s.code,
            "title": s.title,
            "kind": s.kind,
            "country": s.iso3,
            "region": s.region_code,
            "agency": s.agency_id,
            "first_fy": s.first_fy,
            "last_fy": s.last_fy,
            "theory_of_change": s.theory_of_change,
            "status": s.status,
            "marking": s.marking,
            "releasable_to": decode(s.releasable_to),
            "version": s.version,
        }
    )


def objective_snapshot(o: StrategyObjective, program_codes: Mapping[int, str]) -> dict[str, Any]:
    return _plain(
        {
            "code": o.code,
            "title": o.title,
            "goal_objective": o.goal_objective_id,
            "description": o.description,
            "assumptions": o.assumptions,
            "programs": sorted(
                program_codes.get(p.program_id, str(p.program_id)) for p in o.programs
            ),
            "version": o.version,
        }
    )


def indicator_snapshot(i: Indicator) -> dict[str, Any]:
    return _plain(
        {
            "code": i.code,
            "name": i.name,
            "kind": i.kind,
            "unit": i.unit,
            "direction": i.direction,
            "baseline_value": i.baseline_value,
            "baseline_period": i.baseline_period,
            "data_source": i.data_source,
            "frequency": i.frequency,
            "disaggregations": list(i.disaggregations or []),
            "targets": {str(t.fiscal_year): t.value for t in i.targets},
            "version": i.version,
        }
    )


def sustainment_snapshot(p: SustainmentPlan) -> dict[str, Any]:
    return _plain(
        {
            "objective": p.objective_id,
            "life_cycle_cost": p.life_cycle_cost,
            "transition_on": p.transition_on,
            "paid_by": p.paid_by,
            "description": p.description,
            "partner_shares": {str(s.fiscal_year): s.share_bp for s in p.shares},
            "version": p.version,
        }
    )


def commitment_snapshot(c: PartnerCommitment) -> dict[str, Any]:
    return _plain(
        {
            "kind": c.kind,
            "description": c.description,
            "fiscal_year": c.fiscal_year,
            "amount": c.amount,
            "personnel": c.personnel,
            "due_on": c.due_on,
            "status": c.status,
            "version": c.version,
        }
    )


def measurement_snapshot(m: Measurement) -> dict[str, Any]:
    return _plain(
        {
            "indicator": m.indicator_id,
            "period": m.period,
            "disaggregation": dict(m.disaggregation or {}),
            "value": m.value,
            "quality": m.quality,
            "confidence": m.confidence,
            "source": m.source,
            "note": m.note,
            "collected_on": m.collected_on,
            "version": m.version,
        }
    )
