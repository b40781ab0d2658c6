"""allocation: scenarios, results, jobs

Revision ID: 0011_allocation
Revises: 0005_house
Create Date: 2026-12-02 01:56:34.711171
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_allocation"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("first_fy", sa.Integer(), nullable=False),
        sa.Column("last_fy", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('file','portfolio','form','api','whatif','demo')",
            name=op.f("ck_allocation_scenarios_source_known"),
        ),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["allocation_scenarios.id"],
            name=op.f("fk_allocation_scenarios_base_id_allocation_scenarios"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_scenarios")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "allocation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("scenario_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("funded", sa.Integer(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("choice", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("robust", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["allocation_scenarios.id"],
            name=op.f("fk_allocation_results_scenario_id_allocation_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_results")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("allocation_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_results_scenario_id"), ["scenario_id"], unique=False
        )

    op.create_table(
        "allocation_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued','running','done','failed')",
            name=op.f("ck_allocation_jobs_state_known"),
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 1", name=op.f("ck_allocation_jobs_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["allocation_results.id"],
            name=op.f("fk_allocation_jobs_result_id_allocation_results"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["allocation_scenarios.id"],
            name=op.f("fk_allocation_jobs_scenario_id_allocation_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_jobs")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("allocation_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_jobs_scenario_id"), ["scenario_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("allocation_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_jobs_scenario_id"))

    op.drop_table("allocation_jobs")
    with op.batch_alter_table("allocation_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_results_scenario_id"))

    op.drop_table("allocation_results")
    op.drop_table("allocation_scenarios")
