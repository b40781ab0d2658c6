"""Policy inputs get versions, so a stale change is refused (409) as for programs.

- ``assessment_priority_tiers`` gets ``version``, and ``tier`` may be null: a cleared
  tier keeps its row so its version keeps counting.
- ``assessment_judgments`` gets ``version``.
- ``assessment_relevance_sets``: the version of each country's relevance, which is set
  as a whole; one row for every country that has relevance rows now.
- ``assessment_importance_sets``: the version of the objective importance set (one
  row, written now if any importance has been set).

Existing rows start at version 1. Frameworks already have versions (a change names the
``base_version`` it was based on); they need no new column.

Revision ID: 0006_policy_versions
Revises: 0005_house
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_policy_versions"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)


def upgrade() -> None:
    # On SQLite making ``tier`` nullable rebuilds the table (nothing refers to it).
    with op.batch_alter_table("assessment_priority_tiers", schema=None) as batch_op:
        batch_op.add_column(_version())
        batch_op.alter_column("tier", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("assessment_judgments", schema=None) as batch_op:
        batch_op.add_column(_version())

    op.create_table(
        "assessment_relevance_sets",
        sa.Column("iso3", sa.String(length=3), nullable=False),
        _version(),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_assessment_relevance_sets_iso3_countries")
        ),
        sa.PrimaryKeyConstraint("iso3", name=op.f("pk_assessment_relevance_sets")),
    )
    op.create_table(
        "assessment_importance_sets",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        _version(),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_assessment_importance_sets_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_importance_sets")),
    )
    # The sets as they stand, at version 1; "set by" is the last to change any row of
    # the set (MAX over the rows: exact when one person set them, as the demo does).
    op.execute(
        "INSERT INTO assessment_relevance_sets (iso3, version, set_by, set_at) "
        "SELECT iso3, 1, MAX(set_by), MAX(set_at) FROM assessment_objective_relevance "
        "GROUP BY iso3"
    )
    op.execute(
        "INSERT INTO assessment_importance_sets (id, version, set_by, set_at) "
        "SELECT 1, 1, s.set_by, s.set_at FROM (SELECT COUNT(*) AS n, MAX(set_by) AS set_by, "
        "MAX(set_at) AS set_at FROM assessment_objective_importance) s WHERE s.n > 0"
    )


def downgrade() -> None:
    op.drop_table("assessment_importance_sets")
    op.drop_table("assessment_relevance_sets")
    with op.batch_alter_table("assessment_judgments", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.execute("DELETE FROM assessment_priority_tiers WHERE tier IS NULL")
    with op.batch_alter_table("assessment_priority_tiers", schema=None) as batch_op:
        batch_op.alter_column("tier", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("version")
