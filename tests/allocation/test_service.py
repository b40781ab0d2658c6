"""Saved scenarios, results, what-ifs, comparisons and jobs: permissions, audit, all or nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan import domains
from ssaplan.allocation import jobs
from ssaplan.allocation.engine.solve import AllocationOptimizer
from ssaplan.allocation.models import AllocationJob, AllocationRun, AllocationScenario
from ssaplan.allocation.service import AllocationService, parse
from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound
from ssaplan.core.models import AuditRecord
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scenario.json"
PLANNER = Actor("planner-1", "planner", agency_id="State")
ANALYST = Actor("analyst-1", "analyst", agency_id="USAID")
VIEWER = Actor("viewer-1", "viewer", agency_id="DOJ")


@pytest.fixture(autouse=True)
def _permissions() -> None:
    domains.install()


def example() -> dict[str, Any]:
    return dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def counts(store: Store) -> tuple[int, int, int, int]:
    with store.session() as s:
        return (
            s.execute(select(func.count()).select_from(AllocationScenario)).scalar_one(),
            s.execute(select(func.count()).select_from(AllocationRun)).scalar_one(),
            s.execute(select(func.count()).select_from(AllocationJob)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditRecord)).scalar_one(),
        )


def create(store: Store, definition: dict[str, Any] | None = None) -> dict[str, Any]:
    with store.transaction() as s:
        return AllocationService(s, PLANNER).create_scenario(definition or example())


def test_a_saved_scenario_reads_back_and_is_audited(store: Store) -> None:
    before = counts(store)
    saved = create(store)
    assert saved["name"] == "FY2027-28 illustrative plan"
    assert saved["fiscal_years"] == [2027, 2028] and saved["candidates"] == 12
    assert saved["version"] == 1 and saved["created_by"] == "planner-1"
    with store.session() as s:
        again = AllocationService(s, VIEWER).get_scenario(saved["id"])
        listed = AllocationService(s, VIEWER).list_scenarios()
        record = s.execute(select(AuditRecord).order_by(AuditRecord.id.desc())).scalars().first()
    assert again["definition"] == example()
    assert [x["id"] for x in listed] == [saved["id"]] and listed[0]["latest_result"] is None
    assert counts(store)[0] == before[0] + 1
    assert record is not None and record.entity_type == "allocation_scenario"
    assert record.actor == "planner-1" and record.action == "create"


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: d["candidates"][3]["levels"][0].update(annual=-5),
            "candidates.3.levels.0.annual",
            ">= 0",
        ),
        (
            lambda d: d["candidates"][0].update(account="ESF"),
            "candidates.0.account",
            "unknown account",
        ),
        (lambda d: d["candidates"][0].update(country="XXX"), "candidates.0.country", "XXX"),
        (lambda d: d.pop("accounts"), "accounts", "missing"),
        (lambda d: d["candidates"][0].update(requires=["NOPE"]), "candidates.0.requires", "NOPE"),
    ],
)
def test_a_bad_scenario_is_refused_with_its_path_and_nothing_is_written(
    store: Store, change: Any, path: str, message: str
) -> None:
    d = example()
    change(d)
    before = counts(store)
    with pytest.raises(Invalid) as caught, store.transaction() as s:
        AllocationService(s, PLANNER).create_scenario(d)
    found = [str(x) for x in caught.value.details]
    assert any(x.startswith(path) and message in x for x in found), found
    assert counts(store) == before


def test_only_writers_create_and_only_runners_solve(store: Store) -> None:
    before = counts(store)
    for actor in (VIEWER, ANALYST):
        with pytest.raises(Forbidden), store.transaction() as s:
            AllocationService(s, actor).create_scenario(example())
    assert counts(store) == before
    saved = create(store)
    result = AllocationOptimizer(time_limit=5).solve(parse(saved["definition"]).problem)
    with pytest.raises(Forbidden), store.transaction() as s:
        AllocationService(s, VIEWER).save_result(saved["id"], result, settings={})
    with store.transaction() as s:  # an analyst may solve and keep the result
        assert AllocationService(s, ANALYST).save_result(saved["id"], result, settings={}) > 0


def test_a_stale_edit_is_refused_and_changes_nothing(store: Store) -> None:
    saved = create(store)
    d = example()
    d["accounts"]["FMF"]["2027"] = 70_000_000
    with store.transaction() as s:
        edited = AllocationService(s, PLANNER).update_scenario(saved["id"], d, version=1)
    assert edited["version"] == 2
    assert edited["definition"]["accounts"]["FMF"]["2027"] == 70_000_000
    stale = copy.deepcopy(d)
    stale["accounts"]["FMF"]["2027"] = 1
    with pytest.raises(Conflict), store.transaction() as s:
        AllocationService(s, PLANNER).update_scenario(saved["id"], stale, version=1)
    bad = copy.deepcopy(d)
    bad["reserve_share"] = 2
    with pytest.raises(Invalid), store.transaction() as s:
        AllocationService(s, PLANNER).update_scenario(saved["id"], bad, version=2)
    with store.session() as s:
        now = AllocationService(s, VIEWER).get_scenario(saved["id"])
    assert now["version"] == 2 and now["definition"]["accounts"]["FMF"]["2027"] == 70_000_000


def test_results_compare_and_say_what_moved(store: Store) -> None:
    d = example()
    for c in d["candidates"]:
        c["title"] = f"Program {c['id']}"
    saved = create(store, d)
    with store.transaction() as s:
        cut = AllocationService(s, PLANNER).what_if(
            saved["id"], budget=[{"account": "FMF", "percent": -10, "fiscal_years": [2027]}]
        )
    assert cut["base_id"] == saved["id"] and cut["source"] == "whatif"
    assert "FMF budget -10%" in cut["name"]
    # titles survive the what-if (pages show names)
    assert {c["title"] for c in cut["definition"]["candidates"]} == {
        c["title"] for c in d["candidates"]
    }
    optimizer = AllocationOptimizer(time_limit=10)
    ids = []
    for sc in (saved, cut):
        result = optimizer.solve(parse(sc["definition"]).problem)
        with store.transaction() as s:
            ids.append(
                AllocationService(s, ANALYST).save_result(
                    sc["id"], result, settings={"time_limit": 10}
                )
            )
    with store.session() as s:
        service = AllocationService(s, VIEWER)
        diff = service.compare(ids[0], ids[1])
        first = service.get_result(ids[0])
        listed = service.list_scenarios()
    assert first["status"] == "optimal" and first["objective"] == pytest.approx(180.0)
    assert first["result"]["chosen"] and first["definition"]["name"] == saved["name"]
    assert diff["objective_before"] == pytest.approx(180.0)
    assert diff["objective_after"] < diff["objective_before"]
    assert "FMF FY2027 budget cut by 10%" in diff["changes"]
    moved = {m["id"]: m for m in diff["moves"]}
    assert moved["UKR-AD"]["change"] == "dropped" and moved["UKR-AD"]["reasons"]
    assert moved["UKR-AD"]["title"] == "Program UKR-AD"
    assert {x["id"]: x["latest_result"]["id"] for x in listed} == {
        saved["id"]: ids[0],
        cut["id"]: ids[1],
    }


def test_a_what_if_without_a_change_or_of_an_unknown_scenario_is_refused(store: Store) -> None:
    saved = create(store)
    before = counts(store)
    with pytest.raises(Invalid), store.transaction() as s:
        AllocationService(s, PLANNER).what_if(saved["id"])
    with pytest.raises(NotFound), store.transaction() as s:
        AllocationService(s, PLANNER).what_if(999, budget=[{"account": "FMF", "percent": 5}])
    assert counts(store) == before


def test_a_job_runs_to_a_saved_result_with_progress(store: Store) -> None:
    saved = create(store)
    with store.transaction() as s:
        job_id = AllocationService(s, ANALYST).create_job(
            saved["id"], {"time_limit": 10, "robust": 4}
        )
    with store.session() as s:
        queued = AllocationService(s, VIEWER).get_job(job_id)
    assert queued["state"] == "queued" and queued["progress"] == 0
    result_id = jobs.run_job(store, ANALYST, job_id)
    with store.session() as s:
        done = AllocationService(s, VIEWER).get_job(job_id)
        result = AllocationService(s, VIEWER).get_result(result_id or 0)
    assert done["state"] == "done" and done["progress"] == 1.0 and done["result_id"] == result_id
    assert done["started_at"] is not None and done["finished_at"] is not None
    assert result["status"] == "optimal" and result["created_by"] == "analyst-1"
    assert result["robust"] is not None and result["robust"]["draws"] == 4


def test_a_job_on_a_scenario_gone_bad_fails_with_the_envelope(store: Store) -> None:
    saved = create(store)
    with store.transaction() as s:
        job_id = AllocationService(s, ANALYST).create_job(saved["id"], {"time_limit": 5})
        # the stored definition is damaged behind the service's back
        row = s.get(AllocationScenario, saved["id"])
        assert row is not None
        broken = dict(row.definition)
        broken["candidates"] = [{**broken["candidates"][0], "account": "NOPE"}]
        row.definition = broken
    assert jobs.run_job(store, ANALYST, job_id) is None
    with store.session() as s:
        failed = AllocationService(s, VIEWER).get_job(job_id)
    assert failed["state"] == "failed" and failed["error"]["code"] == "invalid"
    assert failed["error"]["details"][0]["loc"][:2] == ["candidates", 0]
    assert counts(store)[1] == 0  # no result written


def test_delete_removes_the_scenario_with_its_results(store: Store) -> None:
    saved = create(store)
    result = AllocationOptimizer(time_limit=5).solve(parse(saved["definition"]).problem)
    with store.transaction() as s:
        AllocationService(s, ANALYST).save_result(saved["id"], result, settings={})
    with pytest.raises(Forbidden), store.transaction() as s:
        AllocationService(s, ANALYST).delete_scenario(saved["id"])
    with store.transaction() as s:
        AllocationService(s, PLANNER).delete_scenario(saved["id"])
    assert counts(store)[:3] == (0, 0, 0)
    with pytest.raises(NotFound), store.session() as s:
        AllocationService(s, VIEWER).get_scenario(saved["id"])


def test_recover_fails_jobs_a_stopped_process_left(store: Store) -> None:
    saved = create(store)
    with store.transaction() as s:
        job_id = AllocationService(s, ANALYST).create_job(saved["id"], {})
    assert jobs.recover(store) == 1
    with store.session() as s:
        assert AllocationService(s, VIEWER).get_job(job_id)["state"] == "failed"
