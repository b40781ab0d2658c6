"""Reading one indicator file into observations, checking every cell.

Nothing here writes: the result lists the observations, the cells that are malformed
(file, line, column, reason), the names that matched no country, the rows that are
not countries (aggregates, former states) and the cells a source uses for something
other than one value. The service decides what to write (all or nothing, or the valid
rows with ``--skip-invalid``).
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssaplan.assessment.indicators.countries import CountryMatcher, default_matcher
from ssaplan.assessment.indicators.layouts import (
    TIDY,
    Layout,
    clean_header,
    describe_layouts,
    detect_layout,
)
from ssaplan.core.errors import BadRequest, Detail
from ssaplan.core.limits import csv_rows

MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_NAME = 200
_YEAR = re.compile(r"^(\d{4})(?:-\d{2}-\d{2})?(?:\.0+)?$")


@dataclass(frozen=True)
class Observation:
    """One value read from a file, already matched to a country."""

    iso3: str
    year: int
    measure: str
    source: str
    value: float
    std_error: float | None
    line: int

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.iso3, self.year, self.measure, self.source)


@dataclass(frozen=True)
class Problem:
    """A cell that cannot be read, or one that was deliberately not read."""

    file: str
    line: int
    column: str
    reason: str

    def detail(self) -> Detail:
        return Detail((self.file, f"line {self.line}", self.column), self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class NameIssue:
    """A country name or code that gave no country: where first seen and how often."""

    file: str
    row: int
    name: str
    rows: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "name": self.name,
            "rows": self.rows,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParsedFile:
    """Everything read from one file."""

    file: str
    sha256: str
    layout: str
    encoding: str
    rows: int
    observations: tuple[Observation, ...]
    missing: int
    problems: tuple[Problem, ...]
    ignored: tuple[Problem, ...]
    unmatched: tuple[NameIssue, ...]
    not_countries: tuple[NameIssue, ...]

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(sorted({o.measure for o in self.observations}))


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a file: UTF-8 (with or without BOM), else Windows-1252 (the World
    Bank's WGI file is in that encoding)."""
    if b"\x00" in data[:4096]:
        raise BadRequest(f"{name}: this is a binary file, not CSV text")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadRequest(
            f"{name} line {line}: cannot decode the file as UTF-8 or Windows-1252"
        ) from exc


def _shown(text: str, limit: int = 60) -> str:
    """A cell quoted in a problem, cut short (a cell may hold 100,000 characters)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class _Reader:
    file: str
    layout: Layout
    matcher: CountryMatcher
    default_source: str
    observations: dict[tuple[str, int, str, str], Observation] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)
    missing: int = 0
    names: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def problem(self, line: int, column: str, reason: str) -> None:
        self.problems.append(Problem(self.file, line, column, reason))

    def country(self, line: int, name: str, code: str) -> str | None:
        if not name and not code:
            self.problem(line, self.layout.country or "country", "is empty")
            return None
        found = self.matcher.match(name, code)
        if found.kind == "country":
            return found.iso3
        shown = f"{name} ({code})" if name and code else name or code
        seen = self.names.get((shown, found.kind))
        if seen is None:
            self.names[(shown, found.kind)] = [line, 1, found.note]
        else:
            seen[1] += 1
        return None

    def year(self, line: int, column: str, text: str) -> int | None:
        m = _YEAR.match(text.strip())
        if not m:
            reason = "is empty" if not text.strip() else f"{_shown(text.strip())} is not a year"
            self.problem(line, column, reason)
            return None
        year = int(m.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            self.problem(line, column, f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
            return None
        return year

    def add(
        self,
        line: int,
        column: str,
        iso3: str,
        year: int,
        measure: str,
        source: str,
        text: str,
        se_text: str | None = None,
        required: bool = False,
    ) -> None:
        text = text.strip()
        if text in self.layout.missing and not required:
            self.missing += 1
            return
        for pattern in self.layout.ignore_patterns:
            if pattern.match(text):
                reason = f"{_shown(text)} is not a single value; not read"
                self.ignored.append(Problem(self.file, line, column, reason))
                return
        value = _number(text)
        if value is None:
            self.problem(line, column, f"{_shown(text)} is not a number" if text else "is empty")
            return
        bounds = self.layout.value_range(measure)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.problem(
                line,
                column,
                f"{value:g} is outside the published range {bounds[0]:g} to {bounds[1]:g} "
                f"of {measure!r}",
            )
            return
        std_error: float | None = None
        if se_text is not None and se_text.strip() not in self.layout.missing:
            std_error = _number(se_text.strip())
            if std_error is None or std_error < 0:
                shown = _shown(se_text.strip())
                self.problem(line, "std_error", f"{shown} is not a standard error")
                return
        obs = Observation(iso3, year, measure, source, value, std_error, line)
        before = self.observations.get(obs.key)
        if before is not None and before.value != value:
            self.problem(
                line,
                column,
                f"{iso3} {year} {measure!r} was already given on line {before.line} "
                f"with another value ({before.value:g} there, {value:g} here)",
            )
            return
        self.observations.setdefault(obs.key, obs)

    def issues(self, kinds: Sequence[str]) -> tuple[NameIssue, ...]:
        return tuple(
            NameIssue(self.file, first, name, rows, note)
            for (name, kind), (first, rows, note) in sorted(
                self.names.items(), key=lambda kv: kv[1][0]
            )
            if kind in kinds
        )


def parse_indicator_bytes(
    data: bytes,
    name: str,
    *,
    default_source: str | None = None,
    matcher: CountryMatcher | None = None,
) -> ParsedFile:
    """Read an indicator file's bytes. Whole-file problems (binary, empty, unknown
    header) raise :class:`BadRequest`; cell problems are collected in the result."""
    text, encoding = decode(data, name)
    sample = text[:4096]
    first_line = sample.splitlines()[0] if sample.strip() else ""
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else ";" if ";" in first_line else ","
    reader = csv_rows(text, name, delimiter=delimiter)  # bounded lines and width (issue 10)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BadRequest(f"{name} line 1: {exc}") from exc
    if header is None or not any(h.strip() for h in header):
        raise BadRequest(f"{name}: the file is empty")
    layout = detect_layout(header)
    if layout is None:
        raise BadRequest(
            f"{name}: unknown indicator layout (header {', '.join(h.strip() for h in header[:8])}"
            f"{', ...' if len(header) > 8 else ''}); known layouts: {describe_layouts()}",
            [Detail((name, "line 1"), "the header matches no known layout")],
        )
    cells = [clean_header(h) for h in header]
    if layout is TIDY:
        cells = [c.lower() for c in cells]
    col: dict[str, int] = {}
    for i, c in enumerate(cells):
        col.setdefault(c, i)
    source = layout.source or default_source or f"file {name}"
    r = _Reader(name, layout, matcher or default_matcher(), source)
    rows = 0
    try:
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            rows += 1
            if len(row) != len(cells):
                r.problem(line, "row", f"{len(row)} cells, expected {len(cells)}")
                continue
            _read_row(r, layout, col, cells, row, line)
    except csv.Error as exc:
        raise BadRequest(f"{name} line {reader.line_num}: {exc}") from exc
    return ParsedFile(
        file=name,
        sha256=hashlib.sha256(data).hexdigest(),
        layout=layout.id,
        encoding=encoding,
        rows=rows,
        observations=tuple(r.observations.values()),
        missing=r.missing,
        problems=tuple(r.problems),
        ignored=tuple(r.ignored),
        unmatched=r.issues(("unmatched",)),
        not_countries=r.issues(("former", "aggregate")),
    )


def _read_row(
    r: _Reader,
    layout: Layout,
    col: dict[str, int],
    cells: list[str],
    row: list[str],
    line: int,
) -> None:
    def cell(name: str | None) -> str:
        return row[col[name]].strip() if name is not None and name in col else ""

    iso3 = r.country(line, cell(layout.country), cell(layout.code))
    if layout is TIDY:
        year = r.year(line, "year", cell("year"))
        measure = " ".join(cell("measure").split())
        source = " ".join(cell("source").split()) or r.default_source
        if not measure:
            r.problem(line, "measure", "is empty")
        elif len(measure) > MAX_NAME:
            r.problem(line, "measure", f"is longer than {MAX_NAME} characters")
        elif len(source) > MAX_NAME:
            r.problem(line, "source", f"is longer than {MAX_NAME} characters")
        elif iso3 is not None and year is not None:
            se = cell("std_error") if "std_error" in col else None
            r.add(line, "value", iso3, year, measure, source, cell("value"), se, required=True)
        return
    if layout.year_columns is not None:
        for i, name in enumerate(cells):
            m = layout.year_columns.match(name)
            if m and iso3 is not None and layout.measure:
                year = r.year(line, name, m.group(1))
                if year is not None:
                    r.add(line, name, iso3, year, layout.measure, r.default_source, row[i])
        return
    year = r.year(line, layout.year or "year", cell(layout.year))
    if iso3 is None or year is None:
        return
    if layout.measure_column:
        code = cell(layout.measure_column)
        if not code:
            r.problem(line, layout.measure_column, "is empty")
            return
        measure = layout.measures.get(code) or f"{layout.source}: {code}"
        se = cell(layout.std_error_column) if layout.std_error_column else None
        r.add(
            line,
            layout.value_column or "value",
            iso3,
            year,
            measure,
            r.default_source,
            cell(layout.value_column),
            se,
        )
        return
    for column, measure in layout.columns.items():
        if column in col:
            r.add(line, column, iso3, year, measure, r.default_source, row[col[column]])


def read_indicator_file(
    path: Path,
    *,
    default_source: str | None = None,
    matcher: CountryMatcher | None = None,
) -> ParsedFile:
    """Read an indicator file from disk (see :func:`parse_indicator_bytes`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_indicator_bytes(data, path.name, default_source=default_source, matcher=matcher)
