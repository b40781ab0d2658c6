"""Evaluation's demo step: seeded, idempotent, valid through the service, and feeding
the evidence base (run on a small portfolio rather than the whole demo world)."""

from __future__ import annotations

from datetime import date

from ssaplan.core.store import Store
from ssaplan.evaluation.demo import load_demo_evaluations
from ssaplan.evaluation.evidence import evidence_table
from ssaplan.evaluation.service import EvaluationService
from ssaplan.portfolio.schemas import ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR

KINDS = [("police", "build_capacity"), ("justice", "build_capacity"), ("armed_forces", "enable")]


def _programs(store: Store, n: int = 60) -> None:
    with store.transaction() as s:
        service = PortfolioService(s, OPERATOR)
        for i in range(n):
            inst, purpose = KINDS[i % len(KINDS)]
            service.create(
                ProgramCreate(
                    id=f"DEMO-{i:03d}",
                    title=f"Program {i}",
                    agency="State/INL",
                    countries=["KEN"],
                    institution_type=inst,
                    purpose=purpose,
                    start="2024-01-01",
                    end="2028-12-31",
                    status="implementing",
                )
            )


def test_demo_evaluations_are_seeded_and_feed_the_evidence(
    store: Store,
) -> None:
    _programs(store)
    figures = load_demo_evaluations(store, seed=2013, as_of=date(2026, 10, 1))
    assert figures["evaluations"] == 60 and figures["completed_impact"] >= 5
    assert load_demo_evaluations(store, seed=2013, as_of=date(2026, 10, 1))["skipped"]
    with store.session() as s:
        listing = EvaluationService(s, OPERATOR).list_evaluations(limit=None)
        table = evidence_table(s)
    assert {e.evaluation_type for e in listing.items} == {"impact", "performance", "process"}
    assert all(e.program is not None for e in listing.items)
    assert len(table.kinds) == figures["evidence_kinds"] >= 2
    with store.session() as s:
        service = EvaluationService(s, OPERATOR)
        analyses = [
            x.analysis["method"]
            for item in listing.items
            for x in service.get(item.id).estimates
            if x.analysis is not None
        ]
    assert sorted(analyses) == ["cs", "synth"]  # the two the engine really ran
