"""ingest: donor activities and published U.S. figures

Revision ID: 0002_ingest
Revises: 0001_foundation
Create Date: 2026-11-28 12:54:16.336520
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ingest"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "donor_activities",
        sa.Column("identifier", sa.String(length=250), nullable=False),
        sa.Column("reporting_org_ref", sa.String(length=200), nullable=True),
        sa.Column("reporting_org_type", sa.String(length=20), nullable=True),
        sa.Column("reporting_org_name", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("descriptions", sa.JSON(), nullable=False),
        sa.Column("default_language", sa.String(length=20), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("humanitarian", sa.Boolean(), nullable=True),
        sa.Column("default_aid_type", sa.String(length=20), nullable=True),
        sa.Column("default_finance_type", sa.String(length=20), nullable=True),
        sa.Column("default_flow_type", sa.String(length=20), nullable=True),
        sa.Column("iati_version", sa.String(length=24), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_donor_activities")),
    )
    with op.batch_alter_table("donor_activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_donor_activities_reporting_org_ref"), ["reporting_org_ref"], unique=False
        )

    op.create_table(
        "us_assistance_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=4), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=True),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_us_assistance_figures")),
        sa.UniqueConstraint(
            "source",
            "measure",
            "fiscal_year",
            "period",
            "area",
            "account",
            name=op.f("uq_us_assistance_figures_source"),
        ),
    )
    with op.batch_alter_table("us_assistance_figures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_us_assistance_figures_fiscal_year"), ["fiscal_year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_us_assistance_figures_iso3"), ["iso3"], unique=False)

    op.create_table(
        "donor_budgets",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("amount", sa.String(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("usd", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_budgets_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_budgets")),
    )
    op.create_table(
        "donor_participating_orgs",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=True),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_participating_orgs_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_participating_orgs")),
    )
    with op.batch_alter_table("donor_participating_orgs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_participating_orgs_ref"), ["ref"], unique=False)

    op.create_table(
        "donor_recipient_countries",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("percentage", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_recipient_countries_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_recipient_countries")),
    )
    with op.batch_alter_table("donor_recipient_countries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_donor_recipient_countries_iso3"), ["iso3"], unique=False
        )

    op.create_table(
        "donor_recipient_regions",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("vocabulary", sa.String(length=20), nullable=False),
        sa.Column("percentage", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_recipient_regions_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_recipient_regions")),
    )
    op.create_table(
        "donor_sectors",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("percentage", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_sectors_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_sectors")),
    )
    with op.batch_alter_table("donor_sectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_sectors_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_donor_sectors_vocabulary"), ["vocabulary"], unique=False
        )

    op.create_table(
        "donor_transactions",
        sa.Column("activity_id", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("transaction_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.String(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("usd", sa.BigInteger(), nullable=True),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("provider_name", sa.String(length=500), nullable=False),
        sa.Column("receiver_ref", sa.String(length=200), nullable=True),
        sa.Column("receiver_name", sa.String(length=500), nullable=False),
        sa.Column("aid_type", sa.String(length=20), nullable=True),
        sa.Column("finance_type", sa.String(length=20), nullable=True),
        sa.Column("humanitarian", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["donor_activities.identifier"],
            name=op.f("fk_donor_transactions_activity_id_donor_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "seq", name=op.f("pk_donor_transactions")),
    )
    with op.batch_alter_table("donor_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_transactions_type"), ["type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("donor_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_transactions_type"))

    op.drop_table("donor_transactions")
    with op.batch_alter_table("donor_sectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_sectors_vocabulary"))
        batch_op.drop_index(batch_op.f("ix_donor_sectors_code"))

    op.drop_table("donor_sectors")
    op.drop_table("donor_recipient_regions")
    with op.batch_alter_table("donor_recipient_countries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_recipient_countries_iso3"))

    op.drop_table("donor_recipient_countries")
    with op.batch_alter_table("donor_participating_orgs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_participating_orgs_ref"))

    op.drop_table("donor_participating_orgs")
    op.drop_table("donor_budgets")
    with op.batch_alter_table("us_assistance_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_us_assistance_figures_iso3"))
        batch_op.drop_index(batch_op.f("ix_us_assistance_figures_fiscal_year"))

    op.drop_table("us_assistance_figures")
    with op.batch_alter_table("donor_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_activities_reporting_org_ref"))

    op.drop_table("donor_activities")
