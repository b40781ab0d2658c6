"""Files are bounded before they are parsed (issue 10, item 1): a zip bomb of a workbook,
a workbook declaring a huge sheet, a CSV a million columns wide, a line without end."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssaplan.core.errors import TooLarge
from ssaplan.core.limits import check_workbook, csv_rows
from ssaplan.core.settings import Settings, get_settings
from ssaplan.core.store import Store
from ssaplan.ingest.programs_io import PROGRAM_COLUMNS
from ssaplan.ingest.service import IngestService
from tests.conftest import OPERATOR


@pytest.fixture(autouse=True)
def _warm_catalog() -> None:
    """Load the reference data first, so the timings below measure the refusal only."""
    from ssaplan.reference.catalog import get_catalog

    get_catalog()
    import openpyxl  # noqa: F401 - imported once here, not inside a timed call


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SSAPLAN_MAX_XLSX_BYTES", "200000")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _workbook(path: Path, sheet_xml: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return path


def test_a_zip_bomb_workbook_is_refused_from_its_directory(
    sqlite_store: Store, tmp_path: Path, small_limits: None
) -> None:
    sheet = b"<worksheet><sheetData>" + b" " * 5_000_000 + b"</sheetData></worksheet>"
    path = _workbook(tmp_path / "bomb.xlsx", sheet)
    assert path.stat().st_size < 50_000  # 5 MB of sheet in a few KB of file
    with sqlite_store.transaction() as session, pytest.raises(TooLarge) as info:
        service = IngestService(session, OPERATOR)
        started = time.monotonic()
        service.import_programs(path)
    assert time.monotonic() - started < 2
    assert info.value.status == 413
    assert "SSAPLAN_MAX_XLSX_BYTES" in info.value.message and "200,000" in info.value.message


def test_a_declared_huge_sheet_is_refused_before_parsing(tmp_path: Path) -> None:
    sheet = b'<worksheet><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>'
    path = _workbook(tmp_path / "wide.xlsx", sheet)
    with pytest.raises(TooLarge) as info:
        check_workbook(path, "wide.xlsx", Settings())
    assert "SSAPLAN_MAX_XLSX_CELLS" in info.value.message
    assert "1,048,576 rows × 16,384 columns" in info.value.message


def test_a_csv_a_million_columns_wide_is_refused_at_once(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(PROGRAM_COLUMNS) + "\n" + "a," * 1_000_000 + "\n")
    with sqlite_store.transaction() as session, pytest.raises(TooLarge) as info:
        service = IngestService(session, OPERATOR)
        started = time.monotonic()
        service.import_programs(path)
    assert time.monotonic() - started < 2  # was 50 s and 1.5 GB
    assert "line 2" in info.value.message and "SSAPLAN_MAX_CSV_LINE_CHARS" in info.value.message


def test_a_wide_header_is_refused_naming_the_setting(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n")
    with sqlite_store.transaction() as session, pytest.raises(TooLarge) as info:
        service = IngestService(session, OPERATOR)
        started = time.monotonic()
        service.import_foreign_assistance([path])
    assert time.monotonic() - started < 2
    assert "20,000 columns" in info.value.message
    assert "SSAPLAN_MAX_CSV_COLUMNS" in info.value.message


def test_quoted_multiline_cells_still_read() -> None:
    rows = list(csv_rows('a,b\n"one\nline two",2\n', "f.csv", settings=Settings()))
    assert rows == [["a", "b"], ["one\nline two", "2"]]


def test_an_indicator_csv_a_million_columns_wide_is_refused() -> None:
    from ssaplan.assessment.indicators.reader import parse_indicator_bytes

    data = ("country,year," + ",".join(f"m{i}" for i in range(2_000)) + "\n").encode()
    started = time.monotonic()
    with pytest.raises(TooLarge) as info:
        parse_indicator_bytes(data, "wide.csv")
    assert time.monotonic() - started < 2
    assert "SSAPLAN_MAX_CSV_COLUMNS" in info.value.message
