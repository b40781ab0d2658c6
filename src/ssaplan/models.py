"""Every table of every domain, imported in one place for Alembic and create-all."""

from ssaplan.core import models as core_models
from ssaplan.portfolio import models as portfolio_models
from ssaplan.reference import models as reference_models

# [ingest models]
# isort: split
from ssaplan.coordination import models as coordination_models  # noqa: F401

# [assessment models]
# isort: split
from ssaplan.assessment import models as assessment_models  # noqa: F401

__all__ = ["core_models", "portfolio_models", "reference_models"]
