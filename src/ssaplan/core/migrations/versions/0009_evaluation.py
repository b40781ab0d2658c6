"""The evaluation registry: evaluations of programs and objectives, their effect
estimates (with the engine's analysis behind them), recommendations with management
responses, and documents.

Revision ID: 0009_evaluation
Revises: 0005_house
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_evaluation"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("evaluation_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("objective_id", sa.String(length=16), nullable=True),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("institution_type_id", sa.String(length=32), nullable=True),
        sa.Column("purpose_id", sa.String(length=32), nullable=True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("design", sa.Text(), nullable=False),
        sa.Column("evaluator", sa.String(length=300), nullable=False),
        sa.Column("independence", sa.String(length=24), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("management_response", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "evaluation_type IN ('process','performance','impact')",
            name=op.f("ck_evaluations_type_known"),
        ),
        sa.CheckConstraint(
            "independence IN ('internal','independent_office','external')",
            name=op.f("ck_evaluations_independence_known"),
        ),
        sa.CheckConstraint(
            "status IN ('planned','ongoing','completed','cancelled')",
            name=op.f("ck_evaluations_status_known"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_evaluations_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_evaluations_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["institution_type_id"],
            ["institution_types.id"],
            name=op.f("fk_evaluations_institution_type_id_institution_types"),
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"], ["objectives.id"], name=op.f("fk_evaluations_objective_id_objectives")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_evaluations_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_evaluations_purpose_id_purposes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("code", name=op.f("uq_evaluations_code")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evaluations_evaluation_type"), ["evaluation_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluations_objective_id"), ["objective_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluations_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_status"), ["status"], unique=False)

    op.create_table(
        "evaluation_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "size_bytes IS NULL OR size_bytes >= 0",
            name=op.f("ck_evaluation_documents_size_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_documents_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_documents")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("evaluation_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_documents_evaluation_id"), ["evaluation_id"], unique=False
        )

    op.create_table(
        "evaluation_estimates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=False),
        sa.Column("std_error", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("ci_level", sa.Float(), nullable=False),
        sa.Column("outcome_sd", sa.Float(), nullable=True),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("n_treated", sa.Integer(), nullable=True),
        sa.Column("n_control", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "ci_level > 0 AND ci_level < 1", name=op.f("ck_evaluation_estimates_ci_level_range")
        ),
        sa.CheckConstraint(
            "direction IN (1, -1)", name=op.f("ck_evaluation_estimates_direction_sign")
        ),
        sa.CheckConstraint(
            "outcome_sd IS NULL OR outcome_sd > 0",
            name=op.f("ck_evaluation_estimates_outcome_sd_positive"),
        ),
        sa.CheckConstraint(
            "std_error IS NULL OR std_error > 0",
            name=op.f("ck_evaluation_estimates_std_error_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_estimates_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_estimates")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("evaluation_estimates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_estimates_evaluation_id"), ["evaluation_id"], unique=False
        )

    op.create_table(
        "evaluation_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("response", sa.String(length=24), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "response IN ('pending','accepted','partially_accepted','rejected')",
            name=op.f("ck_evaluation_recommendations_response_known"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_recommendations_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_recommendations")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("evaluation_recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_recommendations_evaluation_id"),
            ["evaluation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_recommendations_evaluation_id"))

    op.drop_table("evaluation_recommendations")
    with op.batch_alter_table("evaluation_estimates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_estimates_evaluation_id"))

    op.drop_table("evaluation_estimates")
    with op.batch_alter_table("evaluation_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_documents_evaluation_id"))

    op.drop_table("evaluation_documents")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_status"))
        batch_op.drop_index(batch_op.f("ix_evaluations_program_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_objective_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_evaluation_type"))
        batch_op.drop_index(batch_op.f("ix_evaluations_agency_id"))

    op.drop_table("evaluations")
