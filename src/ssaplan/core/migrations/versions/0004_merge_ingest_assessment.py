"""Join the ingest and assessment branches into one line of history.

Both branched from 0001_foundation while being built side by side; their tables are
independent, so the merge changes nothing in the schema. Later revisions build on this.

Revision ID: 0004_merge
Revises: 0002_ingest, 0003_assessment
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0004_merge"
down_revision: str | Sequence[str] | None = ("0002_ingest", "0003_assessment")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
