"""Portfolio workflows: reading, rolling up and writing programs.

Every write checks the actor's permission and agency scope, validates every field
against the reference catalog (reporting all problems at once), and leaves an audit
record with the program before and after, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.auth import Actor, agency_scope, require
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.store import utcnow
from ssaplan.portfolio import engine
from ssaplan.portfolio.fields import apply_fields, check_dates, resolve_fields, snapshot, to_public
from ssaplan.portfolio.filters import SORT_KEYS, ProgramFilter
from ssaplan.portfolio.models import (
    BudgetLine,
    Program,
    ProgramCountry,
    ProgramRegion,
)
from ssaplan.portfolio.schemas import (
    ProgramCreate,
    ProgramList,
    ProgramPublic,
    ProgramUpdate,
    Totals,
)
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

ROLLUP_DIMENSIONS = ("bureau", "account", "agency", "status")


@dataclass(frozen=True)
class UpsertReport:
    """What a bulk save did, by program id."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


class PortfolioService:
    """Programs as one actor sees and changes them, within one session."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()

    # -- reads ------------------------------------------------------------------
    def get(self, program_id: str) -> ProgramPublic:
        return to_public(self._load(program_id))

    def get_many(self, program_ids: Iterable[str]) -> dict[str, ProgramPublic]:
        """The stored programs among ``program_ids``, by id (unknown ids are left out)."""
        require(self.actor, "read")
        return {pid: to_public(p) for pid, p in self._load_many(program_ids).items()}

    def list_programs(
        self,
        flt: ProgramFilter,
        *,
        limit: int | None = 50,
        offset: int = 0,
        sort: str = "id",
    ) -> ProgramList:
        """A page of matching programs, their count, and their money summed over all pages.

        With a fiscal-year filter, ``totals`` and sorting by money count that year only;
        each program's own ``totals`` always cover its whole life.
        """
        require(self.actor, "read")
        ids = flt.program_ids(self.catalog).cte("matching")
        sums = (
            select(
                BudgetLine.program_id.label("pid"),
                func.sum(BudgetLine.planned).label("planned"),
                func.sum(BudgetLine.obligated).label("obligated"),
                func.sum(BudgetLine.disbursed).label("disbursed"),
            )
            .where(BudgetLine.program_id.in_(select(ids.c.id)))
            .where(true() if flt.fiscal_year is None else BudgetLine.fiscal_year == flt.fiscal_year)
            .group_by(BudgetLine.program_id)
            .subquery()
        )
        planned = func.coalesce(sums.c.planned, 0)
        obligated = func.coalesce(sums.c.obligated, 0)
        disbursed = func.coalesce(sums.c.disbursed, 0)
        # One statement: the page, plus the count and money of ALL matching rows as window
        # aggregates (computed before LIMIT), so the filter is evaluated once.
        stmt = (
            select(
                Program.id,
                func.count().over().label("total"),
                func.sum(planned).over().label("all_planned"),
                func.sum(obligated).over().label("all_obligated"),
                func.sum(disbursed).over().label("all_disbursed"),
            )
            .join(ids, ids.c.id == Program.id)
            .outerjoin(sums, sums.c.pid == Program.id)
            .order_by(*self._order(sort, sums))
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = self.session.execute(stmt).all()
        if rows:
            total = int(rows[0].total)
            grand = (
                int(rows[0].all_planned),
                int(rows[0].all_obligated),
                int(rows[0].all_disbursed),
            )
        else:  # a page past the end: count separately
            total = self.session.execute(select(func.count()).select_from(ids)).scalar_one()
            money = self.session.execute(
                select(
                    func.coalesce(func.sum(sums.c.planned), 0),
                    func.coalesce(func.sum(sums.c.obligated), 0),
                    func.coalesce(func.sum(sums.c.disbursed), 0),
                )
            ).one()
            grand = (int(money[0]), int(money[1]), int(money[2]))
        order = [r.id for r in rows]
        loaded = {
            p.id: p
            for p in self.session.execute(select(Program).where(Program.id.in_(order))).scalars()
        }
        programs = [loaded[pid] for pid in order]
        return ProgramList(
            items=[to_public(p) for p in programs],
            total=total,
            limit=limit,
            offset=offset,
            totals=Totals(planned=grand[0], obligated=grand[1], disbursed=grand[2]),
        )

    def rollup(
        self, flt: ProgramFilter, dimensions: Sequence[str] = ROLLUP_DIMENSIONS
    ) -> engine.Rollup:
        """Money of the matching programs by fiscal year and by each dimension.

        With a fiscal-year filter only that year's budget lines count.
        """
        require(self.actor, "read")
        ids = flt.program_ids(self.catalog)
        bureaus: dict[str, list[str | None]] = {}
        for pid, iso3 in self.session.execute(
            select(ProgramCountry.program_id, ProgramCountry.iso3).where(
                ProgramCountry.program_id.in_(ids)
            )
        ):
            bureaus.setdefault(pid, []).append(self.catalog.countries[iso3].bureau)
        for pid, code in self.session.execute(
            select(ProgramRegion.program_id, ProgramRegion.region_code).where(
                ProgramRegion.program_id.in_(ids)
            )
        ):
            bureaus.setdefault(pid, []).extend(self._region_bureaus(code))
        programs = {
            pid: (agency, account, status)
            for pid, agency, account, status in self.session.execute(
                select(Program.id, Program.agency_id, Program.account_id, Program.status).where(
                    Program.id.in_(ids)
                )
            )
        }
        lines = select(
            BudgetLine.program_id,
            BudgetLine.fiscal_year,
            BudgetLine.planned,
            BudgetLine.obligated,
            BudgetLine.disbursed,
        ).where(BudgetLine.program_id.in_(ids))
        if flt.fiscal_year is not None:
            lines = lines.where(BudgetLine.fiscal_year == flt.fiscal_year)
        rows = []
        for pid, fy, planned, obligated, disbursed in self.session.execute(lines):
            agency, account, status = programs[pid]
            groups = {
                "bureau": engine.home_bureau(bureaus.get(pid, [])),
                "account": account or engine.UNASSIGNED,
                "agency": self.catalog.top_agency(agency),
                "status": status,
            }
            rows.append(
                engine.MoneyRow(pid, fy, engine.Money(planned, obligated, disbursed), groups)
            )
        return engine.rollup(rows, dimensions, programs=len(programs))

    def countries(self) -> list[dict[str, Any]]:
        """Every country and territory with its regions and the money of its programs."""
        require(self.actor, "read")
        counts = dict(
            self.session.execute(
                select(ProgramCountry.iso3, func.count()).group_by(ProgramCountry.iso3)
            ).all()
        )
        planned = dict(
            self.session.execute(
                select(ProgramCountry.iso3, func.sum(BudgetLine.planned))
                .join(BudgetLine, BudgetLine.program_id == ProgramCountry.program_id)
                .group_by(ProgramCountry.iso3)
            ).all()
        )
        return [
            {
                **self._country_facts(iso3),
                "programs": counts.get(iso3, 0),
                "planned": int(planned.get(iso3) or 0),
            }
            for iso3 in sorted(self.catalog.countries)
        ]

    def country(self, code: str) -> dict[str, Any]:
        """One country: facts, memberships, and its programs' money by year, account, agency
        and status.

        Programs with several partners count in full here (see ``shared_programs``);
        regional programs that cover the country through an organization are counted apart.
        """
        require(self.actor, "read")
        try:
            iso3 = self.catalog.resolve("country", code)
        except UnknownCode as exc:
            raise NotFound(str(exc)) from exc
        rollup = self.rollup(ProgramFilter(country=iso3), ("account", "agency", "status"))
        shared = self.session.execute(
            select(func.count())
            .select_from(ProgramCountry)
            .where(
                ProgramCountry.iso3 == iso3,
                ProgramCountry.program_id.in_(
                    select(ProgramCountry.program_id)
                    .group_by(ProgramCountry.program_id)
                    .having(func.count() > 1)
                ),
            )
        ).scalar_one()
        regional = self.session.execute(
            select(func.count(func.distinct(ProgramRegion.program_id))).where(
                ProgramRegion.region_code.in_(self.catalog.country_regions(iso3))
            )
        ).scalar_one()
        return {
            **self._country_facts(iso3),
            "portfolio": rollup.as_dict(),
            "shared_programs": shared,
            "regional_programs": regional,
        }

    def _country_facts(self, iso3: str) -> dict[str, Any]:
        c = self.catalog.countries[iso3]
        return {
            "iso3": c.iso3,
            "iso2": c.iso2,
            "name": c.name,
            "official_name": c.official_name,
            "status": c.status,
            "sovereign": c.sovereign_iso3,
            "bureau": c.bureau,
            "combatant_command": c.combatant_command,
            "un_region": c.un_region,
            "un_subregion": c.un_subregion,
            "organizations": list(c.organizations),
        }

    def history(self, program_id: str) -> list[AuditRecord]:
        require(self.actor, "read")
        return audit.history(self.session, "program", program_id)

    # -- writes -------------------------------------------------------------------
    def create(self, data: ProgramCreate, *, source: str = "manual") -> ProgramPublic:
        return self.get(self.upsert_many([data], source=source, create_only=True).created[0])

    def update(self, program_id: str, data: ProgramUpdate) -> ProgramPublic:
        require(self.actor, "program:write")
        program = self._load(program_id, lock=True)
        self._check_scope(program.agency_id, ("agency",))
        if data.version != program.version:
            raise StaleVersion(
                f"program {program_id!r} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {program.version}): reload and try again"
            )
        fields = resolve_fields(data, ("body",), self.catalog)
        if fields.get("agency_id"):
            self._check_scope(fields["agency_id"], ("body", "agency"))
        if "status" in fields and not self._transition_ok(program.status, fields["status"]):
            raise Conflict(
                f"program {program_id!r} cannot go from {program.status} to {fields['status']}: "
                f"next steps are {_next_steps(program.status)}"
            )
        before = snapshot(program)
        apply_fields(program, fields)
        check_dates(program, ("body",))
        after = snapshot(program)
        if after == before:
            return to_public(program)
        program.version += 1
        program.updated_at = utcnow()
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username, "update", "program", program.id, before, snapshot(program)
            ),
        )
        return to_public(program)

    def delete(self, program_id: str, version: int | None = None) -> None:
        require(self.actor, "program:write")
        program = self._load(program_id, lock=True)
        self._check_scope(program.agency_id, ("agency",))
        if version is not None and version != program.version:
            raise StaleVersion(
                f"program {program_id!r} is at version {program.version}, not {version}: "
                "reload and try again"
            )
        before = snapshot(program)
        self.session.delete(program)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(self.actor.username, "delete", "program", program_id, before, None),
        )

    def upsert_many(
        self,
        items: Sequence[ProgramCreate],
        *,
        source: str,
        create_only: bool = False,
        locations: Sequence[tuple[str | int, ...]] | None = None,
    ) -> UpsertReport:
        """Create or replace programs by id, all or nothing.

        Items without an id get one assigned. An item equal to the stored program
        changes nothing (a round trip is idempotent). ``locations`` names where each
        item came from (file, row) so errors point there. Every problem in every item
        is collected before raising :class:`Invalid`.
        """
        require(self.actor, "program:write")
        locs: list[tuple[str | int, ...]]
        if locations is not None:
            locs = list(locations)
        elif len(items) == 1:
            locs = [("body",)]
        else:
            locs = [("items", i) for i in range(len(items))]
        problems: list[Detail] = []
        denied: list[Detail] = []  # valid, but outside the actor's agencies: 403, not 422
        resolved: list[dict[str, Any]] = []
        for item, loc in zip(items, locs, strict=True):
            try:
                fields = resolve_fields(item, loc, self.catalog)
                resolved.append(fields)
            except Invalid as exc:
                problems.extend(exc.details)
                continue
            denied.extend(self._scope_problems(fields["agency_id"], (*loc, "agency")))
        seen: dict[str, tuple[str | int, ...]] = {}
        for item, loc in zip(items, locs, strict=True):
            if item.id is not None:
                if item.id in seen:
                    problems.append(
                        Detail(
                            (*loc, "id"),
                            f"id {item.id!r} appears twice (also at {_where(seen[item.id])})",
                        )
                    )
                seen[item.id] = loc
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the programs given; nothing was saved", problems
            )

        existing = self._load_many(i.id for i in items if i.id is not None)
        if create_only and existing:
            first = next(iter(existing))
            raise Conflict(f"program {first!r} already exists: update it with its version instead")
        for item, loc in zip(items, locs, strict=True):
            if item.id in existing:
                denied.extend(self._scope_problems(existing[item.id].agency_id, (*loc, "agency")))
        if denied:
            raise Forbidden(
                f"{self.actor.username} may not write {len(denied)} of the programs given; "
                "nothing was saved",
                denied,
            )

        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        entries: list[audit.Entry] = []
        now = utcnow()
        next_seq: dict[str, int] = {}
        for item, fields, loc in zip(items, resolved, locs, strict=True):
            program = existing.get(item.id) if item.id else None
            if program is None:
                program = Program(
                    id=item.id or self._assign_id(fields, next_seq),
                    source=source,
                    version=1,
                    created_at=now,
                    updated_at=now,
                    marking="U",
                )
                apply_fields(program, fields)
                check_dates(program, loc)
                self.session.add(program)
                created.append(program.id)
                entries.append(
                    audit.Entry(
                        self.actor.username, "create", "program", program.id, None, None, source
                    )
                )
                continue
            before = snapshot(program)
            apply_fields(program, fields)
            check_dates(program, loc)
            if snapshot(program) == before:
                unchanged.append(program.id)
                continue
            program.version += 1
            program.updated_at = now
            updated.append(program.id)
            entries.append(
                audit.Entry(
                    self.actor.username, "update", "program", program.id, before, None, source
                )
            )
        self.session.flush()
        if entries:
            by_id = {
                p.id: p
                for p in self.session.execute(
                    select(Program).where(Program.id.in_([e.entity_id for e in entries]))
                ).scalars()
            }
            audit.record_many(
                self.session,
                [
                    audit.Entry(
                        e.actor,
                        e.action,
                        e.entity_type,
                        e.entity_id,
                        e.before,
                        snapshot(by_id[e.entity_id]),
                        e.summary,
                    )
                    for e in entries
                ],
            )
        return UpsertReport(tuple(created), tuple(updated), tuple(unchanged))

    # -- internals ----------------------------------------------------------------
    def _load_many(self, program_ids: Iterable[str]) -> dict[str, Program]:
        """Programs by id, read in chunks so huge imports stay under parameter limits."""
        wanted = sorted(set(program_ids))
        found: dict[str, Program] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for p in self.session.execute(select(Program).where(Program.id.in_(chunk))).scalars():
                found[p.id] = p
        return found

    def _load(self, program_id: str, lock: bool = False) -> Program:
        require(self.actor, "read")
        stmt = select(Program).where(Program.id == program_id)
        if lock:
            stmt = stmt.with_for_update()
        program = self.session.execute(stmt).scalar_one_or_none()
        if program is None:
            raise NotFound(f"no program with id {program_id!r}")
        return program

    def _scope_problems(self, agency_id: str, loc: tuple[str | int, ...]) -> list[Detail]:
        """Why the actor may not write a program of ``agency_id`` (empty if they may)."""
        scope = agency_scope(self.actor)
        if scope is None or agency_id in scope:
            return []
        return [
            Detail(
                loc,
                f"{self.actor.username} ({self.actor.role}, {self.actor.agency_id}) may not write "
                f"programs of {agency_id}",
            )
        ]

    def _check_scope(self, agency_id: str, loc: tuple[str | int, ...]) -> None:
        problems = self._scope_problems(agency_id, loc)
        if problems:
            raise Forbidden(problems[0].msg, problems)

    def _transition_ok(self, current: str, new: str) -> bool:
        return self.actor.role == "admin" or engine.transition_allowed(current, new)

    def _assign_id(self, fields: dict[str, Any], next_seq: dict[str, int]) -> str:
        """``AGENCY-PARTNER-FY-NNNN``, e.g. ``STATE-NGA-2026-0007``."""
        agency = self.catalog.top_agency(fields["agency_id"]).upper()
        partners = fields.get("countries") or fields.get("regions") or ["MULTI"]
        partner = partners[0] if len(partners) == 1 else "MULTI"
        start: date = fields["start"]
        prefix = f"{agency}-{partner}-{engine.fiscal_year(start)}-"
        if prefix not in next_seq:
            taken = self.session.execute(
                select(Program.id).where(
                    Program.id.like(prefix.replace("_", r"\_") + "%", escape="\\")
                )
            ).scalars()
            numbers = [int(t[len(prefix) :]) for t in taken if t[len(prefix) :].isdigit()]
            next_seq[prefix] = max(numbers, default=0) + 1
        number = next_seq[prefix]
        next_seq[prefix] += 1
        return f"{prefix}{number:04d}"

    def _region_bureaus(self, code: str) -> list[str | None]:
        region = self.catalog.regions.get(code)
        if region is None:
            return []
        if region.kind == "bureau":
            return [code]
        return [self.catalog.countries[m].bureau for m in region.members]

    @staticmethod
    def _order(sort: str, sums: Any) -> list[Any]:
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        if key not in SORT_KEYS:
            raise Invalid(
                "invalid sort",
                [
                    Detail(
                        ("query", "sort"),
                        f"sort by one of {', '.join(SORT_KEYS)} (prefix - for descending)",
                    )
                ],
            )
        column: Any = {
            "id": Program.id,
            "title": Program.title,
            "start": Program.start_date,
            "end": Program.end_date,
            "status": Program.status,
            "agency": Program.agency_id,
            "account": Program.account_id,
            "planned": func.coalesce(sums.c.planned, 0),
            "obligated": func.coalesce(sums.c.obligated, 0),
            "disbursed": func.coalesce(sums.c.disbursed, 0),
        }[key]
        return [column.desc() if desc else column.asc(), Program.id.asc()]


def _next_steps(status: str) -> str:
    return ", ".join(sorted(engine.TRANSITIONS.get(status, frozenset()))) or "none (final)"


def _where(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in loc)


__all__ = ["PortfolioService", "UpsertReport", "snapshot", "to_public"]
