"""Programs as spreadsheets: the planners' workbook and plain CSV, out and back in.

Layout (one row per program and fiscal year; a program without budget lines has one
row with an empty ``fiscal_year``), columns in this order::

    id, title, description, agency, account, country, region, institution_type, level,
    purpose, objectives, dac_code, start, end, status, marking,
    fiscal_year, planned, obligated, disbursed, budget_account, shares, version,
    releasable_to

``country``, ``region``, ``objectives`` and ``releasable_to`` (partner countries and
organizations the program may be disclosed to besides the U.S. Government) hold several
values separated by ``;`` (or ``|``). Program-level cells repeat on each of a
program's rows and must agree.
``account`` is the program's main account; ``budget_account`` (optional) the account
of one row's money where it differs (a program funded from several accounts has one
row per fiscal year and account). ``shares`` (optional) gives each partner's share of
the money in basis points, ``KEN:6000;UGA:4000``; empty keeps the stored shares (equal
ones for a new program, or when the partners change). The
workbook adds a ``Milestones`` sheet (``program_id, name, requested_on, approved_on,
obligated_on, delivered_on``) and a hidden ``Lists`` sheet that feeds the drop-down
lists, so a round trip carries everything a program has.

Reading is pure: cells in, :class:`ProgramCreate` items and every problem out, each
named by file, sheet, row and column. Writing protects CSV readers from formula
injection (a text cell starting with ``= + - @``, tab or carriage return gets a leading
``'``, which reading removes again); in the workbook such cells are stored as text.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import date
from typing import IO, Any, BinaryIO

from ssaplan.portfolio.engine import equal_shares
from ssaplan.portfolio.models import STATUSES
from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.reference.catalog import Catalog, Kind

PROGRAM_COLUMNS = (
    "id",
    "title",
    "description",
    "agency",
    "account",
    "country",
    "region",
    "institution_type",
    "level",
    "purpose",
    "objectives",
    "dac_code",
    "start",
    "end",
    "status",
    "marking",
    "fiscal_year",
    "planned",
    "obligated",
    "disbursed",
    "budget_account",
    "shares",
    "version",  # the version exported; an import refuses to overwrite a newer one
    "releasable_to",  # partners and organizations besides the U.S., ";"-separated
)
REQUIRED_COLUMNS = ("id", "title", "agency", "country", "start", "end")
# Cells that may not be empty: ``id`` may (a new program gets one), and ``country`` may
# when ``region`` names a regional partner instead.
REQUIRED_CELLS = ("title", "agency", "start", "end")
MILESTONE_COLUMNS = (
    "program_id",
    "name",
    "requested_on",
    "approved_on",
    "obligated_on",
    "delivered_on",
)
PROGRAMS_SHEET, MILESTONES_SHEET, LISTS_SHEET = "Programs", "Milestones", "Lists"
WITHHELD_SHEET = "Withheld"
MONEY_COLUMNS = ("planned", "obligated", "disbursed")
# Cells that belong to one budget line (the rest repeat the program's values).
LINE_COLUMNS = ("fiscal_year", *MONEY_COLUMNS, "budget_account")
LIST_COLUMNS = ("country", "region", "objectives")
# A trailing row whose first cell starts with this says what the export withheld; the
# importer skips it.
NOTE_PREFIX = "# "
# Single-valued coded columns and the catalog kind each one is checked against.
CODED: dict[str, Kind] = {
    "agency": "agency",
    "account": "account",
    "budget_account": "account",
    "institution_type": "institution_type",
    "level": "level",
    "purpose": "purpose",
    "dac_code": "dac_code",
    "marking": "marking",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# -- writing ------------------------------------------------------------------------
def program_rows(p: ProgramPublic) -> list[dict[str, Any]]:
    """The rows of one program: one per budget line, or one without money."""
    base: dict[str, Any] = {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "agency": p.agency,
        "account": p.account or "",
        "country": ";".join(p.countries),
        "region": ";".join(p.regions),
        "institution_type": p.institution_type or "",
        "level": p.level or "",
        "purpose": p.purpose or "",
        "objectives": ";".join(p.objectives),
        "dac_code": p.dac_code or "",
        "start": p.start,
        "end": p.end,
        "status": p.status,
        "marking": p.marking,
        "version": p.version,
        "releasable_to": ";".join(p.releasable_to),
    }
    shares = _shares_cell(p)
    if not p.budget:
        return [
            {
                **base,
                "fiscal_year": None,
                "planned": None,
                "obligated": None,
                "disbursed": None,
                "budget_account": "",
                "shares": shares,
            }
        ]
    return [
        {
            **base,
            "fiscal_year": b.fiscal_year,
            "planned": b.planned,
            "obligated": b.obligated,
            "disbursed": b.disbursed,
            "budget_account": b.account if b.account != p.account else "",
            "shares": shares,
        }
        for b in p.budget
    ]


def _shares_cell(p: ProgramPublic) -> str:
    """``KEN:6000;UGA:4000``, or empty when the shares are the default equal ones."""
    if p.shares == dict(zip(p.shares, equal_shares(len(p.shares)), strict=True)):
        return ""
    return ";".join(f"{code}:{bp}" for code, bp in p.shares.items())


def guard_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unguard_formula(value: str) -> str:
    """Undo :func:`guard_formula` (so a CSV round trip changes nothing)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def write_csv(
    programs: Iterable[ProgramPublic], out: IO[str], note: Callable[[], str | None] = lambda: None
) -> int:
    """Write programs as CSV (UTF-8, header row); return the number of data rows.

    ``note()``, called after the programs, may give a last row (``# ...`` in the first
    cell, e.g. what the export withheld); the importer skips such a row."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PROGRAM_COLUMNS)
    rows = 0
    for p in programs:
        for row in program_rows(p):
            writer.writerow([_csv_cell(row[c]) for c in PROGRAM_COLUMNS])
            rows += 1
    text = note()
    if text:
        writer.writerow([NOTE_PREFIX + text] + [""] * (len(PROGRAM_COLUMNS) - 1))
    return rows


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(guard_formula(value)) if isinstance(value, str) else str(value)


def write_workbook(
    programs: Iterable[ProgramPublic],
    out: BinaryIO,
    catalog: Catalog,
    withheld: list[tuple[str, Any]] | None = None,
) -> tuple[int, int]:
    """Write the planners' workbook; return (program rows, milestone rows).

    ``withheld`` (rows of label and value) adds a ``Withheld`` sheet saying what the
    export left out; the importer does not read it."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws: Any = wb.active
    ws.title = PROGRAMS_SHEET
    ws.append(list(PROGRAM_COLUMNS))
    ms: Any = wb.create_sheet(MILESTONES_SHEET)
    ms.append(list(MILESTONE_COLUMNS))
    rows = milestones = 0
    for p in programs:
        for row in program_rows(p):
            rows += 1
            _append(ws, rows + 1, [row[c] if row[c] != "" else None for c in PROGRAM_COLUMNS])
        for m in p.milestones:
            milestones += 1
            cells = [p.id, m.name, m.requested_on, m.approved_on, m.obligated_on, m.delivered_on]
            _append(ms, milestones + 1, cells)
    for sheet, columns in ((ws, PROGRAM_COLUMNS), (ms, MILESTONE_COLUMNS)):
        for i, name in enumerate(columns, start=1):
            letter = get_column_letter(i)
            sheet.column_dimensions[letter].width = 40 if name in ("title", "description") else 16
            if name in ("start", "end") or name.endswith("_on"):
                for cell in sheet[letter][1:]:
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"

    if withheld is not None:
        note: Any = wb.create_sheet(WITHHELD_SHEET)
        for label, value in withheld:
            note.append([label, value])
        note.column_dimensions["A"].width = 40
        note.column_dimensions["B"].width = 90

    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    choices: dict[str, list[str]] = {
        "agency": list(catalog.agencies),
        "account": list(catalog.accounts),
        "country": sorted(catalog.countries),
        "region": list(catalog.regions),
        "institution_type": list(catalog.institution_types),
        "level": list(catalog.levels),
        "purpose": list(catalog.purposes),
        "objectives": list(catalog.objectives),
        "dac_code": list(catalog.dac_codes),
        "status": list(STATUSES),
        "marking": list(catalog.markings),
    }
    last = max(rows + 1, 1000)
    for i, (name, values) in enumerate(choices.items(), start=1):
        letter = get_column_letter(i)
        lists.cell(row=1, column=i, value=name)
        for j, v in enumerate(values, start=2):
            lists.cell(row=j, column=i, value=v).data_type = "s"
        target = get_column_letter(PROGRAM_COLUMNS.index(name) + 1)
        several = name in LIST_COLUMNS
        dv = DataValidation(
            type="list",
            formula1=f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            # Cells with several values ("NGA;NER") cannot pass a list check: the list
            # is offered as help and the importer checks every value.
            showErrorMessage=not several,
            errorTitle=f"Unknown {name}",
            error=f"Pick a value from the list ({LISTS_SHEET} sheet).",
        )
        dv.add(f"{target}2:{target}{last}")
        ws.add_data_validation(dv)
    wb.save(out)
    return rows, milestones


def _append(sheet: Any, row: int, values: list[Any]) -> None:
    """Write one row; text is stored as text, never as a formula, whatever it starts with.

    Control characters that a workbook cannot hold (a pasted form feed) are dropped.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
