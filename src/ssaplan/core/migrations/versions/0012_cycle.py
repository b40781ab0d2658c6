"""cycle: calendars, proposals, concurrences, comments, steps

Revision ID: 0012_cycle
Revises: 0005_house
Create Date: 2026-12-02 01:57:52.918026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_cycle"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "cycle_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_cycle_phases_dates_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_phases")),
        sa.UniqueConstraint("fiscal_year", "phase", name="uq_cycle_phases_phase"),
    )
    with op.batch_alter_table("cycle_phases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cycle_phases_fiscal_year"), ["fiscal_year"], unique=False
        )

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("country_iso3", sa.String(length=3), nullable=False),
        sa.Column("institution_type_id", sa.String(length=32), nullable=True),
        sa.Column("level_id", sa.String(length=32), nullable=True),
        sa.Column("purpose_id", sa.String(length=32), nullable=True),
        sa.Column("dac_code", sa.String(length=5), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("sustainment_plan", sa.Text(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("fiscal_years", sa.JSON(), nullable=False),
        sa.Column("requested_total", sa.BigInteger(), nullable=False),
        sa.Column("restriction_flag", sa.Boolean(), nullable=False),
        sa.Column("vetting_flag", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("stage_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("notification_rule", sa.String(length=64), nullable=True),
        sa.Column("waiting_days", sa.Integer(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=True),
        sa.Column("obligated_on", sa.Date(), nullable=True),
        sa.Column("obligated_amount", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('draft','submitted','in_review','revise','approved','notified','cleared','obligated','rejected','withdrawn')",
            name=op.f("ck_proposals_stage_known"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_proposals_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_proposals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_proposals_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_proposals_assessment_id_assessments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["country_iso3"], ["countries.iso3"], name=op.f("fk_proposals_country_iso3_countries")
        ),
        sa.ForeignKeyConstraint(
            ["dac_code"], ["dac_codes.code"], name=op.f("fk_proposals_dac_code_dac_codes")
        ),
        sa.ForeignKeyConstraint(
            ["institution_type_id"],
            ["institution_types.id"],
            name=op.f("fk_proposals_institution_type_id_institution_types"),
        ),
        sa.ForeignKeyConstraint(
            ["level_id"], ["levels.id"], name=op.f("fk_proposals_level_id_levels")
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_proposals_purpose_id_purposes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("code", name=op.f("uq_proposals_code")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proposals_country_iso3"), ["country_iso3"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_proposals_fiscal_year"), ["fiscal_year"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_stage"), ["stage"], unique=False)

    op.create_table(
        "proposal_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["proposal_comments.id"],
            name=op.f("fk_proposal_comments_parent_id_proposal_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_comments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_comments")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("proposal_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_comments_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "proposal_concurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer_kind", sa.String(length=20), nullable=False),
        sa.Column("reviewer", sa.String(length=32), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('concur','concur_with_comments','non_concur')",
            name=op.f("ck_proposal_concurrences_decision_known"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_concurrences_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_concurrences")),
        sa.UniqueConstraint(
            "proposal_id", "round", "reviewer_kind", "reviewer", name="uq_proposal_concurrences_who"
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("proposal_concurrences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_concurrences_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "proposal_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=True),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_steps_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_steps")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("proposal_steps", schema=None) as batch_op:
        batch_op.create_index("ix_proposal_steps_at", ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proposal_steps_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("proposal_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_steps_proposal_id"))
        batch_op.drop_index("ix_proposal_steps_at")

    op.drop_table("proposal_steps")
    with op.batch_alter_table("proposal_concurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_concurrences_proposal_id"))

    op.drop_table("proposal_concurrences")
    with op.batch_alter_table("proposal_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_comments_proposal_id"))

    op.drop_table("proposal_comments")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_stage"))
        batch_op.drop_index(batch_op.f("ix_proposals_fiscal_year"))
        batch_op.drop_index(batch_op.f("ix_proposals_country_iso3"))
        batch_op.drop_index(batch_op.f("ix_proposals_agency_id"))
        batch_op.drop_index(batch_op.f("ix_proposals_account_id"))

    op.drop_table("proposals")
    with op.batch_alter_table("cycle_phases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycle_phases_fiscal_year"))

    op.drop_table("cycle_phases")
