"""The assessment's policy inputs over the API: each inherits the resource checks
(anonymous, forbidden, create, update, stale update, malformed body, unknown id), plus
what only versions of policy inputs do (a cleared tier keeps counting, importance)."""

from __future__ import annotations

from typing import Any

from ssaplan.core.store import Store
from tests.apibase import Api, APIResourceChecks
from tests.assessment.conftest import SMALL_FRAMEWORK

PRIORITIES = "/api/assessment/priorities"


class _Upsert(APIResourceChecks):
    """A policy input set by ``PUT`` to its own URL: the first write creates it."""

    writer = ("admin", "State")
    supports_delete = False
    create_method = update_method = "put"
    create_status = 200
    url: str

    def create_url(self) -> str:
        return self.url

    def detail_url(self, created: dict[str, Any]) -> str:
        return self.url


class TestPriorityTiersAPI(_Upsert):
    list_url = PRIORITIES
    url = f"{PRIORITIES}/tiers/KEN"
    malformed_field = "tier"

    def create_payload(self) -> dict[str, Any]:
        return {"tier": 2, "rationale": "a key partner in the region"}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"tier": 1, "rationale": "raised after the review", "version": created["version"]}

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"tier": 4, "rationale": "based on what it was", "version": created["version"]}

    def unknown_url(self) -> str:
        return f"{PRIORITIES}/tiers/Atlantis"


class TestRelevanceAPI(_Upsert):
    list_url = PRIORITIES
    url = f"{PRIORITIES}/relevance/KEN"
    malformed_field = "version"

    def create_payload(self) -> dict[str, Any]:
        return {"G1.1": 3, "G2.4": 1}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"G1.1": 2, "version": created["version"]}

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"G3.1": 1, "version": created["version"]}

    def unknown_url(self) -> str:
        return f"{PRIORITIES}/relevance/Atlantis"


class TestJudgmentsAPI(_Upsert):
    list_url = "/api/assessment/judgments"
    url = "/api/assessment/judgments/KEN/2020"
    writer = ("analyst", "USAID")
    malformed_field = "value"
    measure = "judgment: political will"

    def create_payload(self) -> dict[str, Any]:
        return {"measure": self.measure, "value": 6, "rationale": "Parliament passed the law."}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "value": 7.5,
            "rationale": "The law is now being carried out.",
            "version": created["version"],
        }

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "value": 2,
            "rationale": "Written before the last change.",
            "version": created["version"],
        }

    def read_back(self, api: Api, created: dict[str, Any], headers: dict[str, str]) -> Any:
        r = api.client.get(self.url, headers=headers)
        assert r.status_code == 200, r.text
        [found] = [j for j in r.json()["items"] if j["measure"] == created["measure"]]
        return found

    def unknown_url(self) -> str:
        return "/api/assessment/judgments/Atlantis/2020"


class TestFrameworksAPI(_Upsert):
    list_url = "/api/assessment/frameworks"
    url = "/api/assessment/frameworks/small"
    malformed_field = "rows"

    def create_payload(self) -> dict[str, Any]:
        return {"csv": SMALL_FRAMEWORK, "description": "a small test framework"}

    def update_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {"csv": SMALL_FRAMEWORK.replace("2,3", "1,3"), "base_version": created["version"]}

    def stale_payload(self, created: dict[str, Any]) -> dict[str, Any]:
        return {
            "csv": SMALL_FRAMEWORK.replace("1,1\n", "3,1\n"),
            "base_version": created["version"],
        }


def _put(api: Api, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return api.client.put(url, json=body, headers=headers)


def test_a_cleared_tier_keeps_counting_so_an_old_version_stays_stale(api: Api) -> None:
    admin = api.login("ad", "admin")
    url = f"{PRIORITIES}/tiers/KEN"
    assert api.client.get(url, headers=admin).json() == {"iso3": "KEN", "tier": None, "version": 0}
    first = _put(api, url, {"tier": 2, "version": 0}, admin).json()
    assert first == {"iso3": "KEN", "tier": {"tier": 2, "rationale": ""}, "version": 1}
    cleared = _put(api, url, {"tier": None, "version": 1}, admin).json()
    assert cleared == {"iso3": "KEN", "tier": None, "version": 2}
    again = _put(api, url, {"tier": 3, "version": 2}, admin).json()
    assert again["version"] == 3
    # A change based on the first tier is stale though the tier was cleared in between.
    r = _put(api, url, {"tier": 1, "version": 1}, admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
    priorities = api.client.get(PRIORITIES, headers=admin).json()
    assert priorities["tiers"]["KEN"]["tier"] == 3 and priorities["tiers"]["KEN"]["version"] == 3
    assert priorities["versions"]["tiers"] == {"KEN": 3}
    # Cleared tiers are not listed as tiers, but their versions are.
    _put(api, url, {"tier": None, "version": 3}, admin)
    priorities = api.client.get(PRIORITIES, headers=admin).json()
    assert "KEN" not in priorities["tiers"] and priorities["versions"]["tiers"] == {"KEN": 4}


def test_a_write_that_changes_nothing_keeps_the_version(api: Api) -> None:
    admin = api.login("ad", "admin")
    url = f"{PRIORITIES}/relevance/KEN"
    assert _put(api, url, {"G1.1": 3}, admin).json()["version"] == 1
    assert _put(api, url, {"G1.1": 3, "version": 1}, admin).json()["version"] == 1
    assert _put(api, url, {"G1.1": 3, "G2.4": 0}, admin).json()["version"] == 1  # 0 is absent
    assert _put(api, url, {"version": 1}, admin).json() == {
        "iso3": "KEN",
        "relevance": {},
        "version": 2,
    }
    r = _put(api, url, {"G1.1": 1, "version": 1}, admin)
    assert r.status_code == 409
    versions = api.client.get(PRIORITIES, headers=admin).json()["versions"]
    assert versions["relevance"] == {"KEN": 2}  # emptied, still counted


def test_a_write_without_version_is_not_checked(api: Api) -> None:
    """Clients written before versions existed keep working (last write wins)."""
    admin = api.login("ad", "admin")
    url = f"{PRIORITIES}/tiers/TZA"
    assert _put(api, url, {"tier": 2}, admin).json()["version"] == 1
    assert _put(api, url, {"tier": 3}, admin).json()["version"] == 2


def test_importance_is_versioned_as_a_whole(api: Api) -> None:
    admin = api.login("ad", "admin")
    url = f"{PRIORITIES}/importance"
    assert api.client.get(PRIORITIES, headers=admin).json()["versions"]["importance"] == 0
    r = _put(api, url, {"G1.1": 2.5, "version": 0}, admin)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert r.json()["G1.1"] == 2.5 and r.json()["G1.2"] == 1
    assert _put(api, url, {"G1.2": 2, "version": 1}, admin).json()["version"] == 2
    r = _put(api, url, {"G1.1": 0.5, "version": 1}, admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
    priorities = api.client.get(PRIORITIES, headers=admin).json()
    assert priorities["importance"]["G1.1"] == 2.5 and priorities["versions"]["importance"] == 2
    r = _put(api, url, {"G1.1": "much"}, admin)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body", "G1.1"]


def test_a_stale_framework_base_is_refused_even_with_the_same_content(api: Api) -> None:
    admin = api.login("ad", "admin")
    url = "/api/assessment/frameworks/default"
    # Nothing saved yet: the shipped default is version 0.
    r = _put(api, url, {"csv": SMALL_FRAMEWORK, "base_version": 0}, admin)
    assert r.status_code == 200 and r.json()["version"] == 1
    r = _put(api, url, {"csv": SMALL_FRAMEWORK, "base_version": 0}, admin)
    assert r.status_code == 409 and "framework 'default'" in r.json()["error"]["message"]
    r = _put(api, url, {"csv": SMALL_FRAMEWORK, "base_version": 7}, admin)
    assert r.status_code == 409
    r = _put(api, url, {"csv": SMALL_FRAMEWORK, "base_version": 1}, admin)
    assert r.status_code == 200 and r.json()["version"] == 1  # same content: no new version


def test_judgment_versions_count_per_judgment(api: Api) -> None:
    analyst = api.login("an", "analyst", "USAID")
    url = "/api/assessment/judgments/KEN/2020"
    body = {"measure": "judgment: political will", "value": 5, "rationale": "Reform is slow."}
    assert _put(api, url, {**body, "version": 0}, analyst).json()["version"] == 1
    other = {**body, "measure": "judgment: sustainment capacity", "version": 0}
    assert _put(api, url, other, analyst).json()["version"] == 1
    r = _put(api, url, {**body, "version": 0}, analyst)  # it exists now
    assert r.status_code == 409
    listed = api.client.get("/api/assessment/judgments?country=KEN", headers=analyst).json()
    assert sorted(j["version"] for j in listed["items"]) == [1, 1]


def test_policy_versions_survive_in_the_store(store: Store) -> None:
    """The versions are columns, not memory: a new app on the same database sees them."""
    first = Api(store)
    admin = first.login("ad", "admin")
    _put(first, f"{PRIORITIES}/tiers/KEN", {"tier": 2}, admin)
    _put(first, f"{PRIORITIES}/tiers/KEN", {"tier": 3}, admin)
    second = Api(store)
    headers = second.login("ad2", "admin")
    assert second.client.get(f"{PRIORITIES}/tiers/KEN", headers=headers).json()["version"] == 2
