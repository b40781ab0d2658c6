"""Bring the database's reference tables in line with the shipped catalog.

Rows are inserted or updated, never deleted: a code that left the files but is still
used by programs stays, so history keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import Base
from ssaplan.reference.catalog import Catalog
from ssaplan.reference.models import (
    Account,
    Agency,
    Country,
    CountryRegion,
    DacCode,
    InstitutionType,
    Level,
    Marking,
    Objective,
    Purpose,
    Region,
)


@dataclass
class SyncReport:
    """How many rows of each table were inserted and updated."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


def _upsert(
    session: Session,
    model: type[Base],
    key: str,
    rows: list[dict[str, Any]],
    report: SyncReport,
) -> None:
    table = cast(Table, model.__table__)
    existing = {getattr(obj, key): obj for obj in session.execute(select(model)).scalars()}
    new_rows = [r for r in rows if r[key] not in existing]
    updated = 0
    for r in rows:
        obj = existing.get(r[key])
        if obj is None:
            continue
        changed = False
        for col, value in r.items():
            if getattr(obj, col) != value:
                setattr(obj, col, value)
                changed = True
        updated += changed
    if new_rows:
        session.execute(insert(table), new_rows)
    report.inserted[table.name] = len(new_rows)
    report.updated[table.name] = updated
    session.flush()


def _ordered_by_depth(items: Mapping[str, Any], parent: Callable[[Any], str | None]) -> list[Any]:
    """Parents before children, so self-referencing foreign keys hold on insert."""

    def depth(item: Any) -> int:
        d, p = 0, parent(item)
        while p is not None and d < 50:
            d, p = d + 1, parent(items[p])
        return d

    return sorted(items.values(), key=depth)


def sync(session: Session, actor: Actor, catalog: Catalog) -> SyncReport:
    """Write the catalog into the reference tables, in the caller's transaction."""
    require(actor, "reference:manage")
    report = SyncReport()
    _upsert(
        session,
        Region,
        "code",
        [
            {"code": r.code, "name": r.name, "kind": r.kind, "description": r.description}
            for r in catalog.regions.values()
        ],
        report,
    )
    _upsert(
        session,
        Country,
        "iso3",
        [
            {
                "iso3": c.iso3,
                "iso2": c.iso2,
                "numeric": c.numeric,
                "name": c.name,
                "official_name": c.official_name,
                "bureau": c.bureau,
                "combatant_command": c.combatant_command,
                "un_region": c.un_region,
                "un_subregion": c.un_subregion,
                "status": c.status,
                "sovereign_iso3": c.sovereign_iso3,
            }
            for c in catalog.countries.values()
        ],
        report,
    )
    memberships = [
        {"iso3": iso3, "region_code": code}
        for iso3 in catalog.countries
        for code in catalog.country_regions(iso3)
    ]
    session.execute(delete(CountryRegion))
    if memberships:
        session.execute(insert(CountryRegion), memberships)
    _upsert(
        session,
        Agency,
        "id",
        [
            {"id": a.id, "name": a.name, "parent_id": a.parent, "kind": a.kind}
            for a in _ordered_by_depth(catalog.agencies, lambda a: a.parent)
        ],
        report,
    )
    _upsert(
        session,
        Account,
        "id",
        [
            {
                "id": a.id,
                "name": a.name,
                "agency_id": a.agency,
                "authority": a.authority,
                "availability_years": a.availability_years,
            }
            for a in catalog.accounts.values()
        ],
        report,
    )
    for model, terms in (
        (InstitutionType, catalog.institution_types),
        (Level, catalog.levels),
        (Purpose, catalog.purposes),
    ):
        _upsert(
            session, model, "id", [{"id": t.id, "name": t.name} for t in terms.values()], report
        )
    _upsert(
        session,
        Objective,
        "id",
        [
            {"id": o.id, "goal_id": o.goal, "name": o.name}
            for o in _ordered_by_depth(catalog.objectives, lambda o: o.goal)
        ],
        report,
    )
    _upsert(
        session,
        DacCode,
        "code",
        [
            {"code": d.code, "name": d.name, "category": d.category, "active": d.active}
            for d in catalog.dac_codes.values()
        ],
        report,
    )
    _upsert(
        session,
        Marking,
        "id",
        [
            {"id": m.id, "name": m.name, "releasable": m.releasable}
            for m in catalog.markings.values()
        ],
        report,
    )
    if report.changed:
        audit.record(
            session,
            audit.Entry(
                actor.username,
                "sync",
                "reference",
                "catalog",
                after={"inserted": report.inserted, "updated": report.updated},
                summary="reference tables brought in line with the shipped data files",
            ),
        )
    return report
