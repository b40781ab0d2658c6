"""coordination: overlap runs, their pairs and reviewers' marks

- ``overlap_marks``: a reviewer's mark on a pair (confirmed, complementary, dismissed),
  with a note, by whom, when, and a version; one per pair of stable references.
- ``overlap_runs``: each run of overlap detection (settings, inputs, figures, skipped).
- ``overlap_pairs``: the pairs of the latest run, read by the review queue.

Branches from 0005_house; other domains add 0006-0009 in parallel and the integrator
merges the heads (docs/architecture.md, "Migrations: one head").

Revision ID: 0010_coordination
Revises: 0005_house
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_coordination"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overlap_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_ref", sa.String(length=260), nullable=False),
        sa.Column("second_ref", sa.String(length=260), nullable=False),
        sa.Column("first_code", sa.String(length=250), nullable=False),
        sa.Column("second_code", sa.String(length=250), nullable=False),
        sa.Column("mark", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.String(length=64), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "mark IN ('confirmed','complementary','dismissed')",
            name=op.f("ck_overlap_marks_mark_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overlap_marks")),
        sa.UniqueConstraint("first_ref", "second_ref", name="uq_overlap_marks_pair"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "overlap_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("orphan_marks", sa.JSON(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("likely", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("pairs_kept", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overlap_runs")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "overlap_pairs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("a", sa.String(length=250), nullable=False),
        sa.Column("b", sa.String(length=250), nullable=False),
        sa.Column("first_ref", sa.String(length=260), nullable=False),
        sa.Column("second_ref", sa.String(length=260), nullable=False),
        sa.Column("a_first", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("above", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("a_title", sa.String(length=500), nullable=False),
        sa.Column("b_title", sa.String(length=500), nullable=False),
        sa.Column("a_owner", sa.String(length=200), nullable=False),
        sa.Column("b_owner", sa.String(length=200), nullable=False),
        sa.Column("partners", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["overlap_runs.id"],
            name=op.f("fk_overlap_pairs_run_id_overlap_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_overlap_pairs")),
    )
    with op.batch_alter_table("overlap_pairs", schema=None) as batch_op:
        batch_op.create_index("ix_overlap_pairs_refs", ["first_ref", "second_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("overlap_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_overlap_pairs_refs")

    op.drop_table("overlap_pairs")
    op.drop_table("overlap_runs")
    op.drop_table("overlap_marks")
