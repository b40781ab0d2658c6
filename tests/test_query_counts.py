"""Query-count baselines of the list endpoints, on the demo world: a list sends a bounded
number of statements, the same for a page of 5 and a page of 50 (or for few rows and
many), so a query per row (N+1) fails here.

The baselines are what the endpoints send today, login included; lower them when an
endpoint gets cheaper, never raise them to make a test pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ssaplan.assessment.models import Assessment
from ssaplan.core.store import Store
from ssaplan.core.users import add_user
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.apibase import Api
from tests.conftest import OPERATOR, PASSWORD
from tests.ingest.conftest import activity, iati_file, transaction
from tests.querycount import count_statements

# Statements per request. Each starts with the login look-up (BEGIN, the session, the
# user, their role assignments: 4); then, on SQLite, a BEGIN of its own.
BASELINE = {
    # the page with its count and totals (one statement), its programs, and their five
    # kinds of child rows (one statement each, for the whole page)
    "/api/programs": 12,
    # programs per country, then money by partner: shares, programs, budget lines
    "/api/countries": 10,
    # the users, then their role assignments
    "/api/users": 7,
    "/api/audit": 6,
    # the page, then the count
    "/api/assessment/runs": 7,
    # the count, then the page
    "/api/donor-activities": 7,
    # the program's identity, its former codes, then its records
    "/api/programs/{id}/history": 8,
}


@pytest.fixture
def api(sqlite_demo: Store) -> Api:
    return Api(sqlite_demo)


def _count(api: Api, url: str, headers: dict[str, str]) -> int:
    api.client.get(url, headers=headers)  # warm: caches, prepared look-ups
    with count_statements(api.store) as statements:
        r = api.client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return len(statements)


def _paged(api: Api, path: str, headers: dict[str, str], extra: str = "") -> None:
    small = _count(api, f"{path}?limit=5{extra}", headers)
    large = _count(api, f"{path}?limit=50{extra}", headers)
    assert small == large, f"{path}: {small} statements for 5 rows, {large} for 50"
    assert large <= BASELINE[path], f"{path}: {large} statements, baseline {BASELINE[path]}"


def test_programs(api: Api) -> None:
    _paged(api, "/api/programs", api.login("reader", "viewer"))


def test_audit(api: Api) -> None:
    _paged(api, "/api/audit", api.login("auditor", "admin"))


def test_countries(api: Api) -> None:
    # Not paged: every country (about 250) with its money, in a fixed number of statements.
    headers = api.login("reader", "viewer")
    assert _count(api, "/api/countries", headers) <= BASELINE["/api/countries"]


def test_users(api: Api) -> None:
    # Not paged: the same statements for the demo's few users and for 40 more.
    headers = api.login("admin1", "admin")
    few = _count(api, "/api/users", headers)
    with api.store.transaction() as session:
        for i in range(40):
            add_user(
                session,
                OPERATOR,
                username=f"user{i:02d}",
                password=PASSWORD,
                role="planner",
                agency="State/INL",
            )
    many = _count(api, "/api/users", headers)
    assert few == many, f"{few} statements for the demo's users, {many} with 40 more"
    assert many <= BASELINE["/api/users"]


def test_assessment_runs(api: Api) -> None:
    headers = api.login("reader", "viewer")
    with api.store.transaction() as session:
        demo = session.get(Assessment, 1)
        assert demo is not None
        for i in range(60):  # records only: the list must not load their countries
            session.add(
                Assessment(
                    year=demo.year,
                    framework_name=demo.framework_name,
                    framework_version=demo.framework_version,
                    framework_sha256=demo.framework_sha256,
                    framework_rows=demo.framework_rows,
                    settings=demo.settings,
                    analyses={},
                    note=f"copy {i}",
                    created_by="test",
                )
            )
    _paged(api, "/api/assessment/runs", headers)


def test_donor_activities(api: Api, tmp_path: Path) -> None:
    body = transaction("2", "2022-03-01", "1000") + "<budget><period-start iso-date='2022-01-01'/>"
    body += "<period-end iso-date='2022-12-31'/><value value-date='2022-01-01'>5</value></budget>"
    path = tmp_path / "donors.xml"
    path.write_text(iati_file(*(activity(f"XM-DAC-41114-{i:03d}", body) for i in range(60))))
    with api.store.transaction() as session:
        summary = IngestService(session, OPERATOR).import_iati([path])
    assert summary["activities"] == 60
    _paged(api, "/api/donor-activities", api.login("reader", "viewer"))


def test_program_history(api: Api) -> None:
    # Not paged: the same statements for a program changed once and one changed 30 times.
    headers = api.login("reader", "viewer")
    first = api.client.get("/api/programs?limit=2", headers=headers).json()["items"]
    quiet, busy = first[0]["id"], first[1]["id"]
    for n in range(30):
        with api.store.transaction() as session:
            service = PortfolioService(session, OPERATOR)
            version = service.get(busy).version
            service.update(busy, ProgramUpdate(version=version, title=f"Revision {n}"))
    one = _count(api, f"/api/programs/{quiet}/history", headers)
    many = _count(api, f"/api/programs/{busy}/history", headers)
    assert one == many, f"{one} statements for 1 record, {many} for 31"
    assert many <= BASELINE["/api/programs/{id}/history"]
