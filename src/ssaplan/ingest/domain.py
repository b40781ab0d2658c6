"""Ingest's declaration: data in and out in the formats this field uses."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="ingest",
    package="ssaplan.ingest",
    title="Data in and out",
    uses=("reference", "portfolio", "coordination", "assessment"),
    api=("ssaplan.ingest.api:router",),
    views=("ssaplan.ingest.views:router",),
    templates=True,
    nav=(Nav("Data in & out", "/data", 40),),
    commands=(
        Command(("import",), "ssaplan.ingest.cli:import_app"),
        Command(("export",), "ssaplan.ingest.cli:export_app"),
    ),
    actions=(
        Action("data:import", ("planner", "admin"), "import files (within the write scope)"),
        Action(
            "data:export",
            ("viewer", "planner", "analyst", "admin"),
            "export the portfolio (what the user may read)",
            scoped=False,
        ),
    ),
)
