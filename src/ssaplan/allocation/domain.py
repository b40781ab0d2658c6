"""Allocation's declaration: the optimizer that spends limited money where it does most good."""

from ssaplan.core.spec import Command, Domain

DOMAIN = Domain(
    name="allocation",
    package="ssaplan.allocation",
    title="Allocation",
    commands=(Command(("allocate",), "ssaplan.allocation.cli:allocate"),),
)
