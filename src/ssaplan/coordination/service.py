"""Storing and reading other donors' activities and published U.S. figures.

Writes are bulk (SQLAlchemy Core ``insert`` with lists of rows, in batches) because an
IATI file may hold hundreds of thousands of activities; they run in the caller's
transaction and the caller records the audit summary (one record per imported file).
An activity is replaced whole by identifier, so re-importing a file updates it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, Protocol, cast

from sqlalchemy import Date, Dialect, Table, delete, func, select
from sqlalchemy.orm import Session

from ssaplan.coordination.models import (
    DonorActivity,
    DonorBudget,
    DonorParticipatingOrg,
    DonorRecipientCountry,
    DonorRecipientRegion,
    DonorSector,
    DonorTransaction,
    USAssistanceFigure,
)
from ssaplan.coordination.schemas import (
    DonorActivityList,
    DonorActivityPublic,
    DonorActivitySummary,
    FigureList,
    FigurePublic,
)
from ssaplan.core.errors import NotFound
from ssaplan.core.permissions import Actor, require

# Identifiers per DELETE ... IN (...): far below every back end's parameter limit.
DELETE_CHUNK = 500


class ActivityRows(Protocol):
    """One activity as rows: what an importer hands over (see ``ingest.iati_activity``)."""

    identifier: str
    activity: dict[str, Any]
    orgs: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    sectors: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


CHILD_TABLES: tuple[tuple[str, Any], ...] = (
    ("orgs", DonorParticipatingOrg),
    ("countries", DonorRecipientCountry),
    ("regions", DonorRecipientRegion),
    ("sectors", DonorSector),
    ("budgets", DonorBudget),
    ("transactions", DonorTransaction),
)


@dataclass(frozen=True)
class FigureCounts:
    """What an upsert of published figures did."""

    inserted: int
    updated: int


class CoordinationService:
    """Donor activities and U.S. figures as one actor reads and writes them."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    # -- writes -------------------------------------------------------------------
    def begin_write(self) -> None:
        """Check the actor may import before any write of this import begins.

        (Savepoints inside the import's transaction are safe on SQLite too: the store
        opens real transactions, see ``ssaplan.core.store``.)
        """
        require(self.actor, "data:import")

    def imported_in_run(
        self, identifiers: Sequence[str], imported_at: datetime
    ) -> dict[str, tuple[str, int]]:
        """Those of ``identifiers`` already written by the import that stamps its rows
        ``imported_at``, with the file and line they came from (duplicate detection
        without holding every identifier of a large file in memory)."""
        found: dict[str, tuple[str, int]] = {}
        for start in range(0, len(identifiers), DELETE_CHUNK):
            chunk = list(identifiers[start : start + DELETE_CHUNK])
            rows = self.session.execute(
                select(
                    DonorActivity.identifier, DonorActivity.source_file, DonorActivity.source_line
                ).where(
                    DonorActivity.identifier.in_(chunk), DonorActivity.imported_at == imported_at
                )
            )
            found.update((i, (f, line)) for i, f, line in rows)
        return found

    def replace_activities(
        self,
        records: Sequence[ActivityRows],
        *,
        source_file: str,
        version: str,
        imported_at: datetime,
    ) -> int:
        """Insert ``records``, replacing stored activities with the same identifiers;
        returns how many were replaced (the rest are new)."""
        require(self.actor, "data:import")
        if not records:
            return 0
        ids = [r.identifier for r in records]
        replaced = 0
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            result: Any = self.session.execute(
                delete(DonorActivity).where(DonorActivity.identifier.in_(chunk))
            )
            replaced += int(result.rowcount or 0)
        activities = []
        children: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in CHILD_TABLES}
        for r in records:
            row = r.activity
            row["identifier"] = r.identifier
            row["iati_version"] = version
            row["source_file"] = source_file[:300]
            row["imported_at"] = imported_at
            row["imported_by"] = self.actor.username
            activities.append(row)
            for name, _ in CHILD_TABLES:
                rows = getattr(r, name)
                for child in rows:
                    child["activity_id"] = r.identifier
                children[name].extend(rows)
        self._bulk_insert(DonorActivity, activities)
        for name, model in CHILD_TABLES:
            if children[name]:
                self._bulk_insert(model, children[name])
        return replaced

    def _bulk_insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """``INSERT`` many rows with one DB-API ``executemany``.

        The Core ``insert()`` is compiled once per table and back end, and each column's
        own bind processor (dates, booleans, JSON, UTC timestamps) is applied to the
        values; this is what ``session.execute(insert(table), rows)`` does, without its
        per-row bookkeeping, which dominated the cost of large IATI imports.
        """
        connection = self.session.connection()
        plan = _insert_plan(_table(model), connection.dialect)
        connection.exec_driver_sql(plan.sql, [plan.bind(row) for row in rows])

    def upsert_figures(self, rows: Iterable[dict[str, Any]]) -> FigureCounts:
        """Insert published figures, or update the amount of those already stored
        (same source, measure, fiscal year, period, area and account)."""
        require(self.actor, "data:import")
        inserted = updated = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 1000:
                i, u = self._upsert_figure_batch(batch)
                inserted, updated, batch = inserted + i, updated + u, []
        if batch:
            i, u = self._upsert_figure_batch(batch)
            inserted, updated = inserted + i, updated + u
        return FigureCounts(inserted, updated)

    def _upsert_figure_batch(self, batch: list[dict[str, Any]]) -> tuple[int, int]:
        key_cols = ("source", "measure", "fiscal_year", "period", "area", "account")
        sources = {r["source"] for r in batch}
        years = {r["fiscal_year"] for r in batch}
        existing: dict[tuple[Any, ...], USAssistanceFigure] = {}
        stmt = select(USAssistanceFigure).where(
            USAssistanceFigure.source.in_(sources), USAssistanceFigure.fiscal_year.in_(years)
        )
        for f in self.session.execute(stmt).scalars():
            existing[tuple(getattr(f, c) for c in key_cols)] = f
        new_rows = []
        updated = 0
        for row in batch:
            found = existing.get(tuple(row[c] for c in key_cols))
            if found is None:
                new_rows.append(row)
                continue
            changed = False
            for col in ("amount", "iso3", "account_id", "source_file", "note"):
                if getattr(found, col) != row[col]:
                    setattr(found, col, row[col])
                    changed = True
            updated += int(changed)
        if new_rows:
            self.session.execute(_table(USAssistanceFigure).insert(), new_rows)
        self.session.flush()
        return len(new_rows), updated

    # -- reads --------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows in each donor-activity table (for summaries and checks)."""
        require(self.actor, "read")
        out = {}
        for name, model in (("activities", DonorActivity), *CHILD_TABLES):
            out[name] = self.session.execute(select(func.count()).select_from(model)).scalar_one()
        out["figures"] = self.session.execute(
            select(func.count()).select_from(USAssistanceFigure)
        ).scalar_one()
        return out

    def list_activities(
        self,
        *,
        country: str | None = None,
        reporting_org: str | None = None,
        sector: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> DonorActivityList:
        """Donor activities, optionally for one recipient country (ISO3), publisher
        (reporting-org ref) or sector code, ordered by identifier."""
        require(self.actor, "read")
        stmt = select(DonorActivity)
        if country:
            stmt = stmt.where(
                DonorActivity.identifier.in_(
                    select(DonorRecipientCountry.activity_id).where(
                        DonorRecipientCountry.iso3 == country.upper()
                    )
                )
            )
        if reporting_org:
            stmt = stmt.where(DonorActivity.reporting_org_ref == reporting_org)
        if sector:
            stmt = stmt.where(
                DonorActivity.identifier.in_(
                    select(DonorSector.activity_id).where(DonorSector.code == sector)
                )
            )
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = self.session.execute(
            stmt.order_by(DonorActivity.identifier).limit(limit).offset(offset)
        ).scalars()
        return DonorActivityList(
            items=[DonorActivitySummary.model_validate(a, from_attributes=True) for a in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    def donors_in_country(self, iso3: str, *, limit: int = 25) -> list[dict[str, Any]]:
        """Other donors with published activities for one recipient country: each
        publisher's name and identifier, its activities there, the U.S. dollars it
        committed to them (IATI commitment transactions, type 2) and a few titles;
        most activities first."""
        require(self.actor, "read")
        ids = select(DonorRecipientCountry.activity_id).where(
            DonorRecipientCountry.iso3 == iso3.upper()
        )
        rows = self.session.execute(
            select(
                DonorActivity.reporting_org_ref,
                DonorActivity.reporting_org_name,
                func.count(),
            )
            .where(DonorActivity.identifier.in_(ids))
            .group_by(DonorActivity.reporting_org_ref, DonorActivity.reporting_org_name)
            .order_by(func.count().desc(), DonorActivity.reporting_org_name)
            .limit(limit)
        ).all()
        committed = dict(
            self.session.execute(
                select(DonorActivity.reporting_org_ref, func.sum(DonorTransaction.usd))
                .join(DonorTransaction, DonorTransaction.activity_id == DonorActivity.identifier)
                .where(DonorActivity.identifier.in_(ids), DonorTransaction.type == "2")
                .group_by(DonorActivity.reporting_org_ref)
            ).all()
        )
        out = []
        for ref, org_name, count in rows:
            titles = list(
                self.session.execute(
                    select(DonorActivity.title)
                    .where(
                        DonorActivity.identifier.in_(ids), DonorActivity.reporting_org_ref == ref
                    )
                    .order_by(DonorActivity.identifier)
                    .limit(3)
                ).scalars()
            )
            out.append(
                {
                    "ref": ref,
                    "name": org_name or ref or "unnamed publisher",
                    "activities": int(count),
                    "committed_usd": int(committed.get(ref) or 0),
                    "titles": titles,
                }
            )
        return out

    def get_activity(self, identifier: str) -> DonorActivityPublic:
        """One donor activity with everything stored about it."""
        require(self.actor, "read")
        act = self.session.get(DonorActivity, identifier)
        if act is None:
            raise NotFound(f"no donor activity with identifier {identifier!r}")
        data = DonorActivitySummary.model_validate(act, from_attributes=True).model_dump()
        for name, model in CHILD_TABLES:
            rows = self.session.execute(
                select(model).where(model.activity_id == identifier).order_by(model.seq)
            ).scalars()
            data[name] = [_row_dict(r) for r in rows]
        data["descriptions"] = act.descriptions
        data["titles"] = act.titles
        return DonorActivityPublic.model_validate(data)

    def list_figures(
        self,
        *,
        country: str | None = None,
        fiscal_year: int | None = None,
        measure: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> FigureList:
        """Published U.S. figures, filtered, ordered by year, area and account."""
        require(self.actor, "read")
        stmt = select(USAssistanceFigure)
        if country:
            stmt = stmt.where(USAssistanceFigure.iso3 == country.upper())
        if fiscal_year is not None:
            stmt = stmt.where(USAssistanceFigure.fiscal_year == fiscal_year)
        if measure:
            stmt = stmt.where(USAssistanceFigure.measure == measure)
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = self.session.execute(
            stmt.order_by(
                USAssistanceFigure.fiscal_year,
                USAssistanceFigure.area,
                USAssistanceFigure.account,
                USAssistanceFigure.id,
            )
            .limit(limit)
            .offset(offset)
        ).scalars()
        return FigureList(
            items=[FigurePublic.model_validate(f, from_attributes=True) for f in rows],
            total=total,
            limit=limit,
            offset=offset,
        )


@dataclass(frozen=True)
class _InsertPlan:
    """A compiled ``INSERT`` for one table and back end, and how to bind a row to it."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # only columns that need one
    positional: bool
    pick: Callable[[dict[str, Any]], tuple[Any, ...]]  # the row's values, in column order

    def bind(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The row's values as the driver takes them (tuple or dict), processed."""
        try:
            values = list(self.pick(row))
        except KeyError:  # a column the row leaves out: NULL
            values = [row.get(n) for n in self.names]
        for i, process in self.processors:
            if values[i] is not None:
                values[i] = process(values[i])
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))


_PLANS: dict[tuple[str, str], _InsertPlan] = {}


def _insert_plan(table: Table, dialect: Dialect) -> _InsertPlan:
    key = (table.name, dialect.name)
    plan = _PLANS.get(key)
    if plan is None:
        compiled = table.insert().compile(dialect=dialect)
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        columns = {c.key: c for c in table.columns}
        processors = tuple(
            (i, process)
            for i, n in enumerate(names)
            if (process := _bind_processor(columns[n], dialect))
        )
        pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        plan = _InsertPlan(str(compiled), names, processors, positional, pick)
        _PLANS[key] = plan
    return plan


def _bind_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite" and type(column.type) is Date:
        # SQLAlchemy stores SQLite dates as "YYYY-MM-DD" (its DATE storage format), which
        # is exactly date.isoformat(); the C method is several times faster per value.
        return date.isoformat
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _table(model: Any) -> Table:
    """The Core table of a model, for bulk ``INSERT`` with lists of rows."""
    return cast(Table, model.__table__)


def _row_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "activity_id"}
