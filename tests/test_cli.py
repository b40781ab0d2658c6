"""The ssaplan command: --db and --json everywhere, exit codes 0/1/2, one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssaplan.core.store import Store
from tests.conftest import run_cli as run


@pytest.fixture
def demo_db(sqlite_demo: Store, tmp_path: Path) -> str:
    return sqlite_demo.url


def test_init_creates_and_is_safe_to_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code, out, err = run(capsys, "--db", url, "init", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["reference"]["inserted"]["countries"] >= 249
    code, out, _ = run(capsys, "init", "--db", url, "--json")
    assert code == 0 and sum(json.loads(out)["reference"]["inserted"].values()) == 0


def test_programs_list_json_is_one_object_with_every_program(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", demo_db, "programs", "list", "--json")
    assert code == 0, err
    data = json.loads(out)  # exactly one JSON document on stdout
    assert data["total"] == len(data["items"]) >= 1500  # the demo: ~1,900
    assert {"id", "title", "agency", "account", "countries", "budget", "status"} <= set(
        data["items"][0]
    )


def test_filters_and_show(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "--db",
        demo_db,
        "programs",
        "list",
        "--region",
        "AF",
        "--fy",
        "2026",
        "--account",
        "fmf",
        "--json",
    )
    items = json.loads(out)["items"]
    assert code == 0 and items and all(p["account"] == "FMF" for p in items)
    code, out, _ = run(capsys, "--db", demo_db, "programs", "show", items[0]["id"], "--json")
    assert code == 0 and json.loads(out)["id"] == items[0]["id"]
    code, out, err = run(capsys, "--db", demo_db, "programs", "show", items[0]["id"])
    assert code == 0 and "FY" in out and items[0]["id"] in out


def test_list_table_counts_the_filtered_year_and_account(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The human table's money columns are the lines the filter counts: FY2026's FMF
    lines of each program, not its whole life."""
    from ssaplan.ui.money import money

    args = ("--db", demo_db, "programs", "list", "--fy", "2026", "--account", "fmf")
    code, out, _ = run(capsys, *args, "--limit", "5", "--json")
    items = json.loads(out)["items"]
    assert code == 0 and items
    code, out, err = run(capsys, *args, "--limit", "5")
    assert code == 0, err
    head, *rows = out.splitlines()
    assert "planned FY2026 FMF" in head and len(rows) == len(items)
    for row, p in zip(rows, items, strict=True):
        lines = [b for b in p["budget"] if b["fiscal_year"] == 2026 and b["account"] == "FMF"]
        planned = money(sum(b["planned"] for b in lines))
        assert row.startswith(p["id"]) and planned in row.split()[-2:], row
    assert f"of {json.loads(run(capsys, *args, '--json')[1])['total']} programs" in err


def test_a_list_loads_no_web_stack_and_no_models(demo_db: str) -> None:
    """``programs list`` starts fast because it imports only what it uses (see
    benchmarks/bench_cli.py): no web stack, no spreadsheet or XML library, no numeric
    library, and no pydantic model of the portfolio (the page goes out as plain data)."""
    import subprocess
    import sys

    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['ssaplan', '--db', {demo_db!r}, 'programs', 'list', '--limit', '10']\n"
        "try:\n"
        "    runpy.run_module('ssaplan.cli', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.count("\n") == 11  # the header and ten programs
    loaded = set(done.stderr.rsplit("MODULES ", 1)[1].split())
    heavy = {
        "fastapi",
        "starlette",
        "jinja2",
        "lxml",
        "openpyxl",
        "numpy",
        "scipy",
        "rich",
        "ssaplan.portfolio.schemas",
        "ssaplan.app",
    }
    assert not heavy & loaded, sorted(heavy & loaded)


def test_user_errors_exit_1_with_one_line(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", demo_db, "programs", "show", "NOPE")
    assert code == 1 and out == ""
    assert err.strip() == "error: no program with id 'NOPE'"
    code, out, err = run(capsys, "--db", demo_db, "programs", "list", "--account", "XYZ", "--json")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert json.loads(out)["error"]["code"] == "invalid"


def test_bad_usage_exits_2(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", demo_db, "programs", "list", "--no-such-option")
    assert code == 2 and "No such option" in err


def test_missing_database_is_a_user_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "absent.db"
    code, _, err = run(capsys, "--db", f"sqlite:///{target}", "programs", "list")
    assert code == 1 and "init" in err and not target.exists()


def test_db_from_environment(
    demo_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSAPLAN_DB", demo_db)
    code, out, _ = run(capsys, "programs", "list", "--limit", "3", "--json")
    assert code == 0 and len(json.loads(out)["items"]) == 3


def test_user_add_and_list(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "--db",
        demo_db,
        "user",
        "add",
        "erin",
        "--role",
        "analyst",
        "--agency",
        "dhs",
        "--password",
        "a-long-password",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) | {"id": 0} == {
        "id": 0,
        "username": "erin",
        "full_name": "",
        "agency": "DHS",
        "role": "analyst",
        "roles": [{"role": "analyst", "scope_kind": "all", "scope": ""}],
        "active": True,
        "version": 1,
        "marking_ceiling": None,  # every marking
        "audience": None,  # U.S. Government staff
    }
    code, _, err = run(
        capsys, "--db", demo_db, "user", "add", "erin", "--password", "a-long-password"
    )
    assert code == 1 and "already exists" in err
    code, out, _ = run(capsys, "--db", demo_db, "user", "list", "--json")
    assert "erin" in {u["username"] for u in json.loads(out)["users"]}


def test_audit_verify_passes_then_detects_tampering(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", demo_db, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    store = Store(demo_db)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_records SET actor = 'mallory' WHERE id = 10")
    store.dispose()
    code, out, err = run(capsys, "--db", demo_db, "audit", "verify")
    assert code == 1 and "record 10" in err


def test_demo_refuses_a_loaded_database_unless_if_empty(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--db", demo_db, "demo")
    assert code == 1 and "already holds" in err
    code, out, _ = run(capsys, "--db", demo_db, "demo", "--if-empty", "--json")
    assert code == 0 and json.loads(out)["skipped"] is True


def test_reference_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "reference", "list", "accounts", "--json")
    assert code == 0 and "FMF" in {a["id"] for a in json.loads(out)["items"]}
    code, _, err = run(capsys, "reference", "list", "planets")
    assert code == 1 and "unknown reference kind" in err
    # Every name the error lists is accepted, and so are the catalog's own names.
    listed = err.split("use one of ", 1)[1].strip().split(", ")
    assert "institution-types" in listed and "dac-codes" in listed
    for name in [*listed, "institution_type", "dac_code", "agency", "country", "Accounts"]:
        code, out, err = run(capsys, "reference", "list", name, "--json")
        assert code == 0 and json.loads(out)["items"], (name, err)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("ssaplan ")


def test_every_command_takes_db_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Walk the whole command tree: each leaf command documents --db and --json."""
    import typer.main

    from ssaplan.cli import app

    root = typer.main.get_command(app)

    def leaves(cmd, path):  # type: ignore[no-untyped-def]
        if hasattr(cmd, "list_commands"):  # a group: its commands load on demand
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                yield from leaves(cmd.get_command(ctx, name), [*path, name])
        else:
            yield path, cmd

    found = list(leaves(root, []))
    assert len(found) >= 8
    for path, cmd in found:
        options = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"--db", "--json"} <= options, path
