"""Import workflows: files in, rows written, one transaction, an audit trail.

The caller opens the transaction (``store.transaction()``); everything an import writes
happens inside it, so a failed import leaves the database exactly as it was. Without
``skip_invalid`` any problem in any file fails the whole import and every problem is
listed; with it, valid activities are written and each skipped one is listed with its
reason (a file that cannot be read at all is skipped whole, inside a savepoint).

Donor activities are written in bulk by :class:`~ssaplan.coordination.service.
CoordinationService` with one summary audit record per file; programs go through
:meth:`~ssaplan.portfolio.service.PortfolioService.upsert_many`, which audits each
program it creates or changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ssaplan.coordination.service import CoordinationService
from ssaplan.core import audit
from ssaplan.core.errors import Detail, Forbidden, Invalid, StaleVersion
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import planned_per_statement, utcnow
from ssaplan.ingest.currency import UsdConverter
from ssaplan.ingest.foreign_assistance import read_foreign_assistance
from ssaplan.ingest.iati import IatiFile
from ssaplan.ingest.iati_activity import ActivityProblem, ActivityRecord
from ssaplan.ingest.iati_portfolio import activity_to_program
from ssaplan.ingest.importrun import (
    ImportRun,
    count_written,
    is_file_level,
    line_in,
    short,
)
from ssaplan.ingest.mapping import get_mappings
from ssaplan.ingest.programs_read import ProgramTable, read_table, table_to_programs
from ssaplan.portfolio import visibility
from ssaplan.portfolio.schemas import ProgramCreate, ProgramPublic
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

T = TypeVar("T")
BATCH = 500  # activities per bulk write


class IngestService:
    """Imports as one actor performs them, within the caller's session and transaction."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        *,
        catalog: Catalog | None = None,
        converter: UsdConverter | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.converter = converter or UsdConverter()
        self.coordination = CoordinationService(session, actor, self.catalog)
        self._marked: dict[str, str] = {}  # the marking of the donor activities being imported

    # -- IATI ---------------------------------------------------------------------
    def import_iati(
        self,
        paths: Sequence[Path],
        *,
        names: Sequence[str] | None = None,
        as_portfolio: bool = False,
        skip_invalid: bool = False,
        fallback_agency: str = "State",
        progress: Callable[[int], None] | None = None,
        marking: str | None = None,
        releasable_to: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Import IATI activity files; return the summary (counts of what was written).

        ``names`` are the file names to report (uploads arrive under temporary paths).
        ``fallback_agency`` is the agency of programs whose publisher is not a known
        U.S. agency (``as_portfolio`` only). ``marking`` and ``releasable_to`` mark
        every donor activity imported (default ``U``, no list; docs/markings.md).
        """
        require(self.actor, "data:import")
        problems: list[Detail] = []
        self._marked = visibility.marking_fields(
            self.actor, self.catalog, marking, releasable_to, ("query",), problems
        )
        if problems:
            raise Invalid("invalid marking", problems)
        if as_portfolio:
            require(self.actor, "program:write")
            try:
                fallback_agency = self.catalog.resolve("agency", fallback_agency)
            except UnknownCode as exc:
                raise Invalid("invalid fallback agency", [Detail(("agency",), str(exc))]) from None
        names = list(names) if names is not None else [p.name for p in paths]
        run = ImportRun(skip_invalid)
        summary: dict[str, Any] = {
            "files": 0,
            "activities": 0,
            "transactions": 0,
            "budgets": 0,
            "planned_disbursements": 0,
            "versions": {},
            "skipped": run.skipped,
            "warnings": [],
            "mode": "portfolio" if as_portfolio else "donor_activities",
        }
        if as_portfolio:
            summary["portfolio"] = {"created": 0, "updated": 0, "unchanged": 0}
            summary["agency_fallbacks"] = {"agency": fallback_agency, "activities": 0}
        else:
            summary["replaced"] = 0
        self.coordination.begin_write()
        for path, name in zip(paths, names, strict=True):
            seen_before = dict(run.seen) if skip_invalid else None
            try:
                with self._savepoint(skip_invalid), planned_per_statement(self.session):
                    counts = self._iati_file(
                        path, name, run, as_portfolio, fallback_agency, progress
                    )
            except Invalid as exc:
                if not skip_invalid or not is_file_level(exc):
                    raise
                run.seen = seen_before or {}
                first = exc.details[0] if exc.details else None
                run.skipped.append(
                    {
                        "file": name,
                        "line": line_in(first.loc) if first else None,
                        "identifier": None,
                        "reason": exc.one_line(),
                    }
                )
                continue
            summary["files"] += 1
            version = counts.pop("version")
            summary["versions"][version] = summary["versions"].get(version, 0) + 1
            for key, value in counts.items():
                if isinstance(summary.get(key), dict):
                    for k, v in value.items():
                        summary[key][k] += v
                else:
                    summary[key] = summary.get(key, 0) + value
        if run.problems:
            more = run.problem_count - len(run.problems)
            raise Invalid(
                f"{run.problem_count} activit{'y' if run.problem_count == 1 else 'ies'} "
                "cannot be imported; nothing was written (fix them, or use --skip-invalid "
                "to import the valid ones)" + (f"; {more} more not listed" if more > 0 else ""),
                run.problems,
            )
        summary["warnings"] = run.warnings.as_list()
        return summary

    # -- programs (Excel / CSV) --------------------------------------------------------
    def import_programs(
        self,
        path: Path,
        *,
        name: str | None = None,
        skip_invalid: bool = False,
        force: bool = False,
    ) -> dict[str, Any]:
        """Import a programs workbook (``.xlsx``) or CSV; every cell is checked first.

        A row's ``version`` (written by the export) must be the stored one: a file
        exported before someone else's edit does not silently revert it. ``force``
        overwrites anyway, and each program so overwritten is named in the audit trail.

        Programs are matched by ``id``: new ones are created, changed ones updated and
        equal ones left untouched, so re-importing an export changes nothing.
        """
        require(self.actor, "data:import")
        require(self.actor, "program:write")
        name = name or path.name
        run = ImportRun(skip_invalid)
        table = read_table(path, name)
        ids = {str(r.cells.get("id") or "").strip() for r in table.rows} - {""}
        stored = self._stored(ids)
        forced = self._check_versions(table, stored, name, force)
        drafts = table_to_programs(table, self.catalog, stored)
        if drafts.file_problems:
            raise Invalid(
                f"{name} cannot be imported as it is; nothing was saved", drafts.file_problems
            )
        for loc, identifier, details in drafts.rejected:
            self._reject(run, name, identifier, line_in(loc) or 0, details, loc)
        if run.problems:
            raise Invalid(
                f"{len(drafts.rejected)} program(s) in {name} have problems; nothing was saved "
                "(fix them, or use --skip-invalid to import the valid ones)",
                run.problems,
            )
        self.coordination.begin_write()
        counts: Counter[str] = Counter()
        batch = [
            (item, loc, item.id) for item, loc in zip(drafts.items, drafts.locations, strict=True)
        ]
        for start in range(0, len(batch), BATCH):
            _done, c = self._upsert_programs(
                batch[start : start + BATCH], run, name, "import:programs"
            )
            counts.update(c)
        if run.problems:
            raise Invalid(
                f"{run.problem_count} program(s) in {name} were refused; nothing was saved",
                run.problems,
            )
        summary: dict[str, Any] = {
            "files": 1,
            "rows": len(table.rows),
            "milestones": len(table.milestones),
            "programs": sum(counts.values()),
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "skipped": run.skipped,
        }
        if forced:
            summary["forced"] = [
                {"id": pid, "file_version": v, "stored_version": now} for pid, v, now in forced
            ]
            audit.record_many(
                self.session,
                [
                    audit.Entry(
                        self.actor.username,
                        "import",
                        "program",
                        pid,
                        summary=f"--force: {name[:150]} (exported at version {v}) overwrote "
                        f"version {now}",
                    )
                    for pid, v, now in forced
                ],
            )
        audit.record(
            self.session,
            audit.Entry(
                self.actor.username,
                "import",
                "programs",
                name[:200],
                None,
                {k: v for k, v in summary.items() if k != "skipped"}
                | {"skipped": len(run.skipped)},
                f"programs import of {name}: {counts['created']} created, {counts['updated']} "
                f"updated, {counts['unchanged']} unchanged",
            ),
        )
        return summary

    def _check_versions(
        self, table: ProgramTable, stored: dict[str, ProgramPublic], name: str, force: bool
    ) -> list[tuple[str, int, int]]:
        """Take the ``version`` cells out of the rows; refuse stale ones unless ``force``.

        Returns the (id, file version, stored version) of the programs forced over.
        """
        stale: dict[str, tuple[int, int, tuple[str, ...]]] = {}
        problems: list[Detail] = []
        for row in table.rows:
            cell = row.cells.pop("version", None)
            pid = str(row.cells.get("id") or "").strip()
            if cell in (None, "") or not pid or pid not in stored:
                continue
            try:
                version = int(str(cell).strip().removesuffix(".0"))
            except ValueError:
                problems.append(Detail((*row.loc, "version"), f"{cell!r} is not a version number"))
                continue
            if version < stored[pid].version and pid not in stale:
                stale[pid] = (version, stored[pid].version, row.loc)
        table.columns = tuple(c for c in table.columns if c != "version")
        if problems:
            raise Invalid(f"{name} cannot be imported as it is; nothing was saved", problems)
        if stale and not force:
            raise StaleVersion(
                f"{len(stale)} program(s) in {name} were changed after the file was exported; "
                "nothing was saved (export again, or use --force to overwrite those changes)",
                [
                    Detail(
                        (*loc, "version"),
                        f"{pid}: the file has version {v}, the program is at version {now}",
                    )
                    for pid, (v, now, loc) in stale.items()
                ],
            )
        return [(pid, v, now) for pid, (v, now, _loc) in stale.items()]

    def _stored(self, ids: set[str]) -> dict[str, ProgramPublic]:
        """The stored programs among ``ids``."""
        return PortfolioService(self.session, self.actor, self.catalog).get_many(ids)

    # -- U.S. foreign-assistance CSV -------------------------------------------------
    def import_foreign_assistance(
        self,
        paths: Sequence[Path],
        *,
        names: Sequence[str] | None = None,
        skip_invalid: bool = False,
        all_sectors: bool = False,
        encoding: str | None = None,
    ) -> dict[str, Any]:
        """Import ForeignAssistance.gov ledgers (as programs) and country totals or CBJ
        budget tables (as published figures); see :mod:`ssaplan.ingest.foreign_assistance`."""
        require(self.actor, "data:import")
        names = list(names) if names is not None else [p.name for p in paths]
        run = ImportRun(skip_invalid)
        mappings = get_mappings()
        summary: dict[str, Any] = {
            "files": 0,
            "layouts": {},
            "rows": 0,
            "programs": {"created": 0, "updated": 0, "unchanged": 0},
            "figures": {"inserted": 0, "updated": 0},
            "out_of_scope": {},
            "not_countries": {},
            "unmapped_accounts": {},
            "skipped": run.skipped,
            "warnings": [],
        }
        self.coordination.begin_write()
        for path, name in zip(paths, names, strict=True):
            if not path.is_file():
                raise Invalid(f"cannot import {name}", [Detail((name,), "no such file")])
            result = read_foreign_assistance(
                path,
                name,
                catalog=self.catalog,
                mappings=mappings,
                all_sectors=all_sectors,
                encoding=encoding,
                today=utcnow().date(),
            )
            if result.file_problems:
                if not skip_invalid:
                    raise Invalid(f"cannot import {name}", result.file_problems)
                run.skipped.append(
                    {
                        "file": name,
                        "line": line_in(result.file_problems[0].loc),
                        "identifier": None,
                        "reason": "; ".join(short(d, None) for d in result.file_problems),
                    }
                )
                continue
            for loc, identifier, details in result.rejected:
                self._reject(run, name, identifier, line_in(loc) or 0, details, loc)
            if result.programs:
                require(self.actor, "program:write")
            counts: Counter[str] = Counter()
            if not run.problems:
                batch = [(item, loc, item.id) for item, loc in result.programs]
                for start in range(0, len(batch), BATCH):
                    _done, c = self._upsert_programs(
                        batch[start : start + BATCH], run, name, "import:foreign-assistance"
                    )
                    counts.update(c)
            figures = self.coordination.upsert_figures(result.figures) if not run.problems else None
            summary["files"] += 1
            summary["layouts"][name] = result.layout
            summary["rows"] += result.rows
            for key in ("created", "updated", "unchanged"):
                summary["programs"][key] += counts[key]
            if figures is not None:
                summary["figures"]["inserted"] += figures.inserted
                summary["figures"]["updated"] += figures.updated
            for key, counter in (
                ("out_of_scope", result.out_of_scope),
                ("not_countries", result.not_countries),
                ("unmapped_accounts", result.unmapped_accounts),
            ):
                for label, n in counter.items():
                    summary[key][label] = summary[key].get(label, 0) + n
            summary["warnings"] += result.notes
            if not run.problems:
                audit.record(
                    self.session,
                    audit.Entry(
                        self.actor.username,
                        "import",
                        "programs" if result.layout == "ledger" else "us_assistance_figures",
                        name[:200],
                        None,
                        {
                            "layout": result.layout,
                            "rows": result.rows,
                            "programs": dict(counts),
                            "figures": len(result.figures),
                            "skipped": len(result.rejected),
                        },
                        f"foreign-assistance import of {name} ({result.layout}): "
                        f"{sum(counts.values())} programs, {len(result.figures)} figures",
                    ),
                )
        if run.problems:
            more = run.problem_count - len(run.problems)
            raise Invalid(
                f"{run.problem_count} record(s) cannot be imported; nothing was written (fix "
                "them, or use --skip-invalid to import the valid ones)"
                + (f"; {more} more not listed" if more > 0 else ""),
                run.problems,
            )
        return summary

    @contextmanager
    def _savepoint(self, enabled: bool) -> Iterator[None]:
        if not enabled:
            yield
            return
        with self.session.begin_nested():
            yield

    def _iati_file(
        self,
        path: Path,
        name: str,
        run: ImportRun,
        as_portfolio: bool,
        fallback_agency: str,
        progress: Callable[[int], None] | None,
    ) -> dict[str, Any]:
        reader = IatiFile(
            path, catalog=self.catalog, converter=self.converter, source=name, progress=progress
        )
        written = Counter[str]()
        portfolio = Counter[str]()
        pending: list[ActivityRecord] = []
        batch_seen: dict[str, tuple[str, int]] = {}
        pending_programs: list[tuple[ProgramCreate, tuple[str | int, ...], ActivityRecord]] = []
        mappings = get_mappings() if as_portfolio else None
        fallbacks = 0

        def flush() -> None:
            nonlocal pending
            if not pending:
                return
            earlier = self.coordination.imported_in_run(
                [r.identifier for r in pending], run.started
            )
            for r in [r for r in pending if r.identifier in earlier]:
                self._duplicate(run, name, r, earlier[r.identifier])
                pending.remove(r)
            if run.problems:
                # Nothing more will be written: remember identifiers to report duplicates.
                run.seen.update((r.identifier, (name, r.line)) for r in pending)
            else:
                written["replaced"] += self.coordination.replace_activities(
                    pending,
                    source_file=name,
                    version=reader.info.version or "unknown",
                    imported_at=run.started,
                    **self._marked,
                )
            for r in pending:
                count_written(written, r)
            pending = []
            batch_seen.clear()

        def flush_programs() -> None:
            nonlocal pending_programs
            if pending_programs and not run.problems:
                done, counts = self._upsert_programs(pending_programs, run, name, "import:iati")
                for r in done:
                    count_written(written, r)
                portfolio.update(counts)
            pending_programs = []

        for result in reader.activities():
            if isinstance(result, ActivityProblem):
                self._reject(run, name, result.identifier, result.line, result.details)
                continue
            for message, line in result.warnings:
                run.warnings.add(name, message, line)
            previous = run.seen.get(result.identifier) or batch_seen.get(result.identifier)
            if previous is not None:
                self._duplicate(run, name, result, previous)
                continue
            if mappings is None:
                # Identifiers already written in this run are found in the database when
                # the batch is flushed, so memory does not grow with the file.
                batch_seen[result.identifier] = (name, result.line)
                pending.append(result)
                if len(pending) >= BATCH:
                    flush()
                continue
            run.seen[result.identifier] = (name, result.line)
            draft = activity_to_program(
                result,
                source=name,
                catalog=self.catalog,
                mappings=mappings,
                fallback_agency=fallback_agency,
            )
            for note in draft.notes:
                run.warnings.add(name, note, result.line)
            if draft.item is None:
                self._reject(run, name, result.identifier, result.line, draft.problems)
                continue
            fallbacks += int(draft.agency_fallback)
            pending_programs.append((draft.item, (name, f"line {result.line}"), result))
            if len(pending_programs) >= BATCH:
                flush_programs()
        flush()
        flush_programs()
        if reader.info.version_note:
            run.warnings.add(name, reader.info.version_note, 1)
        version = reader.info.version or "unknown"
        counts: dict[str, Any] = {
            "version": version,
            "activities": written["activities"],
            "transactions": written["transactions"],
            "budgets": written["budgets"],
            "planned_disbursements": written["planned_disbursements"],
        }
        if as_portfolio:
            counts["portfolio"] = dict(portfolio)
            counts["agency_fallbacks"] = {"activities": fallbacks}
        else:
            counts["replaced"] = written["replaced"]  # the rest of the activities are new
        if not run.problems:
            audit.record(
                self.session,
                audit.Entry(
                    self.actor.username,
                    "import",
                    "programs" if as_portfolio else "donor_activities",
                    name[:200],
                    None,
                    {k: v for k, v in counts.items() if k != "agency_fallbacks"},
                    f"IATI import of {name} (version {version}): "
                    f"{written['activities']} activities, {written['transactions']} "
                    f"transactions, {written['budgets']} budgets",
                ),
            )
        return counts

    def _duplicate(
        self, run: ImportRun, name: str, result: ActivityRecord, previous: tuple[str, int]
    ) -> None:
        where = f"line {previous[1]}" + (f" of {previous[0]}" if previous[0] != name else "")
        self._reject(
            run,
            name,
            result.identifier,
            result.line,
            [
                Detail(
                    (name, f"line {result.line}", "iati-identifier"),
                    f"{result.identifier!r} appears twice in this import (also at {where}): "
                    "an identifier names one activity",
                )
            ],
        )

    def _upsert_programs(
        self,
        batch: Sequence[tuple[ProgramCreate, tuple[str | int, ...], T]],
        run: ImportRun,
        name: str,
        source: str,
    ) -> tuple[list[T], Counter[str]]:
        """Write a batch of programs through the portfolio service; with ``skip_invalid``
        drop the ones it refuses (listing why) and write the rest.

        Returns the payloads of the programs written and created/updated/unchanged counts.
        """
        portfolio = PortfolioService(self.session, self.actor, self.catalog)
        pending = list(batch)
        while pending:
            try:
                with self._savepoint(run.skip_invalid):
                    report = portfolio.upsert_many(
                        [b[0] for b in pending], source=source, locations=[b[1] for b in pending]
                    )
            except (Invalid, Forbidden) as exc:
                if isinstance(exc, Forbidden) and not run.skip_invalid:
                    raise  # writing outside one's agencies is refused whole (403)
                width = len(pending[0][1])
                bad = {d.loc[:width] for d in exc.details}
                rejected = [b for b in pending if b[1] in bad] or pending
                for item, loc, _payload in rejected:
                    details = [d for d in exc.details if d.loc[:width] == loc] or list(exc.details)
                    self._reject(run, name, item.id, line_in(loc) or 0, details, loc)
                if not run.skip_invalid:
                    return [], Counter()
                pending = [b for b in pending if b not in rejected]
                continue
            counts = Counter(
                created=len(report.created),
                updated=len(report.updated),
                unchanged=len(report.unchanged),
            )
            return [b[2] for b in pending], counts
        return [], Counter()

    def _reject(
        self,
        run: ImportRun,
        name: str,
        identifier: str | None,
        line: int,
        details: Sequence[Detail],
        loc: tuple[str | int, ...] | None = None,
    ) -> None:
        if run.skip_invalid:
            entry: dict[str, Any] = {
                "file": name,
                "line": line,
                "identifier": identifier,
                "reason": "; ".join(short(d, loc) for d in details),
            }
            if loc is not None and len(loc) > 2 and not str(loc[1]).startswith("line "):
                entry["sheet"] = loc[1]
                entry["row"] = line_in(loc)
            run.skipped.append(entry)
        else:
            run.fail(details)
