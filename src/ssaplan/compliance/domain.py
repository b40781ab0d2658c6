"""Compliance's declaration: statutory restrictions and human-rights vetting."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="compliance",
    package="ssaplan.compliance",
    title="Restrictions and human-rights vetting",
    uses=("reference", "portfolio"),
    models=("ssaplan.compliance.models",),
    api=("ssaplan.compliance.api:router",),
    views=("ssaplan.compliance.views:router",),
    templates=True,
    nav=(Nav("Compliance", "/compliance", 50),),
    commands=(Command(("comply",), "ssaplan.compliance.cli:app"),),
    actions=(
        Action(
            "compliance:manage",
            ("admin",),
            "record restrictions and waivers, edit the compliance rules and settings, "
            "record the remediation of credible information",
            scoped=False,
        ),
        Action(
            "compliance:vet",
            ("planner", "admin"),
            "request and record human-rights vetting, assisted units and the legal facts of "
            "the programs in one's scope; register units and credible information",
        ),
    ),
    demo="ssaplan.compliance.demo:load",
    demo_order=30,
)
