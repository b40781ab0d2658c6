"""``ssaplan import indicators`` and ``ssaplan assess``: exit codes and the --json shapes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from ssaplan.core.store import Store
from tests.assessment.conftest import SMALL_FRAMEWORK, SMALL_TIDY
from tests.conftest import shared_data
from tests.test_cli import run

Write = Callable[[str, str], Path]


@pytest.fixture
def db(templates: object, tmp_path: Path) -> str:
    import shutil

    path = tmp_path / "cli.db"
    shutil.copy(templates.sqlite("empty"), path)  # type: ignore[attr-defined]
    return f"sqlite:///{path}"


def test_import_then_assess_with_a_framework_file(
    db: str, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    tidy, fw = write("t.csv", SMALL_TIDY), write("small.csv", SMALL_FRAMEWORK)
    code, out, err = run(capsys, "--db", db, "import", "indicators", str(tidy), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {"files", "observations", "measures", "countries", "unmatched", "skipped"} <= set(
        summary
    )
    assert (summary["files"], summary["observations"], summary["countries"]) == (1, 9, 4)

    code, out, err = run(
        capsys, "assess", "--db", db, "--framework", str(fw), "--draws", "500", "--save", "--json"
    )
    assert code == 0, err
    data = json.loads(out)  # one JSON object, nothing else on stdout
    assert {"year", "framework", "countries"} <= set(data)
    assert data["year"] == 2020 and data["framework"] == "small (file)"
    first = data["countries"][0]
    assert {
        "iso3",
        "propensity",
        "priority",
        "completeness",
        "constructs",
        "rank",
        "rank_p05",
        "rank_p95",
    } <= set(first)
    assert (first["iso3"], first["propensity"], first["rank"]) == ("UGA", 100.0, 1)
    assert first["priority"] is None  # null, not NaN
    tza = next(c for c in data["countries"] if c["iso3"] == "TZA")
    assert tza["constructs"] == {"governance": 0.5, "capacity": None}
    assert isinstance(data["id"], int)
    assert "NaN" not in out and not any(
        isinstance(v, float) and math.isnan(v) for c in data["countries"] for v in c.values()
    )


def test_human_output_and_dry_run(
    db: str, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--db", db, "import", "indicators", str(write("t.csv", SMALL_TIDY)))
    fw = write("small.csv", SMALL_FRAMEWORK)
    code, out, err = run(capsys, "--db", db, "assess", "--framework", str(fw), "--dry-run")
    assert code == 0, err
    assert "UGA" in out and "assessment 2020" in err and "saved as" not in err
    code, out, _ = run(capsys, "--db", db, "--json", "assess", "--framework", str(fw), "--dry-run")
    assert json.loads(out)["id"] is None


def test_assess_saves_only_when_asked(
    db: str, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--db", db, "import", "indicators", str(write("t.csv", SMALL_TIDY)))
    fw = write("small.csv", SMALL_FRAMEWORK)
    code, out, err = run(capsys, "--db", db, "assess", "--framework", str(fw))
    assert code == 0 and "not saved (add --save" in err
    code, out, _ = run(capsys, "--db", db, "--json", "assess", "--framework", str(fw))
    assert json.loads(out)["id"] is None
    code, out, err = run(capsys, "--db", db, "assess", "--framework", str(fw), "--save")
    assert code == 0 and "saved as assessment 1" in err
    code, out, _ = run(capsys, "--db", db, "--json", "assess", "--framework", str(fw), "--save")
    assert json.loads(out)["id"] == 2
    # Numbers carry no binary noise (28.000000000000004): at most 12 significant digits.
    for c in json.loads(out)["countries"]:
        for v in c.values():
            if isinstance(v, float):
                assert len(repr(v).lstrip("-").replace(".", "").lstrip("0")) <= 13


def test_errors_exit_1_with_one_line(
    db: str, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write("bad.csv", "iso3,year,measure,value\nKEN,2020,m,1\nKEN,3020,m,2\n")
    code, out, err = run(capsys, "--db", db, "import", "indicators", str(bad))
    assert code == 1 and out == ""
    assert "nothing was written" in err and "bad.csv.line 3.year: year 3020 is outside" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "--db", db, "import", "indicators", str(bad), "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "invalid"
    code, out, _ = run(
        capsys, "--db", db, "import", "indicators", str(bad), "--skip-invalid", "--json"
    )
    assert code == 0 and json.loads(out)["skipped"][0]["line"] == 3
    negative = write(
        "neg.csv", SMALL_FRAMEWORK.replace("hdi,capacity,1,1,1", "hdi,capacity,1,-1,1")
    )
    code, _, err = run(capsys, "--db", db, "assess", "--framework", str(negative))
    assert code == 1 and "line 4.measure_weight: -1 is negative" in err
    code, _, err = run(capsys, "--db", db, "assess", "--framework", "nosuch")
    assert code == 1 and "no framework 'nosuch'" in err
    code, _, err = run(capsys, "--db", db, "assess", "--framework", "default@two")
    assert code == 1 and "use NAME or NAME@VERSION" in err
    code, _, err = run(capsys, "--db", db, "assess", "--framework", str(Path("missing.csv")))
    assert code == 1 and "cannot read framework" in err
    code, _, err = run(capsys, "--db", db, "import", "indicators", "/nonexistent.csv")
    assert code == 1 and "cannot read" in err


def test_default_framework_without_data_says_what_to_import(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--db", db, "assess")
    assert code == 1 and "have no imported indicator" in err and "ssaplan import indicators" in err


def test_bad_usage_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "--db", db, "assess", "--draws", "many")
    assert code == 2
    code, _, _ = run(capsys, "--db", db, "import", "indicators")
    assert code == 2


def test_export_framework(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "fw.csv"
    code, out, err = run(capsys, "--db", db, "assess", "--export-framework", str(target), "--json")
    assert code == 0, err
    assert json.loads(out)["framework"] == "default@0"
    assert target.read_text().startswith(
        "measure,construct,direction,measure_weight,construct_weight\n"
    )


def test_assess_the_demo(assessed: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", assessed.url, "assess", "--draws", "1000", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["year"] == 2026 and len(data["countries"]) >= 190
    assert all(c["propensity"] is not None and c["rank_p05"] for c in data["countries"])
    # Partners without a priority tier (no assistance, micro-states, rich bystanders)
    # have no priority; the rest have one.
    ranked = {c["iso3"]: c["priority"] for c in data["countries"]}
    assert sum(p is not None for p in ranked.values()) >= 100
    assert ranked["PRK"] is None and ranked["KEN"] is not None
    assert data["id"] is None  # computed and printed, not saved without --save


def test_import_the_real_folder(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data("indicators")
    code, out, err = run(capsys, "--db", db, "import", "indicators", str(folder), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["files"] == len(list(folder.rglob("*.csv"))) and data["unmatched"] == []
    assert data["countries"] >= 210 and data["skipped"] == []
    names = {n["name"] for n in data["not_countries"]}
    assert "USSR (RUS)" in names and any(n.startswith("IDA countries") for n in names)
    assert [i["reason"] for i in data["ignored"]] == [
        "'3(6)' is not a single value; not read",
        "'2(5)' is not a single value; not read",
    ]
