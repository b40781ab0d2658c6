"""What the compliance services share: the session, the actor, the catalog, the day, the
settings, the audit helper, and the program facts read from the portfolio."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.compliance.models import ProgramAssistance, ProgramCompliance
from ssaplan.compliance.vetting import DEFAULT_VALIDITY_DAYS
from ssaplan.core import audit
from ssaplan.core.errors import Detail, Forbidden, Invalid, NotFound
from ssaplan.core.models import AppSetting
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.portfolio import visibility
from ssaplan.portfolio.models import BudgetLine, Program, ProgramCountry, ProgramRegion
from ssaplan.reference.catalog import Catalog, get_catalog

SETTING_VALIDITY = "compliance.validity_days"
SETTING_ALERT = "compliance.alert_days"
SETTING_RULES = "compliance.rules_loaded"
DEFAULT_ALERT_DAYS = 60
CHUNK = 500


@dataclass(frozen=True)
class Settings:
    """Compliance settings kept in the database (``app_settings``)."""

    validity_days: int = DEFAULT_VALIDITY_DAYS
    alert_days: int = DEFAULT_ALERT_DAYS


class Context:
    """One actor's view of the database for one unit of work, on one day."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        catalog: Catalog | None = None,
        *,
        today: date | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.today = today or date.today()
        self.audience = visibility.audience_of(actor, self.catalog)

    # -- markings --------------------------------------------------------------------
    def shows(self, row: visibility.Marked) -> bool:
        """Whether the actor may read a marked record (a restriction, a vetting request)."""
        return (
            visibility.verdict(
                self.audience, self.catalog, row.marking, visibility.decode(row.releasable_to)
            )
            is None
        )

    def marking_fields(
        self,
        marking: str | None,
        releasable_to: list[str] | None,
        loc: tuple[str | int, ...],
        problems: list[Detail],
    ) -> dict[str, str]:
        """A write's marking and releasable-to list as stored (problems appended)."""
        return visibility.marking_fields(
            self.actor, self.catalog, marking, releasable_to, loc, problems
        )

    @property
    def programs_shown(self) -> Any:
        """The SQL condition for the programs the actor may read (true for readers
        without limits): what every list and panel of programs narrows to."""
        return visibility.visible_clause(self.audience, self.catalog)

    # -- permissions -----------------------------------------------------------------
    def require(self, action: str) -> None:
        require(self.actor, action)

    def check_program_scope(self, program: ProgramFacts, loc: tuple[str | int, ...]) -> None:
        """Refuse vetting work on a program outside the actor's ``compliance:vet`` scope."""
        self.require("compliance:vet")
        if not restrict(self.actor, "compliance:vet").allows(program.agency, program.scope):
            partners = ", ".join(sorted(program.scope)) or "no partner"
            raise Forbidden(
                f"{self.actor.username} ({self.actor.describe()}) may not do vetting work for "
                f"program {program.code} ({program.agency}, {partners})",
                [Detail(loc, "outside your scope")],
            )

    def may_vet(self, program: ProgramFacts) -> bool:
        return restrict(self.actor, "compliance:vet").allows(program.agency, program.scope)

    # -- audit -----------------------------------------------------------------------
    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        summary: str = "",
        ref: str | None = None,
    ) -> None:
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                action,
                entity_type,
                entity_id,
                before,
                after,
                summary,
                entity_ref=ref,
            ),
        )

    # -- settings --------------------------------------------------------------------
    def settings(self) -> Settings:
        rows = dict(
            self.session.execute(
                select(AppSetting.key, AppSetting.value).where(
                    AppSetting.key.in_((SETTING_VALIDITY, SETTING_ALERT))
                )
            ).all()
        )
        return Settings(
            validity_days=int(rows.get(SETTING_VALIDITY, DEFAULT_VALIDITY_DAYS)),
            alert_days=int(rows.get(SETTING_ALERT, DEFAULT_ALERT_DAYS)),
        )

    def set_setting(self, key: str, value: str) -> None:
        row = self.session.get(AppSetting, key)
        if row is None:
            self.session.add(AppSetting(key=key, value=value))
        else:
            row.value = value
        self.session.flush()

    # -- names -----------------------------------------------------------------------
    def country_name(self, iso3: str | None) -> str:
        if not iso3:
            return ""
        ref = self.catalog.countries.get(iso3)
        return ref.name if ref is not None else iso3


@dataclass(frozen=True)
class ProgramFacts:
    """What compliance needs to know about one stored program.

    ``countries`` are its partner countries (a regional organization as a partner is not
    its members' government, so restrictions on members do not reach it); ``scope``
    adds the members of its regional partners, for permissions, as the portfolio does.
    ``lines`` are its budget lines: (fiscal year, account or None, planned dollars).
    """

    pk: int
    code: str
    title: str
    agency: str
    account: str | None
    purpose: str | None
    dac_code: str | None
    countries: tuple[str, ...]
    scope: frozenset[str]
    lines: tuple[tuple[int, str | None, int], ...]
    recipient: str = "government"
    flags: frozenset[str] = frozenset()
    units: tuple[str, ...] = ()
    individuals: tuple[str, ...] = ()

    @property
    def fiscal_years(self) -> tuple[int, ...]:
        return tuple(sorted({fy for fy, _, _ in self.lines}))


def _chunks(values: Collection[Any]) -> Iterable[list[Any]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def load_program_facts(
    session: Session,
    catalog: Catalog,
    *,
    codes: Collection[str] | None = None,
    countries: Collection[str] | None = None,
    fiscal_years: Collection[int] | None = None,
    shown: Any = None,
) -> list[ProgramFacts]:
    """The stored programs (all, or those with one of ``codes`` or a partner among
    ``countries``; only those ``shown``, a condition on programs, selects when given)
    with their partners, budget lines, legal facts and assisted subjects.

    Reads with a handful of column queries, never program by program.
    """
    stmt: Any = select(
        Program.id,
        Program.code,
        Program.title,
        Program.agency_id,
        Program.account_id,
        Program.purpose_id,
        Program.dac_code,
    )
    if shown is not None:
        stmt = stmt.where(shown)
    if codes is not None:
        rows = []
        for chunk in _chunks(set(codes)):
            rows += list(session.execute(stmt.where(Program.code.in_(chunk))))
    elif countries is not None:
        partner = select(ProgramCountry.program_id).where(
            ProgramCountry.iso3.in_(sorted(set(countries)))
        )
        rows = list(session.execute(stmt.where(Program.id.in_(partner))))
    else:
        rows = list(session.execute(stmt))
    if not rows:
        return []
    pks = [r.id for r in rows]
    everything = codes is None and countries is None

    def where(column: Any) -> Iterable[Any]:
        # The whole portfolio is read without an IN list; a subset in chunks.
        if everything:
            yield column.is_not(None)
            return
        for chunk in _chunks(pks):
            yield column.in_(chunk)

    partners: dict[int, list[str]] = defaultdict(list)
    scope: dict[int, set[str]] = defaultdict(set)
    for cond in where(ProgramCountry.program_id):
        for pid, iso3 in session.execute(
            select(ProgramCountry.program_id, ProgramCountry.iso3).where(cond)
        ):
            partners[pid].append(iso3)
            scope[pid].add(iso3)
    for cond in where(ProgramRegion.program_id):
        for pid, code in session.execute(
            select(ProgramRegion.program_id, ProgramRegion.region_code).where(cond)
        ):
            scope[pid] |= set(catalog.region_members(code))
    lines: dict[int, list[tuple[int, str | None, int]]] = defaultdict(list)
    for cond in where(BudgetLine.program_id):
        line_stmt = select(
            BudgetLine.program_id, BudgetLine.fiscal_year, BudgetLine.account_id, BudgetLine.planned
        ).where(cond)
        if fiscal_years is not None:
            line_stmt = line_stmt.where(BudgetLine.fiscal_year.in_(sorted(set(fiscal_years))))
        for pid, fy, account, planned in session.execute(line_stmt):
            lines[pid].append((fy, account, planned))
    facts: dict[int, tuple[str, frozenset[str]]] = {}
    for cond in where(ProgramCompliance.program_id):
        for pid, recipient, flags in session.execute(
            select(
                ProgramCompliance.program_id, ProgramCompliance.recipient, ProgramCompliance.flags
            ).where(cond)
        ):
            facts[pid] = (recipient, frozenset(flags or ()))
    units: dict[int, list[str]] = defaultdict(list)
    individuals: dict[int, list[str]] = defaultdict(list)
    for cond in where(ProgramAssistance.program_id):
        for pid, unit_id, individual in session.execute(
            select(
                ProgramAssistance.program_id,
                ProgramAssistance.unit_id,
                ProgramAssistance.individual,
            ).where(cond)
        ):
            if unit_id is not None:
                units[pid].append(str(unit_id))
            elif individual is not None:
                individuals[pid].append(individual)
    out = []
    for r in rows:
        recipient, program_flags = facts.get(r.id, ("government", frozenset()))
        out.append(
            ProgramFacts(
                pk=r.id,
                code=r.code,
                title=r.title,
                agency=r.agency_id,
                account=r.account_id,
                purpose=r.purpose_id,
                dac_code=r.dac_code,
                countries=tuple(sorted(partners.get(r.id, ()))),
                scope=frozenset(scope.get(r.id, ())),
                lines=tuple(sorted(lines.get(r.id, ()), key=lambda x: (x[0], x[1] or ""))),
                recipient=recipient,
                flags=program_flags,
                units=tuple(sorted(units.get(r.id, ()), key=int)),
                individuals=tuple(sorted(individuals.get(r.id, ()))),
            )
        )
    return sorted(out, key=lambda p: p.code)


def program_facts(session: Session, catalog: Catalog, code: str, shown: Any = None) -> ProgramFacts:
    """One stored program's facts; :class:`NotFound` if there is no such program (or,
    with ``shown``, none the reader may see: the same answer)."""
    found = load_program_facts(session, catalog, codes=[code], shown=shown)
    if not found:
        raise NotFound(f"no program with id {code!r}")
    return found[0]


def program_pk(session: Session, code: str, loc: tuple[str | int, ...]) -> int:
    pk = session.execute(select(Program.id).where(Program.code == code)).scalar_one_or_none()
    if pk is None:
        raise Invalid(
            f"no program with id {code!r}; nothing was saved",
            [Detail(loc, f"program {code!r} does not exist")],
        )
    return int(pk)


def program_codes(session: Session, pks: Iterable[int]) -> dict[int, str]:
    wanted = {pk for pk in pks if pk is not None}
    out: dict[int, str] = {}
    for chunk in _chunks(wanted):
        out.update(
            dict(
                session.execute(select(Program.id, Program.code).where(Program.id.in_(chunk))).all()
            )
        )
    return out
