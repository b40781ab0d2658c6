"""assessment: indicators, frameworks, priorities, judgments, assessments

Revision ID: 0003_assessment
Revises: 0001_foundation
Create Date: 2026-11-28 12:52:26.774286
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_assessment"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "assessment_frameworks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_frameworks")),
        sa.UniqueConstraint("name", "version", name="uq_assessment_frameworks_version"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("framework_name", sa.String(length=100), nullable=False),
        sa.Column("framework_version", sa.Integer(), nullable=True),
        sa.Column("framework_sha256", sa.String(length=64), nullable=False),
        sa.Column("framework_rows", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("analyses", sa.JSON(), nullable=False),
        sa.Column("countries_assessed", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_year"), ["year"], unique=False)

    op.create_table(
        "assessment_countries",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=True),
        sa.Column("priority", sa.Float(), nullable=True),
        sa.Column("completeness", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("rank_p05", sa.Integer(), nullable=True),
        sa.Column("rank_p95", sa.Integer(), nullable=True),
        sa.Column("p_top", sa.Float(), nullable=True),
        sa.Column("quadrant", sa.String(length=32), nullable=True),
        sa.Column("constructs", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("judgments", sa.JSON(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_countries_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_assessment_countries_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("assessment_id", "iso3", name=op.f("pk_assessment_countries")),
    )
    op.create_table(
        "assessment_framework_measures",
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=200), nullable=False),
        sa.Column("construct", sa.String(length=200), nullable=False),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("measure_weight", sa.Float(), nullable=False),
        sa.Column("construct_weight", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "direction IN (1, -1)", name=op.f("ck_assessment_framework_measures_direction_sign")
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["assessment_frameworks.id"],
            name=op.f("fk_assessment_framework_measures_framework_id_assessment_frameworks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "framework_id", "position", name=op.f("pk_assessment_framework_measures")
        ),
    )
    op.create_table(
        "assessment_judgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("assessed_by", sa.String(length=64), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "value >= 0 AND value <= 10", name=op.f("ck_assessment_judgments_value_range")
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_assessment_judgments_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_judgments")),
        sa.UniqueConstraint("iso3", "year", "measure", name="uq_assessment_judgments_key"),
    )
    with op.batch_alter_table("assessment_judgments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_judgments_iso3"), ["iso3"], unique=False)

    op.create_table(
        "assessment_objective_importance",
        sa.Column("objective_id", sa.String(length=16), nullable=False),
        sa.Column("importance", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "importance >= 0",
            name=op.f("ck_assessment_objective_importance_importance_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name=op.f("fk_assessment_objective_importance_objective_id_objectives"),
        ),
        sa.PrimaryKeyConstraint("objective_id", name=op.f("pk_assessment_objective_importance")),
    )
    op.create_table(
        "assessment_objective_relevance",
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("objective_id", sa.String(length=16), nullable=False),
        sa.Column("relevance", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "relevance BETWEEN 0 AND 3",
            name=op.f("ck_assessment_objective_relevance_relevance_range"),
        ),
        sa.ForeignKeyConstraint(
            ["iso3"],
            ["countries.iso3"],
            name=op.f("fk_assessment_objective_relevance_iso3_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name=op.f("fk_assessment_objective_relevance_objective_id_objectives"),
        ),
        sa.PrimaryKeyConstraint(
            "iso3", "objective_id", name=op.f("pk_assessment_objective_relevance")
        ),
    )
    op.create_table(
        "assessment_priority_tiers",
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tier BETWEEN 1 AND 4", name=op.f("ck_assessment_priority_tiers_tier_range")
        ),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_assessment_priority_tiers_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("iso3", name=op.f("pk_assessment_priority_tiers")),
    )
    op.create_table(
        "indicator_observations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("std_error", sa.Float(), nullable=True),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_indicator_observations_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_observations")),
        sa.UniqueConstraint(
            "iso3", "year", "measure", "source", name="uq_indicator_observations_key"
        ),
    )
    with op.batch_alter_table("indicator_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_observations_measure_year", ["measure", "year"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("indicator_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_observations_measure_year")

    op.drop_table("indicator_observations")
    op.drop_table("assessment_priority_tiers")
    op.drop_table("assessment_objective_relevance")
    op.drop_table("assessment_objective_importance")
    with op.batch_alter_table("assessment_judgments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_judgments_iso3"))

    op.drop_table("assessment_judgments")
    op.drop_table("assessment_framework_measures")
    op.drop_table("assessment_countries")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_year"))

    op.drop_table("assessments")
    op.drop_table("assessment_frameworks")
