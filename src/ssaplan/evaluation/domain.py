"""Evaluation's declaration: impact estimates, the evaluation registry, the evidence base."""

from ssaplan.core.spec import Action, Command, Domain

DOMAIN = Domain(
    name="evaluation",
    package="ssaplan.evaluation",
    title="Impact evaluation",
    uses=("reference", "portfolio"),
    models=("ssaplan.evaluation.models",),
    api=("ssaplan.evaluation.api:router",),
    commands=(Command(("evaluate",), "ssaplan.evaluation.cli:app"),),
    actions=(
        Action(
            "evaluation:write",
            ("planner", "admin"),
            "record evaluations, their findings, estimates and management responses",
        ),
    ),
)
