"""Markings on strategies and evaluations: each carries its own marking and releasable-to
list, as programs do (docs/markings.md).

``marking`` names a row of ``markings`` (``U`` for every existing row: unmarked);
``releasable_to`` the partners and organizations it may be disclosed to (``";GBR;NATO;"``,
empty for none). A strategy's objectives, indicators, measurements, sustainment plans and
commitments, and an evaluation's estimates, recommendations and documents, inherit them.

On SQLite adding a column with a foreign key rebuilds the table (batch mode); ``migrate``
runs SQLite migrations with foreign-key actions off, so dropping the old table does not
cascade to the children's rows.

Revision ID: 0018_marks_strategy_eval
Revises: 0017_merge_trust
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_marks_strategy_eval"
down_revision: str | Sequence[str] | None = "0017_merge_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("strategies", "evaluations")
# Batch mode rebuilds a SQLite table from its reflection, which does not carry
# AUTOINCREMENT: without it a deleted record's id would be given out again.
_KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
            batch_op.add_column(
                sa.Column("marking", sa.String(length=32), nullable=False, server_default="U")
            )
            batch_op.add_column(
                sa.Column("releasable_to", sa.String(length=400), nullable=False, server_default="")
            )
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_marking_markings"), "markings", ["marking"], ["id"]
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_marking_markings"), type_="foreignkey")
            batch_op.drop_column("releasable_to")
            batch_op.drop_column("marking")
