"""Indicator import: layouts, country matching, every kind of bad cell, all-or-nothing
writes, re-import, and every real file in ../shared/data/indicators."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from ssaplan.assessment.indicators.countries import CountryMatcher
from ssaplan.assessment.indicators.reader import parse_indicator_bytes, read_indicator_file
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.models import IndicatorObservation
from ssaplan.core.errors import BadRequest, Forbidden, Invalid
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from tests.assessment.conftest import INDICATORS, SMALL_TIDY
from tests.conftest import OPERATOR, shared_data

Write = Callable[[str, str], Path]


def parse(text: str, name: str = "t.csv", **kw: str) -> object:
    return parse_indicator_bytes(text.encode("utf-8"), name, **kw)


def test_tidy_rows_become_observations(write: Write) -> None:
    f = read_indicator_file(
        write(
            "mine.csv",
            "ISO3,Year,Measure,Value,Std_Error\nKEN,2020,my index,1.5,0.1\n"
            "Kenya,2021,my index,2,\n",
        )
    )
    assert f.layout == "tidy" and not f.problems
    got = sorted(
        (o.iso3, o.year, o.measure, o.source, o.value, o.std_error) for o in f.observations
    )
    assert got == [
        ("KEN", 2020, "my index", "file mine.csv", 1.5, 0.1),
        ("KEN", 2021, "my index", "file mine.csv", 2.0, None),
    ]
    named = read_indicator_file(write("x.csv", SMALL_TIDY), default_source="ignored")
    assert {o.source for o in named.observations} == {"test"}


@pytest.mark.parametrize(
    ("row", "where", "reason"),
    [
        ("KEN,2020,m,abc", "value", "'abc' is not a number"),
        ("KEN,2020,m,", "value", "is empty"),
        ("KEN,2020,m,NA", "value", "'NA' is not a number"),
        ("KEN,2020,m,inf", "value", "'inf' is not a number"),
        ("KEN,1850,m,1", "year", "year 1850 is outside 1900-2100"),
        ("KEN,20x0,m,1", "year", "'20x0' is not a year"),
        ("KEN,,m,1", "year", "is empty"),
        ("KEN,2020,,1", "measure", "is empty"),
        (",2020,m,1", "iso3", "is empty"),
        ("KEN,2020,m,1,extra", "row", "5 cells, expected 4"),
    ],
)
def test_malformed_cells_name_file_line_and_column(row: str, where: str, reason: str) -> None:
    f = parse_indicator_bytes(f"iso3,year,measure,value\nKEN,2019,m,1\n{row}\n".encode(), "bad.csv")
    assert [(p.file, p.line, p.column) for p in f.problems] == [("bad.csv", 3, where)]
    assert reason in f.problems[0].reason
    assert str(f.problems[0].detail()).startswith(f"bad.csv.line 3.{where}: ")


def test_a_key_given_twice_with_different_values_is_an_error() -> None:
    f = parse_indicator_bytes(
        b"iso3,year,measure,value\nKEN,2020,m,1\nKenya,2020,m,1\nKEN,2020,m,2\n", "d.csv"
    )
    assert len(f.observations) == 1
    assert [p.line for p in f.problems] == [4]
    assert "already given on line 2" in f.problems[0].reason


def test_unmatched_names_and_aggregates_are_listed_not_dropped() -> None:
    f = parse_indicator_bytes(
        b"iso3,year,measure,value\nNarnia,2020,m,1\nNarnia,2021,m,1\nWorld,2020,m,3\n"
        b"Sub-Saharan Africa (excluding high income),2020,m,2\nUSSR,1980,m,1\nFRA,2020,m,4\n",
        "u.csv",
    )
    assert not f.problems and [o.iso3 for o in f.observations] == ["FRA"]
    assert [(u.file, u.row, u.name, u.rows) for u in f.unmatched] == [("u.csv", 2, "Narnia", 2)]
    assert [(u.name, u.reason) for u in f.not_countries] == [
        ("World", "aggregate"),
        ("Sub-Saharan Africa (excluding high income)", "looks like a group of countries"),
        ("USSR", "dissolved in 1991"),
    ]


@pytest.mark.parametrize(
    ("name", "code", "iso3"),
    [
        ("Congo, Dem. Rep.", "ZAR", "COD"),
        ("Congo, Rep.", "", "COG"),
        ("Cote d'Ivoire", "", "CIV"),
        ("Côte d'Ivoire", "", "CIV"),
        ("Korea, Rep.", "", "KOR"),
        ("Korea, Dem. Rep.", "", "PRK"),
        ("Kosovo", "KSV", "XKX"),
        ("Romania", "ROM", "ROU"),
        ("Timor-Leste", "TMP", "TLS"),
        ("West Bank and Gaza", "WBG", "PSE"),
        ("Namibia", "NAM", "NAM"),
        ("Turkey", "", "TUR"),
        ("Germany", "DEU", "DEU"),
    ],
)
def test_country_names_and_codes_match_iso_3166(name: str, code: str, iso3: str) -> None:
    found = CountryMatcher().match(name, code)
    assert (found.kind, found.iso3) == ("country", iso3)


def test_former_states_are_not_countries_even_under_a_current_code() -> None:
    found = CountryMatcher().match("Germany, E.", "DEU")
    assert found.kind == "former" and found.iso3 is None


def test_whole_file_problems_raise() -> None:
    with pytest.raises(BadRequest, match="binary file"):
        parse_indicator_bytes(b"\x00\x01PK", "x.xlsx")
    with pytest.raises(BadRequest, match="the file is empty"):
        parse_indicator_bytes(b"\n\n", "e.csv")
    with pytest.raises(BadRequest, match="unknown indicator layout.*known layouts: tidy"):
        parse_indicator_bytes(b"a,b,c\n1,2,3\n", "u.csv")


def test_windows_1252_and_semicolons_are_read() -> None:
    text = "iso3;year;measure;value\nCôte d'Ivoire;2020;m;1\n".encode("cp1252")
    f = parse_indicator_bytes(text, "w.csv")
    assert f.encoding == "cp1252" and [o.iso3 for o in f.observations] == ["CIV"]


def test_public_layouts_from_small_samples() -> None:
    fh = parse(
        '"","Country","Year","Political.Rights","Civil.Liberties","Code"\n'
        '"1","Andorra","1977","-","-","AND"\n"2","South Africa","1972","3(6)","2(5)","ZAF"\n'
        '"3","Kenya","2019","4","9","KEN"\n'
    )
    assert fh.layout == "freedom_house" and fh.missing == 2 and len(fh.ignored) == 2
    assert [o.measure for o in fh.observations] == ["Freedom House political rights"]
    assert "outside the published range 1 to 7" in fh.problems[0].reason
    hdi = parse(
        "iso3,country,hdicode,region,hdi_rank_2021,hdi_2020,hdi_2021\nKEN,Kenya,Medium,SSA,152,0.58,\n"
    )
    assert [(o.year, o.measure, o.value) for o in hdi.observations] == [(2020, "HDI", 0.58)]
    fsi = parse(
        "Country,Year,Rank,Total,C1: Security Apparatus,P3: Human Rights\n"
        "Congo Democratic Republic,2006-01-01,2nd,110.1,9.0,9.5\n"
    )
    assert {(o.iso3, o.year, o.measure) for o in fsi.observations} == {
        ("COD", 2006, "FSI total"),
        ("COD", 2006, "FSI C1 security apparatus"),
        ("COD", 2006, "FSI P3 human rights"),
    }
    wgi = parse(
        '"","Country/Territory","Code","Year","Estimate","Lower","NumSrc","Rank","StdErr",'
        '"Upper","Indicator"\n"1","Congo, Dem. Rep.","ZAR",2019,-1.5,0,4,1,0.2,9.5,"RuleofLaw"\n'
    )
    (o,) = wgi.observations
    assert (o.iso3, o.measure, o.value, o.std_error, o.source) == (
        "COD",
        "WGI rule of law",
        -1.5,
        0.2,
        "World Bank WGI",
    )


def count(store: Store) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(IndicatorObservation)).scalar_one()


def audits(store: Store) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()


def do_import(
    store: Store, files: list[Path], actor: Actor = OPERATOR, **kw: bool
) -> dict[str, object]:
    parsed = [read_indicator_file(p) for p in files]
    with store.transaction() as session:
        return IndicatorService(session, actor).import_files(parsed, **kw).as_dict()


def test_import_writes_then_updates_never_duplicates(store: Store, write: Write) -> None:
    path = write("t.csv", SMALL_TIDY)
    first = do_import(store, [path])
    assert (first["observations"], first["created"], first["countries"], first["measures"]) == (
        9,
        9,
        4,
        3,
    )
    again = do_import(store, [path])
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 9)
    changed = write("t.csv", SMALL_TIDY.replace("KEN,2020,gov,1,test", "KEN,2020,gov,1.5,test"))
    third = do_import(store, [changed])
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 8)
    assert count(store) == 9
    with store.session() as session:
        value = session.execute(
            select(IndicatorObservation.value).where(
                IndicatorObservation.iso3 == "KEN", IndicatorObservation.measure == "gov"
            )
        ).scalar_one()
    assert value == 1.5


def test_a_malformed_file_writes_nothing_unless_skip_invalid(store: Store, write: Write) -> None:
    good = write("good.csv", SMALL_TIDY)
    bad = write("bad.csv", "iso3,year,measure,value\nKEN,2020,x,1\nKEN,2021,x,oops\nZZZ,2020,x,1\n")
    before = audits(store)
    with pytest.raises(Invalid) as info:
        do_import(store, [good, bad])
    assert "nothing was written" in info.value.message
    assert [d.loc for d in info.value.details] == [("bad.csv", "line 3", "value")]
    assert count(store) == 0 and audits(store) == before
    summary = do_import(store, [good, bad], skip_invalid=True)
    assert summary["observations"] == 10 and count(store) == 10
    assert summary["skipped"] == [
        {"file": "bad.csv", "line": 3, "column": "value", "reason": "'oops' is not a number"}
    ]
    assert [u["name"] for u in summary["unmatched"]] == ["ZZZ"]
    assert audits(store) == before + 2  # one record per file


def test_only_importers_may_import(store: Store, write: Write) -> None:
    with pytest.raises(Forbidden):
        do_import(store, [write("t.csv", SMALL_TIDY)], actor=Actor("v", "viewer"))


# -- the real files ---------------------------------------------------------------------
def _real_files() -> list[str]:
    if not INDICATORS.exists():
        return ["(missing)"]
    return sorted(str(p.relative_to(INDICATORS)) for p in INDICATORS.rglob("*.csv"))


def _independent_count(path: Path, layout: str, excluded: set[str]) -> int:
    """Numeric value cells counted with pandas, not with the importer's reader."""
    encoding = "cp1252" if layout == "wgi" else "utf-8"
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    df.columns = [" ".join(str(c).split()) for c in df.columns]
    name_col = {"wgi": "Country/Territory", "hdi": "country"}.get(layout, "Country")
    df = df[~df[name_col].isin(excluded)]
    if layout == "wgi":
        cols = ["Estimate"]
    elif layout == "cpia":
        cols = ["Value"]
    elif layout == "freedom_house":
        cols = ["Political.Rights", "Civil.Liberties"]
    elif layout == "fsi_year":
        cols = ["Total"] + [c for c in df.columns if re.match(r"^[CEPSX]\d: ", c)]
    elif layout == "fsi_total":
        cols = ["Total"]
    elif layout == "hdi":
        cols = [c for c in df.columns if re.match(r"^hdi_\d{4}$", c)]
    else:
        cols = ["Overall Score"] + [c for c in df.columns if re.match(r"^Factor \d:", c)]
    numeric = df[cols].apply(pd.to_numeric, errors="coerce")
    return int(numeric.notna().sum().sum())


@pytest.mark.parametrize("relative", _real_files())
def test_every_real_indicator_file_reads_completely(relative: str) -> None:
    path = shared_data("indicators", *Path(relative).parts)
    f = read_indicator_file(path)
    assert f.layout != "tidy"
    assert not f.problems, [p.detail() for p in f.problems[:5]]
    assert not f.unmatched, [u.as_dict() for u in f.unmatched]
    excluded = {
        u.name.rsplit(" (", 1)[0] if u.name.endswith(")") else u.name for u in f.not_countries
    }
    assert len(f.observations) == _independent_count(path, f.layout, excluded)
    assert len({o.iso3 for o in f.observations}) >= 80


def test_every_real_file_together(real: Store) -> None:
    shared_data("indicators")
    with real.session() as session:
        measures = {m["measure"] for m in IndicatorService(session, OPERATOR).measures()}
        countries = session.execute(
            select(func.count(func.distinct(IndicatorObservation.iso3)))
        ).scalar_one()
    from ssaplan.assessment.framework import load_shipped

    assert set(load_shipped().measures_of("indicator")) <= measures
    assert countries >= 210 and count(real) > 100_000
