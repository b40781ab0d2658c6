"""Fixtures for the compliance tests: the shipped rules checked against the real catalog."""

from __future__ import annotations

import pytest

from ssaplan.compliance.rules import RuleSet, load_rules
from ssaplan.reference.catalog import get_catalog


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
