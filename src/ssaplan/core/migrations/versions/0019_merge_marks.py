"""Join the three markings branches into one line of history.

Strategies and evaluations (0018_marks_strategy_eval), compliance and coordination
records (0018_marks_compliance_coord) and surge requests (0018_marks_monitoring) each
gained a marking and a releasable-to list, branching from 0017_merge_trust; they touch
different tables, so the merge changes nothing in the schema (docs/architecture.md,
"One migration head").

Revision ID: 0019_merge_marks
Revises: 0018_marks_strategy_eval, 0018_marks_compliance_coord, 0018_marks_monitoring
Create Date: 2026-12-02
"""

from collections.abc import Sequence

revision: str = "0019_merge_marks"
down_revision: str | Sequence[str] | None = (
    "0018_marks_strategy_eval",
    "0018_marks_compliance_coord",
    "0018_marks_monitoring",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
