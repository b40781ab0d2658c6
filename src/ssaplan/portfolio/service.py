"""Portfolio workflows: reading, rolling up and writing programs.

Every write checks the actor's permission and agency scope, validates every field
against the reference catalog (reporting all problems at once), and leaves an audit
record with the program before and after, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json
from sqlalchemy import Integer, and_, bindparam, func, select
from sqlalchemy.orm import Session, lazyload

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.memo import memo
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor, can, require, restrict
from ssaplan.core.store import utcnow
from ssaplan.portfolio import engine
from ssaplan.portfolio.engine import Money
from ssaplan.portfolio.fields import apply_fields, resolve_fields, snapshot, to_public
from ssaplan.portfolio.filters import SORT_KEYS, ProgramFilter
from ssaplan.portfolio.models import (
    BudgetLine,
    Program,
    ProgramCountry,
    ProgramRegion,
)
from ssaplan.portfolio.money import PartnerMoney, by_country, partner_money, rollup_rows
from ssaplan.portfolio.reading import cached_totals, program_columns, public_dicts
from ssaplan.portfolio.visibility import (
    REASONS,
    Audience,
    audience_of,
    decode,
    only_visible,
    rank_of,
    verdict,
    withheld,
)
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

if TYPE_CHECKING:  # the models load when first used: a list reads none (see bench_cli)
    from ssaplan.portfolio.schemas import (
        ProgramCreate,
        ProgramList,
        ProgramPublic,
        ProgramUpdate,
        Withheld,
    )

ROLLUP_DIMENSIONS = ("bureau", "account", "agency", "status")
# A list's statements name table columns, not the mapped attributes: a Core statement
# compiles without the ORM's compile step and without configuring every mapper first
# (about a tenth of ``ssaplan programs list``'s own time; benchmarks/bench_cli.py).
_PROGRAMS, _LINES = Program.__table__, BudgetLine.__table__
_PG, _BL = _PROGRAMS.c, _LINES.c


@dataclass(frozen=True)
class _ListStatements:
    """A list's statements for one filter, sort and audience: the page (its offset and
    limit the bound values ``page_offset`` and ``page_limit``) and the count and money of
    every matching program (:func:`~ssaplan.portfolio.reading.cached_totals`)."""

    page: Any
    money: Any
    catalog: Catalog  # what they were built from: alive while its id is in the key


# Building a list's statements (the filter's clauses, the marking rule, the order, the
# aggregates) cost more than SQLite takes to run them, and SQLAlchemy's cache key of a
# statement is memoized on the object: so they are built once per filter, sort and
# audience and kept for the process (a bounded number: filters are what readers type).
_LIST_STATEMENTS: dict[tuple[Any, ...], _ListStatements] = {}
MAX_LIST_STATEMENTS = 256


@dataclass(frozen=True)
class UpsertReport:
    """What a bulk save did, by program id."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


class PortfolioService:
    """Programs as one actor sees and changes them, within one session.

    Every read, list and roll-up shows only the programs ``audience`` may see (by
    default the actor's own view: their marking ceiling and audience; an export passes
    a narrower one); a program it may not see is "not found", never "forbidden".
    """

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

    def matching_ids(self, flt: ProgramFilter) -> Any:
        """The ids of the programs matching ``flt`` that the audience may see: the one
        place the filter and the marking rule meet (every list and roll-up uses it)."""
        return only_visible(flt.program_ids(self.catalog), self.audience, self.catalog)

    def withheld(self, flt: ProgramFilter) -> Withheld:
        """How many programs matching ``flt`` the audience may not see, by reason."""
        from ssaplan.portfolio.schemas import Withheld

        return Withheld(**self._withheld_counts(flt))

    def _withheld_counts(self, flt: ProgramFilter) -> dict[str, int]:
        """:meth:`withheld` as plain data, in ``Withheld``'s order."""
        require(self.actor, "read")
        if self.audience.unrestricted:  # sees every program: nothing to count
            return {reason: 0 for reason in REASONS}
        # A count over every matching program, as the list's totals: kept until the next
        # write (core/memo.py).
        counts = memo(
            self.session,
            ("portfolio.withheld", self._memo_actor(), flt.model_dump_json()),
            lambda: withheld(
                self.session, flt.program_ids(self.catalog), self.audience, self.catalog
            ),
        )
        return dict(counts)

    def _visible(self, program: Program) -> bool:
        if self.audience.unrestricted:
            return True
        reason = verdict(
            self.audience, self.catalog, program.marking, decode(program.releasable_to)
        )
        return reason is None

    # -- reads ------------------------------------------------------------------
    def get(self, program_id: str) -> ProgramPublic:
        return to_public(self._load(program_id))

    def get_many(self, program_ids: Iterable[str]) -> dict[str, ProgramPublic]:
        """The stored programs among ``program_ids``, by id (unknown ids are left out)."""
        require(self.actor, "read")
        return {
            pid: to_public(p) for pid, p in self._load_many(program_ids).items() if self._visible(p)
        }

    def list_programs(
        self,
        flt: ProgramFilter,
        *,
        limit: int | None = 50,
        offset: int = 0,
        sort: str = "id",
    ) -> ProgramList:
        """A page of matching programs, their count, and their money summed over all pages.

        With a fiscal-year (or account) filter, ``totals`` and sorting by money count that
        year's (account's) lines only; each program's own ``totals`` cover its whole life.
        """
        from ssaplan.portfolio.schemas import ProgramList

        require(self.actor, "read")
        return ProgramList.model_validate(self._page(flt, limit, offset, sort))

    def _page(
        self, flt: ProgramFilter, limit: int | None, offset: int, sort: str
    ) -> dict[str, Any]:
        """:meth:`list_programs` as plain data, in the order and shape of ``ProgramList``."""
        built = self._list_statements(flt, sort, paged=limit is not None)
        self.session.flush()  # Core statements below: the session's own writes first
        params = (
            {"page_offset": offset}
            if limit is None
            else {
                "page_offset": offset,
                "page_limit": limit,
            }
        )
        rows = self.session.connection().execute(built.page, params).all()
        total, planned, obligated, disbursed = cached_totals(self.session, built.money)
        return {
            "items": public_dicts(self.session, rows),
            "total": int(total),
            "limit": limit,
            "offset": offset,
            "totals": {
                "planned": int(planned),
                "obligated": int(obligated),
                "disbursed": int(disbursed),
            },
            "withheld": self._withheld_counts(flt),
        }

    def _list_statements(self, flt: ProgramFilter, sort: str, *, paged: bool) -> _ListStatements:
        """The statements of a list for ``flt``, ``sort`` and this audience, built once per
        process (see :data:`_LIST_STATEMENTS`)."""
        key = (flt.model_dump_json(), sort, paged, self.audience, id(self.catalog))
        found = _LIST_STATEMENTS.get(key)
        if found is not None:
            return found
        built = self._build_list_statements(flt, sort, paged=paged)
        if len(_LIST_STATEMENTS) >= MAX_LIST_STATEMENTS:
            _LIST_STATEMENTS.clear()
        _LIST_STATEMENTS[key] = built
        return built

    def _build_list_statements(
        self, flt: ProgramFilter, sort: str, *, paged: bool
    ) -> _ListStatements:
        # The page (its programs' own columns, in order), then its count and money: each
        # statement is narrowed by the same :meth:`_matching` clauses on ``programs``
        # (no ``IN (SELECT ...)`` of every matching id, no window aggregates over all
        # rows), so SQLite pages by the index of the sort column. Only a sort by money
        # joins the per-program sums.
        stmt = self._matching(select(*program_columns()), flt)  # unknown codes: Invalid
        lines = flt.line_conditions(self.catalog)
        key = sort.lstrip("-")
        sums = None
        if key in ("planned", "obligated", "disbursed"):
            sums = (
                select(
                    _BL.program_id.label("pid"),
                    func.sum(_BL.planned).label("planned"),
                    func.sum(_BL.obligated).label("obligated"),
                    func.sum(_BL.disbursed).label("disbursed"),
                )
                .where(*lines)
                .group_by(_BL.program_id)
                .subquery()
            )
            stmt = stmt.outerjoin(sums, sums.c.pid == _PG.id)
        # The page's place as bound values, so one statement serves every page.
        stmt = stmt.order_by(*self._order(sort, sums)).offset(
            bindparam("page_offset", type_=Integer)
        )
        if paged:
            stmt = stmt.limit(bindparam("page_limit", type_=Integer))
        count = self._matching(select(func.count(_PG.id)), flt).correlate(None).scalar_subquery()
        money = self._matching(
            select(
                count,
                func.coalesce(func.sum(_BL.planned), 0),
                func.coalesce(func.sum(_BL.obligated), 0),
                func.coalesce(func.sum(_BL.disbursed), 0),
            )
            .select_from(_LINES)
            .join(_PROGRAMS, _PG.id == _BL.program_id)
            .where(*lines),
            flt,
        )
        return _ListStatements(stmt, money, self.catalog)

    def list_programs_json(
        self, flt: ProgramFilter, *, limit: int | None = 50, offset: int = 0, sort: str = "id"
    ) -> str:
        """:meth:`list_programs` as the API sends it (JSON), kept until the next write.

        The list is what many readers ask for again and again (a first page, a saved
        filter) and what changes only with a write: the answer is kept per reader view,
        filter and page (core/memo.py), so a repeated request costs one look at the audit
        head instead of three statements, pydantic validation and serialization."""
        require(self.actor, "read")
        return memo(
            self.session,
            (
                "portfolio.list_json",
                self._memo_actor(),
                flt.model_dump_json(),
                limit,
                offset,
                sort,
            ),
            # The page's data is built from the database in ProgramList's exact shape
            # and field order, so it is written as JSON without validating it again
            # (about a millisecond a page; tests/portfolio check the bytes are the same).
            lambda: to_json(self._page(flt, limit, offset, sort)).decode(),
        )

    def _matching(self, stmt: Any, flt: ProgramFilter) -> Any:
        """``stmt`` (a select from ``programs``, possibly joined) narrowed to the programs
        the filter matches. The one place a list's programs are chosen: a rule of who may
        see which program belongs here, as more clauses on ``programs``: the marking rule
        of :mod:`.visibility` for the service's audience."""
        return only_visible(flt.apply(stmt, self.catalog), self.audience, self.catalog)

    def partner_money(
        self,
        flt: ProgramFilter | None = None,
        *,
        first_fy: int | None = None,
        last_fy: int | None = None,
    ) -> list[PartnerMoney]:
        """Money by program x fiscal year x account x partner (see :mod:`.money`)."""
        require(self.actor, "read")
        return partner_money(
            self.session,
            self.catalog,
            flt,
            program_ids=self.matching_ids(flt or ProgramFilter()),
            first_fy=first_fy,
            last_fy=last_fy,
        )

    def rollup(
        self, flt: ProgramFilter, dimensions: Sequence[str] = ROLLUP_DIMENSIONS
    ) -> engine.Rollup:
        """Money of the matching programs by fiscal year and by each dimension.

        Money is split among a program's partners by their shares, so the regional
        bureaus (like every other dimension) sum to the total to the dollar. A
        fiscal-year or account filter counts only that year's or account's lines.
        """
        require(self.actor, "read")

        def compute() -> engine.Rollup:
            ids = self.matching_ids(flt)
            programs = {
                pid: (agency, status)
                for pid, agency, status in self.session.execute(
                    select(Program.id, Program.agency_id, Program.status).where(Program.id.in_(ids))
                )
            }
            rows = partner_money(self.session, self.catalog, flt, program_ids=ids)
            return engine.rollup(
                rollup_rows(rows, self.catalog, programs), dimensions, programs=len(programs)
            )

        # Splitting every line among its partners is most of a portfolio page's time;
        # the result (immutable) is kept until the next write (core/memo.py).
        return memo(
            self.session,
            ("portfolio.rollup", self._memo_actor(), flt.model_dump_json(), tuple(dimensions)),
            compute,
        )

    def _memo_actor(self) -> str:
        """The reader as part of a kept figure's key: their scope, ceiling and audience,
        and the audience the service reads for (an export's may be narrower)."""
        return repr((self.actor, self.audience))

    def countries(self) -> list[dict[str, Any]]:
        """Every country and territory with its regions and the money of its programs."""
        require(self.actor, "read")

        def compute() -> tuple[tuple[dict[str, int], dict[str, Money]]]:
            per_country = select(ProgramCountry.iso3, func.count()).group_by(ProgramCountry.iso3)
            if not self.audience.unrestricted:
                per_country = only_visible(
                    per_country.join(Program, Program.id == ProgramCountry.program_id),
                    self.audience,
                    self.catalog,
                )
            counts: dict[str, int] = dict(self.session.execute(per_country).all())
            ids = self.matching_ids(ProgramFilter())
            money = by_country(partner_money(self.session, self.catalog, program_ids=ids))
            return ((counts, money),)

        # Kept until the next write (core/memo.py): the split of every line among partners.
        ((counts, money),) = memo(
            self.session, ("portfolio.countries", self._memo_actor()), compute
        )
        return [
            {
                **self._country_facts(iso3),
                "programs": counts.get(iso3, 0),
                "planned": money[iso3].planned if iso3 in money else 0,
            }
            for iso3 in sorted(self.catalog.countries)
        ]

    def country(self, code: str) -> dict[str, Any]:
        """One country: facts, memberships, and its programs' money by year, account, agency
        and status.

        Programs with several partners count with the country's share of them (see
        ``shared_programs``); regional programs that cover the country through a region
        or organization are counted apart (``regional_programs``).
        """
        require(self.actor, "read")
        try:
            iso3 = self.catalog.resolve("country", code)
        except UnknownCode as exc:
            raise NotFound(str(exc)) from exc
        flt = ProgramFilter(country=iso3)
        ids = self.matching_ids(flt)
        visible = self.matching_ids(ProgramFilter())
        programs = {
            pid: (agency, status)
            for pid, agency, status in self.session.execute(
                select(Program.id, Program.agency_id, Program.status).where(Program.id.in_(ids))
            )
        }
        mine = [
            r
            for r in partner_money(self.session, self.catalog, flt, program_ids=ids)
            if r.kind == "country" and r.partner == iso3
        ]
        rollup = engine.rollup(
            rollup_rows(mine, self.catalog, programs),
            ("account", "agency", "status"),
            programs=len(programs),
        )
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
                ProgramCountry.program_id.in_(visible),
            )
        ).scalar_one()
        regional = self.session.execute(
            select(func.count(func.distinct(ProgramRegion.program_id))).where(
                ProgramRegion.region_code.in_(self.catalog.country_regions(iso3)),
                ProgramRegion.program_id.in_(visible),
            )
        ).scalar_one()
        return {
            **self._country_facts(iso3),
            "portfolio": rollup.as_dict(),
            "shared_programs": shared,
            "regional_programs": regional,
        }

    def regional_programs(self, code: str, *, limit: int = 100) -> list[ProgramPublic]:
        """Programs with a region or organization as a partner that covers the country
        (e.g. an ECOWAS program for Ghana), largest planned first."""
        require(self.actor, "read")
        iso3 = self.catalog.resolve("country", code)
        regions = self.catalog.country_regions(iso3)
        ids = select(ProgramRegion.program_id).where(
            ProgramRegion.region_code.in_(regions),
            ProgramRegion.program_id.in_(self.matching_ids(ProgramFilter())),
        )
        sums = (
            select(BudgetLine.program_id, func.sum(BudgetLine.planned).label("planned"))
            .group_by(BudgetLine.program_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Program)
            .outerjoin(sums, sums.c.program_id == Program.id)
            .where(Program.id.in_(ids))
            .order_by(func.coalesce(sums.c.planned, 0).desc(), Program.code)
            .limit(limit)
        ).scalars()
        return [to_public(p) for p in rows]

    def read_only_reason(self, program: ProgramPublic) -> str | None:
        """Why the actor may not change ``program`` (None when they may), in words."""
        if self.may_write(program):
            return None
        if not can(self.actor, "program:write"):
            return (
                f"Your role ({self.actor.describe()}) reads programs; only planners and "
                "admins change them."
            )
        partners = ", ".join(program.countries + program.regions) or "no partner"
        return (
            f"This program belongs to {program.agency} (partners: {partners}); your role "
            f"({self.actor.describe()}) lets you change programs only within that scope."
        )

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
        """The program's audit records, newest first, across renames.

        A deleted program's history stays readable under the id it had when deleted.
        """
        require(self.actor, "read")
        # Only the program's identity is needed, not its lines and partners.
        program = self.session.execute(
            select(Program).where(Program.code == program_id).options(lazyload("*"))
        ).scalar_one_or_none()
        if program is not None and not self._visible(program):
            raise NotFound(f"no program with id {program_id!r}")
        if program is None and not self.audience.unrestricted:
            # A deleted program's history names its marking: a restricted reader does
            # not get it (nor learn that it existed).
            raise NotFound(f"no program with id {program_id!r}")
        if program is None:
            deleted = self.session.execute(
                select(AuditRecord.entity_ref)
                .where(
                    AuditRecord.entity_type == "program",
                    AuditRecord.entity_id == program_id,
                    AuditRecord.action == "delete",
                )
                .order_by(AuditRecord.id.desc())
                .limit(1)
            ).first()
            if deleted is None:
                raise NotFound(f"no program with id {program_id!r}")
            if deleted.entity_ref is None:  # deleted before identities were recorded
                return audit.history(self.session, "program", program_id)
            return audit.history(
                self.session,
                "program",
                program_id,
                entity_ref=deleted.entity_ref,
                legacy_ids=[program_id],
            )
        return audit.history(
            self.session,
            "program",
            program.code,
            entity_ref=_ref(program),
            legacy_ids=self._former_codes(program),
        )

    def _former_codes(self, program: Program) -> set[str]:
        """Every code the program had (older audit records name it by code only)."""
        codes = {program.code}
        for before, after in self.session.execute(
            select(AuditRecord.before, AuditRecord.after).where(
                AuditRecord.entity_ref == _ref(program), AuditRecord.action == "rename"
            )
        ):
            codes |= {str((before or {}).get("id")), str((after or {}).get("id"))}
        return codes

    # -- writes -------------------------------------------------------------------
    def create(self, data: ProgramCreate, *, source: str = "manual") -> ProgramPublic:
        return self.get(self.upsert_many([data], source=source, create_only=True).created[0])

    def update(self, program_id: str, data: ProgramUpdate) -> ProgramPublic:
        """Change a program (``data.version`` must be the stored version).

        ``data.id`` renames it: its budget lines, deliveries and history stay with it.
        """
        require(self.actor, "program:write")
        program = self._load(program_id, lock=True)
        self._check_scope(program, ("agency",))
        if data.version != program.version:
            raise StaleVersion(
                f"program {program_id!r} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {program.version}): reload and try again"
            )
        fields = resolve_fields(data, ("body",), self.catalog)
        over = self._marking_problems(fields, ("body",))
        if over:
            raise Invalid("marking above your ceiling", over)
        reason = (data.reason or "").strip()
        stops = fields.get("status") in engine.NEEDS_REASON and fields["status"] != program.status
        if stops and not reason:
            raise Invalid(
                "a reason is required",
                [
                    Detail(
                        ("body", "reason"),
                        f"say why the program is {fields['status']}: the reason is kept "
                        "in the audit trail",
                    )
                ],
            )
        if "status" in fields and not self._transition_ok(program.status, fields["status"]):
            raise Conflict(
                f"program {program_id!r} cannot go from {program.status} to {fields['status']}: "
                f"next steps are {_next_steps(program.status)}"
            )
        new_code = data.id if data.id is not None and data.id != program.code else None
        if new_code is not None:
            self._check_code_free(new_code, ("body", "id"))
        before = snapshot(program)
        apply_fields(program, fields, ("body",))
        # The program as changed must still be inside the actor's scope (e.g. a new agency).
        self._check_scope(program, ("body", "agency"))
        if new_code is not None:
            program.code = new_code
        after = snapshot(program)
        if after == before:
            return to_public(program)
        program.version += 1
        program.updated_at = utcnow()
        self.session.flush()
        action = (
            "rename"
            if new_code is not None and _without_id(before) == _without_id(after)
            else "update"
        )
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                action,
                "program",
                program.code,
                before,
                snapshot(program),
                reason,
                entity_ref=_ref(program),
            ),
        )
        return to_public(program)

    def delete(self, program_id: str, version: int | None = None) -> None:
        require(self.actor, "program:write")
        program = self._load(program_id, lock=True)
        self._check_scope(program, ("agency",))
        if version is not None and version != program.version:
            raise StaleVersion(
                f"program {program_id!r} is at version {program.version}, not {version}: "
                "reload and try again"
            )
        before = snapshot(program)
        ref = _ref(program)
        self.session.delete(program)
        self.session.flush()
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username, "delete", "program", program_id, before, None, entity_ref=ref
            ),
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
        resolved: list[dict[str, Any]] = []
        for item, loc in zip(items, locs, strict=True):
            try:
                resolved.append(resolve_fields(item, loc, self.catalog))
                problems.extend(self._marking_problems(resolved[-1], loc))
            except Invalid as exc:
                problems.extend(exc.details)
                resolved.append({})
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
        retired = self._retired_codes(
            i.id for i in items if i.id is not None and i.id not in existing
        )
        for item, loc in zip(items, locs, strict=True):
            if item.id in retired:
                problems.append(
                    Detail(
                        (*loc, "id"),
                        f"id {item.id!r} belonged to a deleted program: ids are never reused",
                    )
                )
        if problems:
            raise Conflict(problems[0].msg, problems)

        denied: list[Detail] = []  # valid, but outside the actor's scope: 403, not 422
        created: list[Program] = []
        updated: list[tuple[Program, dict[str, Any]]] = []
        unchanged: list[str] = []
        now = utcnow()
        next_seq: dict[str, int] = {}
        for item, fields, loc in zip(items, resolved, locs, strict=True):
            program = existing.get(item.id) if item.id else None
            if program is not None and not self._visible(program):
                # Someone else's program under a marking the actor may not read: refused
                # without saying more than that the id is not theirs to use.
                denied.append(Detail((*loc, "id"), f"id {item.id!r} is not available to you"))
                continue
            if program is not None:
                self._collect_scope(program, (*loc, "agency"), denied)
                # An import follows the pipeline like an edit does (issue 10): no
                # jumping from proposed to completed because a file says so.
                new_status = fields.get("status")
                if new_status is not None and not self._transition_ok(program.status, new_status):
                    problems.append(
                        Detail(
                            (*loc, "status"),
                            f"cannot go from {program.status} to {new_status}: next steps are "
                            f"{_next_steps(program.status)}",
                        )
                    )
                    continue
                before = snapshot(program)
                try:
                    apply_fields(program, fields, loc)
                except Invalid as exc:
                    problems.extend(exc.details)
                    continue
                self._collect_scope(program, (*loc, "agency"), denied)
                if snapshot(program) == before:
                    unchanged.append(program.code)
                    continue
                program.version += 1
                program.updated_at = now
                updated.append((program, before))
                continue
            program = Program(
                code=item.id or self._assign_id(fields, next_seq),
                source=source,
                version=1,
                created_at=now,
                updated_at=now,
                marking="U",
            )
            try:
                apply_fields(program, fields, loc)
            except Invalid as exc:
                problems.extend(exc.details)
                continue
            self._collect_scope(program, (*loc, "agency"), denied)
            created.append(program)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the programs given; nothing was saved", problems
            )
        if denied:
            raise Forbidden(
                f"{self.actor.username} may not write {len(denied)} of the programs given; "
                "nothing was saved",
                denied,
            )
        self.session.add_all(created)
        self.session.flush()
        entries = [
            audit.Entry(
                self.actor.username,
                "create",
                "program",
                p.code,
                None,
                snapshot(p),
                source,
                entity_ref=_ref(p),
            )
            for p in created
        ]
        entries += [
            audit.Entry(
                self.actor.username,
                "update",
                "program",
                p.code,
                before,
                snapshot(p),
                source,
                entity_ref=_ref(p),
            )
            for p, before in updated
        ]
        audit.record_many(self.session, entries)
        return UpsertReport(
            tuple(p.code for p in created), tuple(p.code for p, _ in updated), tuple(unchanged)
        )

    # -- internals ----------------------------------------------------------------
    def _load_many(self, program_ids: Iterable[str]) -> dict[str, Program]:
        """Programs by code, read in chunks so huge imports stay under parameter limits."""
        wanted = sorted(set(program_ids))
        found: dict[str, Program] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for p in self.session.execute(select(Program).where(Program.code.in_(chunk))).scalars():
                found[p.code] = p
        return found

    def _retired_codes(self, codes: Iterable[str]) -> set[str]:
        """Which of ``codes`` named a program that was deleted (never given out again)."""
        wanted = sorted(set(codes))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found |= set(
                self.session.execute(
                    select(AuditRecord.entity_id).where(
                        AuditRecord.entity_type == "program",
                        AuditRecord.action == "delete",
                        AuditRecord.entity_id.in_(chunk),
                    )
                ).scalars()
            )
        return found

    def _check_code_free(self, code: str, loc: tuple[str | int, ...]) -> None:
        taken = self.session.execute(select(Program.id).where(Program.code == code)).first()
        if taken is not None:
            raise Conflict(f"program id {code!r} is already taken", [Detail(loc, "is taken")])
        if self._retired_codes([code]):
            raise Conflict(
                f"program id {code!r} belonged to a deleted program: ids are never reused",
                [Detail(loc, "was used by a deleted program")],
            )

    def _load(self, program_id: str, lock: bool = False) -> Program:
        require(self.actor, "read")
        stmt = select(Program).where(Program.code == program_id)
        if lock:
            stmt = stmt.with_for_update()
        program = self.session.execute(stmt).scalar_one_or_none()
        if program is None or not self._visible(program):
            # Not visible is not found: a 403 would confirm that it exists.
            raise NotFound(f"no program with id {program_id!r}")
        return program

    def _marking_problems(self, fields: dict[str, Any], loc: tuple[str | int, ...]) -> list[Detail]:
        """A marking above the actor's own ceiling cannot be set (they could not read
        the program afterwards, and could hide it from their peers)."""
        marking = fields.get("marking")
        if not marking or not self.actor.ceiling:
            return []
        ceiling = self.catalog.markings.get(self.actor.ceiling)
        if ceiling is not None and rank_of(self.catalog, marking) <= ceiling.rank:
            return []
        return [
            Detail(
                (*loc, "marking"),
                f"{marking} is above your marking ceiling ({self.actor.ceiling}): ask someone "
                "cleared for it",
            )
        ]

    def _partner_countries(self, program: Program) -> set[str]:
        """A program's partner countries, a region's members counting for the region."""
        out = {c.iso3 for c in program.countries}
        for r in program.regions:
            out |= set(self.catalog.region_members(r.region_code))
        return out

    def _collect_scope(
        self, program: Program, loc: tuple[str | int, ...], into: list[Detail]
    ) -> None:
        """Add to ``into`` why the actor may not write ``program`` (nothing if they may)."""
        if restrict(self.actor, "program:write").allows(
            program.agency_id, self._partner_countries(program)
        ):
            return
        partners = ", ".join(sorted(self._partner_countries(program))) or "no partner"
        detail = Detail(
            loc,
            f"{self.actor.username} ({self.actor.describe()}) may not write programs of "
            f"{program.agency_id} for {partners}",
        )
        if detail not in into:
            into.append(detail)

    def _check_scope(self, program: Program, loc: tuple[str | int, ...]) -> None:
        problems: list[Detail] = []
        self._collect_scope(program, loc, problems)
        if problems:
            raise Forbidden(problems[0].msg, problems)

    def may_write(self, program: ProgramPublic) -> bool:
        """Whether the actor may change ``program`` (for pages that offer forms)."""
        countries = set(program.countries)
        for code in program.regions:
            countries |= set(self.catalog.region_members(code))
        return restrict(self.actor, "program:write").allows(program.agency, countries)

    def _transition_ok(self, current: str, new: str) -> bool:
        return can(self.actor, "program:override") or engine.transition_allowed(current, new)

    def _assign_id(self, fields: dict[str, Any], next_seq: dict[str, int]) -> str:
        """``AGENCY-PARTNER-FY-NNNN``, e.g. ``STATE-NGA-2026-0007``; never a used one."""
        agency = self.catalog.top_agency(fields["agency_id"]).upper()
        partners = fields.get("countries") or fields.get("regions") or ["MULTI"]
        partner = partners[0] if len(partners) == 1 else "MULTI"
        start: date = fields["start"]
        prefix = f"{agency}-{partner}-{engine.fiscal_year(start)}-"
        loaded = f"{agency}-*"  # marks an agency whose taken codes were all read
        if loaded not in next_seq:
            # One read per agency (not per partner and year): every code it used.
            like = f"{agency}-".replace("_", r"\_").replace("%", r"\%") + "%"
            taken = set(
                self.session.execute(
                    select(Program.code).where(Program.code.like(like, escape="\\"))
                ).scalars()
            )
            # Codes of deleted programs stay taken (their history keeps the name).
            taken.update(
                self.session.execute(
                    select(AuditRecord.entity_id)
                    .where(
                        and_(
                            AuditRecord.entity_type == "program",
                            AuditRecord.entity_id.like(like, escape="\\"),
                        )
                    )
                    .distinct()
                ).scalars()
            )
            for code in taken:
                head, _, tail = code.rpartition("-")
                if tail.isdigit():
                    key = head + "-"
                    next_seq[key] = max(next_seq.get(key, 1), int(tail) + 1)
            next_seq[loaded] = 0
        next_seq.setdefault(prefix, 1)
        number = next_seq[prefix]
        next_seq[prefix] += 1
        return f"{prefix}{number:04d}"

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
        columns: dict[str, Any] = {
            "id": _PG.code,
            "title": _PG.title,
            "start": _PG.start_date,
            "end": _PG.end_date,
            "status": _PG.status,
            "agency": _PG.agency_id,
            "account": _PG.account_id,
        }
        column: Any = columns[key] if key in columns else func.coalesce(getattr(sums.c, key), 0)
        return [column.desc() if desc else column.asc(), _PG.code.asc()]


def _ref(program: Program) -> str:
    """The program's stable identity in the audit trail."""
    return f"program:{program.id}"


def _without_id(snap: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snap.items() if k != "id"}


def _next_steps(status: str) -> str:
    return ", ".join(engine.next_steps(status)) or "none (final)"


def _where(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in loc)


__all__ = ["PortfolioService", "UpsertReport", "snapshot", "to_public"]
