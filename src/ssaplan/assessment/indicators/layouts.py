"""The layouts of indicator files, read from ``data/indicator_layouts.toml``.

Besides the public layouts listed there, every file whose header has the columns
``iso3, year, measure, value`` (any case, any order; optional ``source`` and
``std_error``) is read as the *tidy* layout: one observation per row, measure names
free-form.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

LAYOUTS_PATH = Path(__file__).resolve().parents[1] / "data" / "indicator_layouts.toml"
TIDY_COLUMNS = ("iso3", "year", "measure", "value")
TIDY_OPTIONAL = ("source", "std_error")


@dataclass(frozen=True)
class Layout:
    """How to read one kind of indicator file, and the measure names it yields."""

    id: str
    title: str
    source: str
    detect: tuple[str, ...]
    country: str | None = None
    code: str | None = None
    year: str | None = None
    measure_column: str | None = None
    value_column: str | None = None
    std_error_column: str | None = None
    measures: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    year_columns: re.Pattern[str] | None = None
    measure: str | None = None
    missing: frozenset[str] = frozenset({""})
    range: tuple[float, float] | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    ignore_patterns: tuple[re.Pattern[str], ...] = ()

    def value_range(self, measure: str) -> tuple[float, float] | None:
        return self.ranges.get(measure, self.range)

    def measure_names(self) -> tuple[str, ...]:
        names = list(self.measures.values()) + list(self.columns.values())
        if self.measure:
            names.append(self.measure)
        return tuple(dict.fromkeys(names))


TIDY = Layout(
    id="tidy",
    title="tidy CSV: iso3, year, measure, value (+ source, std_error)",
    source="",
    detect=TIDY_COLUMNS,
    country="iso3",
    year="year",
    measure_column="measure",
    value_column="value",
    std_error_column="std_error",
)


def _pair(value: Sequence[Any]) -> tuple[float, float]:
    low, high = value
    return float(low), float(high)


def _layout(raw: Mapping[str, Any]) -> Layout:
    return Layout(
        id=raw["id"],
        title=raw["title"],
        source=raw["source"],
        detect=tuple(raw["detect"]),
        country=raw.get("country"),
        code=raw.get("code"),
        year=raw.get("year"),
        measure_column=raw.get("measure_column"),
        value_column=raw.get("value_column"),
        std_error_column=raw.get("std_error_column"),
        measures=MappingProxyType(dict(raw.get("measures", {}))),
        columns=MappingProxyType(dict(raw.get("columns", {}))),
        year_columns=re.compile(raw["year_columns"]) if raw.get("year_columns") else None,
        measure=raw.get("measure"),
        missing=frozenset(raw.get("missing", [""])),
        range=_pair(raw["range"]) if raw.get("range") else None,
        ranges=MappingProxyType({k: _pair(v) for k, v in raw.get("ranges", {}).items()}),
        ignore_patterns=tuple(re.compile(p) for p in raw.get("ignore_patterns", [])),
    )


@lru_cache(maxsize=1)
def public_layouts(path: Path = LAYOUTS_PATH) -> tuple[Layout, ...]:
    """The layouts of the public sources, in detection order."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return tuple(_layout(raw) for raw in data["layouts"])


def clean_header(cell: str) -> str:
    """Header cells compared with whitespace collapsed (some sources wrap or pad them)."""
    return " ".join(cell.split())


def detect_layout(header: Sequence[str]) -> Layout | None:
    """The layout of a file with this header, or None."""
    cells = {clean_header(c) for c in header}
    lowered = {c.lower() for c in cells}
    if set(TIDY_COLUMNS) <= lowered:
        return TIDY
    for layout in public_layouts():
        if set(layout.detect) <= cells:
            return layout
    return None


def describe_layouts() -> str:
    """One line per known layout, for error messages and docs."""
    lines = [f"tidy ({', '.join(TIDY_COLUMNS)}; optional {', '.join(TIDY_OPTIONAL)})"]
    lines += [f"{lay.id} ({', '.join(lay.detect)})" for lay in public_layouts()]
    return "; ".join(lines)
