"""Markings in the audit trail (issue 10, item 8): an audit record copies its record's
fields (a program's description, an overlap mark's two ids and note, a strategy's
objectives), so an admin who may not see a record gets none of its audit records, over
the API and on the page: only how many were left out (``withheld``, never which). The
hash chain is still verified whole.

The world: programs P-OPEN (U) and P-SECRET (CUI, a description nobody below CUI may
read), P-LATER (created CUI, remarked U: judged by its marking now), P-GONE (U, deleted:
judged like a deleted record's history, shown only to readers without limits), a CUI
strategy GHA-CUI with its objectives, and an overlap mark between P-OPEN and P-SECRET.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.schemas import MarkCreate
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD, web_login
from tests.factories import program, set_clearance
from tests.querycount import count_statements
from tests.strategy.world import add_strategy

SECRET = "Boarding tactics of the special unit"
HIDDEN_IDS = ("P-SECRET", "P-GONE", "GHA-CUI")


def build_world(store: Store) -> None:
    with store.transaction() as session:
        svc = PortfolioService(session, OPERATOR)
        svc.create(program(id="P-OPEN", title="Open program"))
        svc.create(
            program(id="P-SECRET", title="Secret program", description=SECRET, marking="CUI")
        )
        later = svc.create(program(id="P-LATER", title="Later program", marking="CUI"))
        svc.update("P-LATER", ProgramUpdate(marking="U", version=later.version))
        gone = svc.create(program(id="P-GONE", title="Gone program"))
        svc.delete("P-GONE", gone.version)
        secret = svc.get("P-SECRET")
        svc.update(
            "P-SECRET", ProgramUpdate(title="Secret program, renewed", version=secret.version)
        )
        add_strategy(session, ["P-OPEN"], id="GHA-CUI", title="Secret strategy", marking="CUI")
        OverlapService(session, OPERATOR).create_mark(
            MarkCreate(a="P-OPEN", b="P-SECRET", mark="dismissed", note="not the same unit")
        )


@pytest.fixture
def admins(api: Api) -> dict[str, dict[str, str]]:
    build_world(api.store)
    headers = {"all": api.login("admin-all", "admin"), "u": api.login("admin-u", "admin")}
    set_clearance(api.store, "admin-u", ceiling="U")
    return headers


def trail(api: Api, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    r = api.client.get(f"/api/audit?limit=1000{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def about_hidden(item: dict[str, Any]) -> bool:
    text = json.dumps(item)
    return SECRET in text or any(code in text for code in HIDDEN_IDS)


def test_an_admin_below_cui_gets_no_record_of_a_cui_record_only_the_count(
    api: Api, admins: dict[str, str]
) -> None:
    everything = trail(api, admins["all"])
    assert everything["withheld"] == 0
    hidden = [i for i in everything["items"] if about_hidden(i)]
    assert hidden and any(i["entity_id"] == "P-SECRET" for i in hidden)
    assert any(i["entity_type"] == "overlap_mark" for i in hidden)
    assert any(i["entity_id"].startswith("GHA-CUI/") for i in hidden)  # children too
    assert any(i["entity_id"] == "P-GONE" and i["action"] == "delete" for i in hidden)

    mine = trail(api, admins["u"])
    assert [i for i in mine["items"] if about_hidden(i)] == []
    assert mine["withheld"] == len(hidden)
    assert len(mine["items"]) == len(everything["items"]) - len(hidden)
    # Remarked U: its records are read by its marking now, its CUI days included.
    later = [i for i in mine["items"] if i["entity_id"] == "P-LATER"]
    assert [i["action"] for i in later] == ["update", "create"]
    assert any(i["entity_id"] == "P-OPEN" for i in mine["items"])


def test_filters_count_what_they_matched_and_pages_stay_full(
    api: Api, admins: dict[str, str]
) -> None:
    programs = trail(api, admins["u"], "&entity_type=program")
    assert {i["entity_id"] for i in programs["items"]} == {"P-OPEN", "P-LATER"}
    assert programs["withheld"] == 4  # P-SECRET created and retitled, P-GONE created, deleted
    assert trail(api, admins["u"], "&entity_id=P-SECRET") == {
        "items": [],
        "total": None,
        "withheld": 2,
    }
    # One record a page: every page holds one visible record, each says the same count.
    seen: list[int] = []
    before = ""
    while True:
        r = api.client.get(
            f"/api/audit?entity_type=program&limit=1{before}", headers=admins["u"]
        ).json()
        if not r["items"]:
            break
        assert len(r["items"]) == 1 and r["withheld"] == 4
        seen.append(r["items"][0]["id"])
        before = f"&before_id={seen[-1]}"
    assert seen == [i["id"] for i in programs["items"]]


def test_verifying_the_chain_still_checks_every_record(api: Api, admins: dict[str, str]) -> None:
    everything = trail(api, admins["all"])
    for who in ("all", "u"):
        check = api.client.get("/api/audit/verify", headers=admins[who]).json()
        assert check["ok"] is True
        assert check["records"] >= len(everything["items"])


def test_the_audit_page_says_how_many_records_it_does_not_show(
    api: Api, admins: dict[str, str]
) -> None:
    hidden = trail(api, admins["all"])
    count = sum(about_hidden(i) for i in hidden["items"])
    client = TestClient(create_app(api.store))
    web_login(client, "admin-u", PASSWORD)
    page = client.get("/admin/audit").text
    assert f"{count} audit records about records you may not see are not shown" in page
    main = page.split("<main", 1)[1]
    assert not any(code in main for code in HIDDEN_IDS) and SECRET not in main
    assert "P-OPEN" in main
    one = client.get("/admin/audit?entity_id=P-SECRET").text
    assert re.search(r"2 audit records about records you may not see are not shown", one)
    client_all = TestClient(create_app(api.store))
    web_login(client_all, "admin-all", PASSWORD)
    page_all = client_all.get("/admin/audit").text
    assert "you may not see" not in page_all and "P-SECRET" in page_all


def test_a_restricted_reader_s_trail_costs_the_same_statements_at_any_size(
    api: Api, admins: dict[str, str]
) -> None:
    def statements() -> int:
        with count_statements(api.store) as sent:
            r = api.client.get("/api/audit?limit=1000", headers=admins["u"])
        assert r.status_code == 200
        return len(sent)

    small = statements()
    before = trail(api, admins["u"])["withheld"]
    with api.store.transaction() as session:
        svc = PortfolioService(session, OPERATOR)
        for n in range(20):
            marking = "CUI" if n % 2 else "U"
            svc.create(program(id=f"P-MORE-{n}", title=f"More {n}", marking=marking))
    assert statements() == small
    assert trail(api, admins["u"])["withheld"] == before + 10


def test_a_scenario_naming_a_hidden_program_has_no_audit_record_for_a_narrower_admin(
    api: Api, admins: dict[str, str]
) -> None:
    """A scenario's audit record carries its name; an admin who may not read the
    scenario (a hidden program among its candidates) gets neither."""
    from ssaplan.allocation.service import AllocationService

    example = json.loads(
        (Path(__file__).resolve().parents[2] / "docs/examples/scenario.json").read_text()
    )
    open_one = {**example, "name": "Open scenario"}
    secret_one = {
        **example,
        "name": "Scenario with the secret program",
        "candidates": [{**example["candidates"][0], "id": "P-SECRET"}, *example["candidates"]],
    }
    with api.store.transaction() as session:
        service = AllocationService(session, OPERATOR)
        service.create_scenario(open_one)
        service.create_scenario(secret_one)
    scenarios = "&entity_type=allocation_scenario"
    every = trail(api, admins["all"], scenarios)
    assert {i["after"]["name"] for i in every["items"]} == {"Open scenario", secret_one["name"]}
    mine = trail(api, admins["u"], scenarios)
    assert [i["after"]["name"] for i in mine["items"]] == ["Open scenario"]
    assert mine["withheld"] == 1
