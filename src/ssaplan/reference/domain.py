"""The reference package's declaration: taxonomy, places, agencies, accounts, codes."""

from ssaplan.core.spec import Action, Command, Domain

DOMAIN = Domain(
    name="reference",
    package="ssaplan.reference",
    title="Reference data",
    models=("ssaplan.reference.models",),
    api=("ssaplan.reference.api:router",),
    commands=(Command(("reference",), "ssaplan.reference.cli:app"),),
    actions=(
        Action("reference:manage", ("admin",), "load and change reference data", scoped=False),
    ),
)
