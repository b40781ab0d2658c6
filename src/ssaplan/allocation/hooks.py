"""The stored world's answers to the two questions the portfolio scenario asks.

``build_from_portfolio`` takes ``eligible`` and ``evidence`` as plain callables so it can
be tested without other domains; every caller that builds from the database (CLI, API,
pages, demo) passes these: eligibility from the compliance register (its restrictions and
rules, as the actor may read them) and the evidence multiplier from the evaluation
evidence base (pooled effects by kind of program over the evaluations the actor may see;
1 where a kind has no evidence).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ssaplan.allocation.portfolio import Evidence, ProgramFacts
from ssaplan.allocation.scenario_parts import Eligible
from ssaplan.core.permissions import Actor


def stored_hooks(
    session: Session, actor: Actor, *, use_evidence: bool = True
) -> tuple[Eligible, Evidence]:
    """``(eligible, evidence)`` read now from compliance and evaluation."""
    from ssaplan.compliance.service import ComplianceService
    from ssaplan.evaluation.evidence import effectiveness
    from ssaplan.portfolio.visibility import audience_of
    from ssaplan.reference.catalog import get_catalog

    eligible = ComplianceService(session, actor).eligible_lookup()
    catalog = get_catalog()
    found = effectiveness(
        session,
        use_evidence=use_evidence,
        audience=audience_of(actor, catalog),
        catalog=catalog,
    )

    def evidence(facts: ProgramFacts) -> float:
        return found.of(facts.institution_type, facts.purpose)

    return eligible, evidence
