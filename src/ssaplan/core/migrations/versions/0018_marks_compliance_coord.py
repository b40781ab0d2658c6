"""Markings for compliance and coordination records: restrictions, vetting requests and
other donors' activities carry a marking and a releasable-to list, like programs.

Existing rows read as unmarked (``U``, no list). See docs/markings.md.

On SQLite a column that references another table cannot be added with a default while
foreign keys are enforced, so the table is rebuilt (a batch copy). ``migrate`` runs
SQLite upgrades with foreign keys off, so dropping the old table does not cascade to its
children (waivers, a donor activity's sectors, budgets, ...).

Revision ID: 0018_marks_compliance_coord
Revises: 0017_merge_trust
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_marks_compliance_coord"
down_revision: str | Sequence[str] | None = "0017_merge_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("compliance_restrictions", "compliance_vetting_requests", "donor_activities")
# Ids never reused (AUTOINCREMENT): the rebuilt table keeps the option.
AUTOINCREMENT = {"compliance_restrictions", "compliance_vetting_requests"}


def _columns(table: str) -> list[sa.Column[str]]:
    return [
        sa.Column(
            "marking",
            sa.String(length=32),
            sa.ForeignKey("markings.id", name=f"fk_{table}_marking_markings"),
            nullable=False,
            server_default="U",
        ),
        sa.Column("releasable_to", sa.String(length=400), nullable=False, server_default=""),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # Existing rows become ``U``: the marking must exist before they reference it (the
    # reference data sync names it properly if it has not run yet).
    bind.execute(
        sa.text(
            "INSERT INTO markings (id, name, releasable) SELECT 'U', 'UNCLASSIFIED', :yes "
            "WHERE NOT EXISTS (SELECT 1 FROM markings WHERE id = 'U')"
        ),
        {"yes": True},
    )
    for table in TABLES:
        if not sqlite:
            for column in _columns(table):
                op.add_column(table, column)
            continue
        with op.batch_alter_table(
            table,
            recreate="always",
            table_kwargs={"sqlite_autoincrement": table in AUTOINCREMENT},
        ) as batch_op:
            for column in _columns(table):
                batch_op.add_column(column)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, table_kwargs={"sqlite_autoincrement": table in AUTOINCREMENT}
        ) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_marking_markings", type_="foreignkey")
            batch_op.drop_column("releasable_to")
            batch_op.drop_column("marking")
