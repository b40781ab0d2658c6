"""Property-based checks of the importers (issue 10, item 10): whatever the input, the
IATI reader, the allocation scenario parser, the compliance restrictions CSV and the
evaluation panel reader answer with the project's own errors, never with a crash.

Bounded: a fixed number of examples each, derandomized, no example database.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssaplan.allocation.scenario import parse_scenario
from ssaplan.compliance.restrictions_csv import COLUMNS, read_restrictions
from ssaplan.core.errors import SsaplanError, TooLarge
from ssaplan.evaluation.panel import Limits, read_panel_csv
from ssaplan.ingest.currency import UsdConverter
from ssaplan.ingest.iati import IatiFile
from ssaplan.reference.catalog import get_catalog

BOUNDED = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)

# -- IATI ------------------------------------------------------------------------------
IATI_TAGS = [
    "iati-identifier",
    "title",
    "narrative",
    "activity-status",
    "activity-date",
    "recipient-country",
    "sector",
    "budget",
    "value",
    "transaction",
    "participating-org",
    "reporting-org",
    "description",
]
IATI_ATTRS = ["code", "type", "iso-date", "value-date", "currency", "percentage", "ref", "role"]


@st.composite
def iati_element(draw: Any, depth: int = 0) -> str:
    tag = draw(st.sampled_from(IATI_TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(IATI_ATTRS), TEXT, max_size=3))
    rendered = "".join(f' {k}="{_xml_escape(v)}"' for k, v in attrs.items())
    children = draw(st.lists(iati_element(depth + 1), max_size=3)) if depth < 2 else []
    return f"<{tag}{rendered}>{_xml_escape(draw(TEXT))}{''.join(children)}</{tag}>"


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


IATI_FILES = st.one_of(
    st.builds(
        lambda version, activities: (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="{version}">'
            + "".join(f"<iati-activity>{a}</iati-activity>" for a in activities)
            + "</iati-activities>"
        ).encode("utf-8", "surrogatepass"),
        st.sampled_from(["2.03", "2.01", "1.05", "9", ""]),
        st.lists(st.lists(iati_element(), max_size=5).map("".join), max_size=3),
    ),
    st.binary(max_size=600),
    TEXT.map(lambda t: ("<iati-activities>" + t).encode("utf-8")),
)


@given(data=IATI_FILES)
@BOUNDED
def test_any_iati_file_is_read_or_refused_cleanly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data)
    reader = IatiFile(path, catalog=get_catalog(), converter=UsdConverter())
    try:
        for _ in reader.activities():
            pass
    except SsaplanError:
        return


# -- allocation scenarios ---------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
SCENARIO_KEYS = [
    "name",
    "fiscal_year",
    "total",
    "accounts",
    "countries",
    "floors",
    "caps",
    "restrictions",
    "regions",
    "objective",
    "candidates",
    "budget",
]
SCENARIOS = st.one_of(
    st.dictionaries(st.sampled_from(SCENARIO_KEYS), JSON_VALUES, max_size=8).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    TEXT,
)


@given(text=SCENARIOS)
@BOUNDED
def test_any_scenario_is_parsed_or_refused_cleanly(text: str) -> None:
    try:
        parse_scenario(text)
    except SsaplanError:
        return


# -- compliance restrictions CSV ---------------------------------------------------------
HEADER = ",".join(COLUMNS)


@given(body=st.lists(st.lists(TEXT, max_size=len(COLUMNS) + 2).map(",".join), max_size=12))
@BOUNDED
def test_any_restrictions_csv_is_read_or_refused_cleanly(body: list[str]) -> None:
    text = "\n".join([HEADER, *body]) + "\n"
    try:
        read_restrictions(text, name="r.csv", known_accounts={"FMF"}, known_types={"coup"})
    except SsaplanError:
        return


def test_a_restrictions_csv_wider_than_the_bound_is_refused_with_the_setting() -> None:
    text = HEADER + "\n" + ",".join(["x"] * 1_500) + "\n"
    try:
        read_restrictions(text, name="r.csv", known_accounts={"FMF"}, known_types={"coup"})
    except TooLarge as exc:
        assert "SSAPLAN_MAX_CSV_COLUMNS" in exc.message
    else:
        raise AssertionError("a 1,500-column row was read")


# -- evaluation panel -------------------------------------------------------------------
@given(body=st.text(max_size=1_500))
@BOUNDED
def test_any_panel_csv_is_read_or_refused_cleanly(tmp_path: Path, body: str) -> None:
    path = tmp_path / "panel.csv"
    path.write_text("unit,year,y\n" + body, encoding="utf-8", errors="surrogatepass")
    try:
        read_panel_csv(path, ["unit", "year", "y"], limits=Limits(max_line_bytes=400))
    except SsaplanError:
        return


def test_a_panel_wider_or_longer_than_its_bounds_is_refused(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(600)) + "\n", encoding="utf-8")
    long = tmp_path / "long.csv"
    long.write_text("unit,year,y\n" + "a" * 70_000 + ",1,2\n", encoding="utf-8")
    for path in (wide, long):
        try:
            read_panel_csv(path, ["unit"])
        except SsaplanError as exc:
            assert "max_" in exc.message, exc.message
        else:
            raise AssertionError(f"{path.name} was read")


# -- a damaged workbook (found by `make fuzz`: a corrupt deflate stream was a crash) ------
def test_a_damaged_workbook_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from ssaplan.ingest.programs_io import PROGRAM_COLUMNS
    from ssaplan.ingest.programs_read import read_table

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "programs"
    sheet.append(list(PROGRAM_COLUMNS))
    sheet.append(["x"] * len(PROGRAM_COLUMNS))
    good = tmp_path / "good.xlsx"
    book.save(good)
    data = good.read_bytes()
    damaged = tmp_path / "damaged.xlsx"
    for offset in range(40, len(data) - 40, max(1, len(data) // 300)):
        flipped = bytearray(data)
        flipped[offset] ^= 0x5A
        damaged.write_bytes(bytes(flipped))
        with contextlib.suppress(SsaplanError):
            read_table(damaged, "damaged.xlsx")
