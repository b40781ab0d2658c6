"""Coordination's declaration: other donors' activities (IATI) and published aggregates."""

from ssaplan.core.spec import Domain

DOMAIN = Domain(
    name="coordination",
    package="ssaplan.coordination",
    title="Coordination with other donors",
    uses=("reference",),
    models=("ssaplan.coordination.models",),
    api=("ssaplan.coordination.api:router",),
)
