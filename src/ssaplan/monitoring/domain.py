"""The monitoring domain's declaration: performance, timelines, reviews and surges."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="monitoring",
    package="ssaplan.monitoring",
    title="Monitoring, reviews and crisis surges",
    uses=("reference", "portfolio", "assessment", "strategy", "compliance"),
    models=("ssaplan.monitoring.models",),
    api=("ssaplan.monitoring.api:router",),
    views=("ssaplan.monitoring.views:router",),
    templates=True,
    nav=(
        Nav("Monitoring", "/monitoring", 55),
        Nav("Reviews", "/reviews", 56),
    ),
    commands=(
        Command(("monitor",), "ssaplan.monitoring.cli:monitor"),
        Command(("review",), "ssaplan.monitoring.cli:review_app"),
        Command(("surge",), "ssaplan.monitoring.cli:surge_app"),
    ),
    actions=(
        Action(
            "review:open",
            ("planner", "analyst", "admin"),
            "open immediate reviews, run the review rules, open the annual review cycle",
            scoped=False,
        ),
        Action(
            "review:decide",
            ("planner", "admin"),
            "decide reviews (continue, scale up, restructure, suspend, terminate) and carry "
            "the decision out on the program",
        ),
        Action(
            "review:configure",
            ("admin",),
            "change the monitoring thresholds, delivery standards and review rules",
            scoped=False,
        ),
        Action(
            "crisis:record",
            ("planner", "analyst", "admin"),
            "record a crisis in a partner country (opens immediate reviews)",
            scoped=False,
        ),
        Action(
            "surge:request",
            ("planner", "admin"),
            "request urgent assistance from the flexible reserve",
        ),
        Action(
            "surge:approve",
            ("admin",),
            "approve or refuse surge requests",
            scoped=False,
        ),
        Action(
            "reserve:manage",
            ("admin",),
            "set the flexible reserve of an account and fiscal year",
            scoped=False,
        ),
    ),
    demo="ssaplan.monitoring.demo:load",
    demo_order=40,
)
