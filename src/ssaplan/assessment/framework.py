"""Frameworks as data: which measures make up which constructs, their direction and weights.

A framework is a table with exactly the columns ``measure, construct, direction,
measure_weight, construct_weight`` (one row per measure; ``direction`` is ``+1`` when
higher is better and ``-1`` when lower is better). Measure names say where values
come from:

- ``portfolio: ...`` measures are computed from the shared portfolio (see
  :data:`PORTFOLIO_MEASURES`);
- ``judgment: ...`` measures are entered by assessors, each with a written rationale;
- every other name is an imported indicator, matched by name (``WGI rule of law``).

Parsing checks everything at once and names the file, line and column of each problem.
Pure: no database, no HTTP.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ssaplan.core.errors import Detail, Invalid

COLUMNS = ("measure", "construct", "direction", "measure_weight", "construct_weight")
JUDGMENT_PREFIX = "judgment:"
PORTFOLIO_PREFIX = "portfolio:"
SHIPPED_PATH = Path(__file__).parent / "data" / "default_framework.csv"
DEFAULT_NAME = "default"

# Measures computed from the portfolio's budget lines (see ssaplan.assessment.derived).
PORTFOLIO_MEASURES = (
    "portfolio: consecutive funded years",
    "portfolio: obligation rate",
    "portfolio: disbursement rate",
    "portfolio: planned amount variability",
)

MeasureKind = Literal["indicator", "portfolio", "judgment"]


def measure_kind(measure: str) -> MeasureKind:
    """Where a measure's values come from, by its name."""
    lowered = measure.strip().lower()
    if lowered.startswith(JUDGMENT_PREFIX):
        return "judgment"
    if lowered.startswith(PORTFOLIO_PREFIX):
        return "portfolio"
    return "indicator"


@dataclass(frozen=True)
class FrameworkRow:
    """One measure of a framework: its construct, direction and weights."""

    measure: str
    construct: str
    direction: int
    measure_weight: float
    construct_weight: float

    @property
    def kind(self) -> MeasureKind:
        return measure_kind(self.measure)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "construct": self.construct,
            "direction": self.direction,
            "measure_weight": self.measure_weight,
            "construct_weight": self.construct_weight,
        }


@dataclass(frozen=True)
class Framework:
    """A validated framework, by name and version (``version`` 0 is the shipped default;
    ``None`` a file that was never saved)."""

    name: str
    version: int | None
    rows: tuple[FrameworkRow, ...]

    @property
    def label(self) -> str:
        if self.version is None:
            return f"{self.name} (file)"
        return f"{self.name}@{self.version}"

    @cached_property
    def constructs(self) -> tuple[str, ...]:
        """Construct names in order of first appearance."""
        return tuple(dict.fromkeys(r.construct for r in self.rows))

    @cached_property
    def construct_weights(self) -> tuple[float, ...]:
        first: dict[str, float] = {}
        for r in self.rows:
            first.setdefault(r.construct, r.construct_weight)
        return tuple(first[c] for c in self.constructs)

    @cached_property
    def measures(self) -> tuple[str, ...]:
        return tuple(r.measure for r in self.rows)

    def measures_of(self, kind: MeasureKind) -> tuple[str, ...]:
        return tuple(r.measure for r in self.rows if r.kind == kind)

    def to_csv(self) -> str:
        """The framework as CSV with exactly the :data:`COLUMNS`."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.rows:
            writer.writerow(
                [
                    r.measure,
                    r.construct,
                    f"{r.direction:+d}",
                    _num(r.measure_weight),
                    _num(r.construct_weight),
                ]
            )
        return out.getvalue()

    @cached_property
    def sha256(self) -> str:
        """A fingerprint of the content (not the name): equal tables, equal hashes."""
        return hashlib.sha256(self.to_csv().encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "label": self.label,
            "sha256": self.sha256,
            "constructs": [
                {"name": c, "weight": w}
                for c, w in zip(self.constructs, self.construct_weights, strict=True)
            ],
            "rows": [r.as_dict() for r in self.rows],
        }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_framework(
    text: str, *, name: str, version: int | None = None, where: str = "framework.csv"
) -> Framework:
    """Read a framework from CSV text; every problem is reported at once.

    Raises :class:`~ssaplan.core.errors.Invalid` naming the file, line and column.
    """
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise Invalid("invalid framework", [Detail((where,), "the file is empty")])
    columns = [h.strip().lower() for h in header]
    problems: list[Detail] = []
    missing = [c for c in COLUMNS if c not in columns]
    extra = [c for c in columns if c not in COLUMNS]
    if missing or extra:
        msg = f"columns must be exactly {', '.join(COLUMNS)}"
        if missing:
            msg += f"; missing {', '.join(missing)}"
        if extra:
            msg += f"; unexpected {', '.join(repr(e) for e in extra)}"
        raise Invalid("invalid framework", [Detail((where, "line 1"), msg)])
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        line = reader.line_num
        if len(cells) != len(columns):
            problems.append(
                Detail((where, f"line {line}"), f"{len(cells)} cells, expected {len(columns)}")
            )
            continue
        rows.append((line, {c: v.strip() for c, v in zip(columns, cells, strict=True)}))
    return _validate(rows, name=name, version=version, where=where, problems=problems)


def framework_from_rows(
    rows: Sequence[Mapping[str, Any]], *, name: str, version: int | None = None
) -> Framework:
    """A framework from row mappings (an API body); same checks as :func:`parse_framework`."""
    problems: list[Detail] = []
    numbered: list[tuple[int, dict[str, str]]] = []
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - set(COLUMNS))
        if unknown:
            problems.append(Detail(("rows", i), f"unexpected fields {', '.join(unknown)}"))
        numbered.append((i, {c: "" if row.get(c) is None else str(row.get(c)) for c in COLUMNS}))
    return _validate(
        numbered, name=name, version=version, where="rows", problems=problems, by_index=True
    )


def _validate(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    name: str,
    version: int | None,
    where: str,
    problems: list[Detail],
    by_index: bool = False,
) -> Framework:
    def loc(n: int, column: str) -> tuple[str | int, ...]:
        return (where, n, column) if by_index else (where, f"line {n}", column)

    def at(n: int) -> str:
        return f"row {n}" if by_index else f"line {n}"

    out: list[FrameworkRow] = []
    seen: dict[str, int] = {}
    construct_weight: dict[str, tuple[float, int]] = {}
    constructs_without_measure: dict[str, int] = {}
    for n, row in rows:
        measure, construct = " ".join(row["measure"].split()), " ".join(row["construct"].split())
        if not construct:
            problems.append(Detail(loc(n, "construct"), "is empty"))
        if not measure:
            if construct:
                constructs_without_measure.setdefault(construct, n)
            else:
                problems.append(Detail(loc(n, "measure"), "is empty"))
            continue
        if measure.lower() in seen:
            problems.append(
                Detail(
                    loc(n, "measure"),
                    f"{measure!r} is listed twice (also on {at(seen[measure.lower()])})",
                )
            )
        seen.setdefault(measure.lower(), n)
        if measure_kind(measure) == "portfolio" and measure.lower() not in PORTFOLIO_MEASURES:
            problems.append(
                Detail(
                    loc(n, "measure"),
                    f"unknown portfolio measure {measure!r}: use one of "
                    + ", ".join(PORTFOLIO_MEASURES),
                )
            )
        direction = row["direction"].replace(" ", "")
        if direction not in ("1", "+1", "-1", "1.0", "+1.0", "-1.0"):
            problems.append(
                Detail(
                    loc(n, "direction"),
                    f"{row['direction']!r}: use +1 (higher is better) or -1 (lower is better)",
                )
            )
        weights: dict[str, float] = {}
        for column in ("measure_weight", "construct_weight"):
            value = _number(row[column])
            if value is None:
                problems.append(Detail(loc(n, column), f"{row[column]!r} is not a number"))
            elif value < 0:
                problems.append(Detail(loc(n, column), f"{value:g} is negative"))
            else:
                weights[column] = value
        if len(weights) < 2 or not construct:
            continue
        known = construct_weight.get(construct)
        if known is not None and known[0] != weights["construct_weight"]:
            problems.append(
                Detail(
                    loc(n, "construct_weight"),
                    f"construct {construct!r} has weight {weights['construct_weight']:g} here "
                    f"but {known[0]:g} on {at(known[1])}",
                )
            )
        construct_weight.setdefault(construct, (weights["construct_weight"], n))
        out.append(
            FrameworkRow(
                measure,
                construct,
                -1 if direction.startswith("-") else 1,
                weights["measure_weight"],
                weights["construct_weight"],
            )
        )
    for construct, n in constructs_without_measure.items():
        if construct not in construct_weight:
            problems.append(Detail(loc(n, "measure"), f"construct {construct!r} has no measure"))
    if not problems:
        if not out:
            problems.append(Detail((where,), "the framework has no measures"))
        by_construct: dict[str, list[float]] = {}
        for r in out:
            by_construct.setdefault(r.construct, []).append(r.measure_weight)
        for construct, ws in by_construct.items():
            if not any(w > 0 for w in ws):
                problems.append(
                    Detail((where, construct), "all measure weights of this construct are zero")
                )
        if out and not any(w > 0 for w, _ in construct_weight.values()):
            problems.append(Detail((where,), "all construct weights are zero"))
    if problems:
        raise Invalid("invalid framework", problems)
    return Framework(name, version, tuple(out))


def load_shipped() -> Framework:
    """The default framework that ships with ssaplan (version 0 of ``default``)."""
    return parse_framework(
        SHIPPED_PATH.read_text(encoding="utf-8"),
        name=DEFAULT_NAME,
        version=0,
        where=SHIPPED_PATH.name,
    )
