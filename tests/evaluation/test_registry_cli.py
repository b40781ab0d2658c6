"""``ssaplan evaluate list|show|add|evidence|effectiveness`` and ``--record``: the
registry and the evidence base on the command line (one JSON object, exit codes 0/1/2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Templates, run_cli
from tests.evaluation.simulate import growing, staggered
from tests.evaluation.test_registry import completed


@pytest.fixture
def db(templates: Templates, tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    shutil.copy(templates.sqlite("empty"), path)
    return f"sqlite:///{path}"


def test_add_list_show_record_and_evidence(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps(completed(estimates=[])), encoding="utf-8")
    code, out, err = run_cli(capsys, "evaluate", "add", str(evaluation), "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == "EV-00001"

    frame, _ = staggered(np.random.default_rng(3), units=60, effect=growing(1.0))
    panel = tmp_path / "panel.csv"
    frame.to_csv(panel, index=False)
    code, out, err = run_cli(
        capsys,
        "evaluate", "did", "--panel", str(panel), "--unit", "unit", "--time", "year",
        "--outcome", "y", "--treated", "d", "--record", "EV-00001", "--db", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "recorded on EV-00001 (version 2)" in err
    did = json.loads(out)
    code, out, err = run_cli(capsys, "evaluate", "show", "EV-00001", "--db", db, "--json")
    shown = json.loads(out)
    estimate = shown["estimates"][0]
    assert estimate["method"] == "cs" and estimate["estimate"] == did["estimate"]
    assert estimate["outcome_sd"] > 0 and estimate["analysis"]["event_study"]
    assert shown["version"] == 2

    code, out, _ = run_cli(capsys, "evaluate", "list", "--type", "impact", "--db", db, "--json")
    assert code == 0 and json.loads(out)["total"] == 1
    code, out, _ = run_cli(capsys, "evaluate", "list", "--db", db)
    assert "EV-00001" in out and "1 of 1 evaluations" in out

    code, out, _ = run_cli(capsys, "evaluate", "evidence", "--db", db, "--json")
    assert [k["institution_type"] for k in json.loads(out)["kinds"]] == ["police"]
    code, out, _ = run_cli(capsys, "evaluate", "effectiveness", "--db", db, "--json")
    assert json.loads(out)["kinds"][0]["k"] == 1
    code, out, _ = run_cli(
        capsys, "evaluate", "effectiveness", "--without-evidence", "--db", db, "--json"
    )
    assert json.loads(out) == {"use_evidence": False, "default": 1.0, "kinds": []}


def test_bad_input_exits_1_with_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(completed(agency="Atlantis", colour="blue")), encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", "add", str(bad), "--db", db)
    assert code == 1 and "bad.json is not a valid evaluation" in err and "colour" in err
    bad.write_text(json.dumps(completed(agency="Atlantis")), encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", "add", str(bad), "--db", db)
    assert code == 1 and "unknown agency 'Atlantis'" in err
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run_cli(capsys, "evaluate", "add", str(bad), "--db", db)
    assert code == 1 and "is not UTF-8 JSON" in err
    code, _, err = run_cli(capsys, "evaluate", "add", str(tmp_path / "nope.json"), "--db", db)
    assert code == 1 and "is not a file" in err
    code, _, err = run_cli(capsys, "evaluate", "show", "EV-00007", "--db", db)
    assert code == 1 and "no evaluation with id 'EV-00007'" in err
    code, _, err = run_cli(capsys, "evaluate", "list", "--status", "done", "--db", db)
    assert code == 1 and "unknown --status 'done'" in err
    code, out, _ = run_cli(capsys, "evaluate", "list", "--db", db, "--json")
    assert json.loads(out)["total"] == 0
