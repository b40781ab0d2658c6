"""Human-rights vetting as people record it: units, vetting requests and decisions,
credible information and its remediation, the units and individuals programs assist,
and the legal facts of programs.

Permissions: vetting requests, assisted subjects and program facts need
``compliance:vet`` within the program's scope (its agency, or all its partner
countries). The unit registry and credible information need ``compliance:vet``
anywhere: the registry is shared, and recording credible information only ever bars
assistance. Lifting that bar — recording remediation — and deleting a record of credible
information need ``compliance:manage``, as do the settings.

Markings (docs/markings.md): a vetting request the reader may not read is left out of
their lists and queues (counted in ``withheld``) and is 404 to them, like a missing id.
The eligibility it feeds is judged on every record, whoever asks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from ssaplan.compliance import vetting as core
from ssaplan.compliance.models import (
    CredibleInformation,
    ProgramAssistance,
    ProgramCompliance,
    SecurityUnit,
    VettingRequest,
)
from ssaplan.compliance.schemas import (
    AssistanceCreate,
    AssistancePublic,
    CredibleCreate,
    CrediblePublic,
    CredibleUpdate,
    ProgramFactsPublic,
    ProgramFactsUpdate,
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
from ssaplan.compliance.service.common import (
    SETTING_ALERT,
    SETTING_VALIDITY,
    Context,
    ProgramFacts,
    program_codes,
    program_facts,
)
from ssaplan.compliance.service.rules import RuleService
from ssaplan.core.errors import Conflict, Detail, Invalid, NotFound, StaleVersion
from ssaplan.core.store import utcnow
from ssaplan.portfolio import visibility
from ssaplan.portfolio.schemas import Withheld
from ssaplan.reference.catalog import UnknownCode

# A decision may move on: pending to any decision; an approval to a suspension or a
# denial (credible information came up); a suspension or denial back to an approval
# (re-vetted). It never goes back to pending: a new request is a new record.
TRANSITIONS = {
    "pending": {"approved", "suspended", "denied"},
    "approved": {"suspended", "denied"},
    "suspended": {"approved", "denied"},
    "denied": {"approved"},
}


def _stale(what: str, sent: int, current: int) -> StaleVersion:
    return StaleVersion(
        f"{what} was changed by someone else (you sent version {sent}, it is now at "
        f"version {current}): reload and try again"
    )


class VettingService:
    """Units, vetting and credible information as one actor reads and writes them."""

    def __init__(self, ctx: Context, rules: RuleService) -> None:
        self.ctx = ctx
        self.rules = rules

    # -- the register, for the engine -------------------------------------------------
    def register(self) -> core.VettingRegister:
        """Every unit, vetting record and credible-information record, as the engine takes them."""
        session = self.ctx.session
        units = [
            core.Unit(
                str(u.id), u.name, u.country, u.type, str(u.parent_id) if u.parent_id else None
            )
            for u in session.execute(select(SecurityUnit)).scalars()
        ]
        requests = list(session.execute(select(VettingRequest)).scalars())
        codes = program_codes(session, (r.program_id for r in requests if r.program_id))
        records = [
            core.VettingRecord(
                id=str(r.id),
                subject_id=str(r.unit_id) if r.subject_kind == "unit" else str(r.individual),
                program_id=codes.get(r.program_id) if r.program_id else None,
                status=r.status,
                decided=r.decided,
                requested=r.requested,
                validity_days=r.validity_days,
                subject_kind=r.subject_kind,
            )
            for r in requests
        ]
        credible = [
            core.CredibleInformation(
                str(c.id), str(c.unit_id), c.reported, c.description, c.remediated_on
            )
            for c in session.execute(select(CredibleInformation)).scalars()
        ]
        return core.VettingRegister.build(units, records, credible)

    # -- settings --------------------------------------------------------------------
    def settings(self) -> SettingsPublic:
        self.ctx.require("read")
        s = self.ctx.settings()
        return SettingsPublic(validity_days=s.validity_days, alert_days=s.alert_days)

    def update_settings(self, data: SettingsUpdate) -> SettingsPublic:
        self.ctx.require("compliance:manage")
        before = self.settings()
        if data.validity_days is not None:
            self.ctx.set_setting(SETTING_VALIDITY, str(data.validity_days))
        if data.alert_days is not None:
            self.ctx.set_setting(SETTING_ALERT, str(data.alert_days))
        after = self.settings()
        if after != before:
            self.ctx.audit(
                "update",
                "compliance_settings",
                "settings",
                before.model_dump(),
                after.model_dump(),
            )
        return after

    # -- units -----------------------------------------------------------------------
    def units(self, *, country: str | None = None) -> list[UnitPublic]:
        self.ctx.require("read")
        stmt = select(SecurityUnit).order_by(SecurityUnit.country, SecurityUnit.name)
        if country:
            stmt = stmt.where(SecurityUnit.country == self._country(country, ("query", "country")))
        rows = list(self.ctx.session.execute(stmt).scalars())
        names = self._unit_names({r.parent_id for r in rows if r.parent_id})
        return [self._unit_public(r, names) for r in rows]

    def unit(self, unit_id: int) -> UnitPublic:
        self.ctx.require("read")
        row = self._load_unit(unit_id)
        return self._unit_public(row, self._unit_names({row.parent_id} if row.parent_id else set()))

    def create_unit(self, data: UnitCreate) -> UnitPublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        problems: list[Detail] = []
        country = self._resolve(problems, "country", data.country, ("body", "country"))
        utype = self._resolve(problems, "institution_type", data.type, ("body", "type"))
        parent = self._check_parent(problems, data.parent, country, None)
        if problems:
            raise Invalid(f"{len(problems)} problem(s) in the unit; nothing was saved", problems)
        self._check_name_free(data.name, country, data.parent, None)
        now = utcnow()
        row = SecurityUnit(
            name=data.name,
            country=country,
            type=utype,
            parent_id=parent,
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "create", "security_unit", f"{row.id} {row.name}", None, _unit_snap(row), ref=_uref(row)
        )
        return self.unit(row.id)

    def update_unit(self, unit_id: int, data: UnitUpdate) -> UnitPublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self._load_unit(unit_id, lock=True)
        if data.version != row.version:
            raise _stale(f"unit {unit_id}", data.version, row.version)
        given = data.model_fields_set
        problems: list[Detail] = []
        utype = (
            self._resolve(problems, "institution_type", data.type, ("body", "type"))
            if data.type is not None
            else row.type
        )
        parent = row.parent_id
        if "parent" in given:
            parent = self._check_parent(problems, data.parent, row.country, row.id)
        if problems:
            raise Invalid(f"{len(problems)} problem(s) in the unit; nothing was saved", problems)
        name = data.name if data.name is not None else row.name
        if (name, parent) != (row.name, row.parent_id):
            self._check_name_free(name, row.country, parent, row.id)
        before = _unit_snap(row)
        row.name, row.type, row.parent_id = name, utype, parent
        if _unit_snap(row) != before:
            row.version += 1
            row.updated_at = utcnow()
            self.ctx.session.flush()
            self.ctx.audit(
                "update",
                "security_unit",
                f"{row.id} {row.name}",
                before,
                _unit_snap(row),
                ref=_uref(row),
            )
        return self.unit(row.id)

    def delete_unit(self, unit_id: int, version: int | None = None) -> None:
        """Remove a unit registered by mistake; one with any record is kept (409)."""
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self._load_unit(unit_id, lock=True)
        if version is not None and version != row.version:
            raise _stale(f"unit {unit_id}", version, row.version)
        session = self.ctx.session
        uses = {
            "vetting requests": session.execute(
                select(func.count()).where(VettingRequest.unit_id == unit_id)
            ).scalar_one(),
            "credible-information records": session.execute(
                select(func.count()).where(CredibleInformation.unit_id == unit_id)
            ).scalar_one(),
            "programs assisting it": session.execute(
                select(func.count()).where(ProgramAssistance.unit_id == unit_id)
            ).scalar_one(),
            "sub-units": session.execute(
                select(func.count()).where(SecurityUnit.parent_id == unit_id)
            ).scalar_one(),
        }
        used = {k: v for k, v in uses.items() if v}
        if used:
            listed = ", ".join(f"{v} {k}" for k, v in used.items())
            raise Conflict(f"unit {unit_id} ({row.name}) has {listed}: it is kept for the record")
        before = _unit_snap(row)
        session.delete(row)
        session.flush()
        self.ctx.audit(
            "delete",
            "security_unit",
            f"{unit_id} {before['name']}",
            before,
            None,
            ref=f"unit:{unit_id}",
        )

    # -- vetting requests ----------------------------------------------------------------
    def requests(
        self,
        *,
        status: str | None = None,
        program: str | None = None,
        unit: int | None = None,
        limit: int | None = None,
    ) -> list[VettingPublic]:
        """The vetting records the reader may read (see :meth:`listing`)."""
        return self.listing(status=status, program=program, unit=unit, limit=limit).items

    def listing(
        self,
        *,
        status: str | None = None,
        program: str | None = None,
        unit: int | None = None,
        limit: int | None = None,
    ) -> VettingList:
        """Vetting records newest first, only those the reader may read, and how many the
        filter matched that they may not (by reason, never which)."""
        self.ctx.require("read")
        ids: Any = select(VettingRequest.id)
        if status:
            ids = ids.where(VettingRequest.status == status)
        if program:
            facts = program_facts(self.ctx.session, self.ctx.catalog, program)
            ids = ids.where(VettingRequest.program_id == facts.pk)
        if unit is not None:
            ids = ids.where(VettingRequest.unit_id == unit)
        stmt = visibility.only_visible(
            select(VettingRequest).where(VettingRequest.id.in_(ids)),
            self.ctx.audience,
            self.ctx.catalog,
            marked=VettingRequest,
        ).order_by(VettingRequest.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = list(self.ctx.session.execute(stmt).scalars())
        counts = visibility.withheld(
            self.ctx.session, ids, self.ctx.audience, self.ctx.catalog, marked=VettingRequest
        )
        items = self._vetting_publics(rows)
        return VettingList(items=items, total=len(items), withheld=Withheld(**counts))

    def request(self, request_id: int) -> VettingPublic:
        self.ctx.require("read")
        return self._vetting_publics([self._load_request(request_id)])[0]

    def create_request(self, data: VettingCreate) -> VettingPublic:
        """Request vetting of a unit or an individual for a program; the program then
        assists them. A unit that does not exist is refused, nothing written."""
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        problems: list[Detail] = []
        subject = self._subject(problems, data.unit, data.individual)
        program: ProgramFacts | None = None
        try:
            program = program_facts(self.ctx.session, self.ctx.catalog, data.program)
        except NotFound:
            problems.append(Detail(("body", "program"), f"program {data.program!r} does not exist"))
        # A decision recorded at once without its request date: requested that day.
        requested = data.requested or (
            data.decided if data.status != "pending" and data.decided else self.ctx.today
        )
        if requested > self.ctx.today:
            problems.append(Detail(("body", "requested"), f"{requested} is in the future"))
        marked = self.ctx.marking_fields(data.marking, data.releasable_to, ("body",), problems)
        decided = data.decided
        if data.status == "pending" and decided is not None:
            problems.append(Detail(("body", "decided"), "a pending request has no decision date"))
        if data.status != "pending":
            self._check_decided(problems, decided, requested, None)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the vetting request; nothing was saved", problems
            )
        if program is None:  # reported above; keeps the type checker informed
            raise Invalid("the program does not exist", problems)
        self.ctx.check_program_scope(program, ("body", "program"))
        kind, unit_id, individual = subject
        now = utcnow()
        row = VettingRequest(
            subject_kind=kind,
            unit_id=unit_id,
            individual=individual,
            program_id=program.pk,
            status=data.status,
            requested=requested,
            decided=decided if data.status != "pending" else None,
            validity_days=data.validity_days or self.ctx.settings().validity_days,
            note=data.note,
            version=1,
            created_at=now,
            updated_at=now,
            **marked,
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "create",
            "vetting_request",
            str(row.id),
            None,
            _request_snap(row, program.code),
            summary=f"{kind} {unit_id or individual} for program {program.code}",
            ref=f"vetting:{row.id}",
        )
        self._assist(program, kind, unit_id, individual)
        return self.request(row.id)

    def update_request(self, request_id: int, data: VettingUpdate) -> VettingPublic:
        """Record a decision (or correct one): the status moves only along
        :data:`TRANSITIONS`, and a decision is dated on or after the request."""
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self._load_request(request_id, lock=True)
        code = self._program_code(row)
        if row.program_id is not None and code is not None:
            program = program_facts(self.ctx.session, self.ctx.catalog, code)
            self.ctx.check_program_scope(program, ("body",))
        else:
            self.ctx.require("compliance:manage")  # a record whose program is gone
        if data.version != row.version:
            raise _stale(f"vetting request {request_id}", data.version, row.version)
        status = data.status or row.status
        problems: list[Detail] = []
        marked = self.ctx.marking_fields(data.marking, data.releasable_to, ("body",), problems)
        if status != row.status and status not in TRANSITIONS[row.status]:
            raise Conflict(
                f"vetting request {request_id} cannot go from {row.status} to {status}: next "
                f"steps are {', '.join(sorted(TRANSITIONS[row.status]))} (a new request is a "
                "new record)",
                [Detail(("body", "status"), f"not allowed from {row.status}")],
            )
        decided = data.decided if data.decided is not None else row.decided
        if status != row.status and data.decided is None:
            decided = self.ctx.today  # a decision recorded now, dated today
        if status != "pending":
            previous = row.decided if status != row.status else None
            self._check_decided(problems, decided, row.requested, previous)
        elif data.decided is not None:
            problems.append(Detail(("body", "decided"), "a pending request has no decision date"))
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the decision; nothing was saved", problems
            )
        before = _request_snap(row, code)
        row.status = status
        row.decided = decided if status != "pending" else None
        if data.validity_days is not None:
            row.validity_days = data.validity_days
        if data.note is not None:
            row.note = data.note
        for key, value in marked.items():
            setattr(row, key, value)
        after = _request_snap(row, code)
        if after != before:
            row.version += 1
            row.updated_at = utcnow()
            self.ctx.session.flush()
            self.ctx.audit(
                "decide" if before["status"] != status else "update",
                "vetting_request",
                str(row.id),
                before,
                _request_snap(row, code),
                summary=f"{before['status']} -> {status}" if before["status"] != status else "",
                ref=f"vetting:{row.id}",
            )
        return self.request(row.id)

    def delete_request(self, request_id: int, version: int | None = None) -> None:
        """Withdraw a pending request; decided records are kept for the law's record (409)."""
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self._load_request(request_id, lock=True)
        code = self._program_code(row)
        if code is not None:
            self.ctx.check_program_scope(
                program_facts(self.ctx.session, self.ctx.catalog, code), ("path",)
            )
        if version is not None and version != row.version:
            raise _stale(f"vetting request {request_id}", version, row.version)
        if row.status != "pending":
            raise Conflict(
                f"vetting request {request_id} is {row.status}: decided vetting records are "
                "kept; record a new decision instead"
            )
        before = _request_snap(row, code)
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "delete",
            "vetting_request",
            str(request_id),
            before,
            None,
            summary="pending request withdrawn",
            ref=f"vetting:{request_id}",
        )

    # -- credible information ------------------------------------------------------------
    def credible(self, *, unit: int | None = None, open_only: bool = False) -> list[CrediblePublic]:
        self.ctx.require("read")
        stmt = select(CredibleInformation).order_by(CredibleInformation.reported.desc())
        if unit is not None:
            stmt = stmt.where(CredibleInformation.unit_id == unit)
        rows = list(self.ctx.session.execute(stmt).scalars())
        out = self._credible_publics(rows)
        return [c for c in out if c.open] if open_only else out

    def credible_one(self, info_id: int) -> CrediblePublic:
        self.ctx.require("read")
        return self._credible_publics([self._load_credible(info_id)])[0]

    def create_credible(self, data: CredibleCreate) -> CrediblePublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        problems: list[Detail] = []
        if self.ctx.session.get(SecurityUnit, data.unit) is None:
            problems.append(Detail(("body", "unit"), f"unit {data.unit} does not exist"))
        if data.reported > self.ctx.today:
            problems.append(Detail(("body", "reported"), f"{data.reported} is in the future"))
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the credible information; nothing was saved",
                problems,
            )
        now = utcnow()
        row = CredibleInformation(
            unit_id=data.unit,
            reported=data.reported,
            description=data.description,
            source=data.source,
            remediation="",
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "create",
            "credible_information",
            str(row.id),
            None,
            _credible_snap(row),
            summary=f"unit {row.unit_id} ineligible until remediation is recorded",
            ref=f"credible:{row.id}",
        )
        return self.credible_one(row.id)

    def update_credible(self, info_id: int, data: CredibleUpdate) -> CrediblePublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self._load_credible(info_id, lock=True)
        if data.version != row.version:
            raise _stale(f"credible information {info_id}", data.version, row.version)
        given = data.model_fields_set
        remediating = "remediated_on" in given or data.remediation is not None
        if remediating:
            # Lifting the bar takes more authority than imposing it.
            self.ctx.require("compliance:manage")
        remediated_on = data.remediated_on if "remediated_on" in given else row.remediated_on
        problems: list[Detail] = []
        if remediated_on is not None:
            if remediated_on < row.reported:
                problems.append(
                    Detail(
                        ("body", "remediated_on"),
                        f"{remediated_on} is before the information was reported ({row.reported})",
                    )
                )
            if remediated_on > self.ctx.today:
                problems.append(
                    Detail(("body", "remediated_on"), f"{remediated_on} is in the future")
                )
            remediation = data.remediation if data.remediation is not None else row.remediation
            if not remediation:
                problems.append(
                    Detail(
                        ("body", "remediation"),
                        "say what corrective steps were taken "
                        "(22 U.S.C. 2378d(b), 10 U.S.C. 362(b))",
                    )
                )
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the credible information; nothing was saved",
                problems,
            )
        before = _credible_snap(row)
        if data.description is not None:
            row.description = data.description
        if data.source is not None:
            row.source = data.source
        if data.remediation is not None:
            row.remediation = data.remediation
        row.remediated_on = remediated_on
        if _credible_snap(row) != before:
            row.version += 1
            row.updated_at = utcnow()
            self.ctx.session.flush()
            summary = ""
            if before["remediated_on"] != _credible_snap(row)["remediated_on"]:
                summary = (
                    f"remediation recorded on {row.remediated_on}"
                    if row.remediated_on
                    else "remediation withdrawn: the unit is ineligible again"
                )
            self.ctx.audit(
                "update",
                "credible_information",
                str(row.id),
                before,
                _credible_snap(row),
                summary=summary,
                ref=f"credible:{row.id}",
            )
        return self.credible_one(row.id)

    def delete_credible(self, info_id: int, version: int | None = None) -> None:
        """Remove a record entered by mistake (admins; the audit trail keeps it)."""
        self.ctx.require("compliance:manage")
        self.rules.ensure_loaded()
        row = self._load_credible(info_id, lock=True)
        if version is not None and version != row.version:
            raise _stale(f"credible information {info_id}", version, row.version)
        before = _credible_snap(row)
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "delete",
            "credible_information",
            str(info_id),
            before,
            None,
            ref=f"credible:{info_id}",
        )

    # -- assisted subjects ---------------------------------------------------------------
    def assistance(self, program: str) -> list[AssistancePublic]:
        self.ctx.require("read")
        facts = program_facts(self.ctx.session, self.ctx.catalog, program)
        rows = list(
            self.ctx.session.execute(
                select(ProgramAssistance)
                .where(ProgramAssistance.program_id == facts.pk)
                .order_by(ProgramAssistance.id)
            ).scalars()
        )
        return self._assistance_publics(rows, facts.code)

    def add_assistance(self, program: str, data: AssistanceCreate) -> AssistancePublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        facts = program_facts(self.ctx.session, self.ctx.catalog, program)
        problems: list[Detail] = []
        kind, unit_id, individual = self._subject(problems, data.unit, data.individual)
        if problems:
            raise Invalid(f"{len(problems)} problem(s); nothing was saved", problems)
        self.ctx.check_program_scope(facts, ("path", "program"))
        row = self._assist(facts, kind, unit_id, individual, conflict=True)
        return self._assistance_publics([row], facts.code)[0]

    def remove_assistance(self, assistance_id: int) -> None:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        row = self.ctx.session.get(ProgramAssistance, assistance_id)
        if row is None:
            raise NotFound(f"no assisted unit or individual {assistance_id}")
        code = program_codes(self.ctx.session, [row.program_id])[row.program_id]
        self.ctx.check_program_scope(
            program_facts(self.ctx.session, self.ctx.catalog, code), ("path",)
        )
        before = _assist_snap(row, code)
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "delete",
            "program_assistance",
            code,
            before,
            None,
            summary="the program no longer assists it; its vetting records stay",
            ref=f"program:{row.program_id}",
        )

    def _assist(
        self,
        program: ProgramFacts,
        kind: str,
        unit_id: int | None,
        individual: str | None,
        *,
        conflict: bool = False,
    ) -> ProgramAssistance:
        stmt = select(ProgramAssistance).where(ProgramAssistance.program_id == program.pk)
        stmt = stmt.where(
            ProgramAssistance.unit_id == unit_id
            if kind == "unit"
            else ProgramAssistance.individual == individual
        )
        found = self.ctx.session.execute(stmt).scalar_one_or_none()
        if found is not None:
            if conflict:
                raise Conflict(
                    f"program {program.code} already assists {kind} {unit_id or individual}"
                )
            return found
        row = ProgramAssistance(
            program_id=program.pk,
            subject_kind=kind,
            unit_id=unit_id,
            individual=individual,
            created_at=utcnow(),
            created_by=self.ctx.actor.username,
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        self.ctx.audit(
            "create",
            "program_assistance",
            program.code,
            None,
            _assist_snap(row, program.code),
            ref=f"program:{program.pk}",
        )
        return row

    # -- program facts ---------------------------------------------------------------
    def facts(self, program: str) -> ProgramFactsPublic:
        self.ctx.require("read")
        facts = program_facts(self.ctx.session, self.ctx.catalog, program)
        return self._facts_public(facts.code, self.ctx.session.get(ProgramCompliance, facts.pk))

    def known_flags(self) -> list[str]:
        """Every flag an exception of the rules in force recognizes."""
        return sorted(
            {f for r in self.rules.ruleset().rules for e in r.exceptions for f in e.flags}
        )

    def set_facts(self, program: str, data: ProgramFactsUpdate) -> ProgramFactsPublic:
        self.ctx.require("compliance:vet")
        self.rules.ensure_loaded()
        facts = program_facts(self.ctx.session, self.ctx.catalog, program)
        self.ctx.check_program_scope(facts, ("path", "program"))
        row = self.ctx.session.get(ProgramCompliance, facts.pk, with_for_update=True)
        current = row.version if row is not None else 0
        if data.version != current:
            raise _stale(f"the compliance facts of program {facts.code}", data.version, current)
        flags = data.flags
        if flags is not None:
            known = set(self.known_flags())
            problems = [
                Detail(
                    ("body", "flags", i),
                    f"unknown flag {flag!r}: no exception of the rules recognizes it "
                    f"(known: {', '.join(sorted(known)) or 'none'})",
                )
                for i, flag in enumerate(flags)
                if flag not in known
            ]
            if len(set(flags)) != len(flags):
                problems.append(Detail(("body", "flags"), "a flag is listed twice"))
            if problems:
                raise Invalid(
                    f"{len(problems)} problem(s) in the flags; nothing was saved", problems
                )
        before = _facts_snap(row) if row is not None else None
        if row is None:
            row = ProgramCompliance(
                program_id=facts.pk, recipient="government", flags=[], note="", version=0
            )
            self.ctx.session.add(row)
        if data.recipient is not None:
            row.recipient = data.recipient
        if flags is not None:
            row.flags = sorted(flags)
        if data.note is not None:
            row.note = data.note
        if before is not None and _facts_snap(row) == before:
            return self._facts_public(facts.code, row)
        row.version = current + 1
        row.updated_at = utcnow()
        row.updated_by = self.ctx.actor.username
        self.ctx.session.flush()
        self.ctx.audit(
            "update" if before else "create",
            "program_compliance",
            facts.code,
            before,
            _facts_snap(row),
            ref=f"program:{facts.pk}",
        )
        return self._facts_public(facts.code, row)

    # -- queue -----------------------------------------------------------------------
    def expiring(
        self, *, within_days: int | None = None, register: core.VettingRegister | None = None
    ) -> list[tuple[VettingPublic, date, int]]:
        """Approvals valid today that lapse within ``within_days`` (default: the setting)."""
        self.ctx.require("read")
        days = within_days if within_days is not None else self.ctx.settings().alert_days
        found = core.expiring(register or self.register(), self.ctx.today, days)
        rows = {
            r.id: r
            for r in self.ctx.session.execute(
                select(VettingRequest).where(
                    VettingRequest.id.in_([int(e.record.id) for e in found])
                )
            ).scalars()
            if self.ctx.shows(r)
        }
        publics = {p.id: p for p in self._vetting_publics(list(rows.values()))}
        return [
            (publics[int(e.record.id)], e.expires_on, e.days_left)
            for e in found
            if int(e.record.id) in publics
        ]

    # -- internals -------------------------------------------------------------------
    def _country(self, value: str, loc: tuple[str | int, ...]) -> str:
        try:
            return self.ctx.catalog.resolve("country", value)
        except UnknownCode as exc:
            raise Invalid(str(exc), [Detail(loc, str(exc))]) from exc

    def _resolve(
        self, problems: list[Detail], kind: Any, value: str, loc: tuple[str | int, ...]
    ) -> str:
        try:
            return self.ctx.catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(Detail(loc, str(exc)))
            return ""

    def _check_parent(
        self, problems: list[Detail], parent: int | None, country: str, unit_id: int | None
    ) -> int | None:
        if parent is None:
            return None
        row = self.ctx.session.get(SecurityUnit, parent)
        if row is None:
            problems.append(Detail(("body", "parent"), f"parent unit {parent} does not exist"))
            return None
        if country and row.country != country:
            problems.append(
                Detail(
                    ("body", "parent"),
                    f"parent unit {parent} ({row.name}) belongs to {row.country}, not {country}",
                )
            )
        seen = {unit_id} if unit_id is not None else set()
        cursor: SecurityUnit | None = row
        while cursor is not None:
            if cursor.id in seen:
                problems.append(
                    Detail(("body", "parent"), "the parent chain loops back to this unit")
                )
                break
            seen.add(cursor.id)
            cursor = (
                self.ctx.session.get(SecurityUnit, cursor.parent_id) if cursor.parent_id else None
            )
        return parent

    def _check_name_free(
        self, name: str, country: str, parent: int | None, unit_id: int | None
    ) -> None:
        stmt = select(SecurityUnit.id).where(
            func.lower(SecurityUnit.name) == name.lower(),
            SecurityUnit.country == country,
            SecurityUnit.parent_id.is_(None)
            if parent is None
            else SecurityUnit.parent_id == parent,
        )
        for other in self.ctx.session.execute(stmt).scalars():
            if other != unit_id:
                raise Conflict(
                    f"unit {other} already has the name {name!r} in {country} under the same "
                    "parent",
                    [Detail(("body", "name"), f"taken by unit {other}")],
                )

    def _subject(
        self, problems: list[Detail], unit: int | None, individual: str | None
    ) -> tuple[str, int | None, str | None]:
        if (unit is None) == (individual is None):
            problems.append(Detail(("body",), "give exactly one of unit and individual"))
            return ("unit", unit, None)
        if unit is not None:
            if self.ctx.session.get(SecurityUnit, unit) is None:
                problems.append(Detail(("body", "unit"), f"unit {unit} does not exist"))
            return ("unit", unit, None)
        return ("individual", None, individual)

    def _check_decided(
        self,
        problems: list[Detail],
        decided: date | None,
        requested: date,
        previous: date | None,
    ) -> None:
        if decided is None:
            problems.append(Detail(("body", "decided"), "a decision needs its date"))
            return
        if decided < requested:
            problems.append(
                Detail(("body", "decided"), f"{decided} is before the request ({requested})")
            )
        if decided > self.ctx.today:
            problems.append(Detail(("body", "decided"), f"{decided} is in the future"))
        if previous is not None and decided < previous:
            problems.append(
                Detail(
                    ("body", "decided"),
                    f"{decided} is before the decision it replaces ({previous})",
                )
            )

    def _load_unit(self, unit_id: int, lock: bool = False) -> SecurityUnit:
        row = self.ctx.session.get(SecurityUnit, unit_id, with_for_update=lock)
        if row is None:
            raise NotFound(f"no unit {unit_id}")
        return row

    def _load_request(self, request_id: int, lock: bool = False) -> VettingRequest:
        row = self.ctx.session.get(VettingRequest, request_id, with_for_update=lock)
        if row is None or not self.ctx.shows(row):
            # One the actor may not read is missing to them, never forbidden.
            raise NotFound(f"no vetting request {request_id}")
        return row

    def _load_credible(self, info_id: int, lock: bool = False) -> CredibleInformation:
        row = self.ctx.session.get(CredibleInformation, info_id, with_for_update=lock)
        if row is None:
            raise NotFound(f"no credible-information record {info_id}")
        return row

    def _program_code(self, row: VettingRequest) -> str | None:
        if row.program_id is None:
            return None
        return program_codes(self.ctx.session, [row.program_id]).get(row.program_id)

    def _unit_names(self, ids: set[int]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        return {
            uid: (name, country)
            for uid, name, country in self.ctx.session.execute(
                select(SecurityUnit.id, SecurityUnit.name, SecurityUnit.country).where(
                    SecurityUnit.id.in_(sorted(ids))
                )
            )
        }

    def _unit_public(self, row: SecurityUnit, names: dict[int, tuple[str, str]]) -> UnitPublic:
        itype = self.ctx.catalog.institution_types.get(row.type)
        return UnitPublic(
            id=row.id,
            name=row.name,
            country=row.country,
            country_name=self.ctx.country_name(row.country),
            type=row.type,
            type_name=itype.name if itype else row.type,
            parent=row.parent_id,
            parent_name=names[row.parent_id][0] if row.parent_id in names else None,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _vetting_publics(self, rows: list[VettingRequest]) -> list[VettingPublic]:
        codes = program_codes(self.ctx.session, (r.program_id for r in rows if r.program_id))
        names = self._unit_names({r.unit_id for r in rows if r.unit_id})
        out = []
        for r in rows:
            valid_through = (
                r.decided + timedelta(days=r.validity_days - 1)
                if r.status == "approved" and r.decided
                else None
            )
            name, country = names.get(r.unit_id, (None, None)) if r.unit_id else (None, None)
            out.append(
                VettingPublic(
                    id=r.id,
                    subject_kind=r.subject_kind,
                    unit=r.unit_id,
                    unit_name=name,
                    country=country,
                    individual=r.individual,
                    program=codes.get(r.program_id) if r.program_id else None,
                    status=r.status,
                    requested=r.requested,
                    decided=r.decided,
                    validity_days=r.validity_days,
                    valid_through=valid_through,
                    note=r.note,
                    marking=r.marking,
                    releasable_to=visibility.decode(r.releasable_to),
                    version=r.version,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
            )
        return out

    def _credible_publics(self, rows: list[CredibleInformation]) -> list[CrediblePublic]:
        names = self._unit_names({r.unit_id for r in rows})
        today = self.ctx.today
        return [
            CrediblePublic(
                id=r.id,
                unit=r.unit_id,
                unit_name=names.get(r.unit_id, ("", ""))[0],
                country=names.get(r.unit_id, ("", ""))[1],
                reported=r.reported,
                description=r.description,
                source=r.source,
                remediated_on=r.remediated_on,
                remediation=r.remediation,
                open=r.reported <= today and (r.remediated_on is None or today < r.remediated_on),
                version=r.version,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    def _assistance_publics(
        self, rows: list[ProgramAssistance], code: str
    ) -> list[AssistancePublic]:
        names = self._unit_names({r.unit_id for r in rows if r.unit_id})
        return [
            AssistancePublic(
                id=r.id,
                program=code,
                subject_kind=r.subject_kind,
                unit=r.unit_id,
                unit_name=names.get(r.unit_id, (None, None))[0] if r.unit_id else None,
                country=names.get(r.unit_id, (None, None))[1] if r.unit_id else None,
                individual=r.individual,
                created_at=r.created_at,
                created_by=r.created_by,
            )
            for r in rows
        ]

    def _facts_public(self, code: str, row: ProgramCompliance | None) -> ProgramFactsPublic:
        if row is None:
            return ProgramFactsPublic(
                program=code,
                recipient="government",
                flags=[],
                note="",
                version=0,
                updated_at=None,
                updated_by="",
            )
        return ProgramFactsPublic(
            program=code,
            recipient=row.recipient,
            flags=list(row.flags or []),
            note=row.note,
            version=row.version,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )


def _uref(row: SecurityUnit) -> str:
    return f"unit:{row.id}"


def _unit_snap(row: SecurityUnit) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "country": row.country,
        "type": row.type,
        "parent": row.parent_id,
        "version": row.version,
    }


def _request_snap(row: VettingRequest, code: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "subject_kind": row.subject_kind,
        "unit": row.unit_id,
        "individual": row.individual,
        "program": code,
        "status": row.status,
        "requested": row.requested,
        "decided": row.decided,
        "validity_days": row.validity_days,
        "note": row.note,
        "marking": row.marking,
        "releasable_to": visibility.decode(row.releasable_to),
    }


def _credible_snap(row: CredibleInformation) -> dict[str, Any]:
    return {
        "id": row.id,
        "unit": row.unit_id,
        "reported": row.reported.isoformat(),
        "description": row.description,
        "source": row.source,
        "remediated_on": row.remediated_on.isoformat() if row.remediated_on else None,
        "remediation": row.remediation,
    }


def _assist_snap(row: ProgramAssistance, code: str) -> dict[str, Any]:
    return {
        "program": code,
        "subject_kind": row.subject_kind,
        "unit": row.unit_id,
        "individual": row.individual,
    }


def _facts_snap(row: ProgramCompliance) -> dict[str, Any]:
    return {"recipient": row.recipient, "flags": sorted(row.flags or []), "note": row.note}
