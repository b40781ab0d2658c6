"""Evaluation's declaration: impact estimates, the evaluation registry, the evidence base."""

from ssaplan.core.spec import Command, Domain

DOMAIN = Domain(
    name="evaluation",
    package="ssaplan.evaluation",
    title="Impact evaluation",
    commands=(Command(("evaluate",), "ssaplan.evaluation.cli:app"),),
)
