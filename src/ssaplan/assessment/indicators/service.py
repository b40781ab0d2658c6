"""Storing and reading indicator observations.

An import is all or nothing: if any file has a malformed cell, nothing is written
(unless ``skip_invalid``, which writes the valid cells and lists the skipped ones).
Re-importing updates values in place (key: country, year, measure, source). Each file
leaves one audit record with its fingerprint and counts, in the same transaction.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ssaplan.assessment.indicators.reader import NameIssue, Observation, ParsedFile, Problem
from ssaplan.assessment.models import IndicatorObservation
from ssaplan.core import audit
from ssaplan.core.errors import Invalid, NotFound
from ssaplan.core.permissions import Actor, require
from ssaplan.core.store import utcnow
from ssaplan.reference.catalog import UnknownCode, get_catalog

CHUNK = 5_000


@dataclass
class FileReport:
    """What one file contributed."""

    file: str
    layout: str
    encoding: str
    sha256: str
    rows: int
    observations: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    measures: int = 0
    countries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ImportSummary:
    """The outcome of ``ssaplan import indicators`` (the ``--json`` object)."""

    by_file: list[FileReport] = field(default_factory=list)
    observations: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    measure_names: list[str] = field(default_factory=list)
    countries: int = 0
    unmatched: list[NameIssue] = field(default_factory=list)
    not_countries: list[NameIssue] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": len(self.by_file),
            "observations": self.observations,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "measures": len(self.measure_names),
            "measure_names": self.measure_names,
            "countries": self.countries,
            "unmatched": [u.as_dict() for u in self.unmatched],
            "not_countries": [u.as_dict() for u in self.not_countries],
            "skipped": [s.as_dict() for s in self.skipped],
            "ignored": [s.as_dict() for s in self.ignored],
            "by_file": [f.as_dict() for f in self.by_file],
        }


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


class IndicatorService:
    """Indicator observations as one actor reads and imports them, within one session."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    # -- writes -----------------------------------------------------------------------
    def import_files(
        self, files: Sequence[ParsedFile], *, skip_invalid: bool = False
    ) -> ImportSummary:
        """Write the observations of parsed files; later files win over earlier ones."""
        require(self.actor, "data:import")
        problems = [p for f in files for p in f.problems]
        if problems and not skip_invalid:
            raise Invalid(
                f"{len(problems)} malformed cell(s); nothing was written "
                "(fix the file, or use --skip-invalid to write the valid rows)",
                [p.detail() for p in problems],
            )
        wanted: dict[tuple[str, int, str, str], tuple[Observation, str]] = {}
        for f in files:
            for o in f.observations:
                wanted[o.key] = (o, f.file)
        existing = self._existing({o.source for o, _ in wanted.values()}, {k[2] for k in wanted})
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        outcome: dict[tuple[str, int, str, str], str] = {}
        for key, (o, origin) in wanted.items():
            found = existing.get(key)
            if found is None:
                outcome[key] = "created"
                inserts.append(
                    {
                        "iso3": o.iso3,
                        "year": o.year,
                        "measure": o.measure,
                        "source": o.source,
                        "value": o.value,
                        "std_error": o.std_error,
                        "origin": origin,
                        "imported_at": now,
                    }
                )
            elif _same(found[1], o.value) and _same(found[2], o.std_error):
                outcome[key] = "unchanged"
            else:
                outcome[key] = "updated"
                updates.append(
                    {
                        "id": found[0],
                        "value": o.value,
                        "std_error": o.std_error,
                        "origin": origin,
                        "imported_at": now,
                    }
                )
        for start in range(0, len(inserts), CHUNK):
            self.session.execute(insert(IndicatorObservation), inserts[start : start + CHUNK])
        for start in range(0, len(updates), CHUNK):
            self.session.execute(update(IndicatorObservation), updates[start : start + CHUNK])

        summary = ImportSummary()
        for f in files:
            report = FileReport(f.file, f.layout, f.encoding, f.sha256, f.rows, missing=f.missing)
            for o in f.observations:
                if wanted[o.key][1] != f.file:
                    continue  # a later file in the same run gave this value
                report.observations += 1
                setattr(report, outcome[o.key], getattr(report, outcome[o.key]) + 1)
            report.measures = len(f.measures)
            report.countries = len({o.iso3 for o in f.observations})
            summary.by_file.append(report)
            summary.unmatched += f.unmatched
            summary.not_countries += f.not_countries
            summary.ignored += f.ignored
            if skip_invalid:
                summary.skipped += f.problems
        summary.observations = len(wanted)
        for state in outcome.values():
            setattr(summary, state, getattr(summary, state) + 1)
        summary.measure_names = sorted({k[2] for k in wanted})
        summary.countries = len({k[0] for k in wanted})
        audit.record_many(
            self.session,
            [
                audit.Entry(
                    self.actor.username,
                    "import",
                    "indicator_file",
                    r.file,
                    None,
                    {**r.as_dict(), "skipped": sum(1 for p in summary.skipped if p.file == r.file)},
                    summary=f"{r.layout}: {r.created} created, {r.updated} updated, "
                    f"{r.unchanged} unchanged",
                )
                for r in summary.by_file
            ],
        )
        return summary

    def _existing(
        self, sources: Iterable[str], measures: Iterable[str]
    ) -> dict[tuple[str, int, str, str], tuple[int, float, float | None]]:
        sources, measures = sorted(set(sources)), sorted(set(measures))
        if not sources or not measures:
            return {}
        t = IndicatorObservation
        rows = self.session.execute(
            select(t.iso3, t.year, t.measure, t.source, t.id, t.value, t.std_error).where(
                t.source.in_(sources), t.measure.in_(measures)
            )
        )
        return {(r[0], r[1], r[2], r[3]): (r[4], r[5], r[6]) for r in rows}

    # -- reads ------------------------------------------------------------------------
    def measures(self) -> list[dict[str, Any]]:
        """Every imported measure with its sources, coverage and years."""
        require(self.actor, "read")
        t = IndicatorObservation
        rows = self.session.execute(
            select(
                t.measure,
                t.source,
                func.count(),
                func.count(func.distinct(t.iso3)),
                func.min(t.year),
                func.max(t.year),
            )
            .group_by(t.measure, t.source)
            .order_by(t.measure, t.source)
        )
        return [
            {
                "measure": m,
                "source": s,
                "observations": n,
                "countries": c,
                "first_year": lo,
                "last_year": hi,
            }
            for m, s, n, c, lo, hi in rows
        ]

    def measure_names(self) -> set[str]:
        return set(self.session.execute(select(IndicatorObservation.measure).distinct()).scalars())

    def unknown_measures(self, wanted: Iterable[str]) -> dict[str, list[str]]:
        """Of ``wanted``, those with no observation at all, each with close names."""
        known = self.measure_names()
        out = {}
        for m in wanted:
            if m not in known:
                out[m] = difflib.get_close_matches(m, sorted(known), n=3, cutoff=0.6)
        return out

    def best_year(self, measures: Iterable[str], window: int) -> int | None:
        """The latest year whose window (``year - window .. year``) holds a value of the
        most of ``measures``: files end in different years, and the latest year of the
        newest file alone would leave the others out."""
        t = IndicatorObservation
        pairs = self.session.execute(
            select(t.measure, t.year).where(t.measure.in_(sorted(set(measures)))).distinct()
        ).all()
        years_of: dict[str, set[int]] = {}
        for measure, year in pairs:
            years_of.setdefault(measure, set()).add(year)
        if not years_of:
            return None
        candidates = sorted({y for ys in years_of.values() for y in ys})
        best: tuple[int, int] | None = None
        for y in candidates:
            covered = sum(1 for ys in years_of.values() if any(y - window <= v <= y for v in ys))
            if best is None or (covered, y) > best:
                best = (covered, y)
        return best[1] if best else None

    def observations(
        self, measures: Iterable[str], first_year: int, last_year: int
    ) -> list[tuple[str, int, str, str, float, Any]]:
        """(iso3, year, measure, source, value, imported_at) of the measures in the years."""
        t = IndicatorObservation
        return [
            (r[0], r[1], r[2], r[3], r[4], r[5])
            for r in self.session.execute(
                select(t.iso3, t.year, t.measure, t.source, t.value, t.imported_at)
                .where(
                    t.measure.in_(sorted(set(measures))),
                    t.year >= first_year,
                    t.year <= last_year,
                )
                .order_by(t.id)
            )
        ]

    def country_series(self, code: str) -> list[dict[str, Any]]:
        """Every observation of one country, by measure and year."""
        require(self.actor, "read")
        try:
            iso3 = get_catalog().resolve("country", code)
        except UnknownCode as exc:
            raise NotFound(str(exc)) from exc
        t = IndicatorObservation
        rows = self.session.execute(
            select(t.measure, t.source, t.year, t.value, t.std_error)
            .where(t.iso3 == iso3)
            .order_by(t.measure, t.source, t.year)
        )
        return [
            {"measure": m, "source": s, "year": y, "value": v, "std_error": se}
            for m, s, y, v, se in rows
        ]
