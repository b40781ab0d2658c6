"""The pure analytic core of coordination: overlaps, donors' division of labour, gaps.

Nothing here reads the database: inputs are plain records (:class:`Activity`,
:class:`DonorFlow`, ...) that the service builds, results are frozen dataclasses with
``as_dict()``. Only numpy, scipy, scikit-learn and ``ssaplan.core.errors`` are imported.
"""

from ssaplan.coordination.engine.donors import (
    DonorFlow,
    DonorMatrix,
    burden_sharing,
    comparative_advantage,
    division_of_labour,
    donor_matrix,
    fragmentation,
    lead_donors,
)
from ssaplan.coordination.engine.gaps import (
    Coverage,
    Gap,
    Objective,
    PartnerStanding,
    expiring_coverage,
    neglected_partners,
    uncovered_cells,
    unfunded_objectives,
)
from ssaplan.coordination.engine.overlap import (
    OverlapPair,
    OverlapResult,
    Skipped,
    find_overlaps,
)
from ssaplan.coordination.engine.records import Activity, OverlapConfig, pair_key
from ssaplan.coordination.engine.text import (
    EmbeddingVectorizer,
    TextVectorizer,
    TfidfVectorizer,
    embeddings_available,
    make_vectorizer,
)

__all__ = [
    "Activity",
    "Coverage",
    "DonorFlow",
    "DonorMatrix",
    "Gap",
    "Objective",
    "PartnerStanding",
    "burden_sharing",
    "comparative_advantage",
    "division_of_labour",
    "donor_matrix",
    "expiring_coverage",
    "fragmentation",
    "lead_donors",
    "neglected_partners",
    "uncovered_cells",
    "unfunded_objectives",
    "EmbeddingVectorizer",
    "OverlapConfig",
    "OverlapPair",
    "OverlapResult",
    "Skipped",
    "TextVectorizer",
    "TfidfVectorizer",
    "embeddings_available",
    "find_overlaps",
    "make_vectorizer",
    "pair_key",
]
