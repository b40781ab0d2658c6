"""A program's fields: resolving what users send into stored values, applying them to a
program, and showing a program back (``to_public``, ``snapshot`` for the audit trail).

Used by the portfolio service for single writes and bulk imports alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ssaplan.core.errors import Detail, Invalid
from ssaplan.portfolio.models import (
    STATUSES,
    BudgetLine,
    Milestone,
    Program,
    ProgramCountry,
    ProgramObjective,
    ProgramRegion,
)
from ssaplan.portfolio.schemas import (
    BudgetLinePublic,
    MilestonePublic,
    ProgramCreate,
    ProgramFields,
    ProgramPublic,
    Totals,
)
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode


def to_public(p: Program) -> ProgramPublic:
    """A stored program in the shape every interface shows."""
    totals = Totals(
        planned=sum(b.planned for b in p.budget),
        obligated=sum(b.obligated for b in p.budget),
        disbursed=sum(b.disbursed for b in p.budget),
    )
    return ProgramPublic(
        id=p.id,
        title=p.title,
        description=p.description,
        agency=p.agency_id,
        account=p.account_id,
        countries=[c.iso3 for c in p.countries],
        regions=[r.region_code for r in p.regions],
        institution_type=p.institution_type_id,
        level=p.level_id,
        purpose=p.purpose_id,
        objectives=[o.objective_id for o in p.objectives],
        dac_code=p.dac_code,
        start=p.start_date,
        end=p.end_date,
        status=p.status,
        marking=p.marking,
        source=p.source,
        budget=[
            BudgetLinePublic(
                fiscal_year=b.fiscal_year,
                planned=b.planned,
                obligated=b.obligated,
                disbursed=b.disbursed,
            )
            for b in p.budget
        ],
        totals=totals,
        milestones=[
            MilestonePublic(
                id=m.id,
                name=m.name,
                requested_on=m.requested_on,
                approved_on=m.approved_on,
                obligated_on=m.obligated_on,
                delivered_on=m.delivered_on,
            )
            for m in p.milestones
        ],
        version=p.version,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def snapshot(p: Program) -> dict[str, Any]:
    """What the audit trail keeps of a program: everything but the timestamps."""
    data = to_public(p).model_dump(mode="json", exclude={"created_at", "updated_at", "totals"})
    for m in data["milestones"]:
        m.pop("id", None)
    return data


def resolve_fields(
    data: ProgramFields, loc: tuple[str | int, ...], catalog: Catalog
) -> dict[str, Any]:
    """Model field values for the fields set in ``data``, codes resolved in the catalog.

    Collects every problem and raises :class:`Invalid` naming each field under ``loc``.
    """
    problems: list[Detail] = []
    out: dict[str, Any] = {}
    # A new (or wholly replaced) program is whole: every field applies, unset ones empty.
    # An update touches only the fields that were sent.
    whole = isinstance(data, ProgramCreate)
    given = set(ProgramFields.model_fields) if whole else data.model_fields_set

    def one(field: str, kind: Kind, column: str) -> None:
        if field not in given:
            return
        value = getattr(data, field)
        if value in (None, ""):
            if field == "agency":
                problems.append(Detail((*loc, field), "is required"))
            out[column] = None
            return
        try:
            out[column] = catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(Detail((*loc, field), str(exc)))

    def many(field: str, kind: Kind) -> None:
        if field not in given or getattr(data, field) is None:
            return
        codes: list[str] = []
        for i, value in enumerate(getattr(data, field)):
            try:
                code = catalog.resolve(kind, value)
            except UnknownCode as exc:
                problems.append(Detail((*loc, field, i), str(exc)))
                continue
            if code not in codes:
                codes.append(code)
        out[field] = codes

    one("agency", "agency", "agency_id")
    one("account", "account", "account_id")
    one("institution_type", "institution_type", "institution_type_id")
    one("level", "level", "level_id")
    one("purpose", "purpose", "purpose_id")
    one("dac_code", "dac_code", "dac_code")
    one("marking", "marking", "marking")
    many("countries", "country")
    many("regions", "region")
    many("objectives", "objective")
    for field in ("title", "description", "start", "end", "status", "budget", "milestones"):
        if field in given:
            out[field] = getattr(data, field)
    if "marking" in out and out["marking"] is None:
        out["marking"] = "U"
    if out.get("description") is None and "description" in out:
        out["description"] = ""
    if "status" in out:
        status = str(out["status"]).lower()
        if status not in STATUSES:
            problems.append(Detail((*loc, "status"), f"must be one of {', '.join(STATUSES)}"))
        out["status"] = status
    start, end = out.get("start"), out.get("end")
    if start is not None and end is not None and end < start:
        problems.append(Detail((*loc, "end"), f"end ({end}) is before start ({start})"))
    if out.get("budget") is not None:
        years = [b.fiscal_year for b in out["budget"]]
        for i, fy in enumerate(years):
            if years.index(fy) != i:
                problems.append(Detail((*loc, "budget", i, "fiscal_year"), f"FY{fy} appears twice"))
    partner_problem = any(
        d.loc[len(loc) : len(loc) + 1] in (("countries",), ("regions",)) for d in problems
    )
    if whole and not partner_problem and not (out.get("countries") or out.get("regions")):
        problems.append(Detail((*loc, "countries"), "name at least one partner country or region"))
    if problems:
        raise Invalid("invalid program", problems)
    return out


def apply_fields(p: Program, fields: dict[str, Any]) -> None:
    """Set resolved field values on a program, touching child rows only where they change."""
    simple = {
        "title": "title",
        "description": "description",
        "start": "start_date",
        "end": "end_date",
        "status": "status",
        "agency_id": "agency_id",
        "account_id": "account_id",
        "institution_type_id": "institution_type_id",
        "level_id": "level_id",
        "purpose_id": "purpose_id",
        "dac_code": "dac_code",
        "marking": "marking",
    }
    for key, column in simple.items():
        if key in fields:
            setattr(p, column, fields[key])
    if "countries" in fields:
        _replace(
            p.countries, [ProgramCountry(iso3=c) for c in fields["countries"]], lambda x: x.iso3
        )
    if "regions" in fields:
        _replace(
            p.regions,
            [ProgramRegion(region_code=c) for c in fields["regions"]],
            lambda x: x.region_code,
        )
    if "objectives" in fields:
        _replace(
            p.objectives,
            [ProgramObjective(objective_id=o) for o in fields["objectives"]],
            lambda x: x.objective_id,
        )
    if fields.get("budget") is not None:
        current = {b.fiscal_year: b for b in p.budget}
        wanted = {b.fiscal_year: b for b in fields["budget"]}
        for fy, line in list(current.items()):
            if fy not in wanted:
                p.budget.remove(line)
        for fy, b in wanted.items():
            existing_line = current.get(fy)
            if existing_line is None:
                p.budget.append(
                    BudgetLine(
                        fiscal_year=fy,
                        planned=b.planned,
                        obligated=b.obligated,
                        disbursed=b.disbursed,
                    )
                )
            else:
                existing_line.planned, existing_line.obligated, existing_line.disbursed = (
                    b.planned,
                    b.obligated,
                    b.disbursed,
                )
        p.budget.sort(key=lambda b: b.fiscal_year)
    if fields.get("milestones") is not None:
        current_ms = [
            (m.name, m.requested_on, m.approved_on, m.obligated_on, m.delivered_on)
            for m in p.milestones
        ]
        wanted_ms = [
            (m.name, m.requested_on, m.approved_on, m.obligated_on, m.delivered_on)
            for m in fields["milestones"]
        ]
        if current_ms != wanted_ms:
            p.milestones.clear()
            for name, req, appr, obl, dlv in wanted_ms:
                p.milestones.append(
                    Milestone(
                        name=name,
                        requested_on=req,
                        approved_on=appr,
                        obligated_on=obl,
                        delivered_on=dlv,
                    )
                )


def check_dates(p: Program, loc: tuple[str | int, ...]) -> None:
    """A program may not end before it starts."""
    if p.start_date and p.end_date and p.end_date < p.start_date:
        raise Invalid(
            "invalid program",
            [Detail((*loc, "end"), f"end ({p.end_date}) is before start ({p.start_date})")],
        )


def _replace(current: list[Any], wanted: Iterable[Any], key: Any) -> None:
    """Make a child collection equal to ``wanted`` without touching rows that stay."""
    wanted_list = list(wanted)
    wanted_keys = [key(w) for w in wanted_list]
    for item in list(current):
        if key(item) not in wanted_keys:
            current.remove(item)
    have = {key(c) for c in current}
    for w in wanted_list:
        if key(w) not in have:
            current.append(w)
    current.sort(key=key)
