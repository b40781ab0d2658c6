"""Markings and releasability: programs' releasable-to lists, and what each user may see
(a marking ceiling and an audience).

The markings' order (U < SBU < CUI) is reference data (markings.csv, the catalog), not a
column. ``programs.releasable_to`` lists the partners and organizations a program
may be disclosed to (``";GBR;NATO;"``, empty for none); ``users.marking_ceiling`` (empty:
every marking, so existing users see what they saw) and ``users.audience`` (empty: U.S.
Government staff). See docs/markings.md.

Revision ID: 0014_markings
Revises: 0013_merge_domains
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_markings"
down_revision: str | Sequence[str] | None = "0013_merge_domains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "programs",
        sa.Column("releasable_to", sa.String(length=400), nullable=False, server_default=""),
    )
    op.add_column("users", sa.Column("marking_ceiling", sa.String(length=32), nullable=True))
    op.add_column("users", sa.Column("audience", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("audience")
        batch_op.drop_column("marking_ceiling")
    with op.batch_alter_table("programs") as batch_op:
        batch_op.drop_column("releasable_to")
