"""The engine's answers as the public shapes the API, the CLI and the pages show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ssaplan.compliance.engine import Reason
from ssaplan.compliance.schemas import (
    AssistedCountryPublic,
    AssistedUnitPublic,
    EligibilityPublic,
    ProgramRef,
    ReasonPublic,
    VettingStatePublic,
)
from ssaplan.compliance.service.common import ProgramFacts
from ssaplan.compliance.service.judging import Verdict
from ssaplan.compliance.vetting import AssistedUnit, VettingState


def reason_public(reason: Reason) -> ReasonPublic:
    return ReasonPublic(
        rule=reason.rule,
        citation=reason.citation,
        text=reason.text,
        effect=reason.effect,
        country=reason.country,
    )


def verdict_public(v: Verdict) -> EligibilityPublic:
    return EligibilityPublic(
        id=v.program.code,
        title=v.program.title,
        fiscal_year=v.fiscal_year,
        eligible=v.eligible,
        accounts=list(v.accounts),
        planned=v.planned,
        reasons=[reason_public(r) for r in v.reasons],
    )


def state_public(
    program: ProgramFacts, state: VettingState, names: dict[str, str]
) -> VettingStatePublic:
    is_unit = state.subject_id in program.units
    return VettingStatePublic(
        subject_kind="unit" if is_unit else "individual",
        unit=int(state.subject_id) if is_unit else None,
        unit_name=names.get(state.subject_id) if is_unit else None,
        individual=None if is_unit else state.subject_id,
        status=state.status,
        cleared=state.cleared,
        valid_through=state.expires_on - timedelta(days=1) if state.expires_on else None,
        text=state.text,
    )


def assisted_unit_public(
    a: AssistedUnit,
    unit_names: Mapping[str, str],
    type_names: Mapping[str, str],
    titles: Mapping[str, str],
) -> AssistedUnitPublic:
    return AssistedUnitPublic(
        unit=int(a.unit.id) if a.unit.id.isdigit() else None,
        name=a.unit.name,
        type=a.unit.type,
        type_name=type_names.get(a.unit.type, a.unit.type),
        parent_name=unit_names.get(a.unit.parent) if a.unit.parent else None,
        programs=[ProgramRef(id=p, title=titles.get(p, p)) for p in a.program_ids],
        status=a.state.status,
        cleared=a.state.cleared,
        text=a.state.text,
    )


def assisted_country_public(
    country: str,
    name: str,
    fiscal_year: int,
    units: tuple[AssistedUnit, ...],
    *,
    unit_names: Mapping[str, str],
    type_names: Mapping[str, str],
    titles: Mapping[str, str],
) -> AssistedCountryPublic:
    return AssistedCountryPublic(
        country=country,
        name=name,
        fiscal_year=fiscal_year,
        units=[assisted_unit_public(a, unit_names, type_names, titles) for a in units],
    )
