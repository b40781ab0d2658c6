"""Migration 0006 gives the policy inputs that exist versions: every tier, judgment,
country's relevance and the importance set start at version 1, so the first change
based on what a user read is accepted and a change based on nothing (0) is stale.
Downgrading drops the versions and keeps the inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from ssaplan.assessment.policy import PolicyService
from ssaplan.core.errors import StaleVersion
from ssaplan.core.store import Store, alembic_config, migrate
from tests.conftest import OPERATOR

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _policy_as_0005_held_it(store: Store) -> None:
    migrate(store, "0005_house")
    from ssaplan.reference.catalog import get_catalog
    from ssaplan.reference.service import sync

    with store.transaction() as session:
        sync(session, OPERATOR, get_catalog())
    rows = (
        "INSERT INTO assessment_priority_tiers (iso3, tier, rationale, set_by, set_at) "
        "VALUES ('KEN', 2, 'key partner', 'pat', :now)",
        "INSERT INTO assessment_objective_relevance (iso3, objective_id, relevance, set_by, "
        "set_at) VALUES ('KEN', 'G1.1', 3, 'pat', :now), ('KEN', 'G2.4', 1, 'pat', :now)",
        "INSERT INTO assessment_objective_importance (objective_id, importance, set_by, set_at) "
        "VALUES ('G1.1', 2.0, 'pat', :now)",
        "INSERT INTO assessment_judgments (iso3, year, measure, value, rationale, assessed_by, "
        "assessed_at) VALUES ('KEN', 2020, 'judgment: political will', 6, 'The law passed.', "
        "'ana', :now)",
    )
    with store.engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"now": NOW})


def test_existing_policy_inputs_start_at_version_1(blank_store: Store) -> None:
    store = blank_store
    _policy_as_0005_held_it(store)
    migrate(store)
    with store.session() as session:
        policy = PolicyService(session, OPERATOR)
        assert policy.versions() == {"tiers": {"KEN": 1}, "relevance": {"KEN": 1}, "importance": 1}
        assert policy.tier("KEN") == {"tier": 2, "rationale": "key partner"}
        assert policy.relevance("KEN") == {"KEN": {"G1.1": 3, "G2.4": 1}}
        [judgment] = policy.judgments("KEN")
        assert judgment["version"] == 1 and judgment["value"] == 6
    with store.transaction() as session:
        policy = PolicyService(session, OPERATOR)
        with pytest.raises(StaleVersion):
            policy.set_tier("KEN", 1, "raised", version=0)
    with store.transaction() as session:
        policy = PolicyService(session, OPERATOR)
        assert policy.set_tier("KEN", 1, "raised", version=1) == {"tier": 1, "rationale": "raised"}
        assert policy.tier_version("KEN") == 2


def test_downgrade_keeps_the_inputs_and_drops_cleared_tiers(blank_store: Store) -> None:
    store = blank_store
    _policy_as_0005_held_it(store)
    migrate(store)
    with store.transaction() as session:
        PolicyService(session, OPERATOR).set_tier("TZA", 3)
        PolicyService(session, OPERATOR).set_tier("TZA", None)  # a cleared row (tier null)
    cfg = alembic_config(store.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005_house")
    with store.engine.connect() as conn:
        tiers = conn.execute(text("SELECT iso3, tier FROM assessment_priority_tiers")).all()
        relevance = conn.execute(
            text("SELECT COUNT(*) FROM assessment_objective_relevance")
        ).scalar_one()
    assert [tuple(t) for t in tiers] == [("KEN", 2)] and relevance == 2
