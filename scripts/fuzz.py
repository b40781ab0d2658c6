"""A bounded coverage-guided fuzz run (atheris) over the file readers (issue 10, item 10).

    python scripts/fuzz.py TARGET [libFuzzer options, e.g. -max_total_time=30]

TARGET is ``xml`` (the IATI reader), ``csv`` (the programs CSV reader and the
restrictions CSV), ``xlsx`` (the programs workbook reader), ``fa`` (the U.S.
foreign-assistance CSV reader, all three layouts) or ``indicators`` (the assessment
indicator reader). Each input is written to a
file and read as an upload would be; any exception other than the project's own errors
(:class:`ssaplan.core.errors.SsaplanError`) is a finding: atheris prints it with the
input and stops. ``make fuzz`` runs every target for a fixed time.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["ssaplan"]):
    from ssaplan.assessment.indicators.reader import parse_indicator_bytes
    from ssaplan.compliance.restrictions_csv import COLUMNS, read_restrictions
    from ssaplan.core.errors import SsaplanError
    from ssaplan.ingest.currency import UsdConverter
    from ssaplan.ingest.foreign_assistance import read_foreign_assistance
    from ssaplan.ingest.iati import IatiFile
    from ssaplan.ingest.mapping import get_mappings
    from ssaplan.ingest.programs_io import PROGRAM_COLUMNS
    from ssaplan.ingest.programs_read import read_table
    from ssaplan.reference.catalog import get_catalog

WORK = Path(tempfile.mkdtemp(prefix="ssaplan-fuzz-"))
CATALOG = get_catalog()
CONVERTER = UsdConverter()

IATI_SEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03"><iati-activity default-currency="USD">
<iati-identifier>US-GOV-1-X</iati-identifier><reporting-org ref="US-GOV-1" type="10"/>
<title><narrative>Border police training</narrative></title>
<activity-status code="2"/><activity-date type="1" iso-date="2023-01-01"/>
<recipient-country code="KE" percentage="100"/>
<budget><period-start iso-date="2023-01-01"/><period-end iso-date="2023-12-31"/>
<value currency="USD" value-date="2023-01-01">100000</value></budget>
</iati-activity></iati-activities>
"""


def _csv_seed() -> bytes:
    header = ",".join(PROGRAM_COLUMNS)
    return (header + "\n" + ",".join("1" for _ in PROGRAM_COLUMNS) + "\n").encode()


def _xlsx_seed() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if sheet is None:
        raise RuntimeError("openpyxl made a workbook without a sheet")
    sheet.append(list(PROGRAM_COLUMNS))
    sheet.append(["x"] * len(PROGRAM_COLUMNS))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xml(data: bytes) -> None:
    path = WORK / "fuzz.xml"
    path.write_bytes(data)
    for _ in IatiFile(path, catalog=CATALOG, converter=CONVERTER).activities():
        pass


def read_csv(data: bytes) -> None:
    path = WORK / "fuzz.csv"
    path.write_bytes(data)
    with contextlib.suppress(SsaplanError):
        read_table(path, "fuzz.csv")
    text = ",".join(COLUMNS) + "\n" + data.decode("utf-8", "replace")
    read_restrictions(text, name="fuzz.csv", known_accounts={"FMF"}, known_types={"coup"})


def read_xlsx(data: bytes) -> None:
    path = WORK / "fuzz.xlsx"
    path.write_bytes(data)
    read_table(path, "fuzz.xlsx")


FA_SEED = b"""Activity Project Number,Activity Name,Country Code,Fiscal Year,Managing Agency Name,\
US Category Name,Funding Account Name,Transaction Type Name,Current Dollar Amount
SLMAQM21CA3219,Border police,KEN,2021,Department of State,Peace and Security,\
Foreign Military Financing,Obligations,"$1,250,000"
SLMAQM21CA3219,Border police,KEN,2022,Department of State,Peace and Security,\
Foreign Military Financing,Disbursements,(12)
"""
FA_TOTALS_SEED = (
    b"Country Code,Country Name,Fiscal Year,Transaction Type Name,Amount\n"
    b"KEN,Kenya,2020,Obligations,100\n"
)
FA_CBJ_SEED = b"Country,FMF,IMET,Total,Fiscal Year\nKenya,1.5,200,201.5,2024\n"
INDICATOR_SEED = b"iso3,year,measure,value,std_error,source\nKEN,2020,rule of law,0.25,0.1,fuzz\n"


def read_fa(data: bytes) -> None:
    path = WORK / "fuzz-fa.csv"
    path.write_bytes(data)
    read_foreign_assistance(path, "fuzz.csv", catalog=CATALOG, mappings=get_mappings())


def read_indicators(data: bytes) -> None:
    parse_indicator_bytes(data, "fuzz.csv")


TARGETS = {
    "xml": (read_xml, lambda: IATI_SEED),
    "csv": (read_csv, _csv_seed),
    "xlsx": (read_xlsx, _xlsx_seed),
    "fa": (read_fa, lambda: FA_SEED),
    "indicators": (read_indicators, lambda: INDICATOR_SEED),
}
EXTRA_SEEDS = {"fa": [FA_TOTALS_SEED, FA_CBJ_SEED]}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    name = sys.argv[1]
    read, seed = TARGETS[name]
    corpus = WORK / f"corpus-{name}"
    corpus.mkdir()
    (corpus / "seed").write_bytes(seed())
    for i, extra in enumerate(EXTRA_SEEDS.get(name, [])):
        (corpus / f"seed-{i}").write_bytes(extra)

    def one_input(data: bytes) -> None:
        # A refusal with the project's envelope is the expected answer to bad input.
        with contextlib.suppress(SsaplanError):
            read(data)

    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
