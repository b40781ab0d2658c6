"""compliance: restrictions and waivers, the rules as data, security-force units, vetting
requests, credible information, the units programs assist and the legal facts of programs.

Built beside 0006 (another domain's branch from 0005_house); the integrator merges the
heads. The rules are not loaded here: the service loads the shipped defaults on first
use, so a database migrated by an older release still gets them.

Revision ID: 0007_compliance
Revises: 0005_house
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_compliance"
down_revision: str | Sequence[str] | None = "0005_house"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_restriction_types",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_restriction_types")),
    )
    op.create_table(
        "compliance_restrictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_compliance_restrictions_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["country"],
            ["countries.iso3"],
            name=op.f("fk_compliance_restrictions_country_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["type"],
            ["compliance_restriction_types.id"],
            name=op.f("fk_compliance_restrictions_type_compliance_restriction_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_restrictions")),
        sa.UniqueConstraint("country", "type", "start_date", name="uq_compliance_restrictions_key"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_restrictions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_restrictions_country"), ["country"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_compliance_restrictions_type"), ["type"], unique=False)

    op.create_table(
        "compliance_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("restriction_type", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("blocks_accounts", sa.JSON(), nullable=False),
        sa.Column("blocks_purposes", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.String(length=16), nullable=False),
        sa.Column("waivable", sa.Boolean(), nullable=False),
        sa.Column("waiver", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "recipients IN ('government','non_government','any')",
            name=op.f("ck_compliance_rules_recipients_known"),
        ),
        sa.ForeignKeyConstraint(
            ["restriction_type"],
            ["compliance_restriction_types.id"],
            name=op.f("fk_compliance_rules_restriction_type_compliance_restriction_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_rules")),
    )
    with op.batch_alter_table("compliance_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_rules_restriction_type"), ["restriction_type"], unique=False
        )

    op.create_table(
        "compliance_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.iso3"], name=op.f("fk_compliance_units_country_countries")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["compliance_units.id"],
            name=op.f("fk_compliance_units_parent_id_compliance_units"),
        ),
        sa.ForeignKeyConstraint(
            ["type"],
            ["institution_types.id"],
            name=op.f("fk_compliance_units_type_institution_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_units")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_units_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_compliance_units_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "compliance_credible_information",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reported", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("remediated_on", sa.Date(), nullable=True),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "remediated_on IS NULL OR remediated_on >= reported",
            name=op.f("ck_compliance_credible_information_remediation_after_report"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["compliance_units.id"],
            name=op.f("fk_compliance_credible_information_unit_id_compliance_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_credible_information")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_credible_information", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_credible_information_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "compliance_waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restriction_id", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_compliance_waivers_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["restriction_id"],
            ["compliance_restrictions.id"],
            name=op.f("fk_compliance_waivers_restriction_id_compliance_restrictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_waivers")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_waivers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_waivers_restriction_id"), ["restriction_id"], unique=False
        )

    op.create_table(
        "compliance_program_assistance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("individual", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(subject_kind = 'unit' AND unit_id IS NOT NULL AND individual IS NULL) OR (subject_kind = 'individual' AND unit_id IS NULL AND individual IS NOT NULL)",
            name=op.f("ck_compliance_program_assistance_one_subject"),
        ),
        sa.CheckConstraint(
            "subject_kind IN ('unit','individual')",
            name=op.f("ck_compliance_program_assistance_subject_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_compliance_program_assistance_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["compliance_units.id"],
            name=op.f("fk_compliance_program_assistance_unit_id_compliance_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_program_assistance")),
        sa.UniqueConstraint(
            "program_id", "individual", name="uq_compliance_program_assistance_individual"
        ),
        sa.UniqueConstraint("program_id", "unit_id", name="uq_compliance_program_assistance_unit"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_program_assistance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_program_assistance_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_program_assistance_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "compliance_program_facts",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "recipient IN ('government','non_government')",
            name=op.f("ck_compliance_program_facts_recipient_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_compliance_program_facts_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_compliance_program_facts")),
    )
    op.create_table(
        "compliance_vetting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("individual", sa.String(length=200), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested", sa.Date(), nullable=False),
        sa.Column("decided", sa.Date(), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'pending' AND decided IS NULL) OR (status <> 'pending' AND decided IS NOT NULL AND decided >= requested)",
            name=op.f("ck_compliance_vetting_requests_decision_dated"),
        ),
        sa.CheckConstraint(
            "(subject_kind = 'unit' AND unit_id IS NOT NULL AND individual IS NULL) OR (subject_kind = 'individual' AND unit_id IS NULL AND individual IS NOT NULL)",
            name=op.f("ck_compliance_vetting_requests_one_subject"),
        ),
        sa.CheckConstraint(
            "status IN ('pending','approved','suspended','denied')",
            name=op.f("ck_compliance_vetting_requests_status_known"),
        ),
        sa.CheckConstraint(
            "subject_kind IN ('unit','individual')",
            name=op.f("ck_compliance_vetting_requests_subject_kind_known"),
        ),
        sa.CheckConstraint(
            "validity_days BETWEEN 1 AND 3650",
            name=op.f("ck_compliance_vetting_requests_validity_range"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_compliance_vetting_requests_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["compliance_units.id"],
            name=op.f("fk_compliance_vetting_requests_unit_id_compliance_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_vetting_requests")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("compliance_vetting_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_vetting_requests_individual"), ["individual"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_vetting_requests_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_vetting_requests_status"), ["status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_vetting_requests_unit_id"), ["unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("compliance_vetting_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_vetting_requests_unit_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_vetting_requests_status"))
        batch_op.drop_index(batch_op.f("ix_compliance_vetting_requests_program_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_vetting_requests_individual"))

    op.drop_table("compliance_vetting_requests")
    op.drop_table("compliance_program_facts")
    with op.batch_alter_table("compliance_program_assistance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_program_assistance_unit_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_program_assistance_program_id"))

    op.drop_table("compliance_program_assistance")
    with op.batch_alter_table("compliance_waivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_waivers_restriction_id"))

    op.drop_table("compliance_waivers")
    with op.batch_alter_table("compliance_credible_information", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_credible_information_unit_id"))

    op.drop_table("compliance_credible_information")
    with op.batch_alter_table("compliance_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_units_parent_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_units_country"))

    op.drop_table("compliance_units")
    with op.batch_alter_table("compliance_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_rules_restriction_type"))

    op.drop_table("compliance_rules")
    with op.batch_alter_table("compliance_restrictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_restrictions_type"))
        batch_op.drop_index(batch_op.f("ix_compliance_restrictions_country"))

    op.drop_table("compliance_restrictions")
    op.drop_table("compliance_restriction_types")
