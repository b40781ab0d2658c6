"""Surge requests carry a marking and a releasable-to list.

``surge_requests.marking`` (a marking id, ``U`` for existing rows) and
``surge_requests.releasable_to`` (``";GBR;NATO;"``, empty for none): a surge request is
shown only to readers who may see it (docs/markings.md, "Monitoring, assessment,
allocation").

Revision ID: 0018_marks_monitoring
Revises: 0017_merge_trust
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_marks_monitoring"
down_revision: str | Sequence[str] | None = "0017_merge_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Batch mode rebuilds a SQLite table from its reflection, which does not carry
# AUTOINCREMENT: without it a deleted request's id would be given out again.
_KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    # batch: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("surge_requests", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(
            sa.Column("marking", sa.String(length=32), nullable=False, server_default="U")
        )
        batch_op.add_column(
            sa.Column("releasable_to", sa.String(length=400), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            "fk_surge_requests_marking_markings", "markings", ["marking"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("surge_requests", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint("fk_surge_requests_marking_markings", type_="foreignkey")
        batch_op.drop_column("releasable_to")
        batch_op.drop_column("marking")
