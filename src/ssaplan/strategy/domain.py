"""The strategy domain's declaration: sector strategies, results frameworks, measurements."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="strategy",
    package="ssaplan.strategy",
    title="Strategies and results frameworks",
    uses=("reference", "portfolio"),
    models=("ssaplan.strategy.models",),
    api=("ssaplan.strategy.api:router",),
    views=("ssaplan.strategy.views:router",),
    templates=True,
    nav=(Nav("Strategies", "/strategies", 50),),
    commands=(
        Command(("strategies",), "ssaplan.strategy.cli:app"),
        Command(("import", "measurements"), "ssaplan.strategy.cli:import_measurements"),
    ),
    actions=(
        Action(
            "strategy:write",
            ("planner", "admin"),
            "create and change strategies, objectives, indicators, sustainment plans, "
            "partner commitments and the programs serving objectives",
        ),
        Action(
            "measurement:write",
            ("planner", "analyst", "admin"),
            "enter and import measurements of indicators",
        ),
    ),
    demo="ssaplan.strategy.demo:load",
    demo_order=30,
)
