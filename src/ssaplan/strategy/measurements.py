"""Measurements of indicators: entered one by one, in batches (API) or from CSV.

Writing needs ``measurement:write`` within the strategy's scope (its agency, or every
partner country). A measurement is part of its strategy: it is shown, listed and written
only for readers who may see the strategy (its marking, :mod:`ssaplan.portfolio.
visibility`); for anyone else it, its indicator and its strategy are "not found".

A measurement is for one indicator, one of the periods the indicator reports in (its
collection frequency, within the strategy's fiscal years), and one breakdown among those
the indicator declares. Batches and imports are all or nothing: every problem is
reported with where it is, and nothing is written. A value for a (indicator, period,
breakdown) already stored replaces it in a batch or import; a single create refuses it
(update that one instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ssaplan.core import audit
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, NotFound, StaleVersion
from ssaplan.core.permissions import Actor, require, restrict
from ssaplan.core.schemas import Page
from ssaplan.core.store import utcnow
from ssaplan.portfolio.visibility import Audience, audience_of, decode, only_visible, verdict
from ssaplan.reference.catalog import Catalog, get_catalog
from ssaplan.strategy import engine
from ssaplan.strategy.measurements_csv import read_measurements
from ssaplan.strategy.models import Indicator, Measurement, Strategy, StrategyObjective
from ssaplan.strategy.public import measurement_public, measurement_snapshot
from ssaplan.strategy.schemas import (
    ImportReport,
    MeasurementIn,
    MeasurementPublic,
    MeasurementUpdate,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SaveReport:
    """What a batch did: measurement ids created, updated and left as they were."""

    created: tuple[int, ...]
    updated: tuple[int, ...]
    unchanged: tuple[int, ...]


class MeasurementService:
    """Measurements as one actor reads and writes them, within one session."""

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
        self._strategies: dict[int, Strategy] = {}

    def _visible(self, stmt: Any) -> Any:
        """``stmt`` (a select joining strategies) narrowed to those the audience may see."""
        return only_visible(stmt, self.audience, self.catalog, marked=Strategy)

    def _shown(self, s: Strategy) -> bool:
        return (
            self.audience.unrestricted
            or verdict(self.audience, self.catalog, s.marking, decode(s.releasable_to)) is None
        )

    # -- reads ------------------------------------------------------------------------
    def list_measurements(
        self,
        *,
        indicator: int | None = None,
        strategy: str | None = None,
        period: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> Page[MeasurementPublic]:
        require(self.actor, "read")
        stmt = (
            select(Measurement, Strategy.code)
            .join(Indicator, Indicator.id == Measurement.indicator_id)
            .join(StrategyObjective, StrategyObjective.id == Indicator.objective_id)
            .join(Strategy, Strategy.id == StrategyObjective.strategy_id)
        )
        stmt = self._visible(stmt)
        if indicator is not None:
            stmt = stmt.where(Measurement.indicator_id == indicator)
        if strategy is not None:
            stmt = stmt.where(Strategy.code == strategy)
        if period is not None:
            stmt = stmt.where(Measurement.period == period.strip().upper())
        total = self.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        stmt = stmt.order_by(
            Measurement.indicator_id, Measurement.period, Measurement.disaggregation_key
        ).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        items = [measurement_public(m, code) for m, code in self.session.execute(stmt).all()]
        return Page[MeasurementPublic](items=items, total=total)

    def get(self, measurement_id: int) -> MeasurementPublic:
        require(self.actor, "read")
        m = self._load(measurement_id)
        return measurement_public(m, self._strategy_of_indicator(m.indicator_id).code)

    # -- writes -------------------------------------------------------------------------
    def create(self, data: MeasurementIn) -> MeasurementPublic:
        """Store one new measurement; a value already stored for its key is refused."""
        require(self.actor, "measurement:write")
        problems: list[Detail] = []
        key = self._check(data, ("body",), problems)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the measurement; nothing was saved", problems
            )
        assert key is not None  # noqa: S101 - checked above
        existing = self._existing([key]).get(key)
        if existing is not None:
            raise Conflict(
                f"indicator {data.indicator} already has a value for {key[1]}"
                f"{' (' + key[2] + ')' if key[2] else ''}: update measurement {existing.id} "
                f"(version {existing.version}) instead",
                [Detail(("body", "period"), "already measured")],
            )
        report = self._save([data], [key], {})
        return self.get(report.created[0])

    def save_many(
        self,
        items: Sequence[MeasurementIn],
        *,
        locations: Sequence[Loc] | None = None,
        summary: str = "",
    ) -> SaveReport:
        """Create or replace measurements by (indicator, period, breakdown), all or nothing."""
        require(self.actor, "measurement:write")
        locs = (
            list(locations) if locations is not None else [("items", n) for n in range(len(items))]
        )
        problems: list[Detail] = []
        keys: list[tuple[int, str, str]] = []
        seen: dict[tuple[int, str, str], Loc] = {}
        for item, loc in zip(items, locs, strict=True):
            key = self._check(item, loc, problems)
            if key is None:
                continue
            if key in seen:
                problems.append(
                    Detail(
                        (*loc, "period"),
                        f"the same indicator, period and breakdown as {_where(seen[key])}",
                    )
                )
            seen[key] = loc
            keys.append(key)
        if problems:
            raise Invalid(
                f"{len(problems)} problem(s) in the measurements given; nothing was saved",
                problems,
            )
        return self._save(items, keys, self._existing(keys), summary=summary)

    def import_csv(self, data: bytes | str, file: str) -> ImportReport:
        """Import a measurements CSV (``measurements_csv``), all or nothing."""
        require(self.actor, "measurement:write")
        rows = read_measurements(data, file)
        codes = sorted({r.strategy for r in rows})
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(codes), 500):
            for code, icode, iid in self.session.execute(
                self._visible(
                    select(Strategy.code, Indicator.code, Indicator.id)
                    .join(StrategyObjective, StrategyObjective.strategy_id == Strategy.id)
                    .join(Indicator, Indicator.objective_id == StrategyObjective.id)
                    .where(Strategy.code.in_(codes[start : start + 500]))
                )
            ):
                found[(code, icode)] = iid
        known = {s for s, _ in found} | set(
            self.session.execute(
                self._visible(select(Strategy.code).where(Strategy.code.in_(codes)))
            ).scalars()
        )
        problems: list[Detail] = []
        items: list[MeasurementIn] = []
        locs: list[Loc] = []
        for r in rows:
            where: Loc = (file, f"line {r.line}")
            if r.strategy not in known:
                problems.append(Detail((*where, "strategy"), f"no strategy with id {r.strategy!r}"))
                continue
            indicator_id = found.get((r.strategy, r.indicator))
            if indicator_id is None:
                have = sorted(ic for s, ic in found if s == r.strategy)
                problems.append(
                    Detail(
                        (*where, "indicator"),
                        f"strategy {r.strategy} has no indicator {r.indicator!r}"
                        + (f" (its indicators: {', '.join(have[:12])})" if have else ""),
                    )
                )
                continue
            items.append(
                MeasurementIn(
                    indicator=indicator_id,
                    period=r.period,
                    value=r.value,
                    disaggregation=r.disaggregation,
                    quality=r.quality,  # checked by the reader
                    confidence=r.confidence,
                    source=r.source,
                    note=r.note,
                    collected_on=r.collected_on,
                )
            )
            locs.append(where)
        if problems:
            raise Invalid(f"{len(problems)} problem(s) in {file}; nothing was imported", problems)
        try:
            report = self.save_many(items, locations=locs, summary=f"import of {file}")
        except Invalid as exc:
            raise Invalid(
                f"{len(exc.details)} problem(s) in {file}; nothing was imported", exc.details
            ) from exc
        return ImportReport(
            file=file,
            rows=len(rows),
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
        )

    def update(self, measurement_id: int, data: MeasurementUpdate) -> MeasurementPublic:
        require(self.actor, "measurement:write")
        m = self._load(measurement_id, lock=True)
        s = self._strategy_of_indicator(m.indicator_id)
        self._check_scope(s, ("body",))
        if data.version != m.version:
            raise StaleVersion(
                f"measurement {measurement_id} was changed by someone else (you sent version "
                f"{data.version}, it is now at version {m.version}): reload and try again"
            )
        before = measurement_snapshot(m)
        for field in ("value", "quality", "confidence", "source", "note"):
            value = getattr(data, field)
            if value is not None:
                setattr(m, field, value)
        if "collected_on" in data.model_fields_set:
            m.collected_on = data.collected_on
        after = measurement_snapshot(m)
        if after != before:
            m.version += 1
            m.entered_by, m.entered_at = self.actor.username, utcnow()
            self.session.flush()
            audit.record(self.session, self._entry("update", m, s, before))
        return measurement_public(m, s.code)

    def delete(self, measurement_id: int, version: int | None = None) -> None:
        require(self.actor, "measurement:write")
        m = self._load(measurement_id, lock=True)
        s = self._strategy_of_indicator(m.indicator_id)
        self._check_scope(s, ())
        if version is not None and version != m.version:
            raise StaleVersion(
                f"measurement {measurement_id} is at version {m.version}, not {version}: "
                "reload and try again"
            )
        entry = self._entry("delete", m, s, measurement_snapshot(m), deleted=True)
        self.session.delete(m)
        self.session.flush()
        audit.record(self.session, entry)

    # -- internals ----------------------------------------------------------------------
    def _check(
        self, data: MeasurementIn, loc: Loc, problems: list[Detail]
    ) -> tuple[int, str, str] | None:
        """The item's key, after every check; None (with problems added) if it fails."""
        indicator = self.session.get(Indicator, data.indicator)
        s = self._strategy_of_indicator(indicator.id) if indicator is not None else None
        if indicator is None or s is None or not self._shown(s):
            problems.append(Detail((*loc, "indicator"), f"no indicator {data.indicator}"))
            return None
        if not restrict(self.actor, "measurement:write").allows(s.agency_id, self._countries(s)):
            problems.append(
                Detail(
                    (*loc, "indicator"),
                    f"{self.actor.username} ({self.actor.describe()}) may not enter measurements "
                    f"for strategy {s.code}",
                )
            )
            return None
        ok = True
        try:
            period = engine.known_period(data.period, indicator.frequency, s.first_fy, s.last_fy)
        except ValueError as exc:
            problems.append(Detail((*loc, "period"), f"indicator {indicator.code}: {exc}"))
            ok = False
        declared = list(indicator.disaggregations or [])
        for name in data.disaggregation:
            if name not in declared:
                problems.append(
                    Detail(
                        (*loc, "disaggregation"),
                        f"indicator {indicator.code} is not broken down by {name!r} "
                        f"(it is by: {', '.join(declared) or 'nothing; give the total'})",
                    )
                )
                ok = False
        if not ok:
            return None
        return (indicator.id, period.label, engine.disaggregation_key(data.disaggregation))

    def _existing(
        self, keys: Sequence[tuple[int, str, str]]
    ) -> dict[tuple[int, str, str], Measurement]:
        out: dict[tuple[int, str, str], Measurement] = {}
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), 300):
            chunk = wanted[start : start + 300]
            for m in self.session.execute(
                select(Measurement).where(
                    tuple_(
                        Measurement.indicator_id, Measurement.period, Measurement.disaggregation_key
                    ).in_(chunk)
                )
            ).scalars():
                out[(m.indicator_id, m.period, m.disaggregation_key)] = m
        return out

    def _save(
        self,
        items: Sequence[MeasurementIn],
        keys: Sequence[tuple[int, str, str]],
        existing: dict[tuple[int, str, str], Measurement],
        *,
        summary: str = "",
    ) -> SaveReport:
        now = utcnow()
        created: list[Measurement] = []
        updated: list[tuple[Measurement, dict[str, Any]]] = []
        unchanged: list[int] = []
        for item, key in zip(items, keys, strict=True):
            m = existing.get(key)
            if m is None:
                m = Measurement(
                    indicator_id=key[0],
                    period=key[1],
                    disaggregation=dict(sorted(item.disaggregation.items())),
                    disaggregation_key=key[2],
                    version=1,
                )
                _fill(m, item)
                m.entered_by, m.entered_at = self.actor.username, now
                created.append(m)
                existing[key] = m
                continue
            before = measurement_snapshot(m)
            _fill(m, item)
            if measurement_snapshot(m) == before:
                unchanged.append(m.id)
                continue
            m.version += 1
            m.entered_by, m.entered_at = self.actor.username, now
            updated.append((m, before))
        self.session.add_all(created)
        self.session.flush()
        entries = [
            self._entry(
                "create", m, self._strategy_of_indicator(m.indicator_id), None, summary=summary
            )
            for m in created
        ]
        entries += [
            self._entry(
                "update", m, self._strategy_of_indicator(m.indicator_id), before, summary=summary
            )
            for m, before in updated
        ]
        audit.record_many(self.session, entries)
        return SaveReport(
            tuple(m.id for m in created), tuple(m.id for m, _ in updated), tuple(unchanged)
        )

    def _load(self, measurement_id: int, lock: bool = False) -> Measurement:
        require(self.actor, "read")
        m = self.session.get(Measurement, measurement_id, with_for_update=lock)
        if m is None or not self._shown(self._strategy_of_indicator(m.indicator_id)):
            raise NotFound(f"no measurement {measurement_id}")
        return m

    def _strategy_of_indicator(self, indicator_id: int) -> Strategy:
        indicator = self.session.get(Indicator, indicator_id)
        assert indicator is not None  # noqa: S101 - measurements cascade with indicators
        objective = self.session.get(StrategyObjective, indicator.objective_id)
        assert objective is not None  # noqa: S101
        pk = objective.strategy_id
        if pk not in self._strategies:
            s = self.session.get(Strategy, pk)
            assert s is not None  # noqa: S101
            self._strategies[pk] = s
        return self._strategies[pk]

    def _countries(self, s: Strategy) -> set[str]:
        return {s.iso3} if s.iso3 else set(self.catalog.region_members(s.region_code or ""))

    def _check_scope(self, s: Strategy, loc: Loc) -> None:
        if not restrict(self.actor, "measurement:write").allows(s.agency_id, self._countries(s)):
            raise Forbidden(
                f"{self.actor.username} ({self.actor.describe()}) may not enter measurements "
                f"for strategy {s.code}",
                [Detail(loc, "outside your scope")] if loc else [],
            )

    def _entry(
        self,
        action: str,
        m: Measurement,
        s: Strategy,
        before: dict[str, Any] | None,
        *,
        summary: str = "",
        deleted: bool = False,
    ) -> audit.Entry:
        return audit.Entry(
            self.actor.username,
            action,
            "measurement",
            f"{s.code}/{m.indicator_id}/{m.period}"
            + (f"/{m.disaggregation_key}" if m.disaggregation_key else ""),
            before,
            None if deleted else measurement_snapshot(m),
            summary,
            entity_ref=f"measurement:{m.id}",
        )


def _fill(m: Measurement, item: MeasurementIn) -> None:
    m.value = item.value
    m.quality = item.quality
    m.confidence = item.confidence
    m.source = item.source
    m.note = item.note
    m.collected_on = item.collected_on


def _where(loc: Loc) -> str:
    return " ".join(str(p) for p in loc)
