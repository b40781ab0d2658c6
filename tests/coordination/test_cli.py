"""``ssaplan deconflict`` and ``ssaplan coordinate --partner``: the JSON contracts, progress
on stderr, exit codes, and bad input refused with nothing written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ssaplan.coordination.models import OverlapRun
from ssaplan.core.models import AuditRecord
from ssaplan.core.store import Store
from tests.conftest import run_cli as run
from tests.coordination.conftest import World


def _url(store: Store) -> str:
    return str(store.engine.url)


def _runs_and_audits(store: Store) -> tuple[int, int]:
    with store.session() as session:
        runs = session.execute(select(func.count()).select_from(OverlapRun)).scalar_one()
        audits = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    return int(runs), int(audits)


def test_deconflict_prints_the_pairs_contract_and_progress_on_stderr(
    sqlite_world: tuple[Store, World], capsys: pytest.CaptureFixture[str]
) -> None:
    store, world = sqlite_world
    code, out, err = run(capsys, "--db", _url(store), "deconflict", "--json")
    assert code == 0, err
    data = json.loads(out)  # one JSON object, nothing else on stdout
    assert {"pairs", "skipped", "orphan_marks", "stats", "run"} <= set(data)
    for pair in data["pairs"]:
        assert {"a", "b", "score", "likely", "reasons"} <= set(pair)
        assert isinstance(pair["likely"], bool) and 0 <= pair["score"] <= 1
        assert pair["reasons"] and all(isinstance(r, str) for r in pair["reasons"])
    by_ids = {(p["a"], p["b"]): p for p in data["pairs"]}
    assert by_ids[(world.som_a, world.som_b)]["likely"] is True
    assert by_ids[(world.som_a, "DEMO-GB-DUP-0001")]["likely"] is True
    assert by_ids[(world.som_a, world.som_b)]["a_owner"] == "Department of Defense"
    assert data["skipped"] == [
        {"id": "DEMO-XX-0004", "reason": "no country and no region: no partner to compare"}
    ]
    assert data["run"]["pairs"] == len(data["pairs"]) and data["run"]["id"] == 1
    # progress goes to stderr, stage by stage
    assert "deconflict: texts" in err and "deconflict: partner blocks" in err
    assert "deconflict: saving pairs" in err

    # the human form: a table on stdout, the run's summary on stderr
    code, out, err = run(capsys, "deconflict", "--db", _url(store), "--likely-only")
    assert code == 0, err
    assert out.startswith("score  likely pair") and "Coast guard boarding team training" in out
    assert "run 2:" in err and "1 skipped" in err


def test_coordinate_prints_one_partners_picture(
    sqlite_world: tuple[Store, World], capsys: pytest.CaptureFixture[str]
) -> None:
    store, world = sqlite_world
    run(capsys, "--db", _url(store), "deconflict", "--json")
    code, out, err = run(
        capsys, "--db", _url(store), "coordinate", "--partner", "SOM", "--as-of", "2026-01-01",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["partner"] == {"code": "SOM", "name": "Somalia", "kind": "country"}
    assert data["usd"] == 9_200_000
    assert [(d["donor"], d["usd"]) for d in data["donors"]] == [
        ("US", 5_200_000),
        ("DEMO-GB", 3_000_000),
        ("DEMO-DE", 1_000_000),
    ]
    assert data["division_of_labour"]["leads"] == {"151": "DEMO-GB", "152": "US"}
    assert data["our_share"]["our_share"] == pytest.approx(5.2 / 9.2, abs=1e-4)
    assert {(o["a"], o["b"]) for o in data["overlaps"]} >= {(world.som_a, world.som_b)}
    assert {g["kind"] for g in data["gaps"]} >= {"uncovered_cell"}

    code, out, err = run(capsys, "--db", _url(store), "coordinate", "--partner", "Somalia")
    assert code == 0, err
    assert out.startswith("Somalia (SOM): $9,200,000 disbursed")
    assert "United Kingdom (illustrative)" in out and "our share: 56.5%" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coordinate", "--partner", "ZZZ"], "unknown partner 'ZZZ'"),
        (["coordinate", "--partner", "SOM", "--basis", "pledged"], "unknown money basis"),
        (["coordinate", "--partner", "SOM", "--vocabulary", "dac7"], "unknown sector vocabulary"),
        (["coordinate", "--partner", "SOM", "--as-of", "2026-13-01"], "is not a date"),
        (["coordinate", "--partner", "SOM", "--months", "0"], "months: must be 1 to 120"),
        (
            ["coordinate", "--partner", "SOM", "--first-fy", "2027", "--last-fy", "2026"],
            "first_fy: must not be after last_fy",
        ),
    ],
)
def test_bad_input_is_a_one_line_error_and_writes_nothing(
    sqlite_world: tuple[Store, World],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    store, _ = sqlite_world
    before = _runs_and_audits(store)
    code, out, err = run(capsys, "--db", _url(store), *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err
    code, out, _ = run(capsys, "--db", _url(store), *args, "--json")
    assert code == 1 and json.loads(out)["error"]["message"]
    assert _runs_and_audits(store) == before


def test_usage_errors_exit_2(
    sqlite_world: tuple[Store, World], capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = sqlite_world
    assert run(capsys, "--db", _url(store), "coordinate")[0] == 2  # --partner is required
    assert run(capsys, "--db", _url(store), "deconflict", "--no-such-option")[0] == 2
    assert _runs_and_audits(store)[0] == 0
