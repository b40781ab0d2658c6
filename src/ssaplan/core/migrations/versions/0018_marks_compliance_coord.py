"""Markings for compliance and coordination records: restrictions, vetting requests and
other donors' activities carry a marking and a releasable-to list, like programs.

Existing rows read as unmarked (``U``, no list). See docs/markings.md.

On SQLite a column that references another table cannot be added with a default while
foreign keys are enforced, so the table is rebuilt (a batch copy). Dropping the old
table would cascade to its children (waivers, a donor activity's sectors, budgets, ...),
so their rows are kept aside and put back.

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

# Each marked table and the tables whose rows cascade from it.
TABLES: dict[str, tuple[str, ...]] = {
    "compliance_restrictions": ("compliance_waivers",),
    "compliance_vetting_requests": (),
    "donor_activities": (
        "donor_participating_orgs",
        "donor_recipient_countries",
        "donor_recipient_regions",
        "donor_sectors",
        "donor_budgets",
        "donor_transactions",
    ),
}
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


def _kept_aside(children: tuple[str, ...]) -> None:
    for child in children:
        op.execute(f"CREATE TEMPORARY TABLE _keep_{child} AS SELECT * FROM {child}")  # noqa: S608  (our table names)


def _put_back(children: tuple[str, ...]) -> None:
    for child in children:
        op.execute(f"DELETE FROM {child}")  # noqa: S608  (our table names)
        op.execute(f"INSERT INTO {child} SELECT * FROM _keep_{child}")  # noqa: S608
        op.execute(f"DROP TABLE _keep_{child}")


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
    for table, children in TABLES.items():
        if not sqlite:
            for column in _columns(table):
                op.add_column(table, column)
            continue
        _kept_aside(children)
        with op.batch_alter_table(
            table,
            recreate="always",
            table_kwargs={"sqlite_autoincrement": table in AUTOINCREMENT},
        ) as batch_op:
            for column in _columns(table):
                batch_op.add_column(column)
        _put_back(children)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, children in TABLES.items():
        if sqlite:
            _kept_aside(children)
        with op.batch_alter_table(
            table, table_kwargs={"sqlite_autoincrement": table in AUTOINCREMENT}
        ) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_marking_markings", type_="foreignkey")
            batch_op.drop_column("releasable_to")
            batch_op.drop_column("marking")
        if sqlite:
            _put_back(children)
