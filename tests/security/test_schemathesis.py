"""Schemathesis over the whole JSON API (issue 10, item 5): no 5xx, no undocumented status.

A bounded, deterministic run in-process (ASGI transport) against the spec the app serves,
logged in as an admin on an empty SQLite database: a few schema-valid examples per
operation, a fixed derandomized search, and a time budget. Every answer must be below
500 and carry a status the operation documents.
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import make_user

EXAMPLES_PER_OPERATION = 3
BUDGET_SECONDS = 90.0
# Ends the session it is called with: each example gets a token of its own.
ENDS_THE_SESSION = {"POST /api/auth/logout"}


def test_no_server_errors_and_no_undocumented_statuses(sqlite_store: Store) -> None:
    app = create_app(sqlite_store)
    client = TestClient(app)
    creds = make_user(sqlite_store, "ana", "admin")

    def login() -> dict[str, str]:
        token = client.post("/api/auth/token", json=creds).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    auth = login()
    # The spec is built once and kept by FastAPI: build it here, outside the loader's
    # request timeout (a loaded CI machine took over 10 s to build it on demand).
    app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=auth, timeout=120)
    problems: list[str] = []
    started = time.monotonic()
    covered = 0
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    for op in operations:
        if time.monotonic() - started > BUDGET_SECONDS:
            break
        _exercise(op, auth if op.label not in ENDS_THE_SESSION else None, login, problems)
        covered += 1
    print(
        f"schemathesis: {covered} of {len(operations)} operations"
        f" in {time.monotonic() - started:.0f} s"
    )
    assert covered > 0
    # Distinct problems only (the same one found by several examples counts once).
    assert sorted(set(problems)) == [], f"after {covered} of {len(operations)} operations"


def _exercise(op: Any, auth: dict[str, str] | None, login: Any, problems: list[str]) -> None:
    """A few generated requests to one operation; what is wrong goes into ``problems``."""
    documented = set(op.definition.raw.get("responses", {}))

    @given(case=op.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        headers = auth or login()
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised: a 500 with a traceback
            problems.append(f"{op.label}: server error {exc!r:.200}")
            return
        status = str(response.status_code)
        if response.status_code >= 500:
            problems.append(f"{op.label}: {status} {response.text[:200]}")
        elif status not in documented and "default" not in documented:
            problems.append(f"{op.label}: undocumented {status} (documents {sorted(documented)})")

    check()
