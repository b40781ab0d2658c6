"""Reading the restrictions register from CSV, checking every cell and the file as a whole.

Columns (any order, header names case-insensitive), these eight required::

    country, type, start, end, citation, waiver_accounts, waiver_start, waiver_end

and three optional ones, which the export (:func:`write_restrictions`) always writes::

    waiver_citation, marking, releasable_to

One row is one restriction, or one waiver of it: rows repeating the same country,
type, start and end (and citation, marking and releasable-to list) are one restriction
with several waivers. ``end`` empty means open-ended. ``waiver_accounts`` lists account
ids separated by ``|`` or ``;`` (empty: no waiver on that row); ``waiver_end`` empty
means the waiver runs as long as the restriction. Dates are ``YYYY-MM-DD`` and
inclusive. ``marking`` (a code or name) and ``releasable_to`` (partner and organization
codes separated by ``;``) are read as text here; the service checks them against the
catalog and the importer's ceiling (docs/markings.md), as the programs CSV's are. A last
row whose first cell starts with ``# `` (what an export withheld) is skipped.

All or nothing: every problem is collected and raised at once as
:class:`~ssaplan.core.errors.Invalid`, each ``Detail`` located as
``(file, "line N", column)``, and no restriction is returned. A waiver reaching
outside its restriction's period is a **warning** (the engine only ever uses the
days the restriction is in force); a waiver entirely outside it is an error.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from ssaplan.compliance.inputs import Restriction, Waiver, overlap
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.limits import csv_rows

COLUMNS = (
    "country",
    "type",
    "start",
    "end",
    "citation",
    "waiver_accounts",
    "waiver_start",
    "waiver_end",
)
OPTIONAL_COLUMNS = ("waiver_citation", "marking", "releasable_to")
EXPORT_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
# A trailing row whose first cell starts with this says what the export withheld; the
# importer skips it (the programs CSV's convention).
NOTE_PREFIX = "# "
# A text cell a spreadsheet would run as a formula gets a leading ``'`` on export and
# loses it on import (the programs CSV's guard; compliance does not import ingest).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 5_000_000
MAX_ROWS = 20_000
MAX_LINE_CHARS = 4_000
MAX_DETAILS = 200

_ISO3 = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPLIT = re.compile(r"[|;]")

CountryResolver = Callable[[str], str]


def iso3_only(value: str) -> str:
    """The default country resolver: accept a 3-letter upper-case ISO code, nothing else."""
    if _ISO3.match(value):
        return value
    raise ValueError(
        f"{value!r} is not a 3-letter upper-case ISO 3166 code (e.g. MLI); "
        "country names are accepted only when the importer is given a resolver"
    )


@dataclass(frozen=True)
class Marks:
    """A restriction's ``marking`` and ``releasable_to`` cells as the file gives them:
    ``None`` when the file has no such column (and, for ``marking``, when the cell is
    empty); ``releasable_to`` an empty tuple for an empty cell (no list)."""

    marking: str | None = None
    releasable_to: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RestrictionsFile:
    """What a valid file holds: its restrictions, and warnings that did not stop it.

    ``lines[i]`` is the line of the first row of ``restrictions[i]`` (for messages that
    point back into the file); ``marks[i]`` its marking cells, unchecked.
    """

    restrictions: tuple[Restriction, ...]
    warnings: tuple[Detail, ...]
    rows: int
    lines: tuple[int, ...] = ()
    marks: tuple[Marks, ...] = ()


@dataclass
class _Row:
    line: int
    country: str
    type: str
    start: date
    end: date | None
    citation: str
    waiver: Waiver | None
    marks: Marks = Marks()


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list[Detail] = []
        self.warnings: list[Detail] = []

    def error(self, line: int | None, column: str | None, msg: str) -> None:
        self.errors.append(Detail(self._loc(line, column), msg))

    def warn(self, line: int | None, column: str | None, msg: str) -> None:
        self.warnings.append(Detail(self._loc(line, column), msg))

    def _loc(self, line: int | None, column: str | None) -> tuple[str, ...]:
        loc = [self.name]
        if line is not None:
            loc.append(f"line {line}")
        if column:
            loc.append(column)
        return tuple(loc)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        n = len(self.errors)
        shown = self.errors[:MAX_DETAILS]
        more = f" (the first {MAX_DETAILS} are listed)" if n > MAX_DETAILS else ""
        raise Invalid(
            f"{self.name}: {n} problem{'s' if n != 1 else ''}; no restriction was imported{more}",
            shown,
        )


def read_restrictions(
    source: Path | bytes | str,
    *,
    known_accounts: Collection[str],
    known_types: Collection[str],
    name: str | None = None,
    resolve_country: CountryResolver = iso3_only,
) -> RestrictionsFile:
    """Read a restrictions CSV (a path, or its bytes or text).

    ``known_accounts`` and ``known_types`` are the account ids and restriction type
    ids waivers and rows may name (the reference catalog's accounts; the rule set's
    types). ``resolve_country`` turns a cell into an ISO3 code or raises
    ``ValueError``/``LookupError`` (give the catalog's ``resolve`` to accept names).
    """
    if isinstance(source, Path):
        name = name or source.name
        problems = _Problems(name)
        size = source.stat().st_size
        if size > MAX_BYTES:
            problems.error(None, None, f"the file has {size} bytes; the limit is {MAX_BYTES}")
            problems.raise_if_any()
        raw: bytes | str = source.read_bytes()
    else:
        name = name or "restrictions.csv"
        raw = source
    problems = _Problems(name)
    text = _decode(raw, problems)
    problems.raise_if_any()
    rows = _read_rows(
        text, problems, frozenset(known_accounts), frozenset(known_types), resolve_country
    )
    problems.raise_if_any()
    assembled = _assemble(rows, problems)
    problems.raise_if_any()
    return RestrictionsFile(
        tuple(r for r, _, _ in assembled),
        tuple(problems.warnings),
        len(rows),
        tuple(line for _, line, _ in assembled),
        tuple(marks for _, _, marks in assembled),
    )


def _decode(raw: bytes | str, problems: _Problems) -> str:
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > MAX_BYTES:
        problems.error(None, None, f"the file has {size} bytes; the limit is {MAX_BYTES}")
        return ""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            problems.error(line, None, "the file is not UTF-8: save it as CSV UTF-8")
            return ""
    else:
        text = raw.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        problems.error(line, None, "the file contains a NUL byte: is it really a CSV file?")
        return ""
    for number, line_text in enumerate(text.splitlines(), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            problems.error(
                number,
                None,
                f"the line has {len(line_text)} characters; the limit is {MAX_LINE_CHARS}",
            )
    return text


def _parse_date(
    value: str, line: int, column: str, problems: _Problems, *, required: bool
) -> date | None:
    if not value:
        if required:
            problems.error(line, column, "a date is required (YYYY-MM-DD)")
        return None
    if not _DATE.match(value):
        problems.error(line, column, f"{value!r} is not a date written YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.error(line, column, f"{value!r} is not a real calendar date")
        return None


def _header(cells: list[str], problems: _Problems) -> list[str] | None:
    names = [c.strip().lower() for c in cells]
    ok = True
    for index, cell in enumerate(names):
        if cell not in EXPORT_COLUMNS:
            problems.error(
                1,
                cell or f"column {index + 1}",
                f"unknown column; the columns are: {', '.join(COLUMNS)} (required) and "
                f"{', '.join(OPTIONAL_COLUMNS)} (optional)",
            )
            ok = False
        elif names.index(cell) != index:
            problems.error(1, cell, "column given twice")
            ok = False
    for column in COLUMNS:
        if column not in names:
            problems.error(1, column, "column missing")
            ok = False
    return names if ok else None


def _read_rows(
    text: str,
    problems: _Problems,
    accounts: frozenset[str],
    types: frozenset[str],
    resolve_country: CountryResolver,
) -> list[_Row]:
    # Line length and width are bounded before any cell is looked at (issue 10).
    reader = csv_rows(text, problems.name, strict=True)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        problems.error(1, None, f"cannot read the CSV header: {exc}")
        return []
    if not first or not any(c.strip() for c in first):
        problems.error(1, None, "the file is empty: the first line must be the header")
        return []
    columns = _header(first, problems)
    if columns is None:
        return []
    rows: list[_Row] = []
    previous_end = reader.line_num
    data_rows = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.error(previous_end + 1, None, f"malformed CSV: {exc}")
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if values[0].startswith(NOTE_PREFIX) and not any(v.strip() for v in values[1:]):
            continue  # an export's note (what it withheld), not a restriction
        data_rows += 1
        if data_rows > MAX_ROWS:
            problems.error(line, None, f"more than {MAX_ROWS} rows: split the file")
            break
        if len(values) != len(columns):
            problems.error(
                line,
                None,
                f"{len(values)} cells but the header has {len(columns)}: quote cells that "
                "contain commas",
            )
            continue
        cells = {c: unguard_formula(v.strip()) for c, v in zip(columns, values, strict=True)}
        row = _row(line, cells, problems, accounts, types, resolve_country)
        if row is not None:
            rows.append(row)
    return rows


def _row(
    line: int,
    cells: dict[str, str],
    problems: _Problems,
    accounts: frozenset[str],
    types: frozenset[str],
    resolve_country: CountryResolver,
) -> _Row | None:
    before = len(problems.errors)
    country = ""
    if not cells["country"]:
        problems.error(line, "country", "a country is required")
    else:
        try:
            country = resolve_country(cells["country"])
        except (ValueError, LookupError) as exc:
            problems.error(line, "country", str(exc))
        else:
            if not _ISO3.match(country):
                problems.error(
                    line, "country", f"the resolver returned {country!r}, not an ISO3 code"
                )
    rtype = cells["type"]
    if not rtype:
        problems.error(line, "type", "a restriction type is required")
    elif rtype not in types:
        hint = " (Leahy vetting is per unit, not a country restriction)" if rtype == "leahy" else ""
        problems.error(
            line,
            "type",
            f"unknown restriction type {rtype!r}{hint}; known: {', '.join(sorted(types))}",
        )
    start = _parse_date(cells["start"], line, "start", problems, required=True)
    end = _parse_date(cells["end"], line, "end", problems, required=False)
    if start and end and end < start:
        problems.error(line, "end", f"the restriction ends ({end}) before it starts ({start})")
    citation = cells["citation"]
    if not citation:
        problems.error(line, "citation", "a legal citation or determination is required")

    waiver = None
    waiver_citation = cells.get("waiver_citation", "")
    listed = [a.strip() for a in _SPLIT.split(cells["waiver_accounts"]) if a.strip()]
    w_start = _parse_date(
        cells["waiver_start"], line, "waiver_start", problems, required=bool(listed)
    )
    w_end = _parse_date(cells["waiver_end"], line, "waiver_end", problems, required=False)
    if not listed and (cells["waiver_start"] or cells["waiver_end"] or waiver_citation):
        problems.error(
            line, "waiver_accounts", "waiver dates or a citation are given but no waiver accounts"
        )
    seen: set[str] = set()
    for account in listed:
        if account not in accounts:
            problems.error(line, "waiver_accounts", f"waiver for unknown account {account!r}")
        elif account in seen:
            problems.error(line, "waiver_accounts", f"{account} is listed twice")
        seen.add(account)
    if w_start and w_end and w_end < w_start:
        problems.error(
            line, "waiver_end", f"the waiver ends ({w_end}) before it starts ({w_start})"
        )
    if len(problems.errors) > before or start is None:
        return None
    if listed and w_start:
        waiver = Waiver(frozenset(listed), w_start, w_end, waiver_citation)
        if (end is not None and w_start > end) or (w_end is not None and w_end < start):
            problems.error(
                line,
                "waiver_start",
                f"the waiver ({w_start} to {w_end or 'open-ended'}) lies entirely outside the "
                f"restriction ({start} to {end or 'open-ended'})",
            )
            return None
        if w_start < start or (end is not None and (w_end is None or w_end > end)):
            problems.warn(
                line,
                "waiver_start" if w_start < start else "waiver_end",
                "the waiver reaches outside the restriction's period; only the days the "
                "restriction is in force count",
            )
    return _Row(line, country, rtype, start, end, citation, waiver, _marks(cells))


def _marks(cells: dict[str, str]) -> Marks:
    marking = cells.get("marking") or None
    listed = cells.get("releasable_to")
    codes = None if listed is None else tuple(c.strip() for c in _SPLIT.split(listed) if c.strip())
    return Marks(marking, codes)


def _same_marks(a: Marks, b: Marks) -> tuple[bool, bool]:
    """Whether two rows' marking and releasable-to cells agree (case and order aside)."""
    marking = (a.marking or "").upper() == (b.marking or "").upper()
    rel = {c.upper() for c in a.releasable_to or ()} == {c.upper() for c in b.releasable_to or ()}
    return marking, rel and (a.releasable_to is None) == (b.releasable_to is None)


def _assemble(rows: list[_Row], problems: _Problems) -> list[tuple[Restriction, int, Marks]]:
    groups: dict[tuple[str, str, date, date | None], list[_Row]] = {}
    for row in rows:
        groups.setdefault((row.country, row.type, row.start, row.end), []).append(row)

    restrictions: list[Restriction] = []
    for (country, rtype, start, end), members in groups.items():
        first = members[0]
        seen_waivers: dict[Waiver | None, int] = {}
        for row in members:
            if row.citation != first.citation:
                problems.error(
                    row.line,
                    "citation",
                    f"contradicts line {first.line}: the same {rtype} restriction on {country} "
                    f"({start} to {end or 'open-ended'}) with a different citation",
                )
            same_marking, same_list = _same_marks(row.marks, first.marks)
            for column, same in (("marking", same_marking), ("releasable_to", same_list)):
                if not same:
                    problems.error(
                        row.line,
                        column,
                        f"contradicts line {first.line}: the same {rtype} restriction on "
                        f"{country} ({start} to {end or 'open-ended'}) with a different "
                        f"{column.replace('_', '-')}",
                    )
            if row.waiver in seen_waivers:
                problems.error(row.line, None, f"repeats line {seen_waivers[row.waiver]}")
            seen_waivers.setdefault(row.waiver, row.line)
        restrictions.append(
            Restriction(
                country,
                rtype,
                start,
                end,
                first.citation,
                f"{problems.name}, line {first.line}",
                tuple(r.waiver for r in members if r.waiver is not None),
            )
        )

    # Distinct periods of one country and type must not overlap.
    by_kind: dict[tuple[str, str], list[tuple[Restriction, int]]] = {}
    for restriction, (_, members) in zip(restrictions, groups.items(), strict=True):
        by_kind.setdefault((restriction.country, restriction.type), []).append(
            (restriction, members[0].line)
        )
    for (country, rtype), items in by_kind.items():
        items.sort(key=lambda item: (item[0].start, item[1]))
        latest: tuple[Restriction, int] | None = None
        for restriction, line in items:
            if latest is not None:
                earlier, earlier_line = latest
                if overlap(
                    restriction.start, restriction.end, earlier.start, earlier.end or date.max
                ):
                    problems.error(
                        line,
                        "start",
                        f"overlaps the {rtype} restriction on {country} of line {earlier_line} "
                        f"({earlier.start} to {earlier.end or 'open-ended'}): one period per "
                        "row group, end the first before the next starts",
                    )
            if latest is None or _later_end(restriction.end, latest[0].end):
                latest = (restriction, line)
    firsts = [members[0] for members in groups.values()]
    out = [(r, row.line, row.marks) for r, row in zip(restrictions, firsts, strict=True)]
    out.sort(key=lambda item: (item[0].country, item[0].type, item[0].start))
    return out


def _later_end(a: date | None, b: date | None) -> bool:
    if a is None:
        return b is not None
    return b is not None and a > b


# -- writing ------------------------------------------------------------------------
def guard_formula(value: str) -> str:
    """A text cell that a spreadsheet would run as a formula, made inert with ``'``."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def unguard_formula(value: str) -> str:
    """Undo :func:`guard_formula` (so a round trip changes nothing)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def write_restrictions(
    rows: Iterable[dict[str, str]], out: IO[str], note: str | None = None
) -> int:
    """Write restriction rows (cells by :data:`EXPORT_COLUMNS`; one per restriction
    without waivers, else one per waiver) as CSV with a header; return the number of
    rows. ``note`` (what the export withheld) becomes a last ``# ...`` row, which
    :func:`read_restrictions` skips."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([guard_formula(row.get(c, "")) for c in EXPORT_COLUMNS])
        count += 1
    if note:
        writer.writerow([NOTE_PREFIX + note] + [""] * (len(EXPORT_COLUMNS) - 1))
    return count
