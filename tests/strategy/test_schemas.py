"""The API's vocabularies are the database's: a value the schema accepts is one the table
stores, and the other way round (so a new value cannot be half added)."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from ssaplan.monitoring import models as monitoring_models
from ssaplan.monitoring import rules
from ssaplan.monitoring import schemas as monitoring_schemas
from ssaplan.strategy import models as strategy_models
from ssaplan.strategy import schemas as strategy_schemas


@pytest.mark.parametrize(
    ("literal", "vocabulary"),
    [
        (strategy_schemas.Kind, strategy_models.INDICATOR_KINDS),
        (strategy_schemas.Direction, strategy_models.DIRECTIONS),
        (strategy_schemas.Frequency, strategy_models.FREQUENCIES),
        (strategy_schemas.Quality, strategy_models.QUALITY_GRADES),
        (strategy_schemas.Confidence, strategy_models.CONFIDENCE),
        (strategy_schemas.CommitmentKind, strategy_models.COMMITMENT_KINDS),
        (strategy_schemas.CommitmentStatus, strategy_models.COMMITMENT_STATUSES),
        (strategy_schemas.StrategyStatus, strategy_models.STRATEGY_STATUSES),
        (monitoring_schemas.Recommendation, rules.RECOMMENDATIONS),
        (monitoring_schemas.Trigger, rules.TRIGGERS),
        (monitoring_schemas.ImmediateTrigger, tuple(t for t in rules.TRIGGERS if t != "annual")),
        (monitoring_schemas.CrisisKind, monitoring_models.CRISIS_KINDS),
        (monitoring_schemas.Severity, monitoring_models.SEVERITIES),
    ],
)
def test_each_literal_is_the_models_vocabulary(literal: Any, vocabulary: tuple[str, ...]) -> None:
    assert set(get_args(literal)) == set(vocabulary)
