"""The assessment's declaration: the common assessment framework."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="assessment",
    package="ssaplan.assessment",
    title="Common assessment framework",
    uses=("reference", "portfolio"),
    models=("ssaplan.assessment.models",),
    api=("ssaplan.assessment.api:router",),
    views=("ssaplan.assessment.views:router",),
    templates=True,
    nav=(Nav("Assessment", "/assessment", 30),),
    commands=(
        Command(("assess",), "ssaplan.assessment.cli:assess"),
        Command(("import", "indicators"), "ssaplan.assessment.cli:import_indicators"),
    ),
    actions=(
        Action("analysis:run", ("analyst", "admin"), "run and save analyses", scoped=False),
        Action(
            "assessment:policy",
            ("admin",),
            "set priority tiers, judgments, objective relevance and frameworks",
            scoped=False,
        ),
    ),
    demo="ssaplan.assessment.demo:load",
    demo_order=20,
)
