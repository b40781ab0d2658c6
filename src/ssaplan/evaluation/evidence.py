"""The evidence base: what completed impact evaluations found, pooled by kind of program,
and the effectiveness the allocation model takes from it.

A *kind of program* is institution type x purpose (``police`` x ``build_capacity``). Each
completed impact evaluation contributes its primary estimate on the common scale
(improvement in SDs of the outcome, :func:`ssaplan.evaluation.service.standardized`);
estimates of one kind are pooled by DerSimonian-Laird random effects
(:func:`ssaplan.evaluation.engine.evidence.pool_effects`), and the pool moves the
allocation's value multiplier for the kind
(:func:`ssaplan.evaluation.engine.evidence.effectiveness_multiplier`).

Other domains call :func:`effectiveness` (a plain function of a session) and
:class:`Effectiveness.of`; ``use_evidence=False`` is the switch that shows what an
allocation would be without the evidence (every kind counts 1).

The pool is the reader's: only the evaluations their audience may see enter it
(:mod:`ssaplan.portfolio.visibility`, ``marked=Evaluation``), so an evaluation hidden
from them moves no pooled effect, interval or multiplier they get; the table says how
many were withheld.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.core.permissions import Actor, require
from ssaplan.evaluation.engine.evidence import (
    MAX_MULTIPLIER,
    PRIOR_SD,
    REFERENCE_EFFECT,
    effectiveness_multiplier,
    pool_effects,
)
from ssaplan.evaluation.models import Evaluation
from ssaplan.evaluation.schemas import (
    EffectivenessPublic,
    EffectivenessRow,
    EvidenceEntry,
    EvidenceKind,
    EvidenceTable,
    PooledPublic,
)
from ssaplan.evaluation.service import primary_estimate, standardized
from ssaplan.portfolio.schemas import Withheld
from ssaplan.portfolio.visibility import Audience, audience_of, only_visible, withheld
from ssaplan.reference.catalog import Catalog, get_catalog

Kind = tuple[str, str]  # (institution type, purpose)


@dataclass(frozen=True)
class Effectiveness:
    """Value multipliers by kind of program; kinds without evidence count ``default``."""

    use_evidence: bool
    multipliers: dict[Kind, float] = field(default_factory=dict)
    counts: dict[Kind, int] = field(default_factory=dict)
    default: float = 1.0

    def of(self, institution_type: str | None, purpose: str | None) -> float:
        """The multiplier of one kind (``default`` when unknown or without evidence)."""
        if not self.use_evidence or institution_type is None or purpose is None:
            return self.default
        return self.multipliers.get((institution_type, purpose), self.default)


EVERYONE = Audience()  # every evaluation: no reader's limits


def _completed_impact() -> Any:
    return select(Evaluation).where(
        Evaluation.evaluation_type == "impact", Evaluation.status == "completed"
    )


def _gather(
    session: Session, audience: Audience, catalog: Catalog
) -> tuple[dict[Kind, list[tuple[Evaluation, float, float]]], list[EvidenceEntry]]:
    pooled: dict[Kind, list[tuple[Evaluation, float, float]]] = defaultdict(list)
    excluded: list[EvidenceEntry] = []
    rows: list[Evaluation] = list(
        session.execute(
            only_visible(
                _completed_impact().order_by(Evaluation.id), audience, catalog, marked=Evaluation
            )
        ).scalars()
    )
    for e in rows:
        reason = None
        value = se = None
        primary = primary_estimate(e)
        if e.institution_type_id is None or e.purpose_id is None:
            reason = "no kind of program: give its institution type and purpose"
        elif primary is None:
            reason = (
                "no estimate"
                if not e.estimates
                else f"{len(e.estimates)} estimates and none marked primary"
            )
        else:
            value, se = standardized(primary)
            if value is None:
                reason = "no outcome SD: the estimate cannot be put on the common scale"
            elif se is None or se <= 0:
                reason = "no standard error"
        if reason is not None or value is None or se is None:
            excluded.append(
                EvidenceEntry(
                    evaluation=e.code,
                    title=e.title,
                    standardized=value,
                    standardized_se=se,
                    reason=reason,
                )
            )
            continue
        pooled[(e.institution_type_id, e.purpose_id)].append((e, value, se))  # type: ignore[index]
    return pooled, excluded


def evidence_table(
    session: Session, catalog: Catalog | None = None, audience: Audience = EVERYONE
) -> EvidenceTable:
    """The evidence base as ``audience`` may see it: one row per kind with evidence, plus
    what was left out and why, and how many evaluations were withheld from it."""
    catalog = catalog or get_catalog()
    groups, excluded = _gather(session, audience, catalog)
    kinds: list[EvidenceKind] = []
    for (inst, purpose), items in sorted(groups.items()):
        pool = pool_effects([v for _, v, _ in items], [s for _, _, s in items])
        kinds.append(
            EvidenceKind(
                institution_type=inst,
                institution_type_name=catalog.institution_types[inst].name,
                purpose=purpose,
                purpose_name=catalog.purposes[purpose].name,
                pooled=PooledPublic(**pool.as_dict()),
                multiplier=effectiveness_multiplier(pool.estimate, pool.std_error, pool.tau2),
                entries=[
                    EvidenceEntry(
                        evaluation=e.code,
                        title=e.title,
                        standardized=v,
                        standardized_se=s,
                        reason=None,
                    )
                    for e, v, s in items
                ],
            )
        )
    return EvidenceTable(
        kinds=kinds,
        excluded=excluded,
        reference_effect=REFERENCE_EFFECT,
        prior_sd=PRIOR_SD,
        max_multiplier=MAX_MULTIPLIER,
        withheld=Withheld(
            **withheld(
                session,
                _completed_impact().with_only_columns(Evaluation.id),
                audience,
                catalog,
                marked=Evaluation,
            )
        ),
    )


def effectiveness(
    session: Session,
    *,
    use_evidence: bool = True,
    audience: Audience = EVERYONE,
    catalog: Catalog | None = None,
) -> Effectiveness:
    """The allocation's default effectiveness by kind of program, from the evaluations
    ``audience`` may see (a reader's allocation passes the reader's own view).

    With ``use_evidence=False`` every kind counts 1.0: the allocation as if no
    evaluation had been done, to compare with.
    """
    if not use_evidence:
        return Effectiveness(use_evidence=False)
    table = evidence_table(session, catalog, audience)
    return Effectiveness(
        use_evidence=True,
        multipliers={(k.institution_type, k.purpose): k.multiplier for k in table.kinds},
        counts={(k.institution_type, k.purpose): k.pooled.k for k in table.kinds},
    )


class EvidenceService:
    """The evidence base as one actor reads it: pooled over the evaluations their
    ``audience`` (by default their own view) may see."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        audience: Audience | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = audience or audience_of(actor, self.catalog)

    def table(self) -> EvidenceTable:
        require(self.actor, "read")
        return evidence_table(self.session, self.catalog, self.audience)

    def effectiveness(self, *, use_evidence: bool = True) -> EffectivenessPublic:
        require(self.actor, "read")
        found = effectiveness(
            self.session, use_evidence=use_evidence, audience=self.audience, catalog=self.catalog
        )
        return EffectivenessPublic(
            use_evidence=use_evidence,
            default=found.default,
            kinds=[
                EffectivenessRow(
                    institution_type=inst,
                    purpose=purpose,
                    multiplier=multiplier,
                    k=found.counts.get((inst, purpose), 0),
                )
                for (inst, purpose), multiplier in sorted(found.multipliers.items())
            ],
        )
