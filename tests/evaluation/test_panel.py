"""Reading a panel CSV: bounds, missing and empty files, unknown columns, line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ssaplan.core.errors import BadRequest, Invalid
from ssaplan.evaluation.panel import Limits, load_panel, parse_windows, read_panel_csv

GOOD = "unit,year,y,d\nA,2000,1.5,0\nA,2001,2.5,1\nB,2000,1.0,0\nB,2001,1.2,0\n"


def write(tmp_path: Path, text: str | bytes, name: str = "panel.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_reads_only_the_named_columns_as_text_indexed_by_line(tmp_path: Path) -> None:
    frame = read_panel_csv(write(tmp_path, GOOD), ["unit", "y"])
    assert list(frame.columns) == ["unit", "y"]
    assert frame.index.name == "line" and list(frame.index) == [2, 3, 4, 5]
    assert frame.loc[3, "y"] == "2.5"


def test_load_panel_validates_and_names_file_and_line(tmp_path: Path) -> None:
    panel = load_panel(write(tmp_path, GOOD), unit="unit", time="year", outcome="y", treated="d")
    assert panel.units == ("A", "B") and panel.cohort.tolist() == [1, -1]
    bad = GOOD.replace("2.5", "two")
    with pytest.raises(Invalid) as e:
        load_panel(write(tmp_path, bad), unit="unit", time="year", outcome="y", treated="d")
    assert e.value.details[0].loc == ("panel.csv", "line", 3, "y")
    assert "'two'" in e.value.details[0].msg


def test_missing_cells_are_missing_not_errors(tmp_path: Path) -> None:
    text = GOOD.replace("1.2", "NA").replace("1.0", "")
    panel = load_panel(write(tmp_path, text), unit="unit", time="year", outcome="y")
    assert np.isnan(panel.y[1]).all() and not np.isnan(panel.y[0]).any()


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="does not exist"):
        read_panel_csv(tmp_path / "nope.csv", ["unit"])
    with pytest.raises(BadRequest, match="not a file"):
        read_panel_csv(tmp_path, ["unit"])
    with pytest.raises(BadRequest, match="is empty"):
        read_panel_csv(write(tmp_path, "\n\n"), ["unit"])
    with pytest.raises(BadRequest, match="header but no rows"):
        read_panel_csv(write(tmp_path, "unit,year\n"), ["unit"])


def test_unknown_column_lists_the_header(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="unknown column") as e:
        read_panel_csv(write(tmp_path, GOOD), ["unit", "outcome"])
    assert e.value.details[0].loc == ("panel.csv", "columns", "outcome")
    assert "the file has: unit, year, y, d" in e.value.details[0].msg


@pytest.mark.parametrize(
    ("limits", "text", "message"),
    [
        (Limits(max_bytes=50), GOOD, "over the limit of 0 MB (max_bytes)"),
        (Limits(max_rows=3), GOOD, "4 rows, over the limit of 3 (max_rows)"),
        (Limits(max_columns=3), GOOD, "4 columns, over the limit of 3 (max_columns)"),
        (
            Limits(max_line_bytes=20),
            GOOD + "C,2000," + "9" * 30 + ",0\n",
            "line 6 is 39 bytes long, over the limit of 20 (max_line_bytes)",
        ),
    ],
)
def test_each_bound_is_refused_by_name(
    tmp_path: Path, limits: Limits, text: str, message: str
) -> None:
    with pytest.raises(BadRequest) as e:
        read_panel_csv(write(tmp_path, text), ["unit"], limits=limits)
    assert message in str(e.value)


def test_not_utf8_duplicate_header_and_bad_csv(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="not UTF-8"):
        read_panel_csv(write(tmp_path, GOOD.encode() + b"\xff,1,2,3\n"), ["unit"])
    with pytest.raises(BadRequest, match="repeats column names: y"):
        read_panel_csv(write(tmp_path, "unit,y,y\nA,1,2\n"), ["unit"])
    with pytest.raises(BadRequest, match="not valid CSV"):
        read_panel_csv(write(tmp_path, 'unit,y\nA,"1\nB,2\n'), ["unit", "y"])


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    frame = read_panel_csv(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()), ["unit"])
    assert len(frame) == 4


def test_parse_windows() -> None:
    assert parse_windows({"beer": "1984-1988"}) == {"beer": (1984.0, 1988.0)}
    with pytest.raises(BadRequest, match="FIRST-LAST"):
        parse_windows({"beer": "1984"})
