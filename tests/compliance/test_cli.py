"""``ssaplan comply``: the check contract, the restrictions import (all or nothing, errors
naming file, line and column), rules, units, vetting, credible information, settings."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.compliance.inputs import fiscal_year_of
from ssaplan.compliance.models import Restriction
from ssaplan.core.store import Store
from tests.compliance.conftest import add_program
from tests.conftest import run_cli

HEADER = "country,type,start,end,citation,waiver_accounts,waiver_start,waiver_end\n"


def comply(capsys: pytest.CaptureFixture[str], store: Store, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--db", store.url, "comply", *args)


def as_json(capsys: pytest.CaptureFixture[str], store: Store, *args: str) -> Any:
    code, out, err = comply(capsys, store, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_json_is_exactly_the_contract(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "GHA-FMF", countries=["GHA"])
    rows = "MLI,coup,2021-05-24,,Sec. 7008 determination,FMF,2026-10-01,\n"
    code, _, err = comply(
        capsys, store, "restrictions", "import", str(write(tmp_path, "r.csv", HEADER + rows))
    )
    assert code == 0, err
    data = as_json(capsys, store, "check")
    assert list(data) == ["programs"]
    for entry in data["programs"]:
        assert list(entry) == ["id", "fiscal_year", "eligible", "reasons"]
        for reason in entry["reasons"]:
            assert list(reason) == ["rule", "citation", "text"]
    by_key = {(p["id"], p["fiscal_year"]): p for p in data["programs"]}
    assert set(by_key) == {
        ("GHA-FMF", 2026),
        ("GHA-FMF", 2027),
        ("MLI-FMF", 2026),
        ("MLI-FMF", 2027),
    }
    assert by_key[("MLI-FMF", 2026)]["eligible"] is False
    assert by_key[("MLI-FMF", 2026)]["reasons"][0]["rule"] == "coup_government"
    # FY2027 is waived for FMF: eligible, and the reason says why.
    assert by_key[("MLI-FMF", 2027)]["eligible"] is True
    assert "is waived" in by_key[("MLI-FMF", 2027)]["reasons"][0]["text"]
    assert by_key[("GHA-FMF", 2026)] == {
        "id": "GHA-FMF",
        "fiscal_year": 2026,
        "eligible": True,
        "reasons": [],
    }
    only = as_json(capsys, store, "check", "--fiscal-year", "2027")
    assert {p["fiscal_year"] for p in only["programs"]} == {2027}


def test_check_in_text_lists_the_ineligible(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_program(store, "MLI-FMF")
    comply(
        capsys,
        store,
        "restrictions",
        "import",
        str(write(tmp_path, "r.csv", HEADER + "MLI,coup,2021-05-24,,det,,,\n")),
    )
    code, out, err = comply(capsys, store, "check", "--ineligible")
    assert code == 0
    assert "MLI-FMF" in out and "NO" in out and "coup_government" in out
    assert "4 program-years judged; 2 ineligible" not in err  # only MLI-FMF's two years
    assert "2 program-years judged; 2 ineligible" in err


def test_a_bad_restrictions_file_exits_1_naming_file_line_and_column(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write(
        tmp_path,
        "bad.csv",
        HEADER + "GHA,coup,2021-05-24,,fine,,,\nMLI,coup,2021-05-24,,det,FMFP,2022-01-01,\n",
    )
    code, out, err = comply(capsys, store, "restrictions", "import", str(bad))
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "bad.csv.line 3.waiver_accounts: waiver for unknown account 'FMFP'" in err
    with store.session() as session:
        assert session.execute(select(func.count()).select_from(Restriction)).scalar_one() == 0
    code, out, _ = comply(capsys, store, "restrictions", "import", str(bad), "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "invalid"
    assert error["details"][0]["loc"] == ["bad.csv", "line 3", "waiver_accounts"]


def test_a_missing_file_is_a_user_error_and_bad_usage_is_exit_2(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = comply(capsys, store, "restrictions", "import", str(tmp_path / "nope.csv"))
    assert code == 1 and "cannot read" in err
    code, _, _ = comply(capsys, store, "check", "--fiscal-year", "not-a-year")
    assert code == 2


def test_the_shipped_sst_list_imports_from_the_cli(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = (
        Path(__file__).resolve().parents[2]
        / "src/ssaplan/compliance/data/state_sponsors_of_terrorism.csv"
    )
    report = as_json(capsys, store, "restrictions", "import", str(shipped))
    assert len(report["created"]) == 7 and report["warnings"] == []
    listed = as_json(capsys, store, "restrictions", "list", "--in-force-on", "2026-01-01")
    assert {r["country"] for r in listed["items"]} == {"CUB", "IRN", "PRK", "SYR"}
    code, out, _ = comply(capsys, store, "restrictions", "list", "--country", "Iran")
    assert code == 0 and "Iran (IRN)" in out


def test_rules_list_export_and_import(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    listed = as_json(capsys, store, "rules", "list")
    assert listed["stored"] is False and len(listed["items"]) == 4
    exported = tmp_path / "rules.toml"
    code, _, err = comply(capsys, store, "rules", "export", "-o", str(exported))
    assert code == 0, err
    text = exported.read_text(encoding="utf-8").replace(
        'id = "sst_all_assistance"\nrestriction_type = "state_sponsor_of_terrorism"\nsummary = "',
        'id = "sst_all_assistance"\nrestriction_type = "state_sponsor_of_terrorism"\nsummary = "'
        "Reviewed by counsel. ",
    )
    exported.write_text(text, encoding="utf-8")
    report = as_json(capsys, store, "rules", "import", str(exported))
    assert report["updated"] == ["sst_all_assistance"] and len(report["unchanged"]) == 3
    code, out, _ = comply(capsys, store, "rules", "list")
    assert "sst_all_assistance (v2)" in out and "Reviewed by counsel." in out
    exported.write_text(text.replace('"FMF"', '"FMFX"', 1), encoding="utf-8")
    code, _, err = comply(capsys, store, "rules", "import", str(exported))
    assert code == 1 and "rules.toml.line" in err and "unknown account id 'FMFX'" in err


def test_units_vetting_credible_information_and_the_assisted_list(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command line judges on the real day: dates here are counted back from it.
    today = date.today()
    fy = fiscal_year_of(today)
    add_program(
        store,
        "MLI-FMF",
        start=f"{fy - 2}-10-01",
        end=f"{fy + 1}-09-30",
        budget=[{"fiscal_year": fy, "planned": 1_000_000}],
    )
    unit = as_json(
        capsys,
        store,
        "units",
        "add",
        "--name",
        "33rd Regiment",
        "--country",
        "Mali",
        "--type",
        "armed_forces",
    )
    assert unit["country"] == "MLI" and unit["type_name"] == "Armed forces"
    code, _, err = comply(
        capsys, store, "vetting", "request", "--program", "MLI-FMF", "--unit", "99"
    )
    assert code == 1 and "unit 99 does not exist" in err
    request = as_json(
        capsys,
        store,
        "vetting",
        "request",
        "--program",
        "MLI-FMF",
        "--unit",
        str(unit["id"]),
        "--requested",
        str(today - timedelta(days=30)),
    )
    assert request["status"] == "pending"
    decided_on = today - timedelta(days=20)
    decided = as_json(
        capsys,
        store,
        "vetting",
        "decide",
        str(request["id"]),
        "--status",
        "approved",
        "--on",
        str(decided_on),
    )
    assert decided["valid_through"] == str(decided_on + timedelta(days=364))
    listed = as_json(capsys, store, "vetting", "list", "--program", "MLI-FMF")
    assert [v["status"] for v in listed["items"]] == ["approved"]
    assisted = as_json(capsys, store, "assisted")
    assert assisted["countries"][0]["units"][0]["name"] == "33rd Regiment"
    info = as_json(
        capsys,
        store,
        "credible",
        "add",
        "--unit",
        str(unit["id"]),
        "--reported",
        str(today - timedelta(days=10)),
        "--description",
        "reported abuse",
    )
    assert info["open"] is True
    assert as_json(capsys, store, "check")["programs"][0]["eligible"] is False
    remediated = as_json(
        capsys,
        store,
        "credible",
        "remediate",
        str(info["id"]),
        "--on",
        str(today - timedelta(days=5)),
        "--steps",
        "prosecuted",
    )
    assert remediated["open"] is False
    assert as_json(capsys, store, "check")["programs"][0]["eligible"] is True
    expiring = as_json(capsys, store, "vetting", "expiring", "--within-days", "3650")
    assert [e["vetting"]["id"] for e in expiring["items"]] == [request["id"]]


def test_settings(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert as_json(capsys, store, "settings") == {"validity_days": 365, "alert_days": 60}
    assert as_json(capsys, store, "settings", "--validity-days", "180")["validity_days"] == 180
    code, _, _ = comply(capsys, store, "settings", "--alert-days", "0")
    assert code == 2
