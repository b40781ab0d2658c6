"""Allocation's declaration: the optimizer that spends limited money where it does most good."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="allocation",
    package="ssaplan.allocation",
    title="Allocation",
    uses=("reference", "portfolio", "assessment", "compliance", "evaluation"),
    models=("ssaplan.allocation.models",),
    api=("ssaplan.allocation.api:router",),
    views=("ssaplan.allocation.views:router",),
    templates=True,
    nav=(Nav("Allocation", "/allocation", 40),),
    commands=(Command(("allocate",), "ssaplan.allocation.cli:allocate"),),
    actions=(
        Action(
            "allocation:write",
            ("planner", "admin"),
            "create, edit and delete allocation scenarios",
            scoped=False,
        ),
        Action(
            "allocation:run",
            ("analyst", "planner", "admin"),
            "solve allocation scenarios and keep their results",
            scoped=False,
        ),
    ),
    demo="ssaplan.allocation.demo:load",
    demo_order=70,  # after compliance (eligibility) and evaluation (evidence)
)
