"""foundation: reference, users, audit, portfolio

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-28 12:30:51.451806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "agencies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["agencies.id"], name=op.f("fk_agencies_parent_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_records_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_records_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "countries",
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("iso2", sa.String(length=2), nullable=False),
        sa.Column("numeric", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("official_name", sa.String(length=200), nullable=False),
        sa.Column("bureau", sa.String(length=16), nullable=True),
        sa.Column("combatant_command", sa.String(length=16), nullable=True),
        sa.Column("un_region", sa.String(length=64), nullable=True),
        sa.Column("un_subregion", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sovereign_iso3", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("iso3", name=op.f("pk_countries")),
    )
    op.create_table(
        "dac_codes",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_dac_codes")),
    )
    op.create_table(
        "institution_types",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_types")),
    )
    op.create_table(
        "levels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_levels")),
    )
    op.create_table(
        "markings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("releasable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markings")),
    )
    op.create_table(
        "objectives",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("goal_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["objectives.id"], name=op.f("fk_objectives_goal_id_objectives")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
    )
    op.create_table(
        "purposes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purposes")),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("availability_years", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_accounts_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "country_regions",
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_country_regions_iso3_countries")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_country_regions_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("iso3", "region_code", name=op.f("pk_country_regions")),
    )
    with op.batch_alter_table("country_regions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_country_regions_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_users_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "programs",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("institution_type_id", sa.String(length=32), nullable=True),
        sa.Column("level_id", sa.String(length=32), nullable=True),
        sa.Column("purpose_id", sa.String(length=32), nullable=True),
        sa.Column("dac_code", sa.String(length=5), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marking", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed','approved','notified','obligated','implementing','completed','suspended','terminated')",
            name=op.f("ck_programs_status_known"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_programs_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_programs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_programs_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["dac_code"], ["dac_codes.code"], name=op.f("fk_programs_dac_code_dac_codes")
        ),
        sa.ForeignKeyConstraint(
            ["institution_type_id"],
            ["institution_types.id"],
            name=op.f("fk_programs_institution_type_id_institution_types"),
        ),
        sa.ForeignKeyConstraint(
            ["level_id"], ["levels.id"], name=op.f("fk_programs_level_id_levels")
        ),
        sa.ForeignKeyConstraint(
            ["marking"], ["markings.id"], name=op.f("fk_programs_marking_markings")
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_programs_purpose_id_purposes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programs_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_status"), ["status"], unique=False)

    op.create_table(
        "budget_lines",
        sa.Column("program_id", sa.String(length=200), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("planned", sa.BigInteger(), nullable=False),
        sa.Column("obligated", sa.BigInteger(), nullable=False),
        sa.Column("disbursed", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "planned >= 0 AND obligated >= 0 AND disbursed >= 0",
            name=op.f("ck_budget_lines_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_budget_lines_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "fiscal_year", name=op.f("pk_budget_lines")),
    )
    with op.batch_alter_table("budget_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_budget_lines_fiscal_year"), ["fiscal_year"], unique=False
        )

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("obligated_on", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_milestones_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_program_id"), ["program_id"], unique=False)

    op.create_table(
        "program_countries",
        sa.Column("program_id", sa.String(length=200), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["iso3"], ["countries.iso3"], name=op.f("fk_program_countries_iso3_countries")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_countries_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "iso3", name=op.f("pk_program_countries")),
    )
    with op.batch_alter_table("program_countries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_countries_iso3"), ["iso3"], unique=False)

    op.create_table(
        "program_objectives",
        sa.Column("program_id", sa.String(length=200), nullable=False),
        sa.Column("objective_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name=op.f("fk_program_objectives_objective_id_objectives"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_objectives_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "objective_id", name=op.f("pk_program_objectives")),
    )
    with op.batch_alter_table("program_objectives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_objectives_objective_id"), ["objective_id"], unique=False
        )

    op.create_table(
        "program_regions",
        sa.Column("program_id", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_regions_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_program_regions_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("program_id", "region_code", name=op.f("pk_program_regions")),
    )
    with op.batch_alter_table("program_regions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_regions_region_code"), ["region_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("program_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_regions_region_code"))

    op.drop_table("program_regions")
    with op.batch_alter_table("program_objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_objectives_objective_id"))

    op.drop_table("program_objectives")
    with op.batch_alter_table("program_countries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_countries_iso3"))

    op.drop_table("program_countries")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_program_id"))

    op.drop_table("milestones")
    with op.batch_alter_table("budget_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budget_lines_fiscal_year"))

    op.drop_table("budget_lines")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programs_status"))
        batch_op.drop_index(batch_op.f("ix_programs_agency_id"))
        batch_op.drop_index(batch_op.f("ix_programs_account_id"))

    op.drop_table("programs")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
    op.drop_table("users")
    with op.batch_alter_table("country_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_country_regions_region_code"))

    op.drop_table("country_regions")
    op.drop_table("accounts")
    op.drop_table("regions")
    op.drop_table("purposes")
    op.drop_table("objectives")
    op.drop_table("markings")
    op.drop_table("levels")
    op.drop_table("institution_types")
    op.drop_table("dac_codes")
    op.drop_table("countries")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_entity")
        batch_op.drop_index(batch_op.f("ix_audit_records_at"))

    op.drop_table("audit_records")
    op.drop_table("audit_head")
    op.drop_table("app_settings")
    op.drop_table("agencies")
