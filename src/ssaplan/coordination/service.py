"""Storing and reading other donors' activities and published U.S. figures.

Writes of donor activities are bulk because an IATI file may hold hundreds of
thousands of activities: the importer hands over plain row tuples (see
:class:`ActivityRows`), written with one ``executemany`` per table on SQLite and with
``COPY`` on PostgreSQL. They run in the caller's transaction and the caller records
the audit summary (one record per imported file). An activity is replaced whole by
identifier, so re-importing a file updates it.

Markings (docs/markings.md): every activity of one import carries the marking and
releasable-to list the importer gave (default ``U``, none). Lists, single reads and
the per-country donor summary show only the activities the reader may see; a hidden
one is 404 like a missing identifier, and a re-import may not replace it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Dialect, Table, delete, func, select, update
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
from ssaplan.core.errors import Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.portfolio import visibility
from ssaplan.portfolio.schemas import Withheld
from ssaplan.reference.catalog import Catalog, get_catalog

# Identifiers per DELETE ... IN (...): far below every back end's parameter limit.
DELETE_CHUNK = 500


# How an importer hands over an activity: one tuple per row, values in these column
# orders and already in the form both back ends store without a conversion per value
# (dates as ISO ``YYYY-MM-DD`` text, ``titles``/``descriptions`` as JSON text, amounts
# as decimal text, ``usd`` as an int). The columns every row of one import shares
# (``RUN_COLUMNS``) are added here. A test checks these cover every column.
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "identifier",
    "reporting_org_ref",
    "reporting_org_type",
    "reporting_org_name",
    "title",
    "titles",
    "descriptions",
    "default_language",
    "default_currency",
    "status",
    "planned_start",
    "actual_start",
    "planned_end",
    "actual_end",
    "humanitarian",
    "default_aid_type",
    "default_finance_type",
    "default_flow_type",
    "source_line",
)
RUN_COLUMNS: tuple[str, ...] = (
    "iati_version",
    "source_file",
    "imported_at",
    "imported_by",
    "marking",
    "releasable_to",
)

CHILD_TABLES: tuple[tuple[str, Any], ...] = (
    ("orgs", DonorParticipatingOrg),
    ("countries", DonorRecipientCountry),
    ("regions", DonorRecipientRegion),
    ("sectors", DonorSector),
    ("budgets", DonorBudget),
    ("transactions", DonorTransaction),
)
CHILD_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": ("activity_id", "seq", "role", "ref", "type", "name"),
    "countries": ("activity_id", "seq", "code", "iso3", "name", "percentage"),
    "regions": ("activity_id", "seq", "code", "vocabulary", "percentage"),
    "sectors": ("activity_id", "seq", "vocabulary", "code", "name", "percentage"),
    "budgets": (
        "activity_id",
        "seq",
        "kind",
        "type",
        "status",
        "period_start",
        "period_end",
        "amount",
        "currency",
        "value_date",
        "usd",
    ),
    "transactions": (
        "activity_id",
        "seq",
        "type",
        "transaction_date",
        "amount",
        "currency",
        "value_date",
        "usd",
        "provider_ref",
        "provider_name",
        "receiver_ref",
        "receiver_name",
        "aid_type",
        "finance_type",
        "humanitarian",
    ),
}


class ActivityRows(Protocol):
    """One activity as rows: what an importer hands over (see ``ingest.iati_activity``).

    ``activity_row`` has the values of :data:`ACTIVITY_COLUMNS`; ``child_rows`` one list
    of rows (tuples or lists) per table of :data:`CHILD_TABLES`, in that order, each
    row the values of the table's :data:`CHILD_COLUMNS` (``activity_id`` first).
    """

    @property
    def identifier(self) -> str: ...

    @property
    def activity_row(self) -> tuple[Any, ...]: ...

    @property
    def child_rows(self) -> tuple[Sequence[Sequence[Any]], ...]: ...


@dataclass(frozen=True)
class FigureCounts:
    """What an upsert of published figures did."""

    inserted: int
    updated: int


class CoordinationService:
    """Donor activities and U.S. figures as one actor reads and writes them."""

    def __init__(self, session: Session, actor: Actor, catalog: Catalog | None = None) -> None:
        self.session = session
        self.actor = actor
        self.catalog = catalog or get_catalog()
        self.audience = visibility.audience_of(actor, self.catalog)

    def _visible(self, stmt: Any) -> Any:
        return visibility.only_visible(stmt, self.audience, self.catalog, marked=DonorActivity)

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
        marking: str = "U",
        releasable_to: str = "",
    ) -> int:
        """Insert ``records``, replacing stored activities with the same identifiers;
        returns how many were replaced (the rest are new). Every record gets ``marking``
        and ``releasable_to`` (as stored, checked by the caller with
        :func:`~ssaplan.portfolio.visibility.marking_fields`). A stored activity the
        importer may not see is not replaced: the import is refused."""
        require(self.actor, "data:import")
        if not records:
            return 0
        ids = [r.identifier for r in records]
        replaced = 0
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            if not self.audience.unrestricted:
                hidden = self.session.execute(
                    select(DonorActivity.identifier).where(
                        DonorActivity.identifier.in_(chunk),
                        ~visibility.visible_clause(
                            self.audience, self.catalog, marked=DonorActivity
                        ),
                    )
                ).scalars()
                problems = [
                    Detail(
                        (source_file, i),
                        "a stored donor activity with this identifier is "
                        "not available to you (its marking)",
                    )
                    for i in hidden
                ]
                if problems:
                    raise Invalid(
                        f"{source_file}: {len(problems)} activit(ies) not available to you; "
                        "nothing was imported",
                        problems,
                    )
            result: Any = self.session.execute(
                delete(DonorActivity).where(DonorActivity.identifier.in_(chunk))
            )
            replaced += int(result.rowcount or 0)
        connection = self.session.connection()
        writer = _BulkWriter(connection)
        run = (
            version,
            source_file[:300],
            _bound(DonorActivity.__table__.c.imported_at, connection.dialect, imported_at),
            self.actor.username,
            marking,
            releasable_to,
        )
        writer.insert(
            DonorActivity.__tablename__,
            ACTIVITY_COLUMNS + RUN_COLUMNS,
            [r.activity_row + run for r in records],
        )
        for i, (name, model) in enumerate(CHILD_TABLES):
            rows = [row for r in records for row in r.child_rows[i]]
            if rows:
                writer.insert(model.__tablename__, CHILD_COLUMNS[name], rows)
        return replaced

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
        """One batch: which rows exist is read as plain tuples, narrowed to the batch's
        sources, years and areas (reading every figure of those years as ORM objects made
        a 23,000-row file cost minutes); changed ones are updated by primary key."""
        key_cols = ("source", "measure", "fiscal_year", "period", "area", "account")
        value_cols = ("amount", "iso3", "account_id", "source_file", "note")
        table = _table(USAssistanceFigure)
        existing: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        stmt = select(table.c.id, *(table.c[c] for c in key_cols + value_cols)).where(
            table.c.source.in_({r["source"] for r in batch}),
            table.c.fiscal_year.in_({r["fiscal_year"] for r in batch}),
            table.c.area.in_({r["area"] for r in batch}),
        )
        width = len(key_cols)
        for stored_row in self.session.execute(stmt):
            existing[tuple(stored_row[1 : 1 + width])] = tuple(stored_row)
        new_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in batch:
            key = tuple(row[c] for c in key_cols)
            found = existing.get(key)
            if found is None:
                twin = seen.get(key)
                if twin is None:
                    seen[key] = row
                    new_rows.append(row)
                else:  # the same figure twice in one batch: the later row wins, as before
                    twin.update(row)
                continue
            stored = dict(zip(value_cols, found[1 + width :], strict=True))
            if any(stored[c] != row[c] for c in value_cols):
                changes.append({"id": found[0], **{c: row[c] for c in value_cols}})
        if new_rows:
            self.session.execute(table.insert(), new_rows)
        if changes:
            self.session.execute(update(USAssistanceFigure), changes)
        self.session.flush()
        return len(new_rows), len(changes)

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
        ids: Any = stmt.with_only_columns(DonorActivity.identifier)
        stmt = self._visible(stmt)
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = self.session.execute(
            stmt.order_by(DonorActivity.identifier).limit(limit).offset(offset)
        ).scalars()
        return DonorActivityList(
            items=[DonorActivitySummary.model_validate(a, from_attributes=True) for a in rows],
            total=total,
            limit=limit,
            offset=offset,
            withheld=Withheld(
                **visibility.withheld(
                    self.session, ids, self.audience, self.catalog, marked=DonorActivity
                )
            ),
        )

    def donors_in_country(self, iso3: str, *, limit: int = 25) -> list[dict[str, Any]]:
        """Other donors with published activities for one recipient country: each
        publisher's name and identifier, its activities there, the U.S. dollars it
        committed to them (IATI commitment transactions, type 2) and a few titles;
        most activities first."""
        require(self.actor, "read")
        ids = self._visible(
            select(DonorActivity.identifier).where(
                DonorActivity.identifier.in_(
                    select(DonorRecipientCountry.activity_id).where(
                        DonorRecipientCountry.iso3 == iso3.upper()
                    )
                )
            )
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
        if act is None or (
            visibility.verdict(
                self.audience, self.catalog, act.marking, visibility.decode(act.releasable_to)
            )
            is not None
        ):
            # One the reader may not see is missing to them, never forbidden.
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


class _BulkWriter:
    """Rows into a table in the fewest round trips the back end allows, on the
    session's own connection (so inside the import's transaction).

    SQLite: one DB-API ``executemany`` of plain tuples per table (the driver binds
    them in C). PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``), which
    streams the rows without a statement per row; the server checks constraints and
    foreign keys as for an ``INSERT``, and a failure aborts the whole transaction.
    """

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self.raw = connection.connection.driver_connection
        self.quote = self.dialect.identifier_preparer.quote

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (values in the order of ``columns``) into ``table``."""
        names = ", ".join(self.quote(c) for c in columns)
        if self.dialect.name == "postgresql":
            with self.raw.cursor() as cursor:  # type: ignore[union-attr]
                # Names are this module's own constants, quoted: no user input in the SQL.
                sql = f"COPY {self.quote(table)} ({names}) FROM STDIN"
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        cursor = self.raw.cursor()  # type: ignore[union-attr]
        try:
            sql = f"INSERT INTO {self.quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 - own constants
            cursor.executemany(sql, rows)
        finally:
            cursor.close()


def as_stored(value: Any) -> Any:
    """A Python value in the form :data:`ACTIVITY_COLUMNS` rows carry it: dates as ISO
    text, JSON columns as JSON text, decimals as text (for rows not built by the IATI
    reader, such as the demo's)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _bound(column: Any, dialect: Dialect, value: Any) -> Any:
    """``value`` as the column's type hands it to the driver (e.g. a UTC timestamp as
    SQLite's text); done once per batch for the values every row shares."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _table(model: Any) -> Table:
    """The Core table of a model, for bulk ``INSERT`` with lists of rows."""
    return cast(Table, model.__table__)


def _row_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "activity_id"}
