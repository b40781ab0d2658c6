"""Compliance's declaration: statutory restrictions and human-rights vetting."""

from ssaplan.core.spec import Domain

DOMAIN = Domain(
    name="compliance",
    package="ssaplan.compliance",
    title="Restrictions and human-rights vetting",
    uses=("reference",),
)
