"""strategy and monitoring: sector strategies, results frameworks, measurements, reviews,
rule settings, crisis events, the flexible reserve and surge requests

Revision ID: 0008_strategy_monitoring
Revises: 0005_house
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_strategy_monitoring"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_settings",
        sa.Column("section", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("section", name=op.f("pk_monitoring_settings")),
    )
    op.create_table(
        "crisis_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('coup','armed_conflict','unrest','disaster','attack','other')",
            name=op.f("ck_crisis_events_kind_known"),
        ),
        sa.CheckConstraint(
            "severity IN ('moderate','severe')", name=op.f("ck_crisis_events_severity_known")
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_crisis_events_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("crisis_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crisis_events_iso3"), ["iso3"], unique=False)

    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=True),
        sa.Column("region_code", sa.String(length=32), nullable=True),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("first_fy", sa.Integer(), nullable=False),
        sa.Column("last_fy", sa.Integer(), nullable=False),
        sa.Column("theory_of_change", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'country' AND iso3 IS NOT NULL AND region_code IS NULL) OR (kind = 'regional' AND region_code IS NOT NULL AND iso3 IS NULL)",
            name=op.f("ck_strategies_one_partner"),
        ),
        sa.CheckConstraint("kind IN ('country','regional')", name=op.f("ck_strategies_kind_known")),
        sa.CheckConstraint(
            "status IN ('draft','active','closed')", name=op.f("ck_strategies_status_known")
        ),
        sa.CheckConstraint("last_fy >= first_fy", name=op.f("ck_strategies_years_ordered")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_strategies_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_strategies_iso3_countries")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_strategies_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
        sa.UniqueConstraint("code", name=op.f("uq_strategies_code")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strategies_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_strategies_iso3"), ["iso3"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_strategies_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "flexible_reserves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_flexible_reserves_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_flexible_reserves_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flexible_reserves")),
        sa.UniqueConstraint("account_id", "fiscal_year", name="uq_flexible_reserves_key"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "strategy_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("personnel", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('cost_share','legislation','personnel','other')",
            name=op.f("ck_strategy_commitments_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending','met','missed')",
            name=op.f("ck_strategy_commitments_status_known"),
        ),
        sa.CheckConstraint(
            "amount IS NULL OR amount >= 0",
            name=op.f("ck_strategy_commitments_amount_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f("fk_strategy_commitments_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_commitments")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategy_commitments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_commitments_strategy_id"), ["strategy_id"], unique=False
        )

    op.create_table(
        "strategy_objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("goal_objective_id", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assumptions", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_objective_id"],
            ["objectives.id"],
            name=op.f("fk_strategy_objectives_goal_objective_id_objectives"),
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f("fk_strategy_objectives_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_objectives")),
        sa.UniqueConstraint("strategy_id", "code", name="uq_strategy_objectives_code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategy_objectives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_objectives_goal_objective_id"),
            ["goal_objective_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_strategy_objectives_strategy_id"), ["strategy_id"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("immediate", sa.Boolean(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("open_key", sa.String(length=32), nullable=True),
        sa.Column("recommendation", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('continue','scale_up','restructure','suspend','terminate')",
            name=op.f("ck_reviews_decision_known"),
        ),
        sa.CheckConstraint(
            "recommendation IN ('continue','scale_up','restructure','suspend','terminate')",
            name=op.f("ck_reviews_recommendation_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open','decided','superseded')", name=op.f("ck_reviews_status_known")
        ),
        sa.CheckConstraint(
            "trigger IN ('annual','manual','indicator_off_track','assessment_drop','legal_restriction','crisis_event','money_not_moving','delivery_late')",
            name=op.f("ck_reviews_trigger_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_reviews_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("program_id", "cycle", name="uq_reviews_cycle"),
        sa.UniqueConstraint("program_id", "open_key", name="uq_reviews_open"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_status"), ["status"], unique=False)

    op.create_table(
        "strategy_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=True),
        sa.Column("baseline_period", sa.String(length=16), nullable=True),
        sa.Column("data_source", sa.String(length=300), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("disaggregations", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('increase','decrease')",
            name=op.f("ck_strategy_indicators_direction_known"),
        ),
        sa.CheckConstraint(
            "frequency IN ('annual','semiannual','quarterly','monthly')",
            name=op.f("ck_strategy_indicators_frequency_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('effectiveness','performance')",
            name=op.f("ck_strategy_indicators_kind_known"),
        ),
        sa.CheckConstraint(
            "(baseline_value IS NULL) = (baseline_period IS NULL)",
            name=op.f("ck_strategy_indicators_baseline_whole"),
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["strategy_objectives.id"],
            name=op.f("fk_strategy_indicators_objective_id_strategy_objectives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_indicators")),
        sa.UniqueConstraint("objective_id", "code", name="uq_strategy_indicators_code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategy_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_indicators_objective_id"), ["objective_id"], unique=False
        )

    op.create_table(
        "strategy_objective_programs",
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["strategy_objectives.id"],
            name=op.f("fk_strategy_objective_programs_objective_id_strategy_objectives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_strategy_objective_programs_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "objective_id", "program_id", name=op.f("pk_strategy_objective_programs")
        ),
    )
    with op.batch_alter_table("strategy_objective_programs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_objective_programs_program_id"), ["program_id"], unique=False
        )

    op.create_table(
        "strategy_sustainment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("life_cycle_cost", sa.BigInteger(), nullable=False),
        sa.Column("transition_on", sa.Date(), nullable=False),
        sa.Column("paid_by", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "life_cycle_cost >= 0", name=op.f("ck_strategy_sustainment_plans_cost_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["strategy_objectives.id"],
            name=op.f("fk_strategy_sustainment_plans_objective_id_strategy_objectives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_sustainment_plans")),
        sa.UniqueConstraint(
            "objective_id", name=op.f("uq_strategy_sustainment_plans_objective_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "strategy_indicator_targets",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["strategy_indicators.id"],
            name=op.f("fk_strategy_indicator_targets_indicator_id_strategy_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "indicator_id", "fiscal_year", name=op.f("pk_strategy_indicator_targets")
        ),
    )
    op.create_table(
        "strategy_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("disaggregation", sa.JSON(), nullable=False),
        sa.Column("disaggregation_key", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("quality", sa.String(length=1), nullable=False),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "confidence IN ('high','medium','low')",
            name=op.f("ck_strategy_measurements_confidence_known"),
        ),
        sa.CheckConstraint(
            "quality IN ('A','B','C','D')", name=op.f("ck_strategy_measurements_quality_known")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["strategy_indicators.id"],
            name=op.f("fk_strategy_measurements_indicator_id_strategy_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_measurements")),
        sa.UniqueConstraint(
            "indicator_id", "period", "disaggregation_key", name="uq_strategy_measurements_key"
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("strategy_measurements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_measurements_indicator_id"), ["indicator_id"], unique=False
        )

    op.create_table(
        "strategy_sustainment_shares",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "share_bp BETWEEN 0 AND 10000", name=op.f("ck_strategy_sustainment_shares_share_range")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["strategy_sustainment_plans.id"],
            name=op.f("fk_strategy_sustainment_shares_plan_id_strategy_sustainment_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plan_id", "fiscal_year", name=op.f("pk_strategy_sustainment_shares")
        ),
    )
    op.create_table(
        "surge_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("sustainment_plan_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("new_program", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested','approved','refused')",
            name=op.f("ck_surge_requests_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_surge_requests_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_surge_requests_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_surge_requests_iso3_countries")
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["strategy_objectives.id"],
            name=op.f("fk_surge_requests_objective_id_strategy_objectives"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_surge_requests_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sustainment_plan_id"],
            ["strategy_sustainment_plans.id"],
            name=op.f("fk_surge_requests_sustainment_plan_id_strategy_sustainment_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surge_requests")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("surge_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surge_requests_iso3"), ["iso3"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_surge_requests_objective_id"), ["objective_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_surge_requests_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("surge_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surge_requests_status"))
        batch_op.drop_index(batch_op.f("ix_surge_requests_objective_id"))
        batch_op.drop_index(batch_op.f("ix_surge_requests_iso3"))

    op.drop_table("surge_requests")
    op.drop_table("strategy_sustainment_shares")
    with op.batch_alter_table("strategy_measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_measurements_indicator_id"))

    op.drop_table("strategy_measurements")
    op.drop_table("strategy_indicator_targets")
    op.drop_table("strategy_sustainment_plans")
    with op.batch_alter_table("strategy_objective_programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_objective_programs_program_id"))

    op.drop_table("strategy_objective_programs")
    with op.batch_alter_table("strategy_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_indicators_objective_id"))

    op.drop_table("strategy_indicators")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_reviews_program_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("strategy_objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_objectives_strategy_id"))
        batch_op.drop_index(batch_op.f("ix_strategy_objectives_goal_objective_id"))

    op.drop_table("strategy_objectives")
    with op.batch_alter_table("strategy_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_commitments_strategy_id"))

    op.drop_table("strategy_commitments")
    op.drop_table("flexible_reserves")
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategies_region_code"))
        batch_op.drop_index(batch_op.f("ix_strategies_iso3"))
        batch_op.drop_index(batch_op.f("ix_strategies_agency_id"))

    op.drop_table("strategies")
    with op.batch_alter_table("crisis_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crisis_events_iso3"))

    op.drop_table("crisis_events")
    op.drop_table("monitoring_settings")
