"""Fixtures of the evaluation tests: a database holding a small registry whose impact
evaluations carry analyses the engine ran (for the pages and the browser test)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssaplan.core.store import Store
from ssaplan.evaluation.demo import _computed_estimates
from ssaplan.evaluation.schemas import EvaluationCreate
from ssaplan.evaluation.service import EvaluationService
from tests.conftest import OPERATOR, Templates, make_user
from tests.evaluation.test_registry import completed


@pytest.fixture
def registry(templates: Templates, tmp_path: Path) -> Iterator[Store]:
    """SQLite: an event-study evaluation, a synthetic-control one, a planned one, a viewer."""
    path = tmp_path / "registry.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    cs, sc = _computed_estimates(7)
    with store.transaction() as s:
        service = EvaluationService(s, OPERATOR)
        service.create(
            EvaluationCreate(
                **completed(
                    title="Investigations training across districts",
                    estimates=[cs.model_dump()],
                    recommendations=[
                        {"text": "Add mentoring.", "response": "accepted", "action": "FY27"},
                        {"text": "Stop the radio component.", "response": "pending"},
                    ],
                )
            )
        )
        service.create(
            EvaluationCreate(
                **completed(
                    title="Maritime security support to Partner A",
                    institution_type="armed_forces",
                    purpose="enable",
                    estimates=[sc.model_dump()],
                )
            )
        )
        service.create(
            EvaluationCreate(
                title="Planned review of border posts",
                evaluation_type="performance",
                objective="G1.1",
                agency="DHS",
            )
        )
    make_user(store, "viewer", "viewer")
    yield store
    store.dispose()
