"""Compliance over the API: every resource that writes inherits the house's checks
(anonymous, missing permission, create, update, stale update, malformed body, unknown
id), plus the contracts the other interfaces share."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

import pytest

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.apibase import Api, APIResourceChecks
from tests.compliance.conftest import add_program
from tests.test_openapi import _problems

BASE = "/api/compliance"
TODAY = date.today()


class TestRestrictions(APIResourceChecks):
    list_url = f"{BASE}/restrictions"
    writer: ClassVar[tuple[str, str]] = ("admin", "State")
    malformed_field = "waivers"

    def create_payload(self) -> dict[str, Any]:
        return {
            "country": "Mali",
            "type": "coup",
            "start": "2021-05-24",
            "citation": "Sec. 7008 determination",
            "waivers": [{"accounts": ["FMF"], "start": "2025-10-01", "end": "2026-09-30"}],
        }

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"end": "2030-09-30", "version": created["version"]}


class TestRules(APIResourceChecks):
    list_url = f"{BASE}/rules"
    writer: ClassVar[tuple[str, str]] = ("admin", "State")
    malformed_field = "exceptions"

    def create_payload(self) -> dict[str, Any]:
        return {
            "id": "coup_defense_articles",
            "restriction_type": "coup",
            "summary": "No excess defense articles either (illustrative).",
            "citation": "Sec. 7008 (illustrative)",
            "blocks_accounts": ["10USC332"],
            "recipients": "government",
            "waivable": False,
        }

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"note": "reviewed", "version": created["version"]}


class TestRestrictionTypes(APIResourceChecks):
    list_url = f"{BASE}/restriction-types"
    writer: ClassVar[tuple[str, str]] = ("admin", "State")
    malformed_field = "name"

    def create_payload(self) -> dict[str, Any]:
        return {"id": "arms_embargo", "name": "Arms embargo"}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"description": "A UN Security Council arms embargo", "version": created["version"]}


class TestUnits(APIResourceChecks):
    list_url = f"{BASE}/units"
    writer: ClassVar[tuple[str, str]] = ("planner", "State")
    malformed_field = "parent"

    def create_payload(self) -> dict[str, Any]:
        return {"name": "Coast Guard Station Tema", "country": "Ghana", "type": "border_management"}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"name": "Coast Guard Station Tema (east)", "version": created["version"]}


class _WithUnitAndProgram(APIResourceChecks):
    """Resources that point at a unit and a program: both made before each test."""

    unit_id: int

    @pytest.fixture(autouse=True)
    def _world(self, api: Api) -> None:
        add_program(api.store, "GHA-INCLE", countries=["GHA"], account="INCLE", agency="State/INL")
        headers = api.login("setup", "admin")
        r = api.client.post(
            f"{BASE}/units",
            json={"name": "Marine Police Unit", "country": "GHA", "type": "police"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        self.unit_id = r.json()["id"]


class TestVetting(_WithUnitAndProgram):
    list_url = f"{BASE}/vetting"
    writer: ClassVar[tuple[str, str]] = ("planner", "State")
    malformed_field = "validity_days"

    def create_payload(self) -> dict[str, Any]:
        return {"unit": self.unit_id, "program": "GHA-INCLE", "requested": str(TODAY)}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"status": "approved", "decided": str(TODAY), "version": created["version"]}

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"note": "late", "version": created["version"]}


class TestCredibleInformation(_WithUnitAndProgram):
    list_url = f"{BASE}/credible-information"
    writer: ClassVar[tuple[str, str]] = ("admin", "State")
    malformed_field = "reported"

    def create_payload(self) -> dict[str, Any]:
        return {
            "unit": self.unit_id,
            "reported": str(TODAY - timedelta(days=3)),
            "description": "reports of abuse of detained fishermen",
        }

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {
            "remediated_on": str(TODAY),
            "remediation": "officers prosecuted",
            "version": created["version"],
        }


# -- contracts shared with the CLI and pages ------------------------------------------------
def _admin(api: Api) -> dict[str, str]:
    return api.login("boss", "admin")


def test_the_check_endpoint_answers_what_the_cli_answers(api: Api) -> None:
    add_program(api.store, "MLI-FMF")
    headers = _admin(api)
    r = api.client.post(
        f"{BASE}/restrictions", json=TestRestrictions().create_payload(), headers=headers
    )
    assert r.status_code == 201
    assert r.headers["location"] == f"{BASE}/restrictions/{r.json()['id']}"
    check = api.client.get(f"{BASE}/check", headers=headers).json()
    assert [(p["id"], p["fiscal_year"], p["eligible"]) for p in check["programs"]] == [
        ("MLI-FMF", 2026, True),  # waived for FY2026
        ("MLI-FMF", 2027, False),
    ]
    assert list(check["programs"][1]["reasons"][0]) == ["rule", "citation", "text"]
    panel = api.client.get(f"{BASE}/programs/MLI-FMF/eligibility", headers=headers).json()
    assert [y["eligible"] for y in panel["years"]] == [True, False]
    assert panel["years"][0]["reasons"][0]["effect"] == "waived"
    assert panel["facts"] == {
        "program": "MLI-FMF",
        "recipient": "government",
        "flags": [],
        "note": "",
        "version": 0,
        "updated_at": None,
        "updated_by": "",
    }
    only = api.client.get(
        f"{BASE}/eligibility", params={"ineligible": "true", "country": "Mali"}, headers=headers
    ).json()
    assert [(i["id"], i["fiscal_year"]) for i in only["items"]] == [("MLI-FMF", 2027)]
    cells = api.client.get(
        f"{BASE}/blocked-cells", params={"fiscal_year": [2026, 2027]}, headers=headers
    ).json()
    assert {"country": "MLI", "account": "FMF", "fiscal_year": 2027} in cells["cells"]
    assert {"country": "MLI", "account": "FMF", "fiscal_year": 2026} not in cells["cells"]
    reached = api.client.get(f"{BASE}/restrictions/{r.json()['id']}/programs", headers=headers)
    assert reached.json()["programs"] == ["MLI-FMF"]


def test_overlap_unknown_account_and_unknown_unit_are_specific_errors(api: Api) -> None:
    add_program(api.store, "MLI-FMF")
    headers = _admin(api)
    payload = TestRestrictions().create_payload()
    assert api.client.post(f"{BASE}/restrictions", json=payload, headers=headers).status_code == 201
    r = api.client.post(
        f"{BASE}/restrictions", json={**payload, "start": "2024-01-01"}, headers=headers
    )
    assert (
        r.status_code == 409
        and "overlaps the stored coup restriction on MLI" in r.json()["error"]["message"]
    )
    r = api.client.post(
        f"{BASE}/restrictions",
        json={
            **payload,
            "country": "NER",
            "waivers": [{"accounts": ["NOPE"], "start": "2022-01-01"}],
        },
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"loc": ["body", "waivers", 0, "accounts", 0], "msg": "waiver for unknown account 'NOPE'"}
    ]
    r = api.client.post(f"{BASE}/vetting", json={"unit": 77, "program": "MLI-FMF"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"loc": ["body", "unit"], "msg": "unit 77 does not exist"}
    ]
    r = api.client.post(f"{BASE}/restrictions", json={**payload, "colour": "red"}, headers=headers)
    assert r.status_code == 422  # unknown fields are refused
    assert api.client.get(f"{BASE}/restrictions", headers=headers).json()["total"] == 1


def test_a_planner_may_not_lift_credible_information_nor_edit_rules(api: Api) -> None:
    add_program(api.store, "GHA-INCLE", countries=["GHA"], account="INCLE", agency="State/INL")
    planner = api.login("pat", "planner", "State")
    unit = api.client.post(
        f"{BASE}/units", json={"name": "Unit", "country": "GHA", "type": "police"}, headers=planner
    ).json()
    info = api.client.post(
        f"{BASE}/credible-information",
        json={"unit": unit["id"], "reported": str(TODAY), "description": "abuse"},
        headers=planner,
    ).json()
    r = api.client.patch(
        f"{BASE}/credible-information/{info['id']}",
        json={"remediated_on": str(TODAY), "remediation": "x", "version": info["version"]},
        headers=planner,
    )
    assert r.status_code == 403
    r = api.client.patch(
        f"{BASE}/rules/coup_government", json={"note": "x", "version": 1}, headers=planner
    )
    assert r.status_code == 403


def test_program_facts_and_assistance(api: Api) -> None:
    add_program(api.store, "MLI-DA", account="DA", agency="USAID")
    headers = _admin(api)
    r = api.client.put(
        f"{BASE}/programs/MLI-DA/facts",
        json={"flags": ["democracy_assistance"], "version": 0},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["version"] == 1
    r = api.client.put(
        f"{BASE}/programs/MLI-DA/facts",
        json={"flags": ["democracy"], "version": 1},
        headers=headers,
    )
    assert r.status_code == 422 and "unknown flag 'democracy'" in r.text
    r = api.client.put(
        f"{BASE}/programs/MLI-DA/facts", json={"note": "x", "version": 0}, headers=headers
    )
    assert r.status_code == 409
    r = api.client.post(
        f"{BASE}/programs/MLI-DA/assistance", json={"individual": "A. Person"}, headers=headers
    )
    assert r.status_code == 201
    listed = api.client.get(f"{BASE}/programs/MLI-DA/assistance", headers=headers).json()
    assert [a["individual"] for a in listed["items"]] == ["A. Person"]
    assert (
        api.client.delete(f"{BASE}/assistance/{r.json()['id']}", headers=headers).status_code == 204
    )


def test_imports_and_exports_over_the_api(api: Api) -> None:
    headers = _admin(api)
    good = (
        "country,type,start,end,citation,waiver_accounts,waiver_start,waiver_end\n"
        "IRN,state_sponsor_of_terrorism,1984-01-19,,designation,,,\n"
    )
    r = api.client.post(
        f"{BASE}/restrictions/import",
        files={"file": ("sst.csv", good, "text/csv")},
        headers=headers,
    )
    assert r.status_code == 200 and len(r.json()["created"]) == 1
    bad = good.replace("1984-01-19", "1984-13-19")
    r = api.client.post(
        f"{BASE}/restrictions/import", files={"file": ("sst.csv", bad, "text/csv")}, headers=headers
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"] == ["sst.csv", "line 2", "start"]
    toml = api.client.get(f"{BASE}/rules.toml", headers=headers)
    assert toml.status_code == 200 and toml.headers["content-type"].startswith("application/toml")
    r = api.client.post(
        f"{BASE}/rules/import",
        files={"file": ("rules.toml", toml.text, "application/toml")},
        headers=headers,
    )
    assert r.status_code == 200 and len(r.json()["unchanged"]) == 4
    assert api.client.get(f"{BASE}/settings", headers=headers).json() == {
        "validity_days": 365,
        "alert_days": 60,
    }
    r = api.client.patch(f"{BASE}/settings", json={"alert_days": 30}, headers=headers)
    assert r.json()["alert_days"] == 30


def test_every_compliance_route_declares_its_response(store: Store) -> None:
    spec = create_app(store).openapi()
    components = spec.get("components", {}).get("schemas", {})
    problems: list[str] = []
    paths = {p: m for p, m in spec["paths"].items() if p.startswith(BASE)}
    assert len(paths) > 20
    for path, methods in paths.items():
        for method, op in methods.items():
            for code, response in op.get("responses", {}).items():
                content = response.get("content") if code.startswith("2") else None
                if content and "application/json" in content:
                    schema = content["application/json"].get("schema", {})
                    problems += _problems(schema, f"{method.upper()} {path}", components, set())
    assert problems == [], "\n".join(problems)
