"""Join markings and shared login counts into one line of history.

Markings and releasability (0014: programs' releasable-to lists, users' marking ceiling
and audience) and the shared login-failure counts (0016) both branched from
0013_merge_domains; their changes touch different tables, so the merge changes nothing
in the schema (docs/architecture.md, "One migration head").

Revision ID: 0017_merge_trust
Revises: 0014_markings, 0016_login_failures
Create Date: 2026-12-02
"""

from collections.abc import Sequence

revision: str = "0017_merge_trust"
down_revision: str | Sequence[str] | None = ("0014_markings", "0016_login_failures")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
