"""Scenario files: what a valid one becomes, and every refusal with its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ssaplan.allocation.scenario import Limits, load_scenario, parse_scenario
from ssaplan.core.errors import BadRequest, Invalid

BASE: dict[str, Any] = {
    "name": "baseline",
    "fiscal_years": [2027, 2028],
    "accounts": {"FMF": {"2027": 100_000_000, "2028": 90_000_000}, "INCLE": {"2027": 1, "2028": 1}},
    "reserve_share": 0.05,
    "absorptive_capacity": {"KEN": {"2027": 30_000_000, "2028": 30_000_000}},
    "regional_floors": [{"scheme": "bureau", "region": "AF", "min_share": 0.15}],
    "regions": {"bureau": {"KEN": "AF", "NGA": "AF", "COL": "WHA"}},
    "candidates": [
        {
            "id": "C1",
            "country": "KEN",
            "account": "FMF",
            "fiscal_years": [2027, 2028],
            "must_fund": False,
            "requires": [],
            "levels": [{"annual": 5_000_000, "value": 12.5}],
        },
        {
            "id": "C2",
            "country": "COL",
            "account": "FMF",
            "fiscal_years": [2028],
            "requires": ["C1"],
            "levels": [
                {"annual": 2_000_000, "value": 3},
                {"annual": 4_000_000, "value": 5, "value_sd": 1},
            ],
        },
    ],
}


def scenario(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def errors(source: Any, **kwargs: Any) -> dict[tuple[Any, ...], str]:
    with pytest.raises(Invalid) as err:
        parse_scenario(source, **kwargs)
    return {d.loc: d.msg for d in err.value.details}


def test_a_valid_scenario_becomes_a_problem() -> None:
    s = parse_scenario(json.dumps(BASE))
    p = s.problem
    assert s.name == p.name == "baseline"
    assert p.fiscal_years == (2027, 2028)
    assert p.available("FMF", 2028) == 85_500_000
    assert p.capacity("KEN", 2027) == 30_000_000 and p.capacity("COL", 2027) is None
    assert p.candidate("C2").requires == ("C1",)
    assert p.candidate("C2").levels[1].value_sd == 1
    (floor,) = p.floors
    assert floor.countries == frozenset({"KEN"})  # NGA has no candidate or capacity
    again = parse_scenario(s.as_dict())
    assert again.problem.candidates == p.candidates and again.problem.floors == p.floors


def test_regions_from_a_callable_or_a_mapping_and_an_eligibility_hook() -> None:
    data = scenario()
    del data["regions"]
    s = parse_scenario(data, regions=lambda scheme, country: "AF" if country == "COL" else None)
    assert s.problem.floors[0].countries == frozenset({"COL"})
    s = parse_scenario(data, regions={"bureau": {"KEN": "AF"}})
    assert s.problem.floors[0].countries == frozenset({"KEN"})
    s = parse_scenario(
        data, regions={"bureau": {"KEN": "AF"}}, eligible=lambda c, a, y: (c, y) != ("KEN", 2028)
    )
    assert s.problem.blocked == frozenset({("KEN", "FMF", 2028)})
    assert errors(data)[("regional_floors", 0, "scheme")].startswith("no region mapping")
    typo = scenario()
    typo["regional_floors"][0]["region"] = "AFR"
    assert errors(typo) == {
        (
            "regional_floors",
            0,
            "region",
        ): "no country of the scenario is in 'AFR' under scheme 'bureau'"
    }


def test_restrictions_and_crisis_draws_from_the_file() -> None:
    s = parse_scenario(
        scenario(
            restrictions=[
                {"country": "COL", "account": "FMF", "fiscal_years": [2028]},
                {"country": "NGA"},
            ],
            crisis_draws={"FMF": {"2028": 10_000_000}},
        )
    )
    p = s.problem
    assert ("COL", "FMF", 2028) in p.blocked and ("NGA", "INCLE", 2027) in p.blocked
    assert p.available("FMF", 2028) == 85_500_000 - (10_000_000 - 4_500_000)


def test_not_json_names_line_and_column() -> None:
    assert errors('{"name": "x",\n  "fiscal_years": [2027,]}') == {
        ("line 2", "column 25"): "Expecting value"
    }
    assert "NaN" in errors('{"fiscal_years": NaN}')[()]
    assert errors('{"name": "a", "name": "b"}') == {(): "duplicate key 'name' in an object"}
    assert errors("[1, 2]") == {(): "a scenario must be a JSON object"}


def test_missing_fields() -> None:
    data = scenario()
    del data["candidates"]
    del data["accounts"]["FMF"]["2028"]
    del data["regional_floors"][0]["min_share"]
    c = data.setdefault("candidates", [])
    c.append(
        {
            "id": "C9",
            "country": "KEN",
            "account": "FMF",
            "fiscal_years": [2027],
            "levels": [{"annual": 1}],
        }
    )
    found = errors(data)
    assert found[("accounts", "FMF")] == "missing FY2028"
    assert found[("regional_floors", 0, "min_share")] == "missing"
    assert found[("candidates", 0, "levels", 0, "value")] == "missing"
    data = scenario()
    del data["candidates"]
    assert errors(data) == {("candidates",): "missing"}


def test_unknown_accounts_countries_and_candidates() -> None:
    data = scenario()
    data["candidates"][0]["account"] = "ESF"
    data["candidates"][1]["requires"] = ["C7"]
    data["absorptive_capacity"]["ken"] = {"2027": 1}
    found = errors(data)
    assert found[("candidates", 0, "account")].startswith("unknown account 'ESF'")
    assert found[("candidates", 1, "requires", 0)] == "unknown candidate 'C7'"
    assert "not a country code" in found[("absorptive_capacity", "ken")]
    known = errors(BASE, known_accounts={"FMF"}, known_countries={"KEN", "NGA"})
    assert known == {
        ("accounts", "INCLE"): "unknown account 'INCLE'",
        ("candidates", 1, "country"): "unknown country 'COL'",
    }


def test_negative_and_fractional_amounts() -> None:
    data = scenario()
    data["candidates"][1]["levels"][0]["annual"] = -5
    data["accounts"]["FMF"]["2027"] = 1.5
    data["candidates"][0]["levels"][0]["value"] = -1
    found = errors(data)
    assert found[("candidates", 1, "levels", 0, "annual")] == "must be >= 0"
    assert found[("accounts", "FMF", "2027")] == "must be a whole number of dollars"
    assert found[("candidates", 0, "levels", 0, "value")] == "must be >= 0"


def test_fiscal_years_outside_the_scenario() -> None:
    data = scenario()
    data["accounts"]["FMF"]["2030"] = 5
    data["candidates"][0]["fiscal_years"] = [2027, 2029]
    found = errors(data)
    assert (
        found[("accounts", "FMF", "2030")]
        == "fiscal year 2030 is outside the scenario's fiscal_years"
    )
    assert (
        found[("candidates", 0, "fiscal_years", 1)]
        == "FY2029 is outside the scenario's fiscal_years"
    )


def test_a_dependency_cycle_is_named() -> None:
    data = scenario()
    data["candidates"][0]["requires"] = ["C3"]
    data["candidates"].append(
        {**copy.deepcopy(data["candidates"][1]), "id": "C3", "requires": ["C2"]}
    )
    assert errors(data) == {("candidates", 0, "requires"): "dependency cycle: C1 -> C3 -> C2 -> C1"}
    data["candidates"][0]["requires"] = ["C1"]
    assert errors(data)[("candidates", 0, "requires", 0)] == "a candidate cannot require itself"


def test_duplicate_ids_and_unknown_fields() -> None:
    data = scenario()
    data["candidates"][1]["id"] = "C1"
    data["candidates"][0]["levle"] = []
    found = errors(data)
    assert found[("candidates", 1, "id")] == "duplicate id 'C1' (also candidates.0)"
    assert found[("candidates", 0, "levle")].startswith("unknown field")


def test_shares_outside_zero_one() -> None:
    data = scenario(reserve_share=1.5)
    data["regional_floors"].append({"scheme": "bureau", "region": "WHA", "min_share": -0.1})
    found = errors(data)
    assert found[("reserve_share",)] == "must be between 0 and 1"
    assert found[("regional_floors", 1, "min_share")] == "must be between 0 and 1"
    data = scenario(
        regional_floors=[
            {"scheme": "bureau", "region": "AF", "min_share": 0.7},
            {"scheme": "bureau", "region": "WHA", "min_share": 0.5},
        ]
    )
    assert errors(data) == {
        ("regional_floors", 1, "min_share"): "the bureau floors add up to 120%, more than 100%"
    }


def test_size_limits_are_named(tmp_path: Path) -> None:
    many = [dict(BASE["candidates"][0], id=f"C{n}") for n in range(20_001)]
    assert errors(scenario(candidates=many)) == {
        ("candidates",): "20,001 candidates; the limit is 20,000"
    }
    data = scenario()
    data["candidates"][0]["levels"] = [{"annual": 1, "value": 1}] * 11
    assert errors(data) == {("candidates", 0, "levels"): "11 levels; the limit is 10"}
    years = list(range(2027, 2048))
    assert (
        errors(scenario(fiscal_years=years))[("fiscal_years",)]
        == "21 fiscal years; the limit is 20"
    )
    path = tmp_path / "big.json"
    path.write_text(json.dumps(BASE))
    with pytest.raises(BadRequest, match="scenario files are limited to 0 MB"):
        load_scenario(path, limits=Limits(file_bytes=100))


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    assert load_scenario(path).name == "baseline"
    with pytest.raises(BadRequest, match="cannot read scenario"):
        load_scenario(tmp_path / "missing.json")
