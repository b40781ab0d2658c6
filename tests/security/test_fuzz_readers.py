"""Property-based checks of the bounded readers (issue 10, item 10, a first part):
whatever the text, the program reader answers with problems or a 413, never a crash."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssaplan.core.errors import TooLarge
from ssaplan.core.limits import csv_rows
from ssaplan.core.settings import Settings
from ssaplan.ingest.programs_io import PROGRAM_COLUMNS
from ssaplan.ingest.programs_read import read_table

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.lists(CELL, min_size=1, max_size=8), max_size=20))
@settings(max_examples=150, deadline=None)
def test_within_bounds_the_bounded_reader_reads_what_csv_reads(rows: list[list[str]]) -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    expected = list(csv.reader(io.StringIO(text, newline="")))
    assert list(csv_rows(text, "f.csv", settings=Settings())) == expected


@given(st.text(max_size=2_000))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_is_read_or_refused_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(",".join(PROGRAM_COLUMNS[:6]) + "\n" + text, encoding="utf-8")
    try:
        table = read_table(path, "fuzz.csv")
    except TooLarge:
        return
    assert all(isinstance(r.cells, dict) for r in table.rows)
