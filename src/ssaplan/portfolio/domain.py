"""The portfolio's declaration: programs, their money, partners and deliveries."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="portfolio",
    package="ssaplan.portfolio",
    title="The shared portfolio",
    uses=("reference", "coordination"),
    models=("ssaplan.portfolio.models",),
    api=("ssaplan.portfolio.api:router",),
    views=("ssaplan.portfolio.views:router",),
    templates=True,
    nav=(Nav("Portfolio", "/", 10), Nav("Countries", "/countries", 20)),
    commands=(Command(("programs",), "ssaplan.portfolio.cli:app"),),
    actions=(
        Action("program:write", ("planner", "admin"), "create, change and delete programs"),
        Action(
            "program:override",
            ("admin",),
            "correct a program's status against the pipeline rules",
            scoped=False,
        ),
    ),
    demo="ssaplan.portfolio.demo:load",
    demo_order=10,
)
