"""Cycle proposals carry a marking and a releasable-to list.

``proposals.marking`` (a marking id, ``U`` for every existing row: unmarked) and
``proposals.releasable_to`` (``";GBR;NATO;"``, empty for none): a proposal is shown only
to readers who may see it, and its concurrences, comments and steps inherit it
(docs/markings.md, "Cycle proposals").

On SQLite adding a column with a foreign key rebuilds the table (batch mode); ``migrate``
runs SQLite migrations with foreign-key actions off, so dropping the old table does not
cascade to the concurrences, comments and steps.

Revision ID: 0020_marks_cycle
Revises: 0019_merge_marks
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_marks_cycle"
down_revision: str | Sequence[str] | None = "0019_merge_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Batch mode rebuilds a SQLite table from its reflection, which does not carry
# AUTOINCREMENT: without it a deleted proposal's id would be given out again.
_KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    # batch: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("proposals", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(
            sa.Column("marking", sa.String(length=32), nullable=False, server_default="U")
        )
        batch_op.add_column(
            sa.Column("releasable_to", sa.String(length=400), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_proposals_marking_markings"), "markings", ["marking"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_proposals_marking_markings"), type_="foreignkey")
        batch_op.drop_column("releasable_to")
        batch_op.drop_column("marking")
