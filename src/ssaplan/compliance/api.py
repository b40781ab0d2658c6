"""Compliance over the API: restrictions and waivers, the rules, units, vetting, credible
information, programs' eligibility, and the hooks allocation and monitoring read.

Reading needs ``read``. Restrictions, rules and settings need ``compliance:manage``
(admins); vetting, units, credible information, assisted subjects and program facts
need ``compliance:vet`` (planners within their scope, admins) — the service decides
*where* and refuses remediation of credible information without ``compliance:manage``.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from ssaplan.compliance.schemas import (
    AssistanceCreate,
    AssistancePublic,
    AssistedCountryPublic,
    BlockedCellPublic,
    BlockedCellsPublic,
    CheckReport,
    CredibleCreate,
    CrediblePublic,
    CredibleUpdate,
    EligibilityPublic,
    ExpiringPublic,
    ProgramCompliancePublic,
    ProgramFactsPublic,
    ProgramFactsUpdate,
    ProgramsReachedPublic,
    RestrictionCreate,
    RestrictionList,
    RestrictionPublic,
    RestrictionsImportPublic,
    RestrictionTypeCreate,
    RestrictionTypePublic,
    RestrictionTypeUpdate,
    RestrictionUpdate,
    RuleCreate,
    RulePublic,
    RulesImportPublic,
    RuleUpdate,
    SettingsPublic,
    SettingsUpdate,
    UnitCreate,
    UnitPublic,
    UnitUpdate,
    VettingCreate,
    VettingList,
    VettingPublic,
    VettingUpdate,
)
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.deps import AudienceQuery, Reader, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.schemas import Page
from ssaplan.portfolio.visibility import withheld_headers

router = APIRouter(prefix="/api/compliance", tags=["compliance"])
Manager = Annotated[Actor, Depends(requires("compliance:manage"))]
Vetter = Annotated[Actor, Depends(requires("compliance:vet"))]
MAX_UPLOAD = 5 * 1024 * 1024
FiscalYearQuery = Annotated[int | None, Query(ge=1990, le=2100)]
AsOfQuery = Annotated[
    date | None, Query(description="the day vetting is checked on (default: today)")
]
VersionQuery = Annotated[int | None, Query(ge=1, description="refuse if it changed since")]


def _id(value: str, what: str) -> int:
    """A record id from the path; anything but a positive number names nothing (404)."""
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise NotFound(f"no {what} {value!r}")
    return int(value)


async def _upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise BadRequest(f"{upload.filename}: larger than {MAX_UPLOAD // 2**20} MB")
    return data


# -- restrictions ----------------------------------------------------------------------
@router.get("/restrictions")
def list_restrictions(
    store: StoreDep,
    actor: Reader,
    country: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    in_force_on: Annotated[date | None, Query(description="in force on this day")] = None,
) -> RestrictionList:
    """Restrictions on countries with their waivers, by country, type and start: those
    the caller may read (``withheld`` counts the others, by reason; eligibility is still
    judged on them)."""
    with store.session() as session:
        return ComplianceService(session, actor).restrictions.listing(
            country=country, type=type, in_force_on=in_force_on
        )


@router.post("/restrictions", status_code=201)
def create_restriction(
    body: RestrictionCreate, store: StoreDep, actor: Manager, response: Response
) -> RestrictionPublic:
    """Record a restriction (admins). A period overlapping one of the same country and type
    is refused (409); a waiver for an unknown account is refused (422); nothing is saved.
    The audit record names the programs whose findings it changes."""
    with unit_of_work(store) as session:
        change = ComplianceService(session, actor).restrictions.create(body)
    assert change.restriction is not None  # noqa: S101  (create always returns one)
    response.headers["Location"] = f"/api/compliance/restrictions/{change.restriction.id}"
    return change.restriction


@router.get(
    "/restrictions.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "the restrictions CSV, with marking and releasable_to",
        }
    },
)
def export_restrictions(
    store: StoreDep,
    actor: Reader,
    audience: AudienceQuery = None,
    country: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    in_force_on: Annotated[date | None, Query(description="in force on this day")] = None,
) -> Response:
    """The restrictions the caller may read (and ``audience`` may see) as the CSV the
    import reads, with ``marking`` and ``releasable_to``; a last ``# ...`` row and the
    ``X-Withheld`` headers say how many were withheld, by reason."""
    buffer = io.StringIO(newline="")
    with store.session() as session:
        summary = ComplianceService(session, actor).restrictions.export_csv(
            buffer, audience=audience, country=country, type=type, in_force_on=in_force_on
        )
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="compliance-restrictions.csv"',
            **withheld_headers(summary),
        },
    )


@router.post("/restrictions/import")
async def import_restrictions(
    store: StoreDep,
    actor: Manager,
    file: Annotated[
        UploadFile,
        File(
            description="CSV: country, type, start, end, citation, waiver_accounts, "
            "waiver_start, waiver_end (optional: waiver_citation, marking, releasable_to)"
        ),
    ],
) -> RestrictionsImportPublic:
    """Load a restrictions CSV, all or nothing (same rules as ``ssaplan comply restrictions
    import``); every problem is named by file, line and column."""
    data = await _upload(file)
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).restrictions.import_csv(
            data, name=file.filename or "restrictions.csv"
        )


@router.get("/restrictions/{restriction_id}/programs")
def restriction_programs(
    restriction_id: str,
    store: StoreDep,
    actor: Reader,
    from_fiscal_year: FiscalYearQuery = None,
) -> ProgramsReachedPublic:
    """The programs whose restriction findings this restriction changes (blocked, waived or
    excepted), from the current fiscal year: those a new restriction sends to review."""
    rid = _id(restriction_id, "restriction")
    with store.session() as session:
        svc = ComplianceService(session, actor)
        restriction = svc.restrictions.input_of(rid)
        first = from_fiscal_year or svc.first_fiscal_year()
        programs = svc.affected_by(None, restriction, from_fiscal_year=first)
    return ProgramsReachedPublic(restriction=rid, from_fiscal_year=first, programs=list(programs))


@router.get("/restrictions/{restriction_id}")
def get_restriction(restriction_id: str, store: StoreDep, actor: Reader) -> RestrictionPublic:
    """One restriction with its waivers."""
    with store.session() as session:
        return ComplianceService(session, actor).restrictions.get(
            _id(restriction_id, "restriction")
        )


@router.patch("/restrictions/{restriction_id}")
def update_restriction(
    restriction_id: str, body: RestrictionUpdate, store: StoreDep, actor: Manager
) -> RestrictionPublic:
    """Change a restriction (admins); ``waivers`` replaces them whole; a stale ``version``
    is refused (409) and nothing changes."""
    with unit_of_work(store) as session:
        change = ComplianceService(session, actor).restrictions.update(
            _id(restriction_id, "restriction"), body
        )
    assert change.restriction is not None  # noqa: S101  (an update returns the record)
    return change.restriction


@router.delete("/restrictions/{restriction_id}", status_code=204)
def delete_restriction(
    restriction_id: str, store: StoreDep, actor: Manager, version: VersionQuery = None
) -> None:
    """Remove a restriction recorded by mistake (to end one, give it an end date)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).restrictions.delete(
            _id(restriction_id, "restriction"), version
        )


# -- restriction types and rules ---------------------------------------------------------
@router.get("/restriction-types")
def list_types(store: StoreDep, actor: Reader) -> Page[RestrictionTypePublic]:
    """The kinds of restriction the rules know, with the rules of each."""
    with store.session() as session:
        items = ComplianceService(session, actor).rules.list_types()
    return Page[RestrictionTypePublic](items=items, total=len(items))


@router.post("/restriction-types", status_code=201)
def create_type(
    body: RestrictionTypeCreate, store: StoreDep, actor: Manager
) -> RestrictionTypePublic:
    """Add a kind of restriction (admins); add rules saying what it blocks."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).rules.create_type(body)


@router.get("/restriction-types/{type_id}")
def get_type(type_id: str, store: StoreDep, actor: Reader) -> RestrictionTypePublic:
    with store.session() as session:
        return ComplianceService(session, actor).rules.get_type(type_id)


@router.patch("/restriction-types/{type_id}")
def update_type(
    type_id: str, body: RestrictionTypeUpdate, store: StoreDep, actor: Manager
) -> RestrictionTypePublic:
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).rules.update_type(type_id, body)


@router.delete("/restriction-types/{type_id}", status_code=204)
def delete_type(
    type_id: str, store: StoreDep, actor: Manager, version: VersionQuery = None
) -> None:
    """Remove a kind of restriction no restriction or rule uses."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).rules.delete_type(type_id, version)


@router.get("/rules")
def list_rules(store: StoreDep, actor: Reader) -> Page[RulePublic]:
    """The rules in force, each with its citation and plain-language summary (a starting
    point to be reviewed by counsel)."""
    with store.session() as session:
        items = ComplianceService(session, actor).rules.list_rules()
    return Page[RulePublic](items=items, total=len(items))


@router.post("/rules", status_code=201)
def create_rule(body: RuleCreate, store: StoreDep, actor: Manager) -> RulePublic:
    """Add a rule (admins); the whole rule set is checked first."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).rules.create_rule(body)


@router.get(
    "/rules.toml",
    response_class=Response,
    responses={200: {"content": {"application/toml": {"schema": {"type": "string"}}}}},
)
def export_rules(store: StoreDep, actor: Reader) -> Response:
    """The rules in force as a rules file (edit it with counsel, import it back)."""
    with store.session() as session:
        text = ComplianceService(session, actor).rules.export_toml()
    return Response(
        text,
        media_type="application/toml",
        headers={"Content-Disposition": 'attachment; filename="compliance-rules.toml"'},
    )


@router.post("/rules/import")
async def import_rules(
    store: StoreDep,
    actor: Manager,
    file: Annotated[UploadFile, File(description="a rules file (TOML)")],
) -> RulesImportPublic:
    """Replace the rules with a rules file, all or nothing (admins)."""
    data = await _upload(file)
    name = file.filename or "rules.toml"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{name}: not UTF-8 text") from exc
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).rules.import_toml(text, name=name)


@router.get("/rules/{rule_id}")
def get_rule(rule_id: str, store: StoreDep, actor: Reader) -> RulePublic:
    with store.session() as session:
        return ComplianceService(session, actor).rules.get_rule(rule_id)


@router.patch("/rules/{rule_id}")
def update_rule(rule_id: str, body: RuleUpdate, store: StoreDep, actor: Manager) -> RulePublic:
    """Change a rule (admins); lists are replaced whole; a stale ``version`` is refused."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).rules.update_rule(rule_id, body)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(
    rule_id: str, store: StoreDep, actor: Manager, version: VersionQuery = None
) -> None:
    with unit_of_work(store) as session:
        ComplianceService(session, actor).rules.delete_rule(rule_id, version)


# -- units -------------------------------------------------------------------------------
@router.get("/units")
def list_units(
    store: StoreDep, actor: Reader, country: Annotated[str | None, Query(max_length=200)] = None
) -> Page[UnitPublic]:
    """Registered units of foreign security forces."""
    with store.session() as session:
        items = ComplianceService(session, actor).vetting.units(country=country)
    return Page[UnitPublic](items=items, total=len(items))


@router.post("/units", status_code=201)
def create_unit(body: UnitCreate, store: StoreDep, actor: Vetter) -> UnitPublic:
    """Register a unit of a foreign security force."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.create_unit(body)


@router.get("/units/{unit_id}")
def get_unit(unit_id: str, store: StoreDep, actor: Reader) -> UnitPublic:
    with store.session() as session:
        return ComplianceService(session, actor).vetting.unit(_id(unit_id, "unit"))


@router.patch("/units/{unit_id}")
def update_unit(unit_id: str, body: UnitUpdate, store: StoreDep, actor: Vetter) -> UnitPublic:
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.update_unit(_id(unit_id, "unit"), body)


@router.delete("/units/{unit_id}", status_code=204)
def delete_unit(unit_id: str, store: StoreDep, actor: Vetter, version: VersionQuery = None) -> None:
    """Remove a unit registered by mistake (one with any record is kept: 409)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.delete_unit(_id(unit_id, "unit"), version)


# -- vetting -----------------------------------------------------------------------------
@router.get("/vetting")
def list_vetting(
    store: StoreDep,
    actor: Reader,
    status: Annotated[str | None, Query(pattern="^(pending|approved|suspended|denied)$")] = None,
    program: Annotated[str | None, Query(max_length=200)] = None,
    unit: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> VettingList:
    """Vetting requests and decisions, newest first: those the caller may read
    (``withheld`` counts the others, by reason)."""
    with store.session() as session:
        return ComplianceService(session, actor).vetting.listing(
            status=status, program=program, unit=unit, limit=limit
        )


@router.post("/vetting", status_code=201)
def create_vetting(body: VettingCreate, store: StoreDep, actor: Vetter) -> VettingPublic:
    """Request vetting of a unit or an individual for a program (which then assists them).
    A unit or program that does not exist is refused (422), nothing saved."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.create_request(body)


@router.get("/vetting/expiring")
def expiring_vetting(
    store: StoreDep,
    actor: Reader,
    within_days: Annotated[int | None, Query(ge=1, le=3650)] = None,
) -> Page[ExpiringPublic]:
    """Approvals valid today that lapse within ``within_days`` (default: the setting)."""
    with store.session() as session:
        found = ComplianceService(session, actor).vetting.expiring(within_days=within_days)
    items = [ExpiringPublic(vetting=v, expires_on=e, days_left=d) for v, e, d in found]
    return Page[ExpiringPublic](items=items, total=len(items))


@router.get("/vetting/{request_id}")
def get_vetting(request_id: str, store: StoreDep, actor: Reader) -> VettingPublic:
    with store.session() as session:
        return ComplianceService(session, actor).vetting.request(_id(request_id, "vetting request"))


@router.patch("/vetting/{request_id}")
def update_vetting(
    request_id: str, body: VettingUpdate, store: StoreDep, actor: Vetter
) -> VettingPublic:
    """Record a decision: approved, suspended or denied, with its date (default: today)."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.update_request(
            _id(request_id, "vetting request"), body
        )


@router.delete("/vetting/{request_id}", status_code=204)
def delete_vetting(
    request_id: str, store: StoreDep, actor: Vetter, version: VersionQuery = None
) -> None:
    """Withdraw a pending request (decided records are kept: 409)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.delete_request(
            _id(request_id, "vetting request"), version
        )


# -- credible information ------------------------------------------------------------------
@router.get("/credible-information")
def list_credible(
    store: StoreDep,
    actor: Reader,
    unit: Annotated[int | None, Query(ge=1)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> Page[CrediblePublic]:
    """Credible information of gross violations of human rights, newest first."""
    with store.session() as session:
        items = ComplianceService(session, actor).vetting.credible(unit=unit, open_only=open_only)
    return Page[CrediblePublic](items=items, total=len(items))


@router.post("/credible-information", status_code=201)
def create_credible(body: CredibleCreate, store: StoreDep, actor: Vetter) -> CrediblePublic:
    """Record credible information: the unit is ineligible until remediation is recorded."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.create_credible(body)


@router.get("/credible-information/{info_id}")
def get_credible(info_id: str, store: StoreDep, actor: Reader) -> CrediblePublic:
    with store.session() as session:
        return ComplianceService(session, actor).vetting.credible_one(
            _id(info_id, "credible-information record")
        )


@router.patch("/credible-information/{info_id}")
def update_credible(
    info_id: str, body: CredibleUpdate, store: StoreDep, actor: Vetter
) -> CrediblePublic:
    """Change a record; recording its remediation needs ``compliance:manage``."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.update_credible(
            _id(info_id, "credible-information record"), body
        )


@router.delete("/credible-information/{info_id}", status_code=204)
def delete_credible(
    info_id: str, store: StoreDep, actor: Manager, version: VersionQuery = None
) -> None:
    """Remove a record entered by mistake (admins; the audit trail keeps it)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.delete_credible(
            _id(info_id, "credible-information record"), version
        )


# -- programs ------------------------------------------------------------------------------
@router.get("/programs/{program_id:path}/eligibility")
def program_eligibility(program_id: str, store: StoreDep, actor: Reader) -> ProgramCompliancePublic:
    """A program's eligibility panel: every fiscal year judged (per funding account) with
    every reason and citation, its legal facts, and the vetting of whom it assists."""
    with store.session() as session:
        return ComplianceService(session, actor).program_panel(program_id)


@router.get("/programs/{program_id:path}/facts")
def get_facts(program_id: str, store: StoreDep, actor: Reader) -> ProgramFactsPublic:
    """Whom the program's assistance goes to, and its flags (version 0: none recorded)."""
    with store.session() as session:
        return ComplianceService(session, actor).vetting.facts(program_id)


@router.put("/programs/{program_id:path}/facts")
def put_facts(
    program_id: str, body: ProgramFactsUpdate, store: StoreDep, actor: Vetter
) -> ProgramFactsPublic:
    """Record the program's legal facts (flags must be ones the rules' exceptions know)."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.set_facts(program_id, body)


@router.get("/programs/{program_id:path}/assistance")
def list_assistance(program_id: str, store: StoreDep, actor: Reader) -> Page[AssistancePublic]:
    """The units and individuals the program assists."""
    with store.session() as session:
        items = ComplianceService(session, actor).vetting.assistance(program_id)
    return Page[AssistancePublic](items=items, total=len(items))


@router.post("/programs/{program_id:path}/assistance", status_code=201)
def add_assistance(
    program_id: str, body: AssistanceCreate, store: StoreDep, actor: Vetter
) -> AssistancePublic:
    """Add a unit or individual the program assists (each must then be vetted)."""
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.add_assistance(program_id, body)


@router.delete("/assistance/{assistance_id}", status_code=204)
def remove_assistance(assistance_id: str, store: StoreDep, actor: Vetter) -> None:
    """The program no longer assists this unit or individual (vetting records stay)."""
    with unit_of_work(store) as session:
        ComplianceService(session, actor).vetting.remove_assistance(
            _id(assistance_id, "assisted unit or individual")
        )


# -- eligibility and hooks -------------------------------------------------------------------
@router.get("/check")
def check(
    store: StoreDep, actor: Reader, fiscal_year: FiscalYearQuery = None, as_of: AsOfQuery = None
) -> CheckReport:
    """Every program-year eligible or not, with every reason: the same JSON as
    ``ssaplan comply check --json``."""
    with store.session() as session:
        return CheckReport.model_validate(
            ComplianceService(session, actor).check(fiscal_year=fiscal_year, as_of=as_of)
        )


@router.get("/eligibility")
def eligibility(
    store: StoreDep,
    actor: Reader,
    fiscal_year: FiscalYearQuery = None,
    country: Annotated[str | None, Query(max_length=200)] = None,
    ineligible: Annotated[bool, Query(description="only the ineligible")] = False,
    as_of: AsOfQuery = None,
) -> Page[EligibilityPublic]:
    """Program-years judged, with titles, accounts, planned dollars and reason effects."""
    with store.session() as session:
        items = ComplianceService(session, actor).eligibility_public(
            countries=[country] if country else None,
            fiscal_year=fiscal_year,
            as_of=as_of,
            ineligible_only=ineligible,
        )
    return Page[EligibilityPublic](items=items, total=len(items))


@router.get("/blocked-cells")
def blocked_cells(
    store: StoreDep,
    actor: Reader,
    fiscal_year: Annotated[list[int], Query(min_length=1, max_length=20)],
) -> BlockedCellsPublic:
    """(country, account, fiscal year) cells no money may go to (for the optimizer)."""
    years = sorted(set(fiscal_year))
    with store.session() as session:
        cells = ComplianceService(session, actor).blocked_cells(years)
    return BlockedCellsPublic(
        fiscal_years=years,
        cells=[
            BlockedCellPublic(country=c, account=a, fiscal_year=fy) for c, a, fy in sorted(cells)
        ],
    )


@router.get("/assisted-units")
def assisted_units(
    store: StoreDep,
    actor: Reader,
    fiscal_year: FiscalYearQuery = None,
    country: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AssistedCountryPublic]:
    """The current list of security-force units receiving assistance, per country
    (22 U.S.C. 2378d), with each unit's programs and vetting state today."""
    with store.session() as session:
        items = ComplianceService(session, actor).assisted_units(
            fiscal_year=fiscal_year, country=country
        )
    return Page[AssistedCountryPublic](items=items, total=len(items))


@router.get("/settings")
def get_settings(store: StoreDep, actor: Reader) -> SettingsPublic:
    """The default validity of an approval and the expiry-alert window, in days."""
    with store.session() as session:
        return ComplianceService(session, actor).vetting.settings()


@router.patch("/settings")
def update_settings(body: SettingsUpdate, store: StoreDep, actor: Manager) -> SettingsPublic:
    with unit_of_work(store) as session:
        return ComplianceService(session, actor).vetting.update_settings(body)
