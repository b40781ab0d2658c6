"""The administration domain's declaration."""

from ssaplan.core.spec import Command, Domain, Nav

DOMAIN = Domain(
    name="admin",
    package="ssaplan.admin",
    title="Administration",
    # The audit trail shows a record's audit records only to readers who may see the
    # record (admin.trail reads the marked records of these domains).
    uses=(
        "reference",
        "portfolio",
        "strategy",
        "evaluation",
        "monitoring",
        "compliance",
        "coordination",
        "cycle",
        "allocation",
    ),
    api=("ssaplan.admin.api:router",),
    views=("ssaplan.admin.views:router",),
    templates=True,
    nav=(Nav("Admin", "/admin", 90, action="user:manage"),),
    commands=(
        Command(("user",), "ssaplan.admin.cli:user_app"),
        Command(("audit",), "ssaplan.admin.cli:audit_app"),
        Command(("backup",), "ssaplan.admin.cli:backup_command"),
        Command(("restore",), "ssaplan.admin.cli:restore_command"),
    ),
)
