"""The command-line contract: shapes of --json, --as USER, refusals exit 1 and change nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ssaplan.core.store import Store
from tests.conftest import Templates, run_cli
from tests.cycle.conftest import db_user, proposal_data


@pytest.fixture(scope="module")
def with_users(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialized database with one user of every role, built once for the module."""
    path = tmp_path_factory.mktemp("cycle") / "users.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    db_user(store, "dod-planner", "planner", "DoD/DSCA")
    db_user(store, "state-reviewer", "reviewer", "State/PM")
    db_user(store, "dod-reviewer", "reviewer", "DoD")
    db_user(store, "doj-reviewer", "reviewer", "DOJ")
    db_user(store, "com-ken", "chief_of_mission", "State", "country", "KEN")
    db_user(store, "coordinator", "coordinator", "State/F")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def db(tmp_path: Path, with_users: Path) -> str:
    path = tmp_path / "cycle.db"
    shutil.copy(with_users, path)
    return f"sqlite:///{path}"


def cli(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--db", db, *args)


def ok(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> dict[str, Any]:
    code, out, err = cli(capsys, db, *args, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def draft(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> str:
    path = tmp_path / "proposal.json"
    path.write_text(json.dumps(proposal_data()))
    return str(
        ok(capsys, db, "proposals", "create", "--file", str(path), "--as", "dod-planner")["id"]
    )


def test_list_show_and_the_walk_to_approval(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    pid = draft(capsys, db, tmp_path)
    listed = ok(capsys, db, "proposals", "list")
    assert listed == {
        "proposals": [
            {
                "id": pid,
                "title": "Maritime border security for the Kenya Navy",
                "agency": "DoD/DSCA",
                "country": "KEN",
                "stage": "draft",
                "days_in_stage": 0,
                "waiting_on": ["DoD/DSCA"],
                "marking": "U",
                "releasable_to": [],
            }
        ],
        "withheld": {"above_ceiling": 0, "not_releasable": 0},
    }
    assert ok(capsys, db, "proposals", "submit", pid, "--as", "dod-planner")["stage"] == "submitted"
    assert ok(capsys, db, "proposals", "list", "--stage", "draft")["proposals"] == []
    for user in ("state-reviewer", "dod-reviewer", "com-ken"):
        ok(capsys, db, "proposals", "concur", pid, "--as", user, "--decision", "concur")
    shown = ok(capsys, db, "proposals", "show", pid, "--as", "coordinator")
    assert [c["decision"] for c in shown["concurrences"]] == ["concur"] * 3
    assert ok(capsys, db, "proposals", "approve", pid, "--as", "coordinator")["stage"] == "approved"

    pipeline = ok(capsys, db, "proposals", "pipeline")
    assert set(pipeline) == {"stages", "waiting_longest", "withheld"}
    assert [s["stage"] for s in pipeline["stages"]][:4] == [
        "draft",
        "submitted",
        "in_review",
        "revise",
    ]
    assert set(pipeline["stages"][0]) == {"stage", "n", "median_days", "p90_days"}
    (waiting,) = pipeline["waiting_longest"]
    assert set(waiting) == {"id", "stage", "days", "waiting_on"}
    assert (waiting["id"], waiting["stage"], waiting["waiting_on"]) == (
        pid,
        "approved",
        ["coordinator"],
    )
    box = ok(capsys, db, "inbox", "--as", "coordinator")
    assert [set(i) for i in box["items"]] == [{"kind", "ref", "since", "due"}]
    assert box["items"][0]["kind"] == "notification" and box["items"][0]["ref"] == pid


@pytest.mark.parametrize(
    ("setup", "args", "reason"),
    [
        (
            ["state-reviewer"],
            ["concur", "--as", "state-reviewer", "--decision", "concur"],
            "already",
        ),
        ([], ["concur", "--as", "doj-reviewer", "--decision", "concur"], "another agency"),
        ([], ["approve", "--as", "coordinator"], "concurrence missing from"),
        ([], ["approve", "--as", "dod-planner"], "does not allow proposal:approve"),
    ],
)
def test_a_refused_step_exits_1_with_the_reason_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tmp_path: Path,
    setup: list[str],
    args: list[str],
    reason: str,
) -> None:
    pid = draft(capsys, db, tmp_path)
    ok(capsys, db, "proposals", "submit", pid, "--as", "dod-planner")
    for user in setup:
        ok(capsys, db, "proposals", "concur", pid, "--as", user, "--decision", "concur")
    before = ok(capsys, db, "proposals", "show", pid)
    code, out, err = cli(capsys, db, "proposals", args[0], pid, *args[1:])
    assert code == 1 and out == ""
    assert reason in err and len(err.strip().splitlines()) == 1
    assert ok(capsys, db, "proposals", "show", pid) == before


def test_obligating_before_clearance_exits_1(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    pid = draft(capsys, db, tmp_path)
    ok(capsys, db, "proposals", "submit", pid, "--as", "dod-planner")
    for user in ("state-reviewer", "dod-reviewer", "com-ken"):
        ok(capsys, db, "proposals", "concur", pid, "--as", user, "--decision", "concur")
    ok(capsys, db, "proposals", "approve", pid, "--as", "coordinator")
    code, _, err = cli(
        capsys, db, "proposals", "obligate", pid, "--as", "dod-planner", "--amount", "100",
        "--on", "2026-01-01",
    )  # fmt: skip
    assert code == 1 and "needs congressional notification" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    pid = draft(capsys, db, tmp_path)
    code, _, err = cli(capsys, db, "proposals", "submit", pid)  # no --as
    assert code == 2
    code, _, err = cli(capsys, db, "proposals", "submit", pid, "--as", "nobody")
    assert code == 1 and "no user 'nobody'" in err
    code, _, err = cli(capsys, db, "proposals", "list", "--stage", "limbo")
    assert code == 1 and "unknown stage" in err
    code, _, err = cli(
        capsys, db, "proposals", "concur", pid, "--as", "com-ken", "--decision", "maybe"
    )
    assert code == 1 and "unknown decision" in err


def test_calendar_and_rules(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = cli(capsys, db, "proposals", "calendar")
    assert code == 1 and "no planning calendar" in err
    cal = ok(capsys, db, "proposals", "calendar", "--open", "2027", "--as", "coordinator")
    assert [p["phase"] for p in cal["phases"]][0] == "call_for_proposals"
    rules = ok(capsys, db, "proposals", "rules")
    assert "sec333-joint" in [r["id"] for r in rules["routing"]]
