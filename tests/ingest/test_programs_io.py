"""The planners' workbook and CSV: a clean round trip changes nothing, every cell is
checked (sheet, row, column), nothing is written unless the whole file is valid, and
spreadsheet formulas in text never run."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.ingest.exports import ExportService
from ssaplan.ingest.programs_io import PROGRAM_COLUMNS, guard_formula, unguard_formula
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.models import Program
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR
from tests.factories import program
from tests.ingest.conftest import db_state


def export_file(store: Store, path: Path, kind: str) -> dict[str, Any]:
    with store.session() as session:
        service = ExportService(session, OPERATOR)
        if kind == "excel":
            with path.open("wb") as fh:
                return service.excel(fh)
        with path.open("w", encoding="utf-8", newline="") as fh:
            return service.csv(fh)


def import_file(store: Store, path: Path, **options: Any) -> dict[str, Any]:
    with store.transaction() as session:
        return IngestService(session, OPERATOR).import_programs(path, **options)


def versions(store: Store) -> dict[str, int]:
    with store.session() as session:
        return {pid: v for pid, v in session.execute(select(Program.code, Program.version))}


@pytest.mark.parametrize("kind", ["excel", "csv"])
def test_a_clean_round_trip_changes_nothing(demo_store: Store, tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("programs.xlsx" if kind == "excel" else "programs.csv")
    exported = export_file(demo_store, path, kind)
    before, state = versions(demo_store), db_state(demo_store)
    summary = import_file(demo_store, path)
    assert summary["programs"] == summary["unchanged"] == exported["programs"] > 1500
    assert summary["created"] == summary["updated"] == 0
    assert versions(demo_store) == before
    after = db_state(demo_store)
    assert after["audit_records"] == state["audit_records"] + 1  # the file summary only
    assert {k: v for k, v in after.items() if k not in ("audit_records", "audit_head")} == {
        k: v for k, v in state.items() if k not in ("audit_records", "audit_head")
    }


def test_the_workbook_carries_everything_and_offers_drop_downs(
    sqlite_demo: Store, tmp_path: Path
) -> None:
    path = tmp_path / "programs.xlsx"
    summary = export_file(sqlite_demo, path, "excel")
    wb = load_workbook(path)
    ws = wb["Programs"]
    assert [c.value for c in ws[1]] == list(PROGRAM_COLUMNS)
    assert ws.max_row - 1 == summary["rows"]
    assert wb["Milestones"].max_row - 1 == summary["milestones"] > 0
    assert wb["Lists"].sheet_state == "hidden"
    validations = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    agency = validations["D2"]  # the agency column
    assert agency.type == "list" and agency.formula1.startswith("Lists!$A$2")
    assert agency.showErrorMessage
    assert not validations["F2"].showErrorMessage  # countries: several values allowed
    with sqlite_demo.session() as session:
        regional = session.execute(
            select(Program.code).where(~Program.countries.any()).limit(1)
        ).scalar_one()
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == regional]
    assert rows and rows[0][PROGRAM_COLUMNS.index("region")]  # regions travel too


def test_an_edited_cell_updates_one_program(sqlite_demo: Store, tmp_path: Path) -> None:
    path = tmp_path / "programs.xlsx"
    export_file(sqlite_demo, path, "excel")
    wb = load_workbook(path)
    ws = wb["Programs"]
    pid = ws.cell(row=2, column=1).value
    for row in ws.iter_rows(min_row=2):
        if row[0].value == pid:
            row[PROGRAM_COLUMNS.index("title")].value = "Renamed in the workbook"
    wb.save(path)
    summary = import_file(sqlite_demo, path)
    assert (summary["updated"], summary["created"]) == (1, 0)
    with sqlite_demo.session() as session:
        p = PortfolioService(session, OPERATOR).get(str(pid))
    assert p.title == "Renamed in the workbook" and p.version == 2


BAD_ROWS = [
    ("agency", "Ministry of Magic", r"unknown agency 'Ministry of Magic'"),
    ("start", "31/12/2025", r"'31/12/2025' is not a date: write YYYY-MM-DD"),
    ("planned", "-5", r"-5 is negative"),
    ("planned", "12.5", r"not a whole number"),
    ("planned", "99000000000", r"check the units"),
    ("country", "NGA;Atlantis", r"unknown country 'Atlantis'"),
    ("status", "dreaming", r"'dreaming' is not a status"),
    ("fiscal_year", "1812", r"FY1812 is outside"),
]


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...] = PROGRAM_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "") for c in columns})
    return out.getvalue()


def _row(**cells: str) -> dict[str, str]:
    base = {
        "id": "STATE-NGA-TEST-1",
        "title": "Judicial training",
        "agency": "State/INL",
        "account": "INCLE",
        "country": "NGA",
        "start": "2025-10-01",
        "end": "2027-09-30",
        "status": "approved",
        "fiscal_year": "2026",
        "planned": "1000000",
    }
    return {**base, **cells}


@pytest.mark.parametrize(("column", "value", "message"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_every_cell_is_checked_and_named(
    store: Store, tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = tmp_path / "programs.csv"
    path.write_text(_csv([_row(id="GOOD-1"), _row(**{column: value})]), encoding="utf-8")
    before = db_state(store)
    with pytest.raises(Invalid) as caught:
        import_file(store, path)
    detail = next(d for d in caught.value.details if d.loc[-1] == column)
    assert detail.loc == ("programs.csv", "line 3", column)
    assert __import__("re").search(message, detail.msg), detail.msg
    assert db_state(store) == before  # not even the good row


def test_workbook_errors_name_the_sheet_row_and_column(store: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Programs"
    ws.append(list(PROGRAM_COLUMNS))
    good = _row(id="X-1")
    ws.append([good.get(c) for c in PROGRAM_COLUMNS])
    ws.append([_row(id="X-2", dac_code="1513").get(c) for c in PROGRAM_COLUMNS])
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    with pytest.raises(Invalid) as caught:
        import_file(store, path)
    (detail,) = caught.value.details
    assert detail.loc == ("plan.xlsx", "Programs", "row 3", "dac_code")
    assert "unknown dac code '1513'" in detail.msg


def test_file_level_problems(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "programs.csv"
    path.write_text("id,title,agnecy,country,start,end\n", encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        import_file(store, path)
    text = caught.value.one_line()
    assert "unknown column 'agnecy'; did you mean 'agency'?" in text
    assert "missing required column(s): agency" in text
    path.write_bytes("id,title\n1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(Invalid, match="not UTF-8"):
        import_file(store, path)


def test_rows_of_one_program_must_agree_and_years_not_repeat(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "programs.csv"
    path.write_text(
        _csv([_row(), _row(title="Other title", fiscal_year="2027"), _row()]), encoding="utf-8"
    )
    with pytest.raises(Invalid) as caught:
        import_file(store, path)
    messages = {(d.loc[1], d.loc[2]): d.msg for d in caught.value.details}
    assert "program cells must agree" in messages[("line 3", "title")]
    assert "FY2026 of this program also appears at line 2" in messages[("line 4", "fiscal_year")]


def test_skip_invalid_imports_the_rest_and_lists_why(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "programs.csv"
    path.write_text(
        _csv([_row(id="OK-1"), _row(id="BAD-1", agency="Nope"), _row(id="OK-2")]),
        encoding="utf-8",
    )
    summary = import_file(store, path, skip_invalid=True)
    assert summary["created"] == 2
    (skipped,) = summary["skipped"]
    assert skipped["identifier"] == "BAD-1" and skipped["line"] == 3
    assert "agency: unknown agency 'Nope'" in skipped["reason"]


def test_a_new_program_without_id_gets_one(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "programs.csv"
    path.write_text(_csv([_row(id="")]), encoding="utf-8")
    summary = import_file(store, path)
    assert summary["created"] == 1
    with store.session() as session:
        ids = list(session.execute(select(Program.code)).scalars())
    assert ids == ["STATE-NGA-2026-0001"]


def test_formulas_never_run(store: Store, tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil.invalid","click")'
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).create(
            program(id="EVIL-1", title=evil, description="+1-2", countries=["GHA"])
        )
    csv_path, xlsx_path = tmp_path / "p.csv", tmp_path / "p.xlsx"
    export_file(store, csv_path, "csv")
    export_file(store, xlsx_path, "excel")
    text = csv_path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+1-2" in text
    assert ",=HYPERLINK" not in text and ',"=HYPERLINK' not in text
    cell = load_workbook(xlsx_path)["Programs"]["B2"]
    assert cell.value == evil and cell.data_type == "s"  # text, not a formula
    # Both files import back to exactly what was there.
    assert import_file(store, csv_path)["unchanged"] == 1
    assert import_file(store, xlsx_path)["unchanged"] == 1


def test_guard_and_unguard() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "'quoted", ""):
        assert unguard_formula(str(guard_formula(text))) == text
    assert guard_formula("=1+1") == "'=1+1" and guard_formula(5) == 5
