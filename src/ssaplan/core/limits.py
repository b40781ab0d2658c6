"""Bounds on files the readers take in (issue 10): checked before the expensive part.

- An ``.xlsx`` is a zip: a 6 MB workbook can expand to gigabytes. :func:`check_workbook`
  sums the uncompressed sizes from the zip's directory and reads each sheet's declared
  dimension before openpyxl parses anything; :class:`CellBudget` counts the cells
  actually read, for workbooks that declare no dimension.
- A CSV line can hold a million columns. :func:`csv_rows` refuses a physical line
  longer than its bound before the csv module splits it, and a row wider than its
  bound before any reader looks at its cells; a cell longer than the csv module's
  field limit (131,072 characters, also across quoted line breaks) is refused alike.

Each refusal is a :class:`~ssaplan.core.errors.TooLarge` naming the limit and the
setting that changes it (``SSAPLAN_MAX_XLSX_BYTES``, ``SSAPLAN_MAX_XLSX_CELLS``,
``SSAPLAN_MAX_CSV_COLUMNS``, ``SSAPLAN_MAX_CSV_LINE_CHARS``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ssaplan.core.errors import Detail, TooLarge
from ssaplan.core.settings import Settings, get_settings

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def check_workbook(path: Path, name: str, settings: Settings | None = None) -> None:
    """Refuse a workbook whose contents would expand past the configured bounds.

    Reads only the zip directory and the first kilobytes of each sheet; raises
    :class:`TooLarge`. A file that is not a zip is left to the reader's own error.
    """
    s = settings or get_settings()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return
    with archive:
        infos = archive.infolist()
        total = sum(i.file_size for i in infos)
        if total > s.max_xlsx_bytes:
            raise TooLarge(
                f"{name} expands to {total:,} bytes, more than the limit of "
                f"{s.max_xlsx_bytes:,} (set SSAPLAN_MAX_XLSX_BYTES to change it)",
                [Detail((name,), "workbook too large when uncompressed")],
            )
        for info in infos:
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            with archive.open(info) as fh:
                head = fh.read(4096)
            match = _DIMENSION.search(head)
            if not match or not match.group(3):
                continue
            rows = int(match.group(4)) - int(match.group(2)) + 1
            cols = _column_number(match.group(3)) - _column_number(match.group(1)) + 1
            if rows * cols > s.max_xlsx_cells:
                raise TooLarge(
                    f"{name}: a sheet spans {rows:,} rows × {cols:,} columns, more than the "
                    f"limit of {s.max_xlsx_cells:,} cells "
                    "(set SSAPLAN_MAX_XLSX_CELLS to change it)",
                    [Detail((name, info.filename), "sheet too large")],
                )


class CellBudget:
    """Counts cells as a workbook is read; refuses past ``SSAPLAN_MAX_XLSX_CELLS``."""

    def __init__(self, name: str, settings: Settings | None = None) -> None:
        self.name = name
        self.limit = (settings or get_settings()).max_xlsx_cells
        self.used = 0

    def spend(self, cells: int) -> None:
        self.used += cells
        if self.used > self.limit:
            raise TooLarge(
                f"{self.name} holds more than {self.limit:,} cells "
                "(set SSAPLAN_MAX_XLSX_CELLS to change it)",
                [Detail((self.name,), "workbook has too many cells")],
            )


def _bounded_lines(text: str, name: str, max_chars: int) -> Iterator[str]:
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > max_chars:
            raise TooLarge(
                f"{name}: line {number} is {len(line):,} characters long, more than the limit "
                f"of {max_chars:,} (set SSAPLAN_MAX_CSV_LINE_CHARS to change it)",
                [Detail((name, f"line {number}"), "line too long")],
            )
        yield line


class BoundedReader:
    """A ``csv.reader`` that refuses over-long lines and over-wide rows (see above)."""

    def __init__(
        self, text: str, name: str, delimiter: str, settings: Settings, strict: bool = False
    ) -> None:
        self.name = name
        self.max_columns = settings.max_csv_columns
        self._reader = csv.reader(
            _bounded_lines(text, name, settings.max_csv_line_chars),
            delimiter=delimiter,
            strict=strict,
        )

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        start = self._reader.line_num + 1  # where the row begins
        try:
            row = next(self._reader)
        except csv.Error as exc:
            # One cell past the csv module's own bound (e.g. quoted over many short lines):
            # a refusal like the others, not the module's bare error (found by hypothesis).
            if "field limit" not in str(exc):
                raise
            limit = csv.field_size_limit()
            raise TooLarge(
                f"{self.name}: the row starting on line {start} has a cell longer than "
                f"{limit:,} characters, the most a CSV cell may hold",
                [Detail((self.name, f"line {start}"), "cell too long")],
            ) from exc
        if len(row) > self.max_columns:
            raise TooLarge(
                f"{self.name}: line {self.line_num} has {len(row):,} columns, more than the "
                f"limit of {self.max_columns:,} (set SSAPLAN_MAX_CSV_COLUMNS to change it)",
                [Detail((self.name, f"line {self.line_num}"), "too many columns")],
            )
        return row


def csv_rows(
    text: str,
    name: str,
    *,
    delimiter: str = ",",
    settings: Settings | None = None,
    strict: bool = False,
) -> BoundedReader:
    """The rows of a CSV text, refusing over-long lines and over-wide rows (see above);
    ``strict`` makes malformed quoting a ``csv.Error`` as in ``csv.reader``."""
    return BoundedReader(text, name, delimiter, settings or get_settings(), strict)
