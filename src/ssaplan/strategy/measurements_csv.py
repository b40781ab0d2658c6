"""Reading measurements from CSV, every cell checked, all or nothing.

Columns (any order, header names case-insensitive)::

    strategy, indicator, period, value, quality, confidence        (required)
    disaggregation, source, note, collected_on                     (optional)

``strategy`` is the strategy's id (``KEN-2026-2030``), ``indicator`` the indicator's code
within it (``1.a``); ``period`` a period label (``FY2026``, ``FY2026-Q3``);
``disaggregation`` the breakdown as ``name=value`` pairs separated by ``;``
(``sex=female;region=Coast``; empty for the total); ``quality`` A-D; ``confidence``
high, medium or low; ``collected_on`` ``YYYY-MM-DD``.

This module only reads the file: each problem is a
:class:`~ssaplan.core.errors.Detail` located as ``(file, "line N", column)``, all raised
at once as :class:`~ssaplan.core.errors.Invalid`. Whether each indicator and period is
known is the service's check (it knows the strategies).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date

from ssaplan.core.errors import Detail, Invalid

REQUIRED = ("strategy", "indicator", "period", "value", "quality", "confidence")
OPTIONAL = ("disaggregation", "source", "note", "collected_on")
MAX_BYTES = 20_000_000
MAX_ROWS = 100_000
MAX_DETAILS = 200
QUALITY = ("A", "B", "C", "D")
CONFIDENCE = ("high", "medium", "low")


@dataclass(frozen=True)
class Row:
    """One data row as read (line is the physical line of the file, header = 1)."""

    line: int
    strategy: str
    indicator: str
    period: str
    value: float
    quality: str
    confidence: str
    disaggregation: dict[str, str] = field(default_factory=dict)
    source: str = ""
    note: str = ""
    collected_on: date | None = None


def parse_breakdown(text: str) -> dict[str, str]:
    """``sex=female;region=Coast`` as a dict; ``ValueError`` saying what is wrong."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"{part!r} is not name=value (e.g. sex=female;region=Coast)")
        if name in out:
            raise ValueError(f"{name!r} is given twice")
        out[name] = value
    return out


def read_measurements(data: bytes | str, file: str) -> list[Row]:
    """Every row of a measurements file, or :class:`Invalid` listing every bad cell."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise Invalid(
                f"{file} is larger than {MAX_BYTES // 1_000_000} MB; split it",
                [Detail((file,), "too large")],
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(
                f"{file} is not UTF-8 text",
                [Detail((file, f"byte {exc.start}"), "save the file as UTF-8 CSV")],
            ) from exc
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid(f"{file} is empty", [Detail((file, "line 1"), "no header row")]) from None
    names = [h.strip().lower() for h in header]
    problems: list[Detail] = []
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        problems.append(Detail((file, "line 1"), f"missing column(s): {', '.join(missing)}"))
    for n, name in enumerate(names):
        if name not in REQUIRED + OPTIONAL:
            problems.append(
                Detail(
                    (file, "line 1", name or f"column {n + 1}"),
                    f"unknown column; the columns are {', '.join(REQUIRED + OPTIONAL)}",
                )
            )
        elif names.index(name) != n:
            problems.append(Detail((file, "line 1", name), "column appears twice"))
    if problems:
        raise Invalid(f"{file}: the header is not a measurements header", problems)
    col = {name: names.index(name) for name in names}
    rows: list[Row] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(Detail((file, f"line {line}"), f"more than {MAX_ROWS} rows; split it"))
            break
        if len(record) != len(names):
            problems.append(
                Detail(
                    (file, f"line {line}"),
                    f"{len(record)} cells where the header has {len(names)}",
                )
            )
            continue

        def cell(name: str, record: list[str] = record) -> str:
            return record[col[name]].strip() if name in col else ""

        def bad(column: str, message: str, line: int = line) -> None:
            problems.append(Detail((file, f"line {line}", column), message))

        for name in ("strategy", "indicator", "period"):
            if not cell(name):
                bad(name, "empty")
        value = math.nan
        try:
            value = float(cell("value").replace(",", ""))
            if not math.isfinite(value) or abs(value) > 1e12:
                raise ValueError
        except ValueError:
            bad("value", f"{cell('value')!r} is not a number")
        quality = cell("quality").upper()
        if quality not in QUALITY:
            bad("quality", f"{cell('quality')!r}: grade A, B, C or D")
        confidence = cell("confidence").lower()
        if confidence not in CONFIDENCE:
            bad("confidence", f"{cell('confidence')!r}: high, medium or low")
        breakdown: dict[str, str] = {}
        try:
            breakdown = parse_breakdown(cell("disaggregation"))
        except ValueError as exc:
            bad("disaggregation", str(exc))
        collected: date | None = None
        if cell("collected_on"):
            try:
                collected = date.fromisoformat(cell("collected_on"))
            except ValueError:
                bad("collected_on", f"{cell('collected_on')!r} is not a date (YYYY-MM-DD)")
        for name, limit in (("source", 300), ("note", 4000)):
            if len(cell(name)) > limit:
                bad(name, f"longer than {limit} characters")
        if len(problems) >= MAX_DETAILS:
            break
        rows.append(
            Row(
                line=line,
                strategy=cell("strategy"),
                indicator=cell("indicator"),
                period=cell("period").upper(),
                value=value,
                quality=quality,
                confidence=confidence,
                disaggregation=breakdown,
                source=cell("source"),
                note=cell("note"),
                collected_on=collected,
            )
        )
    if problems:
        raise Invalid(
            f"{len(problems)} problem(s) in {file}; nothing was imported", problems[:MAX_DETAILS]
        )
    if not rows:
        raise Invalid(f"{file} has no measurements", [Detail((file, "line 2"), "no data rows")])
    return rows
