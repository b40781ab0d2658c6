"""The audit trail as a reader may see it (issue 10, item 8).

An audit record copies the record it is about (a program's description, an overlap
mark's two ids and its note, a strategy's objectives), so a reader who may not see a
record gets none of its audit records: the trail leaves them out and says how many
(``withheld``, a count, never which), like every other list.

**Which records.** A record's audit records are judged by the record as it is now, by
the rule its own reads use (:func:`ssaplan.portfolio.visibility.visible_clause`): a
program, strategy, evaluation, proposal, surge request, restriction, vetting request
or donor activity by its own marking and releasable-to list; a strategy's objectives,
indicators, sustainment plans, commitments and measurements by their strategy's; a
review by its program's; an overlap mark only when both sides are visible; an
allocation scenario or result as the allocation service lets the reader read it (the
view of the portfolio it was computed for, and no hidden program among its candidates:
decided in Python over the few scenarios, then one ``IN`` list). A record
remarked since is judged by its marking now (its older records too, as its history
is). A deleted record's audit records are shown only to readers without a ceiling or
audience, as its history is (the portfolio's rule for a deleted program's history):
the trail does not judge a record by the snapshots it kept.

Records are matched by ``entity_ref`` (``program:42``, kept across renames); records
written before identities were recorded match by the record's id now. Records about
anything else (users, settings, imports as a whole, runs) are shown to every reader.

**Cost.** One SQL condition (an uncorrelated ``IN`` per kind of record), for the page
and for the count: no query per record, and a reader without limits pays nothing.
``audit verify`` and ``audit checkpoint`` read the whole chain whoever asks (they show
no record's content).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, and_, cast, literal, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ssaplan.core import audit
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.portfolio import visibility
from ssaplan.reference.catalog import Catalog, get_catalog


@dataclass(frozen=True)
class TrailPage:
    """A page of audit records the reader may see, and how many matching ones they may
    not (over every page)."""

    records: list[AuditRecord]
    withheld: int


def _refs(kind: str, key: Any) -> Any:
    return literal(f"{kind}:") + cast(key, String)


def _visible_refs(audience: visibility.Audience, catalog: Catalog) -> dict[str, Select[tuple[str]]]:
    """For each kind of ``entity_ref``, the refs of the records ``audience`` may see now."""
    from ssaplan.compliance.models import Restriction, VettingRequest
    from ssaplan.coordination.models import DonorActivity, OverlapMark
    from ssaplan.cycle.models import Proposal
    from ssaplan.evaluation.models import Evaluation
    from ssaplan.monitoring.models import Review, SurgeRequest
    from ssaplan.portfolio.models import Program
    from ssaplan.strategy.models import (
        Indicator,
        Measurement,
        PartnerCommitment,
        Strategy,
        StrategyObjective,
        SustainmentPlan,
    )

    def shown(stmt: Select[tuple[str]], marked: type[Any]) -> Select[tuple[str]]:
        return visibility.only_visible(stmt, audience, catalog, marked=marked)

    programs = shown(select(_refs("program", Program.id)), Program)
    donors = shown(select(literal("donor:") + DonorActivity.identifier), DonorActivity)

    def side(ref: Any) -> ColumnElement[bool]:
        return or_(ref.in_(programs), ref.in_(donors))

    objective = StrategyObjective.strategy_id == Strategy.id
    refs: dict[str, Select[tuple[str]]] = {
        "program": programs,
        "donor": donors,
        "evaluation": shown(select(_refs("evaluation", Evaluation.id)), Evaluation),
        "proposal": shown(select(_refs("proposal", Proposal.id)), Proposal),
        "surge_request": shown(select(_refs("surge_request", SurgeRequest.id)), SurgeRequest),
        "restriction": shown(select(_refs("restriction", Restriction.id)), Restriction),
        "vetting": shown(select(_refs("vetting", VettingRequest.id)), VettingRequest),
        "review": shown(
            select(_refs("review", Review.id)).join(Program, Program.id == Review.program_id),
            Program,
        ),
        "overlap_mark": select(_refs("overlap_mark", OverlapMark.id)).where(
            side(OverlapMark.first_ref), side(OverlapMark.second_ref)
        ),
        "strategy": shown(select(_refs("strategy", Strategy.id)), Strategy),
        "strategy_objective": shown(
            select(_refs("strategy_objective", StrategyObjective.id)).join(Strategy, objective),
            Strategy,
        ),
        "indicator": shown(
            select(_refs("indicator", Indicator.id))
            .join(StrategyObjective, StrategyObjective.id == Indicator.objective_id)
            .join(Strategy, objective),
            Strategy,
        ),
        "sustainment_plan": shown(
            select(_refs("sustainment_plan", SustainmentPlan.id))
            .join(StrategyObjective, StrategyObjective.id == SustainmentPlan.objective_id)
            .join(Strategy, objective),
            Strategy,
        ),
        "commitment": shown(
            select(_refs("commitment", PartnerCommitment.id)).join(
                Strategy, Strategy.id == PartnerCommitment.strategy_id
            ),
            Strategy,
        ),
        "measurement": shown(
            select(_refs("measurement", Measurement.id))
            .join(Indicator, Indicator.id == Measurement.indicator_id)
            .join(StrategyObjective, StrategyObjective.id == Indicator.objective_id)
            .join(Strategy, objective),
            Strategy,
        ),
    }
    return refs


def _visible_codes(
    audience: visibility.Audience, catalog: Catalog
) -> dict[str, Select[tuple[str]]]:
    """For records written without an ``entity_ref``: the ids of the marked records
    ``audience`` may see now, by ``entity_type``."""
    from ssaplan.cycle.models import Proposal
    from ssaplan.evaluation.models import Evaluation
    from ssaplan.portfolio.models import Program
    from ssaplan.strategy.models import Strategy

    return {
        entity_type: visibility.only_visible(select(marked.code), audience, catalog, marked)
        for entity_type, marked in (
            ("program", Program),
            ("strategy", Strategy),
            ("evaluation", Evaluation),
            ("proposal", Proposal),
        )
    }


def hidden_clause(
    audience: visibility.Audience,
    catalog: Catalog,
    listed: Mapping[str, Sequence[str]] | None = None,
) -> ColumnElement[bool]:
    """True for the audit records about a record ``audience`` may not see (or no longer
    exists, for a reader with limits). ``listed``: for kinds whose rule is not one SQL
    condition (allocation scenarios and results), the refs the reader may see."""
    ref = AuditRecord.entity_ref
    kinds: dict[str, Any] = dict(_visible_refs(audience, catalog))
    kinds.update(listed or {})
    parts: list[ColumnElement[bool]] = [
        and_(ref.is_not(None), ref.startswith(f"{kind}:", autoescape=True), ref.not_in(shown))
        for kind, shown in kinds.items()
    ]
    parts += [
        and_(
            ref.is_(None),
            AuditRecord.entity_type == entity_type,
            AuditRecord.entity_id.not_in(codes),
        )
        for entity_type, codes in _visible_codes(audience, catalog).items()
    ]
    return or_(*parts)


def search(
    session: Session,
    reader: Actor,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    catalog: Catalog | None = None,
) -> TrailPage:
    """The audit records matching the criteria that ``reader`` may see, newest first
    (``limit`` of them, before ``before_id``), and how many matching records over all
    pages are about records they may not see."""
    catalog = catalog or get_catalog()
    audience = visibility.audience_of(reader, catalog)
    criteria: dict[str, Any] = {"entity_type": entity_type, "entity_id": entity_id, "actor": actor}
    if audience.unrestricted:
        return TrailPage(audit.search(session, limit=limit, before_id=before_id, **criteria), 0)
    from ssaplan.allocation.service import AllocationService

    hidden = hidden_clause(audience, catalog, AllocationService(session, reader).readable_refs())
    records = audit.search(
        session, limit=limit, before_id=before_id, where=not_(hidden), **criteria
    )
    return TrailPage(records, audit.count(session, where=hidden, **criteria))


__all__ = ["TrailPage", "hidden_clause", "search"]
