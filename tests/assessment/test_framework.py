"""Frameworks as data: the CSV contract, every validation error, the shipped default."""

from __future__ import annotations

import pytest

from ssaplan.assessment.framework import (
    COLUMNS,
    PORTFOLIO_MEASURES,
    framework_from_rows,
    load_shipped,
    measure_kind,
    parse_framework,
)
from ssaplan.core.errors import Invalid

HEADER = "measure,construct,direction,measure_weight,construct_weight\n"


def errors(text: str) -> list[str]:
    with pytest.raises(Invalid) as info:
        parse_framework(text, name="t", where="f.csv")
    return [str(d) for d in info.value.details]


def test_round_trip_keeps_the_content_and_its_fingerprint() -> None:
    fw = parse_framework(HEADER + "a,x,+1,1,2\nb,x,-1,0.5,2\nc,y,1,1,1\n", name="t", version=3)
    assert fw.constructs == ("x", "y") and fw.construct_weights == (2.0, 1.0)
    assert fw.label == "t@3" and [r.direction for r in fw.rows] == [1, -1, 1]
    again = parse_framework(fw.to_csv(), name="other")
    assert again.rows == fw.rows and again.sha256 == fw.sha256
    assert fw.to_csv().splitlines()[0] == ",".join(COLUMNS)


def test_column_order_and_case_do_not_matter() -> None:
    text = "Construct, MEASURE ,direction,construct_weight,measure_weight\nx,a,1,2,1\n"
    assert parse_framework(text, name="t").rows[0].construct_weight == 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "a,x,1,-1,1\n", "f.csv.line 2.measure_weight: -1 is negative"),
        (HEADER + "a,x,1,1,-2\n", "f.csv.line 2.construct_weight: -2 is negative"),
        (
            HEADER + "a,x,1,0,1\nb,x,1,0,1\n",
            "f.csv.x: all measure weights of this construct are zero",
        ),
        (HEADER + "a,x,1,1,0\nb,y,1,1,0\n", "f.csv: all construct weights are zero"),
        (HEADER + "a,x,1,1,1\n,y,1,1,1\n", "f.csv.line 3.measure: construct 'y' has no measure"),
        (HEADER + "a,x,2,1,1\n", "f.csv.line 2.direction: '2': use +1 (higher is better) or -1"),
        (HEADER + "a,x,1,lots,1\n", "f.csv.line 2.measure_weight: 'lots' is not a number"),
        (HEADER + "a,x,1,nan,1\n", "f.csv.line 2.measure_weight: 'nan' is not a number"),
        (
            HEADER + "a,x,1,1,1\nA,y,1,1,1\n",
            "f.csv.line 3.measure: 'A' is listed twice (also on line 2)",
        ),
        (HEADER + "a,x,1,1,1\nb,x,1,1,2\n", "construct 'x' has weight 2 here but 1 on line 2"),
        (HEADER + "portfolio: luck,x,1,1,1\n", "unknown portfolio measure 'portfolio: luck'"),
        (HEADER + "a,,1,1,1\n", "f.csv.line 2.construct: is empty"),
        (HEADER + "a,x,1,1\n", "f.csv.line 2: 4 cells, expected 5"),
        ("measure,construct,direction,weight\n", "columns must be exactly"),
        (HEADER, "the framework has no measures"),
        ("", "the file is empty"),
    ],
)
def test_bad_frameworks_get_a_specific_error(text: str, expected: str) -> None:
    found = errors(text)
    assert any(expected in e for e in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = errors(HEADER + "a,x,1,-1,1\nb,y,3,1,-1\n")
    assert len(found) == 3


def test_rows_from_an_api_body_are_checked_the_same_way() -> None:
    fw = framework_from_rows(
        [
            {
                "measure": "a",
                "construct": "x",
                "direction": -1,
                "measure_weight": 1,
                "construct_weight": 1,
            }
        ],
        name="api",
    )
    assert fw.rows[0].direction == -1
    with pytest.raises(Invalid) as info:
        framework_from_rows(
            [
                {
                    "measure": "a",
                    "construct": "x",
                    "direction": 1,
                    "measure_weight": -3,
                    "construct_weight": 1,
                    "x": 1,
                }
            ],
            name="api",
        )
    assert {d.loc for d in info.value.details} == {("rows", 0), ("rows", 0, "measure_weight")}


def test_measure_kinds_come_from_the_name() -> None:
    assert measure_kind("judgment: political will") == "judgment"
    assert measure_kind(PORTFOLIO_MEASURES[0]) == "portfolio"
    assert measure_kind("WGI rule of law") == "indicator"


def test_the_shipped_default_covers_every_construct_of_the_issue() -> None:
    fw = load_shipped()
    assert fw.label == "default@0"
    assert set(fw.constructs) == {
        "shared interests",
        "absorptive capacity",
        "governance",
        "stability and security situation",
        "economic strength",
        "consistency and quality of past assistance",
        "partner ownership and cost share",
        "political will and reform commitment",
        "sustainment capacity",
        "human rights record",
    }
    kinds = {r.construct: set() for r in fw.rows}
    for r in fw.rows:
        kinds[r.construct].add(r.kind)
    assert kinds["consistency and quality of past assistance"] == {"portfolio"}
    assert "judgment" in kinds["political will and reform commitment"]
    assert "judgment" in kinds["sustainment capacity"]
    # Indicators, portfolio and judgments all appear; indicator constructs carry 60%.
    indicator_weight = sum(
        w
        for c, w in zip(fw.constructs, fw.construct_weights, strict=True)
        if kinds[c] == {"indicator"}
    )
    assert indicator_weight / sum(fw.construct_weights) == pytest.approx(0.6)
