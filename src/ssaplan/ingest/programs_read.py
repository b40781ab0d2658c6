"""Reading programs from the planners' workbook or a CSV, and checking every cell.

Pure: a file in, :class:`ProgramCreate` items and every problem out, each named by
file, sheet, row and column (or file, line and column for CSV). See
:mod:`ssaplan.ingest.programs_io` for the layout.
"""

from __future__ import annotations

import difflib
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pydantic

from ssaplan.core.errors import Detail, TooLarge
from ssaplan.core.limits import CellBudget, check_workbook, csv_rows
from ssaplan.core.settings import get_settings
from ssaplan.ingest.programs_io import (
    CODED,
    LINE_COLUMNS,
    LIST_COLUMNS,
    MILESTONE_COLUMNS,
    MILESTONES_SHEET,
    MONEY_COLUMNS,
    NOTE_PREFIX,
    PROGRAM_COLUMNS,
    PROGRAMS_SHEET,
    REQUIRED_CELLS,
    REQUIRED_COLUMNS,
    unguard_formula,
)
from ssaplan.portfolio.models import STATUSES
from ssaplan.portfolio.schemas import MAX_AMOUNT, MAX_FY, MIN_FY, ProgramCreate, ProgramPublic
from ssaplan.portfolio.visibility import audience_code
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode

_SPLIT = re.compile(r"[;|]")
MAX_ROWS = 200_000
# What a damaged .xlsx raises from the zip, deflate and XML layers under openpyxl
# (XML syntax errors are SyntaxErrors; an unsupported zip method is NotImplementedError).
UNREADABLE_WORKBOOK: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    ValueError,
    SyntaxError,
    NotImplementedError,
)


# -- reading ------------------------------------------------------------------------
@dataclass
class Row:
    """One data row: where it came from and its cells by column name."""

    loc: tuple[str, ...]
    cells: dict[str, Any]


@dataclass
class ProgramTable:
    """What a file holds: program rows, milestone rows, the columns present."""

    rows: list[Row]
    milestones: list[Row]
    columns: tuple[str, ...]
    problems: list[Detail] = field(default_factory=list)
    has_milestones: bool = False


def read_table(path: Path, name: str) -> ProgramTable:
    """Read a ``.xlsx`` workbook or a ``.csv`` file of programs (not yet validated)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, name)
    if suffix in (".csv", ".txt"):
        return _read_csv(path, name)
    return ProgramTable(
        [],
        [],
        (),
        [Detail((name,), "unknown file type: give a .xlsx workbook or a .csv file")],
    )


def _read_csv(path: Path, name: str) -> ProgramTable:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        return ProgramTable(
            [],
            [],
            (),
            [Detail((name, f"line {line}"), "the file is not UTF-8: save it as CSV UTF-8")],
        )
    reader = csv_rows(text, name)  # refuses over-long lines and over-wide rows first
    header = next(reader, None)
    if not header:
        return ProgramTable([], [], (), [Detail((name, "line 1"), "the file is empty")])
    columns, problems = _header(header, (name, "line 1"), PROGRAM_COLUMNS, REQUIRED_COLUMNS)
    rows: list[Row] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if values[0].startswith(NOTE_PREFIX) and not any(v.strip() for v in values[1:]):
            continue  # an export's note (what it withheld), not a program
        if len(rows) >= MAX_ROWS:
            problems.append(Detail((name,), f"more than {MAX_ROWS} rows: split the file"))
            break
        if len(values) > len(header):
            problems.append(
                Detail(
                    (name, f"line {number}"),
                    f"{len(values)} cells but the header has {len(header)}: quote cells that "
                    "contain commas",
                )
            )
            continue
        cells = {
            c: unguard_formula(values[i]) if i < len(values) else ""
            for i, c in enumerate(columns)
            if c
        }
        rows.append(Row((name, f"line {number}"), cells))
    return ProgramTable(rows, [], tuple(c for c in columns if c), problems)


def _read_workbook(path: Path, name: str) -> ProgramTable:
    try:
        check_workbook(path, name)  # uncompressed size and declared cells, before parsing
        return _parse_workbook(path, name)
    except UNREADABLE_WORKBOOK as exc:
        # A damaged archive or sheet (found by fuzzing: a corrupt deflate stream, broken
        # XML inside the zip) is the file's problem, reported as one, never a crash.
        return ProgramTable(
            [], [], (), [Detail((name,), f"cannot read the workbook ({exc}): save it as .xlsx")]
        )


def _parse_workbook(path: Path, name: str) -> ProgramTable:
    from openpyxl import load_workbook

    budget = CellBudget(name)
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if PROGRAMS_SHEET not in wb.sheetnames:
            return ProgramTable(
                [],
                [],
                (),
                [Detail((name,), f"no sheet named {PROGRAMS_SHEET!r} (sheets: {wb.sheetnames})")],
            )
        rows, columns, problems = _sheet_rows(
            wb[PROGRAMS_SHEET], name, PROGRAMS_SHEET, PROGRAM_COLUMNS, REQUIRED_COLUMNS, budget
        )
        milestones: list[Row] = []
        if MILESTONES_SHEET in wb.sheetnames:
            milestones, _cols, more = _sheet_rows(
                wb[MILESTONES_SHEET],
                name,
                MILESTONES_SHEET,
                MILESTONE_COLUMNS,
                ("program_id", "name"),
                budget,
            )
            problems += more
        return ProgramTable(
            rows, milestones, columns, problems, has_milestones=MILESTONES_SHEET in wb.sheetnames
        )
    finally:
        wb.close()


def _sheet_rows(
    ws: Any,
    name: str,
    sheet: str,
    known: tuple[str, ...],
    required: tuple[str, ...],
    budget: CellBudget,
) -> tuple[list[Row], tuple[str, ...], list[Detail]]:
    values = ws.iter_rows(values_only=True)
    header = next(values, None)
    if header is not None:
        budget.spend(len(header))
        if len(header) > get_settings().max_csv_columns:
            raise TooLarge(
                f"{name}: sheet {sheet!r} has {len(header):,} columns, more than the limit of "
                f"{get_settings().max_csv_columns:,} (set SSAPLAN_MAX_CSV_COLUMNS to change it)"
            )
    if header is None:
        return [], (), [Detail((name, sheet, "row 1"), "the sheet is empty")]
    columns, problems = _header(
        ["" if h is None else str(h) for h in header], (name, sheet, "row 1"), known, required
    )
    rows: list[Row] = []
    for number, cells in enumerate(values, start=2):
        budget.spend(len(cells))
        if not any(c not in (None, "") for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(Detail((name, sheet), f"more than {MAX_ROWS} rows: split the file"))
            break
        data = {c: (cells[i] if i < len(cells) else None) for i, c in enumerate(columns) if c}
        rows.append(Row((name, sheet, f"row {number}"), data))
    return rows, tuple(c for c in columns if c), problems


def _header(
    header: list[str],
    loc: tuple[str, ...],
    known: tuple[str, ...],
    required: tuple[str, ...],
) -> tuple[list[str], list[Detail]]:
    problems = []
    columns = []
    for cell in header:
        col = cell.strip().lower().replace(" ", "_")
        if col and col not in known:
            close = difflib.get_close_matches(col, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Detail((*loc, cell), f"unknown column {cell!r}{hint} (columns: {', '.join(known)})")
            )
            col = ""
        elif col and col in columns:
            problems.append(Detail((*loc, cell), f"column {cell!r} appears twice"))
            col = ""
        columns.append(col)
    missing = [c for c in required if c not in columns]
    if missing:
        problems.append(Detail(loc, f"missing required column(s): {', '.join(missing)}"))
    return columns, problems


# -- validating -----------------------------------------------------------------------
@dataclass
class ProgramDrafts:
    """Programs built from a table: the valid ones with where each came from, the
    rejected ones with their problems, and problems with the file as a whole."""

    items: list[ProgramCreate]
    locations: list[tuple[str | int, ...]]
    rejected: list[tuple[tuple[str | int, ...], str | None, list[Detail]]]
    file_problems: list[Detail]

    @property
    def problems(self) -> list[Detail]:
        """Every problem: the file's and each rejected program's."""
        return self.file_problems + [d for _loc, _id, details in self.rejected for d in details]


def table_to_programs(
    table: ProgramTable,
    catalog: Catalog,
    existing: dict[str, ProgramPublic],
) -> ProgramDrafts:
    """Validate every cell and group rows into programs.

    ``existing`` holds the stored programs with the ids the table names: a column the
    file does not have (e.g. ``marking`` in a plain CSV) keeps the stored value.
    """
    groups: dict[str, list[tuple[Row, dict[str, Any], list[Detail]]]] = {}
    order: list[str] = []
    anonymous = 0
    for row in table.rows:
        values, row_problems = _validate_row(row, catalog)
        key = values.get("id") or ""
        if not key:
            anonymous += 1
            key = f"\0new-{anonymous}"
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((row, values, row_problems))
    file_problems = list(table.problems)
    milestone_problems: list[Detail] = []
    milestones = _milestones(table.milestones, milestone_problems)
    items: list[ProgramCreate] = []
    locations: list[tuple[str | int, ...]] = []
    rejected: list[tuple[tuple[str | int, ...], str | None, list[Detail]]] = []
    for key in order:
        rows = groups[key]
        first_row, first, _ = rows[0]
        problems = [d for _row, _values, row_problems in rows for d in row_problems]
        program: dict[str, Any] = {k: v for k, v in first.items() if k not in LINE_COLUMNS}
        pid = program.get("id")
        for row, values, _ in rows[1:]:
            for col, value in values.items():
                if col in LINE_COLUMNS:
                    continue
                if value != first.get(col):
                    problems.append(
                        Detail(
                            (*row.loc, col),
                            f"differs from {first_row.loc[-1]} of the same program "
                            f"({value!r} vs {first.get(col)!r}): program cells must agree",
                        )
                    )
        budget = []
        seen_years: dict[tuple[int, str | None], str] = {}
        for row, values, _ in rows:
            fy = values.get("fiscal_year")
            money = {c: values.get(c) for c in MONEY_COLUMNS}
            line_account = values.get("budget_account") or program.get("account")
            if fy is None:
                if any(money.values()):
                    problems.append(Detail((*row.loc, "fiscal_year"), "amounts need a fiscal year"))
                continue
            if (fy, line_account) in seen_years:
                which = f" ({line_account})" if values.get("budget_account") else ""
                problems.append(
                    Detail(
                        (*row.loc, "fiscal_year"),
                        f"FY{fy}{which} of this program also appears at "
                        f"{seen_years[(fy, line_account)]}",
                    )
                )
                continue
            seen_years[(fy, line_account)] = row.loc[-1]
            budget.append(
                {
                    "fiscal_year": fy,
                    "account": values.get("budget_account") or None,
                    **{c: money[c] or 0 for c in MONEY_COLUMNS},
                }
            )
        problems += [
            d for d in milestone_problems if pid and d.loc and _milestone_owner(table, d) == pid
        ]
        fields = _program_fields(program, budget, table.columns, existing)
        if table.has_milestones:
            fields["milestones"] = milestones.get(pid or "", [])
        elif pid and pid in existing:
            fields["milestones"] = [m.model_dump() for m in existing[pid].milestones]
        if not problems:
            try:
                items.append(ProgramCreate(**fields))
                locations.append(first_row.loc)
                continue
            except pydantic.ValidationError as exc:
                for e in exc.errors(include_url=False):
                    problems.append(Detail((*first_row.loc, *_column_of(e["loc"])), e["msg"]))
        rejected.append((first_row.loc, pid, problems))
    known = {i.id for i in items if i.id} | {pid for _l, pid, _p in rejected if pid}
    for row in table.milestones:
        pid = str(row.cells.get("program_id") or "").strip()
        if pid and pid not in known:
            file_problems.append(
                Detail((*row.loc, "program_id"), f"no program {pid!r} in the Programs sheet")
            )
    owned = {d for _l, _p, details in rejected for d in details}
    file_problems += [
        d for d in milestone_problems if d not in owned and _milestone_owner(table, d) not in known
    ]
    return ProgramDrafts(items, locations, rejected, file_problems)


def _milestone_owner(table: ProgramTable, detail: Detail) -> str:
    for row in table.milestones:
        if detail.loc[: len(row.loc)] == row.loc:
            return str(row.cells.get("program_id") or "").strip()
    return ""


def _program_fields(
    program: dict[str, Any],
    budget: list[dict[str, Any]],
    columns: tuple[str, ...],
    existing: dict[str, ProgramPublic],
) -> dict[str, Any]:
    stored = existing.get(program.get("id") or "")
    fields: dict[str, Any] = {"budget": budget}
    mapping = {
        "id": "id",
        "title": "title",
        "description": "description",
        "agency": "agency",
        "account": "account",
        "country": "countries",
        "region": "regions",
        "institution_type": "institution_type",
        "level": "level",
        "purpose": "purpose",
        "objectives": "objectives",
        "dac_code": "dac_code",
        "start": "start",
        "end": "end",
        "status": "status",
        "marking": "marking",
        "shares": "shares",
        "releasable_to": "releasable_to",
    }
    for column, name in mapping.items():
        if column in columns:
            value = program.get(column)
            if value is not None:
                fields[name] = value
            elif name in ("countries", "regions", "objectives", "releasable_to"):
                fields[name] = []
        elif stored is not None:
            fields[name] = getattr(stored, name)
    if "fiscal_year" not in columns and stored is not None:
        fields["budget"] = [b.model_dump(exclude={"id"}) for b in stored.budget]
    return {k: v for k, v in fields.items() if v is not None}


def _validate_row(row: Row, catalog: Catalog) -> tuple[dict[str, Any], list[Detail]]:
    out: dict[str, Any] = {}
    problems: list[Detail] = []

    def bad(column: str, msg: str) -> None:
        problems.append(Detail((*row.loc, column), msg))

    for column, raw in row.cells.items():
        if isinstance(raw, str):
            raw = raw.strip()
        if raw in (None, ""):
            if column in REQUIRED_CELLS:
                bad(column, "is required")
            out[column] = None
            continue
        try:
            out[column] = _cell(column, raw, catalog)
        except ValueError as exc:
            bad(column, str(exc))
    if (
        "country" in row.cells
        and not out.get("country")
        and not out.get("region")
        and not any(d.loc[-1] in ("country", "region") for d in problems)
    ):
        bad("country", "name at least one partner country (or a region in the region column)")
    return out, problems


def _cell(column: str, raw: Any, catalog: Catalog) -> Any:
    if column in CODED:
        return _code(catalog, CODED[column], raw)
    if column in LIST_COLUMNS:
        kind: Kind = {"country": "country", "region": "region", "objectives": "objective"}[column]  # type: ignore[assignment]
        values = [v.strip() for v in _SPLIT.split(str(raw)) if v.strip()]
        return [_code(catalog, kind, v) for v in values]
    if column in ("start", "end"):
        return _date(raw)
    if column == "fiscal_year":
        fy = _whole(raw, "a fiscal year such as 2026")
        if not MIN_FY <= fy <= MAX_FY:
            raise ValueError(f"FY{fy} is outside {MIN_FY}-{MAX_FY}")
        return fy
    if column in MONEY_COLUMNS:
        amount = _whole(raw, "whole U.S. dollars such as 1250000")
        if amount < 0:
            raise ValueError(f"{amount} is negative: amounts are 0 or more")
        if amount > MAX_AMOUNT:
            raise ValueError(
                f"{amount:,} is more than ${MAX_AMOUNT:,} for one year: check the units "
                "(whole dollars, not cents)"
            )
        return amount
    if column == "status":
        status = str(raw).strip().lower()
        if status not in STATUSES:
            raise ValueError(f"{raw!r} is not a status: use one of {', '.join(STATUSES)}")
        return status
    if column == "id":
        return str(raw).strip()
    if column == "shares":
        return _shares(str(raw), catalog)
    if column == "releasable_to":
        codes: list[str] = []
        for value in (v.strip() for v in _SPLIT.split(str(raw)) if v.strip()):
            code = audience_code(catalog, value)
            if code is None:
                raise ValueError(
                    f"unknown partner or organization {value!r}: give countries (ISO3, e.g. "
                    "GBR) or organizations (e.g. NATO, EU) separated by ;"
                )
            codes.append(code)
        return sorted(set(codes))
    return str(raw)


def _shares(text: str, catalog: Catalog) -> dict[str, int]:
    """``KEN:6000;UGA:4000`` as partner code -> basis points."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in _SPLIT.split(text) if p.strip()):
        code, sep, bp = part.rpartition(":")
        if not sep:
            raise ValueError(f"{part!r}: write each share as CODE:BASIS_POINTS, e.g. KEN:6000")
        try:
            key = catalog.resolve("country", code.strip())
        except UnknownCode:
            key = _code(catalog, "region", code)
        out[key] = _whole(bp, "basis points such as 5000")
    return out


def _code(catalog: Catalog, kind: Kind, raw: Any) -> str:
    value = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    try:
        return catalog.resolve(kind, value)
    except UnknownCode as exc:
        raise ValueError(str(exc)) from None


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def _whole(raw: Any, what: str) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number: write {what}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(f"{raw} is not a whole number: write {what}")
        return int(raw)
    text = str(raw).strip().replace(",", "").replace("$", "")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.0*", text):
        return int(text.split(".")[0])
    raise ValueError(f"{raw!r} is not a whole number: write {what}")


def _milestones(rows: list[Row], problems: list[Detail]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        pid = str(row.cells.get("program_id") or "").strip()
        name = str(row.cells.get("name") or "").strip()
        if not pid:
            problems.append(Detail((*row.loc, "program_id"), "is required"))
            continue
        if not name:
            problems.append(Detail((*row.loc, "name"), "is required"))
            continue
        entry: dict[str, Any] = {"name": name}
        for col in MILESTONE_COLUMNS[2:]:
            raw = row.cells.get(col)
            if raw in (None, ""):
                entry[col] = None
                continue
            try:
                entry[col] = _date(raw)
            except ValueError as exc:
                problems.append(Detail((*row.loc, col), str(exc)))
        out.setdefault(pid, []).append(entry)
    return out


def _column_of(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    names = {"countries": "country", "regions": "region", "budget": "fiscal_year"}
    if not loc:
        return ()
    head = str(loc[0])
    if head == "budget" and len(loc) >= 3:
        return (str(loc[2]),)
    if head == "milestones":
        return (MILESTONES_SHEET, *(str(p) for p in loc[1:]))
    return (names.get(head, head),)
