"""Saved allocation scenarios record whose view of the portfolio they were built for.

``allocation_scenarios.computed_for`` (JSON, the audience a scenario built from the
portfolio was computed for; NULL for one typed or uploaded): a scenario's candidates
and account marks sum the programs its builder could see, so a narrower reader may not
read it (docs/markings.md, "Allocation"). Scenarios built before this read as built for
U.S. Government staff without a ceiling (the service's rule for NULL on a portfolio or
demo scenario), which hides them from every narrower reader. A plain ADD COLUMN: no
table rebuild on SQLite.

Revision ID: 0020_alloc_audience
Revises: 0019_merge_marks
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_alloc_audience"
down_revision: str | Sequence[str] | None = "0019_merge_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("allocation_scenarios", sa.Column("computed_for", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "allocation_scenarios", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("computed_for")
