"""The restrictions register: restrictions on countries with their waivers, written by
admins one at a time or from a CSV file, all or nothing.

Every write records, in its audit summary, the programs whose findings it changes (the
review trigger of the monitoring domain, see :meth:`ComplianceService.restriction_changes`).

Markings (docs/markings.md): a restriction the reader may not read is left out of their
lists and the CSV export (counted in ``withheld``) and is 404 to them, like a missing
id. Eligibility is still judged on it for everyone — it gates money — but the text it
would show (its own citation, source document and waivers' citations) is replaced by a
notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from ssaplan.compliance import inputs
from ssaplan.compliance.models import Restriction, Waiver
from ssaplan.compliance.restrictions_csv import read_restrictions, write_restrictions
from ssaplan.compliance.schemas import (
    ImportWarning,
    RestrictionCreate,
    RestrictionList,
    RestrictionPublic,
    RestrictionsImportPublic,
    RestrictionUpdate,
    WaiverIn,
    WaiverPublic,
)
from ssaplan.compliance.service.common import Context
from ssaplan.compliance.service.judging import programs_reached
from ssaplan.compliance.service.rules import RuleService
from ssaplan.core.errors import Conflict, Detail, Invalid, NotFound, StaleVersion
from ssaplan.core.store import utcnow
from ssaplan.portfolio import visibility
from ssaplan.portfolio.schemas import Withheld
from ssaplan.reference.catalog import UnknownCode

MAX_LISTED = 200  # programs named in one audit summary; the rest are counted
# What a finding says instead of a restriction record's own text the reader may not read.
REDACTED = "a restriction record above your marking or not releasable to you"


@dataclass(frozen=True)
class RestrictionChange:
    """A restriction written (``None`` when deleted) and the programs the change reaches."""

    restriction: RestrictionPublic | None
    affected_programs: tuple[str, ...]


def to_input(row: Restriction, *, redacted: bool = False) -> inputs.Restriction:
    """A stored restriction as the engine judges it; ``redacted``: judged the same (same
    country, type, period and waived accounts) but without the record's own text, for a
    reader who may not read it."""
    return inputs.Restriction(
        country=row.country,
        type=row.type,
        start=row.start_date,
        end=row.end_date,
        citation=REDACTED if redacted else row.citation,
        source_document="" if redacted else row.source_document,
        waivers=tuple(
            inputs.Waiver(
                frozenset(w.accounts),
                w.start_date,
                w.end_date,
                REDACTED if redacted else w.citation,
            )
            for w in row.waivers
        ),
    )


def snapshot(row: Restriction) -> dict[str, Any]:
    """A restriction as the audit trail keeps it (and :func:`from_snapshot` reads it back)."""
    return {
        "id": row.id,
        "country": row.country,
        "type": row.type,
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat() if row.end_date else None,
        "citation": row.citation,
        "source_document": row.source_document,
        "waivers": [
            {
                "accounts": sorted(w.accounts),
                "start": w.start_date.isoformat(),
                "end": w.end_date.isoformat() if w.end_date else None,
                "citation": w.citation,
            }
            for w in row.waivers
        ],
        "marking": row.marking,
        "releasable_to": visibility.decode(row.releasable_to),
        "version": row.version,
    }


def from_snapshot(snap: dict[str, Any] | None) -> inputs.Restriction | None:
    """The engine's restriction from an audit snapshot (None for none)."""
    if not snap:
        return None

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return inputs.Restriction(
        country=snap["country"],
        type=snap["type"],
        start=date.fromisoformat(snap["start"]),
        end=day(snap.get("end")),
        citation=snap.get("citation", ""),
        source_document=snap.get("source_document", ""),
        waivers=tuple(
            inputs.Waiver(
                frozenset(w["accounts"]),
                date.fromisoformat(w["start"]),
                day(w.get("end")),
                w.get("citation", ""),
            )
            for w in snap.get("waivers", [])
        ),
    )


def label(country: str, rtype: str, start: date, end: date | None) -> str:
    return f"{rtype} restriction on {country} from {start} ({end or 'open-ended'})"


def affected_summary(programs: tuple[str, ...], first_fy: int) -> str:
    if not programs:
        return f"affects no program from FY{first_fy}"
    shown = ", ".join(programs[:MAX_LISTED])
    more = len(programs) - MAX_LISTED
    tail = f" and {more} more" if more > 0 else ""
    return f"affects {len(programs)} program(s) from FY{first_fy}: {shown}{tail}"


class RestrictionService:
    """The restrictions register as one actor reads and (with ``compliance:manage``)
    writes it."""

    def __init__(self, ctx: Context, rules: RuleService) -> None:
        self.ctx = ctx
        self.rules = rules

    # -- reads -----------------------------------------------------------------------
    def rows(
        self,
        *,
        country: str | None = None,
        type: str | None = None,
        in_force_on: date | None = None,
    ) -> list[Restriction]:
        stmt = select(Restriction).order_by(
            Restriction.country, Restriction.type, Restriction.start_date
        )
        if country:
            stmt = stmt.where(Restriction.country == self._country(country, ("query", "country")))
        if type:
            stmt = stmt.where(Restriction.type == type)
        if in_force_on is not None:
            stmt = stmt.where(
                Restriction.start_date <= in_force_on,
                (Restriction.end_date.is_(None)) | (Restriction.end_date >= in_force_on),
            )
        return list(self.ctx.session.execute(stmt).scalars())

    def search(
        self,
        *,
        country: str | None = None,
        type: str | None = None,
        in_force_on: date | None = None,
    ) -> list[RestrictionPublic]:
        """The restrictions the reader may read (see :meth:`listing` for what is withheld)."""
        return self.listing(country=country, type=type, in_force_on=in_force_on).items

    def listing(
        self,
        *,
        country: str | None = None,
        type: str | None = None,
        in_force_on: date | None = None,
    ) -> RestrictionList:
        """The restrictions the reader may read, and how many the filter matched that they
        may not (by reason, never which)."""
        self.ctx.require("read")
        rows = self.rows(country=country, type=type, in_force_on=in_force_on)
        items = [self.public(r) for r in rows if self.ctx.shows(r)]
        ids: Any = select(Restriction.id).where(Restriction.id.in_([r.id for r in rows]))
        counts = visibility.withheld(
            self.ctx.session, ids, self.ctx.audience, self.ctx.catalog, marked=Restriction
        )
        return RestrictionList(items=items, total=len(items), withheld=Withheld(**counts))

    def get(self, restriction_id: int) -> RestrictionPublic:
        self.ctx.require("read")
        return self.public(self._load(restriction_id))

    def export_csv(
        self,
        out: IO[str],
        *,
        audience: str | None = None,
        country: str | None = None,
        type: str | None = None,
        in_force_on: date | None = None,
    ) -> dict[str, Any]:
        """The register as the restrictions CSV (the importer's columns plus
        ``waiver_citation``, ``marking`` and ``releasable_to``), for ``audience``
        (``public``, ``us-government`` or a partner or organization code; default the
        reader's own view), never wider than what the reader may read. Like the programs
        CSV, a last ``# ...`` row states what was withheld (counts by reason, never which)
        whenever the audience is restricted or something was withheld; the summary says
        it too (``audience``, ``withheld``, ``withheld_by``)."""
        self.ctx.require("read")
        aud = visibility.audience_named(audience, self.ctx.actor, self.ctx.catalog)
        rows = self.rows(country=country, type=type, in_force_on=in_force_on)
        shown = [
            r
            for r in rows
            if visibility.verdict(
                aud, self.ctx.catalog, r.marking, visibility.decode(r.releasable_to)
            )
            is None
        ]
        ids: Any = select(Restriction.id).where(Restriction.id.in_([r.id for r in rows]))
        counts = visibility.withheld(
            self.ctx.session, ids, aud, self.ctx.catalog, marked=Restriction
        )
        stated = not aud.unrestricted or any(counts.values())
        sentence = visibility.withheld_sentence(counts, aud, "restriction")
        written = write_restrictions(
            (cells for r in shown for cells in _csv_rows(r)), out, sentence if stated else None
        )
        return {
            "format": "csv",
            "restrictions": len(shown),
            "rows": written,
            "audience": aud.label,
            "withheld": sum(counts.values()),
            "withheld_by": counts,
        }

    def engine_inputs(self) -> list[inputs.Restriction]:
        """Every stored restriction as the engine judges it, whoever reads: a restriction
        gates money even when the reader may not read it (its text is redacted for them)."""
        return [to_input(r, redacted=not self.ctx.shows(r)) for r in self.rows()]

    def input_of(self, restriction_id: int) -> inputs.Restriction:
        self.ctx.require("read")
        return to_input(self._load(restriction_id))

    def public(self, row: Restriction) -> RestrictionPublic:
        types = self.rules.ruleset().restriction_types
        today = self.ctx.today
        return RestrictionPublic(
            id=row.id,
            country=row.country,
            country_name=self.ctx.country_name(row.country),
            type=row.type,
            type_name=types[row.type].name if row.type in types else row.type,
            start=row.start_date,
            end=row.end_date,
            citation=row.citation,
            source_document=row.source_document,
            waivers=[
                WaiverPublic(
                    id=w.id,
                    accounts=sorted(w.accounts),
                    start=w.start_date,
                    end=w.end_date,
                    citation=w.citation,
                )
                for w in row.waivers
            ],
            in_force=row.start_date <= today and (row.end_date is None or today <= row.end_date),
            marking=row.marking,
            releasable_to=visibility.decode(row.releasable_to),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    # -- writes ----------------------------------------------------------------------
    def create(self, data: RestrictionCreate) -> RestrictionChange:
        """Record a restriction; overlapping the same country and type is refused (409)."""
        self.ctx.require("compliance:manage")
        self.rules.ensure_loaded()
        fields = self._resolve(
            {
                "country": data.country,
                "type": data.type,
                "start": data.start,
                "end": data.end,
                "waivers": data.waivers,
                "marking": data.marking,
                "releasable_to": data.releasable_to,
            },
            ("body",),
        )
        self._check_overlap(fields, exclude=None, loc=("body", "start"))
        now = utcnow()
        row = Restriction(
            country=fields["country"],
            type=fields["type"],
            start_date=fields["start"],
            end_date=fields["end"],
            citation=data.citation,
            source_document=data.source_document,
            version=1,
            created_at=now,
            updated_at=now,
            **fields["marked"],
        )
        row.waivers = [self._waiver(w) for w in fields["waivers"]]
        self.ctx.session.add(row)
        self.ctx.session.flush()
        return self._recorded("create", None, row)

    def update(self, restriction_id: int, data: RestrictionUpdate) -> RestrictionChange:
        """Change a restriction (``waivers`` replaces them whole); stale versions: 409."""
        self.ctx.require("compliance:manage")
        self.rules.ensure_loaded()
        row = self._load(restriction_id, lock=True)
        if data.version != row.version:
            raise StaleVersion(
                f"restriction {restriction_id} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {row.version}): reload and try again"
            )
        given = data.model_fields_set
        current = {
            "country": row.country,
            "type": row.type,
            "start": row.start_date,
            "end": row.end_date,
            "waivers": [
                WaiverIn(
                    accounts=list(w.accounts),
                    start=w.start_date,
                    end=w.end_date,
                    citation=w.citation,
                )
                for w in row.waivers
            ],
        }
        for key in current:
            if key in given and (getattr(data, key) is not None or key == "end"):
                current[key] = getattr(data, key)
        current["marking"], current["releasable_to"] = data.marking, data.releasable_to
        fields = self._resolve(current, ("body",))
        self._check_overlap(fields, exclude=row.id, loc=("body", "start"))
        before_input = to_input(row)
        before = snapshot(row)
        row.country, row.type = fields["country"], fields["type"]
        row.start_date, row.end_date = fields["start"], fields["end"]
        if data.citation is not None:
            row.citation = data.citation
        if data.source_document is not None:
            row.source_document = data.source_document
        for key, value in fields["marked"].items():
            setattr(row, key, value)
        if "waivers" in given and data.waivers is not None:
            new_waivers = [self._waiver(w) for w in fields["waivers"]]
            if [_waiver_key(w) for w in new_waivers] != [_waiver_key(w) for w in row.waivers]:
                row.waivers = new_waivers
        if snapshot(row) == before:
            return RestrictionChange(self.public(row), ())
        row.version += 1
        row.updated_at = utcnow()
        self.ctx.session.flush()
        return self._recorded("update", before_input, row, before=before)

    def delete(self, restriction_id: int, version: int | None = None) -> RestrictionChange:
        self.ctx.require("compliance:manage")
        self.rules.ensure_loaded()
        row = self._load(restriction_id, lock=True)
        if version is not None and version != row.version:
            raise StaleVersion(
                f"restriction {restriction_id} is at version {row.version}, not {version}: "
                "reload and try again"
            )
        before_input = to_input(row)
        before = snapshot(row)
        name = label(row.country, row.type, row.start_date, row.end_date)
        self.ctx.session.delete(row)
        self.ctx.session.flush()
        affected = self._reach([before_input], [])
        self.ctx.audit(
            "delete",
            "restriction",
            name,
            before,
            None,
            summary=affected_summary(affected, self._first_fy()),
            ref=f"restriction:{restriction_id}",
        )
        return RestrictionChange(None, affected)

    def import_csv(self, source: Path | bytes, *, name: str) -> RestrictionsImportPublic:
        """Load a restrictions CSV, all or nothing.

        A restriction is identified by country, type and start: a row group matching a
        stored one updates it (end, citation, waivers, marking), others are added; stored
        ones the file does not name are kept. ``marking`` and ``releasable_to`` follow the
        programs CSV: a column the file lacks, or an empty ``marking``, keeps a stored
        restriction's (``U`` for a new one); an empty ``releasable_to`` is no list. Any
        problem — in a cell (a marking unknown or above the importer's ceiling too), in
        the file, or a period overlapping a stored restriction — is raised with file, line
        and column, and nothing is written.
        """
        self.ctx.require("compliance:manage")
        self.rules.ensure_loaded()
        catalog = self.ctx.catalog

        def resolve_country(value: str) -> str:
            return catalog.resolve("country", value)

        parsed = read_restrictions(
            source,
            known_accounts=catalog.accounts,
            known_types=self.rules.ruleset().restriction_types,
            name=name,
            resolve_country=resolve_country,
        )
        stored = {(r.country, r.type, r.start_date): r for r in self.rows()}
        problems: list[Detail] = []
        incoming = {
            (r.country, r.type, r.start): (r, line)
            for r, line in zip(parsed.restrictions, parsed.lines, strict=True)
        }
        # Each restriction's marking checked as a write's is (known, not above the
        # importer's ceiling; known partners), named by the row and column.
        marked: dict[tuple[str, str, date], dict[str, str]] = {}
        for r, line, cells in zip(parsed.restrictions, parsed.lines, parsed.marks, strict=True):
            found: list[Detail] = []
            marked[(r.country, r.type, r.start)] = self.ctx.marking_fields(
                cells.marking,
                None if cells.releasable_to is None else list(cells.releasable_to),
                (name, f"line {line}"),
                found,
            )
            problems += [Detail(d.loc[:3], d.msg) for d in found]  # the column, not the index
        for key, (_r, line) in incoming.items():
            if key in stored and not self.ctx.shows(stored[key]):
                # A stored restriction the importer may not read is not theirs to change.
                problems.append(
                    Detail(
                        (name, f"line {line}", "start"),
                        "a stored restriction with this country, type and start is not "
                        "available to you (its marking): ask someone cleared for it",
                    )
                )
        # The register after the import: stored periods not named in the file, and the file's.
        kept = [r for key, r in stored.items() if key not in incoming]
        for (country, rtype, start), (r, line) in incoming.items():
            for other in kept:
                if (
                    other.country == country
                    and other.type == rtype
                    and inputs.overlap(start, r.end, other.start_date, other.end_date or date.max)
                ):
                    if not self.ctx.shows(other):
                        problems.append(
                            Detail(
                                (name, f"line {line}", "start"),
                                "overlaps a stored restriction of the same country and type "
                                "that you may not read: ask someone cleared for it",
                            )
                        )
                        continue
                    problems.append(
                        Detail(
                            (name, f"line {line}", "start"),
                            f"overlaps the stored "
                            f"{label(country, rtype, other.start_date, other.end_date)} "
                            f"(restriction {other.id}): give the stored period its end in the "
                            "file (same start), or change the dates",
                        )
                    )
        if problems:
            raise Invalid(
                f"{name}: {len(problems)} problem(s); no restriction was imported", problems
            )
        created: list[int] = []
        updated: list[int] = []
        unchanged: list[int] = []
        affected: dict[str, list[str]] = {}
        now = utcnow()
        for (country, rtype, start), (r, line) in sorted(incoming.items()):
            source_document = f"{name}, line {line}"
            row = stored.get((country, rtype, start))
            waivers = [
                Waiver(
                    accounts=sorted(w.accounts),
                    start_date=w.start,
                    end_date=w.end,
                    citation=w.citation,
                )
                for w in r.waivers
            ]
            marks = marked[(country, rtype, start)]
            if row is None:
                row = Restriction(
                    country=country,
                    type=rtype,
                    start_date=start,
                    end_date=r.end,
                    citation=r.citation,
                    source_document=source_document,
                    version=1,
                    created_at=now,
                    updated_at=now,
                    **marks,
                )
                row.waivers = waivers
                self.ctx.session.add(row)
                self.ctx.session.flush()
                change = self._recorded("import", None, row, summary_prefix=source_document)
                created.append(row.id)
            else:
                before_input = to_input(row)
                before = snapshot(row)
                same = (
                    row.end_date == r.end
                    and row.citation == r.citation
                    and all(getattr(row, k) == v for k, v in marks.items())
                    and [_waiver_key(w) for w in row.waivers] == [_waiver_key(w) for w in waivers]
                )
                if same:
                    unchanged.append(row.id)
                    continue
                row.end_date = r.end
                row.citation = r.citation
                for column, value in marks.items():
                    setattr(row, column, value)
                row.source_document = source_document
                if [_waiver_key(w) for w in row.waivers] != [_waiver_key(w) for w in waivers]:
                    row.waivers = waivers
                row.version += 1
                row.updated_at = now
                self.ctx.session.flush()
                change = self._recorded(
                    "import", before_input, row, before=before, summary_prefix=source_document
                )
                updated.append(row.id)
            affected[str(row.id)] = list(change.affected_programs)
        return RestrictionsImportPublic(
            file=name,
            rows=parsed.rows,
            created=created,
            updated=updated,
            unchanged=unchanged,
            warnings=[ImportWarning(loc=list(w.loc), msg=w.msg) for w in parsed.warnings],
            affected_programs=affected,
        )

    # -- internals -------------------------------------------------------------------
    def _first_fy(self) -> int:
        return inputs.fiscal_year_of(self.ctx.today)

    def _reach(
        self, old: list[inputs.Restriction], new: list[inputs.Restriction]
    ) -> tuple[str, ...]:
        return programs_reached(self.ctx, self.rules.ruleset(), old, new)

    def _recorded(
        self,
        action: str,
        before_input: inputs.Restriction | None,
        row: Restriction,
        *,
        before: dict[str, Any] | None = None,
        summary_prefix: str = "",
    ) -> RestrictionChange:
        affected = self._reach([before_input] if before_input else [], [to_input(row)])
        summary = affected_summary(affected, self._first_fy())
        self.ctx.audit(
            action,
            "restriction",
            label(row.country, row.type, row.start_date, row.end_date),
            before,
            snapshot(row),
            summary=f"{summary_prefix}: {summary}" if summary_prefix else summary,
            ref=f"restriction:{row.id}",
        )
        return RestrictionChange(self.public(row), affected)

    def _load(self, restriction_id: int, lock: bool = False) -> Restriction:
        """A restriction the actor may read; one they may not is missing to them (404)."""
        stmt = select(Restriction).where(Restriction.id == restriction_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.ctx.session.execute(stmt).scalar_one_or_none()
        if row is None or not self.ctx.shows(row):
            raise NotFound(f"no restriction {restriction_id}")
        return row

    def _country(self, value: str, loc: tuple[str | int, ...]) -> str:
        try:
            return self.ctx.catalog.resolve("country", value)
        except UnknownCode as exc:
            raise Invalid(str(exc), [Detail(loc, str(exc))]) from exc

    def _resolve(self, fields: dict[str, Any], loc: tuple[str | int, ...]) -> dict[str, Any]:
        """Check and resolve a restriction's fields; every problem at once, as Invalid."""
        problems: list[Detail] = []
        catalog = self.ctx.catalog
        marked = self.ctx.marking_fields(
            fields.get("marking"), fields.get("releasable_to"), loc, problems
        )
        country = ""
        try:
            country = catalog.resolve("country", fields["country"])
        except UnknownCode as exc:
            problems.append(Detail((*loc, "country"), str(exc)))
        types = self.rules.ruleset().restriction_types
        rtype = fields["type"]
        if rtype not in types:
            hint = (
                " (Leahy vetting is per unit, not a country restriction)"
                if rtype == "leahy"
                else ""
            )
            problems.append(
                Detail(
                    (*loc, "type"),
                    f"unknown restriction type {rtype!r}{hint}; known: {', '.join(types)}",
                )
            )
        start: date = fields["start"]
        end: date | None = fields["end"]
        if end is not None and end < start:
            problems.append(
                Detail((*loc, "end"), f"the restriction ends ({end}) before it starts ({start})")
            )
        waivers: list[tuple[frozenset[str], date, date | None, str]] = []
        seen: set[tuple[frozenset[str], date, date | None]] = set()
        for i, w in enumerate(fields["waivers"]):
            wloc = (*loc, "waivers", i)
            accounts: list[str] = []
            for j, account in enumerate(w.accounts):
                try:
                    resolved = catalog.resolve("account", account)
                except UnknownCode:
                    problems.append(
                        Detail((*wloc, "accounts", j), f"waiver for unknown account {account!r}")
                    )
                    continue
                if resolved in accounts:
                    problems.append(Detail((*wloc, "accounts", j), f"{resolved} is listed twice"))
                accounts.append(resolved)
            if w.end is not None and w.end < w.start:
                problems.append(
                    Detail(
                        (*wloc, "end"), f"the waiver ends ({w.end}) before it starts ({w.start})"
                    )
                )
            elif (end is not None and w.start > end) or (w.end is not None and w.end < start):
                problems.append(
                    Detail(
                        (*wloc, "start"),
                        f"the waiver ({w.start} to {w.end or 'open-ended'}) lies entirely outside "
                        f"the restriction ({start} to {end or 'open-ended'})",
                    )
                )
            key = (frozenset(accounts), w.start, w.end)
            if key in seen:
                problems.append(Detail(wloc, "the same waiver is given twice"))
            seen.add(key)
            waivers.append((frozenset(accounts), w.start, w.end, w.citation))
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the restriction; nothing was saved", problems
            )
        return {
            "country": country,
            "type": rtype,
            "start": start,
            "end": end,
            "waivers": waivers,
            "marked": marked,
        }

    def _check_overlap(
        self, fields: dict[str, Any], *, exclude: int | None, loc: tuple[str | int, ...]
    ) -> None:
        """Periods of one country and type never overlap (one restriction per period)."""
        for other in self.rows(country=fields["country"], type=fields["type"]):
            if other.id == exclude:
                continue
            if inputs.overlap(
                fields["start"], fields["end"], other.start_date, other.end_date or date.max
            ):
                if not self.ctx.shows(other):
                    # Still refused (one restriction per period), without its details.
                    raise Conflict(
                        "the period overlaps a stored restriction of the same country and "
                        "type that you may not read: ask someone cleared for it; nothing was "
                        "saved",
                        [Detail(loc, "overlaps a stored restriction")],
                    )
                what = label(other.country, other.type, other.start_date, other.end_date)
                raise Conflict(
                    f"the period overlaps the stored {what} (restriction {other.id}): end that "
                    "one first, or change it instead of adding another; nothing was saved",
                    [Detail(loc, f"overlaps restriction {other.id}")],
                )

    @staticmethod
    def _waiver(w: tuple[frozenset[str], date, date | None, str]) -> Waiver:
        accounts, start, end, citation = w
        return Waiver(accounts=sorted(accounts), start_date=start, end_date=end, citation=citation)


def _csv_rows(row: Restriction) -> list[dict[str, str]]:
    """A restriction as the CSV's rows: one per waiver, or one without a waiver."""
    base = {
        "country": row.country,
        "type": row.type,
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat() if row.end_date else "",
        "citation": row.citation,
        "marking": row.marking,
        "releasable_to": ";".join(visibility.decode(row.releasable_to)),
    }
    if not row.waivers:
        return [base]
    return [
        {
            **base,
            "waiver_accounts": "|".join(sorted(w.accounts)),
            "waiver_start": w.start_date.isoformat(),
            "waiver_end": w.end_date.isoformat() if w.end_date else "",
            "waiver_citation": w.citation,
        }
        for w in row.waivers
    ]


def _waiver_key(w: Waiver) -> tuple[tuple[str, ...], date, date | None, str]:
    return (tuple(sorted(w.accounts)), w.start_date, w.end_date, w.citation)
