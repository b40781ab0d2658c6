"""Property-based checks of the foreign-assistance and indicator readers (issue 10, item 10).

What a user would notice: a well-formed file reads back exactly what was written (money
in whole dollars, values to the last bit); a malformed or hostile one (random bytes,
other encodings, huge cells, missing or repeated columns, bad numbers) is refused
cleanly, every cell problem naming its line and column, never with an unexpected
exception; and an import is all or nothing (row counts before and after).

Bounded: a fixed number of examples each, derandomized, no example database.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ssaplan.assessment.indicators.reader import parse_indicator_bytes
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.models import IndicatorObservation
from ssaplan.coordination.models import USAssistanceFigure
from ssaplan.core.errors import Invalid, SsaplanError, TooLarge
from ssaplan.core.store import Store
from ssaplan.ingest.currency import MAX_USD
from ssaplan.ingest.foreign_assistance import MEASURES, NULLS, FaResult, read_foreign_assistance
from ssaplan.ingest.mapping import get_mappings
from ssaplan.ingest.service import IngestService
from ssaplan.reference.catalog import get_catalog
from tests.conftest import OPERATOR
from tests.ingest.conftest import db_state


def bounded(n: int) -> Any:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


CATALOG = get_catalog()
COUNTRIES = sorted(i for i, c in CATALOG.countries.items() if c.status == "sovereign")
NAMES = {i: CATALOG.countries[i].name for i in COUNTRIES}
ACCOUNT_NAMES = sorted(a.name for a in CATALOG.accounts.values())
MEASURE_LABELS = sorted(MEASURES)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
HOSTILE_CELL = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "",
            "1e5",
            "NaN",
            "inf",
            "-",
            "--1",
            "(-5)",
            "$",
            "1.2.3",
            "9" * 40,
            "0x10",
            "१२३",
            "FY",
            "FY 2020 TQ",
            "2020-13-45",
            "null",
            "N/A",
            "\x00",
            '"',
            "1,000,000.5",
        ]
    ),
)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _read_fa(tmp_path: Path, data: bytes, encoding: str | None = None) -> FaResult:
    path = tmp_path / "fa.csv"
    path.write_bytes(data)
    return read_foreign_assistance(
        path, "fa.csv", catalog=CATALOG, mappings=get_mappings(), encoding=encoding
    )


def _located(result: FaResult) -> None:
    """Every problem names the file; every rejected row its line and a column."""
    for detail in result.file_problems:
        assert detail.loc[0] == "fa.csv"
    for loc, _identifier, details in result.rejected:
        assert loc[0] == "fa.csv" and str(loc[1]).startswith("line ")
        for d in details:
            assert str(d.loc[1]).startswith("line ") and len(d.loc) >= 3, d


def _money(amount: int, style: int) -> str:
    """A whole-dollar amount the way the sources write it."""
    if style == 1:
        text = f"{abs(amount):,}"
        return f"({text})" if amount < 0 else text
    if style == 2:
        return f"{'-' if amount < 0 else ''}${abs(amount):,}"
    return str(amount)


# -- foreign assistance: round trips --------------------------------------------------
TOTALS_ROWS = st.lists(
    st.tuples(
        st.sampled_from(COUNTRIES),
        st.integers(1946, 2100),
        st.sampled_from(MEASURE_LABELS),
        st.integers(-MAX_USD // 10, MAX_USD // 10),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=12,
)


@given(rows=TOTALS_ROWS, order=st.permutations(range(5)))
@bounded(60)
def test_country_totals_read_back_what_was_written(
    tmp_path: Path, rows: list[tuple[str, int, str, int, int]], order: list[int]
) -> None:
    header = ["Country Code", "Country Name", "Fiscal Year", "Transaction Type Name", "Amount"]
    lines = [[c, NAMES[c], str(fy), m.title(), _money(a, s)] for c, fy, m, a, s in rows]
    result = _read_fa(tmp_path, _csv([[r[i] for i in order] for r in [header, *lines]]))
    assert result.layout == "totals" and not result.rejected and not result.file_problems
    expected: dict[tuple[str, int, str], int] = defaultdict(int)
    for c, fy, m, a, _s in rows:
        expected[(c, fy, MEASURES[m])] += a
    got = {(f["iso3"], f["fiscal_year"], f["measure"]): f["amount"] for f in result.figures}
    assert got == expected
    assert all(type(f["amount"]) is int for f in result.figures)


@given(
    accounts=st.lists(st.sampled_from(ACCOUNT_NAMES), min_size=2, max_size=4, unique=True),
    rows=st.lists(
        st.tuples(
            st.sampled_from(COUNTRIES),
            st.integers(1946, 2100),
            st.lists(
                st.none() | st.decimals(-(10**8), 10**8, places=3, allow_nan=False),
                min_size=4,
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda r: (r[0], r[1]),
    ),
)
@bounded(60)
def test_budget_tables_read_back_whole_dollars(
    tmp_path: Path, accounts: list[str], rows: list[tuple[str, int, list[Decimal | None]]]
) -> None:
    header = ["Country", *accounts, "Fiscal Year"]
    lines = [
        [NAMES[c], *["" if v is None else str(v) for v in cells[: len(accounts)]], str(fy)]
        for c, fy, cells in rows
    ]
    result = _read_fa(tmp_path, _csv([header, *lines]))
    assert result.layout == "cbj" and not result.rejected, result.rejected
    expected = {
        (c, fy, a): int(v * 1000)  # thousands of dollars with at most 3 decimals: exact
        for c, fy, cells in rows
        for a, v in zip(accounts, cells, strict=False)
        if v is not None
    }
    got = {(f["iso3"], f["fiscal_year"], f["account"]): f["amount"] for f in result.figures}
    assert got == expected


@given(
    activities=st.dictionaries(
        st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=12).filter(
            lambda t: t.lower() not in NULLS  # "NULL", "NONE": no award number, by design
        ),
        st.tuples(
            st.sampled_from(COUNTRIES),
            st.lists(
                st.tuples(
                    st.integers(2000, 2030),
                    st.sampled_from(["Obligations", "Disbursements"]),
                    st.integers(0, 10**9),
                ),
                min_size=1,
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=5,
    )
)
@bounded(40)
def test_activity_ledgers_become_programs_with_the_money_written(
    tmp_path: Path, activities: dict[str, tuple[str, list[tuple[int, str, int]]]]
) -> None:
    header = [
        "Activity Project Number",
        "Activity Name",
        "Country Code",
        "Fiscal Year",
        "Managing Agency Name",
        "US Category Name",
        "Transaction Type Name",
        "Current Dollar Amount",
    ]
    lines = [
        [
            project,
            f"Activity {project}",
            country,
            str(fy),
            "Department of State",
            "Peace and Security",
            measure,
            str(amount),
        ]
        for project, (country, money) in activities.items()
        for fy, measure, amount in money
    ]
    result = _read_fa(tmp_path, _csv([header, *lines]))
    assert result.layout == "ledger" and not result.rejected, result.rejected
    programs = {p.id: p for p, _loc in result.programs}
    assert set(programs) == {f"FA-{k}" for k in activities}
    for project, (country, money) in activities.items():
        program = programs[f"FA-{project}"]
        assert program.countries == [country] and program.agency == "State"
        expected: dict[int, dict[str, int]] = defaultdict(lambda: {"o": 0, "d": 0})
        for fy, measure, amount in money:
            expected[fy]["o" if measure == "Obligations" else "d"] += amount
        got = {b.fiscal_year: {"o": b.obligated, "d": b.disbursed} for b in program.budget or []}
        assert got == expected


# -- foreign assistance: hostile input ------------------------------------------------
@given(data=st.binary(max_size=1_500))
@bounded(80)
def test_any_bytes_are_read_or_refused_cleanly(tmp_path: Path, data: bytes) -> None:
    with contextlib.suppress(SsaplanError):
        _located(_read_fa(tmp_path, b"Country Code,Fiscal Year,Amount,Transaction Type\n" + data))
    with contextlib.suppress(SsaplanError):
        _located(_read_fa(tmp_path, data))


ALIASES = [
    "Country Code",
    "Country Name",
    "Region Name",
    "Fiscal Year",
    "Year",
    "Transaction Type Name",
    "Current Dollar Amount",
    "Amount",
    "Managing Agency Name",
    "Funding Account Name",
    "US Category Name",
    "International Purpose Code",
    "Activity ID",
    "Activity Project Number",
    "Activity Name",
    "Activity Start Date",
    "Activity End Date",
    "Country",
    "Total",
    "FMF",
    "",
]


@given(
    header=st.lists(st.sampled_from(ALIASES) | TEXT, min_size=1, max_size=10),
    rows=st.lists(st.lists(HOSTILE_CELL | st.sampled_from(COUNTRIES), max_size=11), max_size=10),
    encoding=st.sampled_from([None, "utf-8", "utf-16", "latin-1", "cp1252", "no-such-codec"]),
    written_as=st.sampled_from(["utf-8", "utf-16", "cp1252", "shift_jis"]),
)
@bounded(120)
def test_missing_repeated_columns_and_bad_cells_are_problems_with_places(
    tmp_path: Path,
    header: list[str],
    rows: list[list[str]],
    encoding: str | None,
    written_as: str,
) -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    data = out.getvalue().encode(written_as, errors="replace")
    with contextlib.suppress(SsaplanError):
        _located(_read_fa(tmp_path, data, encoding))


def test_a_cell_longer_than_the_csv_readers_limit_is_refused_not_a_crash(tmp_path: Path) -> None:
    """Found by these properties: a 200,000-character cell (within the 1 MiB line bound),
    or a quoted cell running over many short lines, raised the csv module's own error."""
    header = b"Country Code,Fiscal Year,Transaction Type Name,current_amount\n"
    for body in (
        b"USA,2020,Obligations," + b"1" * 200_000,
        b'USA,2020,Obligations,"' + b"1\n" * 70_000,
    ):
        with pytest.raises(TooLarge) as info:
            _read_fa(tmp_path, header + body + b"\n")
        assert "line 2" in info.value.message and "characters" in info.value.message


@pytest.mark.parametrize("cell", ["(-5)", "((5))", "(5", "5)"])
def test_a_doubly_or_half_bracketed_amount_is_refused(tmp_path: Path, cell: str) -> None:
    """Found with these properties' hostile cells: "(-5)" was read as +5 dollars (the
    brackets negated the minus) and "(5" or "5)" as 5."""
    header = ["Country Code", "Fiscal Year", "Transaction Type Name", "Amount"]
    result = _read_fa(tmp_path, _csv([header, ["KEN", "2020", "Obligations", cell]]))
    assert not result.figures
    [(_loc, _label, [detail])] = result.rejected
    assert detail.loc == ("fa.csv", "line 2", "amount") and "not an amount" in detail.msg


@given(
    length=st.integers(1, 400_000),
    lines=st.integers(1, 4),
    reader=st.sampled_from(["fa", "indicator"]),
)
@bounded(12)
def test_huge_cells_within_the_line_bound_are_read_or_refused(
    tmp_path: Path, length: int, lines: int, reader: str
) -> None:
    """One cell up to 400,000 characters, over up to 4 quoted lines (the line bound,
    SSAPLAN_MAX_CSV_LINE_CHARS, is 1 MiB): read, or refused as too large."""
    piece = "9" * (length // lines)
    cell = '"' + "\n".join([piece] * lines) + '"'
    if reader == "fa":
        head, row = "Country Code,Fiscal Year,Transaction Type Name,Amount", "KEN,2020,Obligations,"
    else:
        head, row = "iso3,year,measure,value", "KEN,2020,m,"
    data = f"{head}\n{row}{cell}\n".encode()
    try:
        if reader == "fa":
            _located(_read_fa(tmp_path, data))
        else:
            _parse_cleanly(data)
    except TooLarge as exc:
        assert "line 2" in exc.message


# -- foreign assistance: all or nothing -------------------------------------------------
@given(rows=TOTALS_ROWS, bad=st.none() | st.tuples(st.integers(0, 12), HOSTILE_CELL))
@bounded(15)
def test_a_foreign_assistance_import_is_all_or_nothing(
    sqlite_store: Store, tmp_path: Path, rows: list[tuple[str, int, str, int, int]], bad: Any
) -> None:
    lines = [[c, str(fy), m, str(a)] for c, fy, m, a, _s in rows]
    if bad is not None:  # one amount that is not an amount
        position, cell = bad
        cell = cell if cell.strip() else "x"
        lines.insert(position % (len(lines) + 1), [rows[0][0], "2020", "Obligations", f"{cell}?"])
    path = tmp_path / "totals.csv"
    path.write_bytes(
        _csv([["Country Code", "Fiscal Year", "Transaction Type Name", "Amount"], *lines])
    )
    before = db_state(sqlite_store)
    try:
        with sqlite_store.transaction() as session:
            summary = IngestService(session, OPERATOR).import_foreign_assistance([path])
    except Invalid as exc:
        assert bad is not None and "nothing was written" in exc.message
        assert db_state(sqlite_store) == before
        return
    assert bad is None
    after = db_state(sqlite_store)
    assert (
        after["us_assistance_figures"] - before["us_assistance_figures"]
        == (summary["figures"]["inserted"])
    )
    expected: dict[tuple[str, int, str], int] = defaultdict(int)
    for c, fy, m, a, _s in rows:
        expected[(c, fy, MEASURES[m])] += a
    with sqlite_store.session() as session:
        stored = {
            (f.iso3, f.fiscal_year, f.measure): f.amount
            for f in session.execute(select(USAssistanceFigure)).scalars()
            if (f.iso3, f.fiscal_year, f.measure) in expected
        }
    assert stored == expected  # the whole file, to the dollar


# -- indicators: round trips ----------------------------------------------------------
MEASURE_NAME = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,-_()%", min_size=1, max_size=40)
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(COUNTRIES),
            st.integers(1900, 2100),
            MEASURE_NAME,
            FLOATS,
            st.none() | st.floats(min_value=0, allow_infinity=False),
        ),
        min_size=1,
        max_size=15,
        unique_by=lambda r: (r[0], r[1], r[2]),
    ),
    order=st.permutations(range(6)),
)
@bounded(80)
def test_tidy_indicator_files_read_back_every_value(
    rows: list[tuple[str, int, str, float, float | None]], order: list[int]
) -> None:
    header = ["iso3", "year", "measure", "value", "std_error", "source"]
    lines = [
        [c, str(y), m, repr(v), "" if se is None else repr(se), "fuzz"] for c, y, m, v, se in rows
    ]
    parsed = parse_indicator_bytes(_csv([[r[i] for i in order] for r in [header, *lines]]), "i.csv")
    assert not parsed.problems, parsed.problems
    got = {
        (o.iso3, o.year, o.measure): (o.value, o.std_error, o.source) for o in parsed.observations
    }
    assert got == {(c, y, m): (v, se, "fuzz") for c, y, m, v, se in rows}


# -- indicators: hostile input ---------------------------------------------------------
def _parse_cleanly(data: bytes) -> None:
    try:
        parsed = parse_indicator_bytes(data, "i.csv")
    except SsaplanError:
        return
    for p in (*parsed.problems, *parsed.ignored):
        assert p.file == "i.csv" and p.line >= 2 and p.column, p


@given(data=st.binary(max_size=1_500))
@bounded(80)
def test_any_indicator_bytes_are_read_or_refused_cleanly(data: bytes) -> None:
    _parse_cleanly(data)
    _parse_cleanly(b"iso3,year,measure,value\n" + data)


INDICATOR_COLUMNS = [
    "iso3",
    "year",
    "measure",
    "value",
    "std_error",
    "source",
    "Country Name",
    "Country Code",
    "Indicator Code",
    "1990",
    "2020",
    "Year",
    "Estimate",
    "",
]


@given(
    header=st.lists(st.sampled_from(INDICATOR_COLUMNS) | TEXT, min_size=1, max_size=10),
    rows=st.lists(st.lists(HOSTILE_CELL | st.sampled_from(COUNTRIES), max_size=11), max_size=10),
    delimiter=st.sampled_from([",", ";", "\t"]),
    written_as=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
@bounded(120)
def test_indicator_files_with_odd_columns_and_cells_are_problems_with_places(
    header: list[str], rows: list[list[str]], delimiter: str, written_as: str
) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows([header, *rows])
    _parse_cleanly(out.getvalue().encode(written_as, errors="replace"))


# -- indicators: all or nothing ---------------------------------------------------------
def _observations(store: Store) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(IndicatorObservation)).scalar_one()


@given(
    rows=st.lists(
        st.tuples(st.sampled_from(COUNTRIES), st.integers(1900, 2100), FLOATS),
        min_size=1,
        max_size=10,
        unique_by=lambda r: (r[0], r[1]),
    ),
    bad=st.none() | st.tuples(st.integers(0, 10), HOSTILE_CELL),
)
@bounded(15)
def test_an_indicator_import_is_all_or_nothing(
    sqlite_store: Store, rows: list[tuple[str, int, float]], bad: Any
) -> None:
    lines = [[c, str(y), "fuzz measure", repr(v)] for c, y, v in rows]
    if bad is not None:
        position, cell = bad
        lines.insert(position % (len(lines) + 1), [rows[0][0], "1899", "fuzz measure", cell])
    parsed = parse_indicator_bytes(_csv([["iso3", "year", "measure", "value"], *lines]), "i.csv")
    before = _observations(sqlite_store)
    try:
        with sqlite_store.transaction() as session:
            summary = IndicatorService(session, OPERATOR).import_files([parsed])
    except Invalid as exc:
        assert bad is not None and "nothing was written" in exc.message
        assert _observations(sqlite_store) == before
        return
    assert bad is None
    assert _observations(sqlite_store) - before == summary.created
    assert summary.created + summary.updated + summary.unchanged == len(rows)
