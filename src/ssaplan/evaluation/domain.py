"""Evaluation's declaration: impact estimates, the evaluation registry, the evidence base."""

from ssaplan.core.spec import Action, Command, Domain, Nav

DOMAIN = Domain(
    name="evaluation",
    package="ssaplan.evaluation",
    title="Impact evaluation",
    uses=("reference", "portfolio"),
    models=("ssaplan.evaluation.models",),
    api=("ssaplan.evaluation.api:router",),
    views=("ssaplan.evaluation.views:router",),
    templates=True,
    nav=(Nav("Evaluation", "/evaluations", 60),),
    commands=(Command(("evaluate",), "ssaplan.evaluation.cli:app"),),
    actions=(
        Action(
            "evaluation:write",
            ("planner", "admin"),
            "record evaluations, their findings, estimates and management responses",
        ),
    ),
    demo="ssaplan.evaluation.demo:load",
    demo_order=60,
)
