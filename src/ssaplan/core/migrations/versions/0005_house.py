"""The house: role assignments per scope, stable program identities, money by account
and partner share, stable audit identities.

- ``role_assignments`` replaces ``users.role``: each user keeps their role, planners
  within their agency, everyone else everywhere (as before).
- ``programs`` gets a surrogate integer key (``id``, never reused) and keeps its
  human-readable identifier as ``code``; child rows point at the surrogate key.
- budget lines get their own id and an account (the program's main account for
  existing lines), keyed by program x fiscal year x account.
- partners get shares in basis points (equal, largest remainder) so money splits
  among them to the dollar.
- deliveries keep their ids.
- audit records get ``entity_ref`` (a record's stable identity across renames); old
  records keep hashing without it.

Data are copied through scratch tables (``CREATE TABLE ... AS SELECT``), which works
the same on SQLite and PostgreSQL, then the scratch tables are dropped.

Revision ID: 0005_house
Revises: 0004_merge
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_house"
down_revision: str | Sequence[str] | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PORTFOLIO = (
    "programs",
    "program_countries",
    "program_regions",
    "program_objectives",
    "budget_lines",
    "milestones",
)
FULL_SHARE = 10_000


def _role_assignments() -> None:
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("scope_kind", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "scope_kind IN ('all','agency','bureau','country')",
            name=op.f("ck_role_assignments_scope_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_role_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignments")),
        sa.UniqueConstraint(
            "user_id", "role", "scope_kind", "scope_id", name="uq_role_assignments_scope"
        ),
    )
    op.create_index(
        op.f("ix_role_assignments_user_id"), "role_assignments", ["user_id"], unique=False
    )
    op.execute(
        "INSERT INTO role_assignments (user_id, role, scope_kind, scope_id, granted_at, granted_by) "
        "SELECT id, role, CASE WHEN role = 'planner' THEN 'agency' ELSE 'all' END, "
        "CASE WHEN role = 'planner' THEN agency_id ELSE '' END, created_at, 'migration 0005' "
        "FROM users"
    )
    # A plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild would drop and
    # recreate ``users``, and on SQLite that cascades to the rows just inserted.
    op.execute("ALTER TABLE users DROP COLUMN role")


def _audit_refs() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity_ref", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_audit_records_entity_ref"), ["entity_ref"], unique=False
        )


def _new_portfolio_tables() -> None:
    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
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
        sa.UniqueConstraint("code", name=op.f("uq_programs_code")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_programs_account_id"), "programs", ["account_id"], unique=False)
    op.create_index(op.f("ix_programs_agency_id"), "programs", ["agency_id"], unique=False)
    op.create_index(op.f("ix_programs_status"), "programs", ["status"], unique=False)
    op.create_table(
        "budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("planned", sa.BigInteger(), nullable=False),
        sa.Column("obligated", sa.BigInteger(), nullable=False),
        sa.Column("disbursed", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "planned >= 0 AND obligated >= 0 AND disbursed >= 0",
            name=op.f("ck_budget_lines_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_budget_lines_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_budget_lines_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_lines")),
        sa.UniqueConstraint("program_id", "fiscal_year", "account_id", name="uq_budget_lines_key"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_budget_lines_account_id"), "budget_lines", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_budget_lines_fiscal_year"), "budget_lines", ["fiscal_year"], unique=False
    )
    op.create_index(
        op.f("ix_budget_lines_program_id"), "budget_lines", ["program_id"], unique=False
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
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
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_milestones_program_id"), "milestones", ["program_id"], unique=False)
    op.create_table(
        "program_countries",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "share_bp BETWEEN 0 AND 10000", name=op.f("ck_program_countries_share_range")
        ),
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
    op.create_index(op.f("ix_program_countries_iso3"), "program_countries", ["iso3"], unique=False)
    op.create_table(
        "program_objectives",
        sa.Column("program_id", sa.Integer(), nullable=False),
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
    op.create_index(
        op.f("ix_program_objectives_objective_id"),
        "program_objectives",
        ["objective_id"],
        unique=False,
    )
    op.create_table(
        "program_regions",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "share_bp BETWEEN 0 AND 10000", name=op.f("ck_program_regions_share_range")
        ),
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
    op.create_index(
        op.f("ix_program_regions_region_code"), "program_regions", ["region_code"], unique=False
    )


def _copy_portfolio() -> None:
    program_columns = (
        "title, description, agency_id, account_id, institution_type_id, level_id, purpose_id, "
        "dac_code, start_date, end_date, status, marking, source, version, created_at, updated_at"
    )
    copy_programs = (
        f"INSERT INTO programs (code, {program_columns}) "  # noqa: S608 - fixed names, no input
        f"SELECT id, {program_columns} FROM _m_programs ORDER BY id"
    )
    op.execute(copy_programs)
    op.execute(
        "INSERT INTO program_countries (program_id, iso3, share_bp) "
        "SELECT p.id, c.iso3, 0 FROM _m_program_countries c JOIN programs p ON p.code = c.program_id"
    )
    op.execute(
        "INSERT INTO program_regions (program_id, region_code, share_bp) "
        "SELECT p.id, r.region_code, 0 FROM _m_program_regions r "
        "JOIN programs p ON p.code = r.program_id"
    )
    op.execute(
        "INSERT INTO program_objectives (program_id, objective_id) "
        "SELECT p.id, o.objective_id FROM _m_program_objectives o "
        "JOIN programs p ON p.code = o.program_id"
    )
    op.execute(
        "INSERT INTO budget_lines (program_id, fiscal_year, account_id, planned, obligated, "
        "disbursed) SELECT p.id, b.fiscal_year, p.account_id, b.planned, b.obligated, b.disbursed "
        "FROM _m_budget_lines b JOIN programs p ON p.code = b.program_id "
        "ORDER BY p.id, b.fiscal_year"
    )
    op.execute(
        "INSERT INTO milestones (id, program_id, name, requested_on, approved_on, obligated_on, "
        "delivered_on) SELECT m.id, p.id, m.name, m.requested_on, m.approved_on, m.obligated_on, "
        "m.delivered_on FROM _m_milestones m JOIN programs p ON p.code = m.program_id ORDER BY m.id"
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('milestones', 'id'), "
            "COALESCE((SELECT MAX(id) FROM milestones), 0) + 1, false)"
        )
    # Equal shares by largest remainder: countries then regions, each in code order; the
    # first (10000 mod n) partners get one basis point more.
    partners: dict[int, list[tuple[str, str]]] = {}
    for pid, code in bind.execute(
        sa.text("SELECT program_id, iso3 FROM program_countries ORDER BY program_id, iso3")
    ):
        partners.setdefault(pid, []).append(("program_countries", code))
    for pid, code in bind.execute(
        sa.text(
            "SELECT program_id, region_code FROM program_regions ORDER BY program_id, region_code"
        )
    ):
        partners.setdefault(pid, []).append(("program_regions", code))
    updates: dict[str, list[dict[str, object]]] = {"program_countries": [], "program_regions": []}
    for pid, rows in partners.items():
        base, extra = divmod(FULL_SHARE, len(rows))
        for i, (table, code) in enumerate(rows):
            updates[table].append({"pid": pid, "code": code, "bp": base + (1 if i < extra else 0)})
    if updates["program_countries"]:
        bind.execute(
            sa.text(
                "UPDATE program_countries SET share_bp = :bp WHERE program_id = :pid AND iso3 = :code"
            ),
            updates["program_countries"],
        )
    if updates["program_regions"]:
        bind.execute(
            sa.text(
                "UPDATE program_regions SET share_bp = :bp "
                "WHERE program_id = :pid AND region_code = :code"
            ),
            updates["program_regions"],
        )


def upgrade() -> None:
    _role_assignments()
    _audit_refs()
    for table in PORTFOLIO:
        op.execute(f"CREATE TABLE _m_{table} AS SELECT * FROM {table}")  # noqa: S608 - fixed names
    for table in reversed(PORTFOLIO):
        op.drop_table(table)
    _new_portfolio_tables()
    _copy_portfolio()
    for table in PORTFOLIO:
        op.drop_table(f"_m_{table}")


def downgrade() -> None:
    raise NotImplementedError("0005_house is not reversible: restore a backup instead")
