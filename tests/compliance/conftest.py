"""Fixtures for the compliance tests: the shipped rules checked against the real catalog,
stored programs, and a compliance service on a fixed day over both back ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.rules import RuleSet, load_rules
from ssaplan.compliance.service import ComplianceService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from tests.factories import program

ADMIN = Actor("compliance-admin", "admin")
# FY2026 runs 2025-10-01 to 2026-09-30; vetting is judged on this day unless a test says.
TODAY = date(2026, 3, 1)


@pytest.fixture(scope="session")
def accounts() -> frozenset[str]:
    return frozenset(get_catalog().accounts)


@pytest.fixture(scope="session")
def rules(accounts: frozenset[str]) -> RuleSet:
    catalog = get_catalog()
    return load_rules(
        known_accounts=accounts,
        known_purposes=catalog.purposes,
        known_dac_codes=catalog.dac_codes,
    )


def add_program(store: Store, code: str, **overrides: Any) -> str:
    """Store a program (the test factory's, changed by ``overrides``); its id."""
    fields: dict[str, Any] = {
        "id": code,
        "countries": ["MLI"],
        "agency": "State/PM",
        "account": "FMF",
        "dac_code": "15210",
        "start": "2025-10-01",
        "end": "2027-09-30",
        "budget": [
            {"fiscal_year": 2026, "planned": 1_000_000},
            {"fiscal_year": 2027, "planned": 2_000_000},
        ],
    }
    fields.update(overrides)
    with store.transaction() as session:
        PortfolioService(session, ADMIN).create(program(**fields))
    return code


@pytest.fixture
def service(store: Store) -> Callable[..., Any]:
    """``with service(write=True, today=..., actor=...) as svc``: a ComplianceService."""

    @contextmanager
    def open_service(
        *, write: bool = False, today: date = TODAY, actor: Actor = ADMIN
    ) -> Iterator[ComplianceService]:
        context = store.transaction() if write else store.session()
        with context as session:
            yield ComplianceService(session, actor, today=today)

    return open_service


def verdicts(svc: ComplianceService, **kwargs: Any) -> dict[tuple[str, int], Any]:
    """Verdicts by (program id, fiscal year)."""
    return {(v.program.code, v.fiscal_year): v for v in svc.eligibility(**kwargs)}


def effects(verdict: Any) -> list[tuple[str, str]]:
    return [(r.rule, r.effect) for r in verdict.reasons]
