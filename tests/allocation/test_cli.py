"""``ssaplan allocate``: the JSON shape, the human output and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scenario.json"


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_the_example_scenario_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "allocate", "--scenario", str(EXAMPLE), "--json")
    assert code == 0, err
    assert out.count("\n") == 1  # one JSON object on stdout, nothing else
    data = json.loads(out)
    assert data["status"] == "optimal"
    assert data["shadow_price_basis"] == "LP relaxation at the optimal integer choice"
    assert {"id", "annual", "value"} == set(data["chosen"][0])
    assert "SOM-AMIS" in {c["id"] for c in data["chosen"]}  # must-fund
    line = data["budgets"]["FMF"]["2027"]
    assert line["available"] == 57_000_000 and line["used"] <= line["available"]
    assert data["greedy"]["objective"] < data["objective"]
    assert data["greedy"]["improvement"] == pytest.approx(
        data["objective"] - data["greedy"]["objective"]
    )
    assert "solving" in err


def test_robust_draws_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys,
        "allocate",
        "--scenario",
        str(EXAMPLE),
        "--json",
        "--robust",
        "8",
        "--time-limit",
        "5",
    )
    assert code == 0, err
    robust = json.loads(out)["robust"]
    assert robust["draws"] == 8
    assert {f["id"] for f in robust["frequencies"]} >= {"SOM-AMIS", "COL-CN"}
    assert robust["max_expected_value"]["funded"]


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "allocate", "--scenario", str(EXAMPLE))
    assert code == 0
    assert "optimal" in out and "greedy ranking by value per dollar" in out and "FMF" in out


def test_invalid_scenario_is_a_user_error_with_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["candidates"][3]["levels"][0]["annual"] = -1
    code, out, err = run_cli(capsys, "allocate", "--scenario", write(tmp_path, data), "--json")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert err.startswith("error: invalid scenario: candidates.3.levels.0.annual: must be >= 0")
    envelope = json.loads(out)["error"]
    assert envelope["code"] == "invalid"
    assert envelope["details"][0]["loc"] == ["candidates", 3, "levels", 0, "annual"]


def test_unknown_country_not_json_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["candidates"][0]["country"] = "XXX"
    code, _, err = run_cli(capsys, "allocate", "--scenario", write(tmp_path, data))
    assert code == 1 and "candidates.0.country: unknown country 'XXX'" in err
    code, _, err = run_cli(capsys, "allocate", "--scenario", write(tmp_path, "{oops"))
    assert code == 1 and "not valid JSON: line 1.column 2" in err
    code, _, err = run_cli(capsys, "allocate", "--scenario", str(tmp_path / "none.json"))
    assert code == 1 and "no scenario file" in err


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_cli(capsys, "allocate", "--scenario", str(EXAMPLE), "--gap", "2")
    assert code == 2
    code, _, _ = run_cli(capsys, "allocate")
    assert code == 2


def test_an_infeasible_scenario_is_an_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    # SOM-AMIS must be funded: $20M of PKO a year, more than PKO has and SOM can absorb
    data["candidates"][2]["levels"] = [{"annual": 20_000_000, "value": 11.0}]
    code, out, err = run_cli(capsys, "allocate", "--scenario", write(tmp_path, data), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "infeasible" and result["chosen"] == []
    kinds = {f["kind"] for f in result["infeasibility"]}
    assert kinds == {"budget", "capacity"}
    assert any(
        "$14.25M is available after the reserve" in f["message"] for f in result["infeasibility"]
    )


def test_the_example_in_the_docs_is_valid() -> None:
    from ssaplan.allocation.cli import reference_inputs
    from ssaplan.allocation.scenario import load_scenario

    s = load_scenario(EXAMPLE, **reference_inputs())
    assert len(s.problem.candidates) >= 8 and s.problem.floors


def test_reference_regions_by_scheme() -> None:
    from ssaplan.allocation.cli import reference_inputs

    regions = reference_inputs()["regions"]
    assert regions("bureau", "KEN") == "AF"
    assert regions("combatant_command", "KEN") == "AFRICOM"
    assert "UN-EASTERN-AFRICA" in regions("un_subregion", "KEN")
    assert "Africa" in regions("un_region", "KEN")
    assert "AU" in regions("organization", "KEN")
    assert regions("bureau", "XXX") is None and regions("galaxy", "KEN") is None
