"""Join the domains built side by side into one line of history.

Policy versions, compliance, strategy and monitoring, evaluation, coordination,
allocation and the planning cycle each branched from 0005_house. Their tables are
independent of each other, so the merge changes nothing in the schema; later revisions
build on this one (docs/architecture.md, "One migration head").

Revision ID: 0013_merge_domains
Revises: 0006_policy_versions, 0007_compliance, 0008_strategy_monitoring,
    0009_evaluation, 0010_coordination, 0011_allocation, 0012_cycle
Create Date: 2026-12-02
"""

from collections.abc import Sequence

revision: str = "0013_merge_domains"
down_revision: str | Sequence[str] | None = (
    "0006_policy_versions",
    "0007_compliance",
    "0008_strategy_monitoring",
    "0009_evaluation",
    "0010_coordination",
    "0011_allocation",
    "0012_cycle",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
