"""``ssaplan review``, ``ssaplan monitor`` and ``ssaplan surge`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssaplan.core.store import Store
from tests.conftest import run_cli
from tests.monitoring.conftest import World, build_world

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def sqlite_world(tmp_path: Path, templates: object, request: pytest.FixtureRequest) -> World:
    from tests.conftest import Templates

    assert isinstance(templates, Templates)
    import shutil

    path = tmp_path / "world.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    request.addfinalizer(store.dispose)
    return build_world(store)


def _cli(capsys: Capsys, world: World, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--db", world.store.url, *args)


def test_review_json_lists_open_reviews_in_the_contract_shape(
    sqlite_world: World, capsys: Capsys
) -> None:
    code, out, err = _cli(capsys, sqlite_world, "review", "run", "--as-of", "2026-10-01")
    assert code == 0, err
    assert "4 reviews opened" in err and "1 already open" in err
    code, out, err = _cli(capsys, sqlite_world, "review", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["reviews"]
    assert len(data["reviews"]) == 5
    for r in data["reviews"]:
        assert list(r) == ["program", "trigger", "recommendation", "reasons"]
        assert r["recommendation"] in (
            "continue",
            "scale_up",
            "restructure",
            "suspend",
            "terminate",
        )
        assert r["reasons"] and all(isinstance(x, str) for x in r["reasons"])
    assert {"program": "P-OFF", "trigger": "indicator_off_track"}.items() <= next(
        r for r in data["reviews"] if r["program"] == "P-OFF"
    ).items()
    # --json before the command counts as well; the human form names each review's number.
    code, out2, _ = run_cli(capsys, "--db", sqlite_world.store.url, "--json", "review")
    assert json.loads(out2) == data
    code, out, err = _cli(capsys, sqlite_world, "review")
    assert code == 0 and "P-OFF" in out and "indicator_off_track" in out and "#" in out


def test_a_reviewer_opens_decides_and_reads_back(sqlite_world: World, capsys: Capsys) -> None:
    w = sqlite_world
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "open",
        "P-QUIET",
        "--reason",
        "doing well",
        "--recommend",
        "scale_up",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["recommendation"] == "scale_up"
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "decide",
        "P-QUIET",
        "--decision",
        "scale_up",
        "--rationale",
        "the partner outperforms",
        "--budget",
        "2028:3000000",
        "--as-of",
        "2026-10-01",
    )
    assert code == 0, err
    assert "1 budget line(s) changed" in err
    code, out, err = _cli(capsys, w, "review", "show", "P-QUIET")
    assert "decided scale_up" in out and "planned $2,000,000 → $3,000,000" in out
    code, out, err = _cli(
        capsys, w, "review", "decide", "P-QUIET", "--decision", "terminate", "--rationale", "again"
    )
    assert code == 1 and "no open review" in err
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "decide",
        "--id",
        "1",
        "--decision",
        "suspend",
        "--rationale",
        "crisis in Kenya",
    )
    assert code == 0, err
    assert "implementing → suspended" in err
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "decide",
        "--id",
        "1",
        "--decision",
        "continue",
        "--rationale",
        "a second time",
    )
    assert code == 1 and "is closed" in err
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "decide",
        "P-QUIET",
        "--budget",
        "x:y:z:w",
        "--decision",
        "restructure",
        "--rationale",
        "bad budget here",
    )
    assert code == 1


def test_the_annual_cycle_rules_and_monitor(sqlite_world: World, capsys: Capsys) -> None:
    w = sqlite_world
    code, out, err = _cli(
        capsys, w, "review", "annual", "--fy", "2027", "--as-of", "2026-10-01", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["opened"] == 6
    code, out, err = _cli(capsys, w, "review", "rules")
    assert "[indicator_off_track]" in out and "recommend restructure" in out
    code, out, err = _cli(capsys, w, "review", "set", "indicator_off_track", "periods=3")
    assert code == 0, err
    assert "latest 3 rated periods" in err
    code, out, err = _cli(capsys, w, "review", "set", "indicator_off_track", "periodz=3")
    assert code == 1 and "unknown" in err
    code, out, err = _cli(capsys, w, "monitor", "--as-of", "2026-10-01", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["performance"]["off_track"] == 1 and data["timelines"]["deliveries"] == 1
    assert data["timelines"]["late"][0]["program"] == "P-LATE"
    code, out, err = _cli(capsys, w, "monitor", "--as-of", "2026-10-01")
    assert code == 0 and "1 off track" in out and "late: P-LATE" in out
    code, out, err = _cli(capsys, w, "monitor", "--as-of", "tomorrow")
    assert code == 1 and "not a date" in err
    code, out, err = _cli(
        capsys,
        w,
        "review",
        "crisis",
        "TGO",
        "--description",
        "floods",
        "--kind",
        "disaster",
        "--date",
        "2026-11-01",
    )
    assert code == 0, err
    assert "reviews opened" in err


def test_surge_commands(sqlite_world: World, capsys: Capsys, tmp_path: Path) -> None:
    w = sqlite_world
    code, out, err = _cli(capsys, w, "surge", "reserve", "INCLE", "2027", "10000000")
    assert code == 0, err
    code, out, err = _cli(capsys, w, "surge", "reserve", "INCLE", "2027", "12000000")
    assert code == 0, err
    assert "$12,000,000" in err
    with w.store.session() as session:
        from ssaplan.strategy.service import StrategyService
        from tests.strategy.world import ADMIN

        o = StrategyService(session, ADMIN).get(w.strategy).objectives[0]
    assert o.sustainment is not None
    request = {
        "title": "Urgent radios",
        "justification": "the border posts lost their radios",
        "country": "GHA",
        "account": "INCLE",
        "fiscal_year": 2027,
        "amount": 1000000,
        "program": "P-OFF",
    }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(request), encoding="utf-8")
    code, out, err = _cli(capsys, w, "surge", "request", str(bad))
    assert code == 1 and "must name the strategy objective" in err
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({**request, "objective": o.id, "sustainment_plan": o.sustainment.id}),
        encoding="utf-8",
    )
    code, out, err = _cli(capsys, w, "surge", "request", str(good), "--json")
    assert code == 0, err
    surge_id = json.loads(out)["id"]
    code, out, err = _cli(capsys, w, "surge", "approve", str(surge_id), "--note", "urgent")
    assert code == 0, err
    assert "approved: program P-OFF" in err
    code, out, err = _cli(capsys, w, "surge", "list")
    assert "approved" in out and "Ghana Immigration Service budget" in out
    code, out, err = _cli(capsys, w, "surge", "reserves", "--json")
    assert json.loads(out)["reserves"][0]["available"] == 11_000_000
