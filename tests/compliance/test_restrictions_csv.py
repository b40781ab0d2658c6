"""The restrictions CSV: good files become restrictions, every bad cell is named."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ssaplan.compliance import restrictions_csv
from ssaplan.compliance.inputs import Waiver
from ssaplan.compliance.restrictions_csv import COLUMNS, read_restrictions
from ssaplan.compliance.rules import DATA_DIR, RuleSet
from ssaplan.core.errors import Detail, Invalid
from ssaplan.reference.catalog import get_catalog

HEADER = ",".join(COLUMNS)
TYPES = {"coup", "child_soldiers", "trafficking_tier3", "state_sponsor_of_terrorism"}
ACCOUNTS = {"FMF", "IMET", "PKO", "ESF"}


def read(*rows: str, header: str = HEADER, **kw: Any) -> restrictions_csv.RestrictionsFile:
    text = "\n".join([header, *rows]) + "\n"
    return read_restrictions(text, name="r.csv", known_accounts=ACCOUNTS, known_types=TYPES, **kw)


def errors(*rows: str, **kw: Any) -> list[Detail]:
    with pytest.raises(Invalid) as caught:
        read(*rows, **kw)
    assert "no restriction was imported" in caught.value.message
    return list(caught.value.details)


def one(*rows: str, **kw: Any) -> Detail:
    found = errors(*rows, **kw)
    assert len(found) == 1, found
    return found[0]


def test_a_good_file() -> None:
    result = read(
        "MLI,coup,2020-08-18,,Sec. 7008 determination,,,",
        "NER,coup,2023-10-10,,Sec. 7008 determination,FMF|IMET,2024-01-01,2024-09-30",
        "NER,coup,2023-10-10,,Sec. 7008 determination,ESF;PKO,2024-10-01,",
        "",
        "SSD,child_soldiers,2024-10-01,2025-09-30,CSPA list (2024 TIP Report),,,",
    )
    assert result.rows == 4 and result.warnings == ()
    mli, ner, ssd = result.restrictions
    assert (mli.country, mli.type, mli.start, mli.end, mli.waivers) == (
        "MLI",
        "coup",
        date(2020, 8, 18),
        None,
        (),
    )
    assert mli.source_document == "r.csv, line 2"
    assert ner.waivers == (
        Waiver(frozenset({"FMF", "IMET"}), date(2024, 1, 1), date(2024, 9, 30)),
        Waiver(frozenset({"ESF", "PKO"}), date(2024, 10, 1), None),
    )
    assert ssd.end == date(2025, 9, 30)


def test_columns_in_any_order_any_case_with_a_bom_and_crlf() -> None:
    header = "Type,COUNTRY,start,end,citation,waiver_start,waiver_end,waiver_accounts"
    text = "\ufeff" + header + "\r\ncoup,MLI,2020-08-18,,x,,,\r\n"
    result = read_restrictions(text.encode("utf-8"), known_accounts=ACCOUNTS, known_types=TYPES)
    assert result.restrictions[0].country == "MLI"
    assert result.restrictions[0].source_document == "restrictions.csv, line 2"


def test_country_names_with_a_resolver() -> None:
    catalog = get_catalog()
    result = read(
        "Mali,coup,2020-08-18,,x,,,",
        "Burma,coup,2021-02-02,,x,,,",
        resolve_country=lambda v: catalog.resolve("country", v),
    )
    assert [r.country for r in result.restrictions] == ["MLI", "MMR"]
    d = one("Narnia,coup,2020-08-18,,x,,,", resolve_country=lambda v: catalog.resolve("country", v))
    assert d.loc == ("r.csv", "line 2", "country") and "Narnia" in d.msg


def test_a_path_and_the_shipped_sst_file(rules: RuleSet, accounts: frozenset[str]) -> None:
    path = DATA_DIR / "state_sponsors_of_terrorism.csv"
    result = read_restrictions(path, known_accounts=accounts, known_types=rules.restriction_types)
    current = {r.country for r in result.restrictions if r.end is None}
    assert current == {"CUB", "IRN", "PRK", "SYR"}
    assert result.restrictions[0].source_document.startswith("state_sponsors_of_terrorism.csv")


def test_waiver_reaching_outside_the_restriction_is_a_warning() -> None:
    result = read("MLI,coup,2024-10-01,2025-09-30,x,FMF,2024-09-01,")
    assert [(w.loc, "only the days" in w.msg) for w in result.warnings] == [
        (("r.csv", "line 2", "waiver_start"), True)
    ]
    result = read("MLI,coup,2024-10-01,2025-09-30,x,FMF,2025-01-01,")
    assert result.warnings[0].loc[-1] == "waiver_end"  # open-ended waiver, bounded restriction


def test_waiver_entirely_outside_the_restriction_is_an_error() -> None:
    d = one("MLI,coup,2024-10-01,2025-09-30,x,FMF,2025-10-01,")
    assert d.loc == ("r.csv", "line 2", "waiver_start") and "entirely outside" in d.msg
    d = one("MLI,coup,2024-10-01,,x,FMF,2023-01-01,2024-09-30")
    assert "entirely outside" in d.msg


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        (",coup,2024-10-01,,x,,,", "country", "country is required"),
        ("Mali,coup,2024-10-01,,x,,,", "country", "3-letter upper-case"),
        ("mli,coup,2024-10-01,,x,,,", "country", "3-letter upper-case"),
        ("MLI,,2024-10-01,,x,,,", "type", "type is required"),
        ("MLI,sanctions,2024-10-01,,x,,,", "type", "unknown restriction type 'sanctions'"),
        ("MLI,leahy,2024-10-01,,x,,,", "type", "per unit"),
        ("MLI,coup,,,x,,,", "start", "date is required"),
        ("MLI,coup,01/10/2024,,x,,,", "start", "YYYY-MM-DD"),
        ("MLI,coup,2025-02-30,,x,,,", "start", "real calendar date"),
        ("MLI,coup,2024-10-01,2024-9-30,x,,,", "end", "YYYY-MM-DD"),
        ("MLI,coup,2024-10-01,2024-09-30,x,,,", "end", "ends (2024-09-30) before it starts"),
        ("MLI,coup,2024-10-01,,,,,", "citation", "citation or determination is required"),
        ("MLI,coup,2024-10-01,,x,FMFP,2024-10-01,", "waiver_accounts", "unknown account 'FMFP'"),
        ("MLI,coup,2024-10-01,,x,FMF|FMF,2024-10-01,", "waiver_accounts", "listed twice"),
        ("MLI,coup,2024-10-01,,x,FMF,,", "waiver_start", "date is required"),
        ("MLI,coup,2024-10-01,,x,,2024-10-01,", "waiver_accounts", "no waiver accounts"),
        ("MLI,coup,2024-10-01,,x,FMF,2025-01-01,2024-12-31", "waiver_end", "waiver ends"),
        ("MLI,coup,2024-10-01,,x,FMF,2025-01-01,soon", "waiver_end", "YYYY-MM-DD"),
    ],
)
def test_each_bad_cell_is_named(row: str, column: str, needle: str) -> None:
    d = one(row)
    assert d.loc == ("r.csv", "line 2", column)
    assert needle in d.msg


def test_the_resolver_must_answer_an_iso3_code() -> None:
    d = one("Mali,coup,2024-10-01,,x,,,", resolve_country=lambda v: "ML")
    assert "not an ISO3 code" in d.msg


def test_overlapping_periods_of_the_same_country_and_type() -> None:
    d = one("MLI,coup,2020-08-18,2021-09-30,x,,,", "MLI,coup,2021-09-30,,x,,,")
    assert d.loc == ("r.csv", "line 3", "start") and "overlaps" in d.msg and "line 2" in d.msg
    d = one("MLI,coup,2020-08-18,,x,,,", "MLI,coup,2024-01-01,2024-12-31,x,,,")
    assert d.loc[1] == "line 3"  # an open-ended period overlaps everything after it
    # Found whatever the row order, against the earlier period.
    d = one("MLI,coup,2024-01-01,2024-12-31,x,,,", "MLI,coup,2020-08-18,,x,,,")
    assert d.loc[1] == "line 2" and "line 3" in d.msg
    # Adjacent periods, other types and other countries do not overlap.
    read(
        "MLI,coup,2020-08-18,2021-09-30,x,,,",
        "MLI,coup,2021-10-01,,x,,,",
        "MLI,child_soldiers,2021-10-01,2022-09-30,y,,,",
        "NER,coup,2021-10-01,,x,,,",
    )


def test_contradictory_and_repeated_rows_of_one_restriction() -> None:
    d = one("MLI,coup,2020-08-18,,Sec. 7008,,,", "MLI,coup,2020-08-18,,Sec. 7031,FMF,2021-01-01,")
    assert d.loc == ("r.csv", "line 3", "citation") and "contradicts line 2" in d.msg
    d = one("MLI,coup,2020-08-18,,x,FMF,2021-01-01,", "MLI,coup,2020-08-18,,x,FMF,2021-01-01,")
    assert d.loc == ("r.csv", "line 3") and "repeats line 2" in d.msg


def test_header_problems() -> None:
    found = errors(
        "MLI,coup,2024-10-01,,x,,,",
        header="country,kind,start,end,citation,waiver_accounts,waiver_start,start",
    )
    assert [(d.loc, d.msg.split(";")[0]) for d in found] == [
        (("r.csv", "line 1", "kind"), "unknown column"),
        (("r.csv", "line 1", "start"), "column given twice"),
        (("r.csv", "line 1", "type"), "column missing"),
        (("r.csv", "line 1", "waiver_end"), "column missing"),
    ]


def test_rows_with_the_wrong_number_of_cells() -> None:
    d = one("MLI,coup,2024-10-01,,Sec. 7008, as amended,,,")
    assert d.loc == ("r.csv", "line 2") and "9 cells but the header has 8" in d.msg


def test_line_numbers_count_quoted_line_breaks() -> None:
    d = one('MLI,coup,2020-08-18,,"Sec. 7008\nsecond line",,,', "NER,coup,2024-13-01,,x,,,")
    assert d.loc == ("r.csv", "line 4", "start")


def test_every_problem_is_reported_at_once() -> None:
    found = errors(
        "Mali,coup,2024-10-01,,x,,,", "MLI,sanctions,2024-10-01,,x,,,", "MLI,coup,,,x,,,"
    )
    assert [d.loc[1:] for d in found] == [
        ("line 2", "country"),
        ("line 3", "type"),
        ("line 4", "start"),
    ]


def test_the_detail_list_is_capped_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(restrictions_csv, "MAX_DETAILS", 2)
    with pytest.raises(Invalid) as caught:
        read(*["Mali,coup,2024-10-01,,x,,,"] * 3)
    assert len(caught.value.details) == 2 and "the first 2 are listed" in caught.value.message


def test_file_level_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(data: bytes | str | Path) -> Detail:
        with pytest.raises(Invalid) as caught:
            read_restrictions(data, name="f.csv", known_accounts=ACCOUNTS, known_types=TYPES)
        return caught.value.details[0]

    assert "the file is empty" in whole(b"").msg
    assert whole(b"\n\n").loc == ("f.csv", "line 1")
    bad_utf8 = whole(HEADER.encode() + b"\nMLI,coup,2024-10-01,,\xe9,,,\n")
    assert bad_utf8.loc == ("f.csv", "line 2") and "not UTF-8" in bad_utf8.msg
    assert "NUL byte" in whole(HEADER + "\nMLI\x00,coup\n").msg
    long_line = whole(HEADER + "\nMLI,coup,2024-10-01,," + "x" * 5000 + ",,,\n")
    assert long_line.loc == ("f.csv", "line 2") and "limit is 4000" in long_line.msg
    malformed = whole(HEADER + '\nMLI,coup,2024-10-01,,"x"y,,,\n')
    assert "malformed CSV" in malformed.msg

    monkeypatch.setattr(restrictions_csv, "MAX_BYTES", 100)
    assert "limit is 100" in whole("x" * 101).msg
    big = tmp_path / "big.csv"
    big.write_text("x" * 101)
    too_big = whole(big)
    assert too_big.loc == ("f.csv",) and "limit is 100" in too_big.msg  # checked before reading

    monkeypatch.setattr(restrictions_csv, "MAX_BYTES", 5_000_000)
    monkeypatch.setattr(restrictions_csv, "MAX_ROWS", 2)
    rows = "\n".join(f"MLI,coup,20{y}-10-01,20{y + 1}-09-30,x,,," for y in range(10, 13))
    assert "more than 2 rows" in whole(HEADER + "\n" + rows + "\n").msg
