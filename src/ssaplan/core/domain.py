"""Core's declaration: the base roles and the actions every installation has."""

from ssaplan.core.spec import Action, Domain, Role

DOMAIN = Domain(
    name="core",
    package="ssaplan.core",
    title="Users, permissions and the audit trail",
    models=("ssaplan.core.models",),
    roles=(
        Role("viewer", "reads everything it may see", rank=0),
        Role("analyst", "reads and runs analyses", rank=1),
        Role("planner", "writes the records of its scope (by default its agency)", 2, "agency"),
        Role("admin", "does everything, including users, roles and reference data", rank=9),
    ),
    actions=(
        Action(
            "read",
            ("viewer", "analyst", "planner", "admin"),
            "see the shared portfolio and analyses",
            scoped=False,
        ),
        Action("user:manage", ("admin",), "add users and set their roles", scoped=False),
        Action("audit:read", ("admin",), "search and verify the audit trail", scoped=False),
    ),
)
