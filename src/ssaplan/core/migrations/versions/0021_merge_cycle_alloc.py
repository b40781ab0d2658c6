"""Join the two branches from 0019: proposals' markings and allocation's audience.

``0020_marks_cycle`` (a marking and releasable-to list on proposals) and
``0020_alloc_audience`` (``allocation_scenarios.computed_for``) touch different tables,
so the merge changes nothing in the schema (docs/architecture.md, "One migration
head").

Revision ID: 0021_merge_cycle_alloc
Revises: 0020_marks_cycle, 0020_alloc_audience
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "0021_merge_cycle_alloc"
down_revision: str | Sequence[str] | None = ("0020_marks_cycle", "0020_alloc_audience")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
