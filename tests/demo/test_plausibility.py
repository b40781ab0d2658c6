"""The demo world is illustrative but must be believable: checks written as tests.

Generated programs are checked without a database (fast); the assessment of the loaded
demo world on both back ends.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

import pytest

from ssaplan.assessment.service import AssessmentService
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.demo import (
    AS_OF,
    CURRENT_FY,
    FIRST_FY,
    LAST_FY,
    anchors,
    generate,
    population_cap,
)
from ssaplan.portfolio.schemas import ProgramCreate
from ssaplan.reference.facts import get_facts

READER = Actor("test-reader", "viewer")


@pytest.fixture(scope="module")
def programs() -> list[ProgramCreate]:
    return generate(2013)


def _yearly_by_country(programs: list[ProgramCreate]) -> dict[str, Counter[int]]:
    """Planned dollars by partner country and fiscal year, split by the shares."""
    out: dict[str, Counter[int]] = defaultdict(Counter)
    for p in programs:
        countries = p.countries or []
        for b in p.budget or []:
            for c in countries:
                share = (p.shares or {}).get(c, 10_000 / len(countries)) / 10_000
                out[c][b.fiscal_year] += int(b.planned * share)
    return out


def test_no_assistance_to_sanctioned_or_embargoed_partners(programs: list[ProgramCreate]) -> None:
    facts = get_facts()
    for iso3 in ("CUB", "IRN", "PRK", "SYR", "RUS", "BLR", "CHN", "VEN", "AFG"):
        assert facts.no_security_assistance(iso3), iso3
    for p in programs:
        barred = [c for c in p.countries or [] if facts.no_security_assistance(c)]
        assert not barred, (p.title, barred)


def test_after_a_coup_only_civil_society_is_assisted(programs: list[ProgramCreate]) -> None:
    facts = get_facts()
    for p in programs:
        if any("coup_restriction" in facts.restricted(c) for c in p.countries or []):
            assert p.institution_type in ("civil_society", "non_state"), p.title


def test_yearly_money_scales_with_population_and_priority(programs: list[ProgramCreate]) -> None:
    facts = get_facts()
    anchored = {a.iso3 for a in anchors()}
    yearly = _yearly_by_country(programs)
    for iso3, years in yearly.items():
        if iso3 in anchored:
            continue
        cap = population_cap(facts.countries[iso3].population)
        for fy, amount in years.items():
            # Cross-border programs may add to a capped partner, never by much.
            assert amount <= 1.5 * cap, (iso3, fy, amount, cap)
    fy = CURRENT_FY
    assert yearly["HTI"][fy] > 10 * yearly["KNA"][fy]
    assert yearly["NGA"][fy] > yearly["LUX"][fy]
    micro = [c for c, f in facts.countries.items() if f.population < 100_000]
    assert max(yearly[c][fy] for c in micro) <= 2 * population_cap(99_999)
    # The largest partners are the public commitments (Israel, Egypt, ...).
    top = sorted(yearly, key=lambda c: -yearly[c][fy])[:3]
    assert set(top) <= anchored
    total = sum(y[fy] for y in yearly.values())
    assert 5e9 < total < 20e9  # U.S. security assistance is of this order a year


def test_statuses_agree_with_dates_money_and_deliveries(programs: list[ProgramCreate]) -> None:
    counts = Counter(p.status for p in programs)
    assert counts["completed"] > 50 and counts["implementing"] > 100 and counts["proposed"] > 50
    for p in programs:
        lines = p.budget or []
        deliveries = p.milestones or []
        if p.status == "completed":
            assert p.end < AS_OF, p.title
            assert all(b.obligated > 0 and b.disbursed > 0 for b in lines), p.title
            assert all(m.delivered_on is not None for m in deliveries), p.title
        if p.status in ("proposed", "approved", "notified"):
            assert p.start > AS_OF, p.title
            assert all(b.obligated == 0 and b.disbursed == 0 for b in lines), p.title
            assert all(m.obligated_on is None and m.delivered_on is None for m in deliveries)
        for b in lines:
            assert FIRST_FY <= b.fiscal_year <= LAST_FY
            assert 0 <= b.disbursed <= b.obligated <= b.planned
            if b.fiscal_year > CURRENT_FY:
                assert b.obligated == 0, p.title
        for m in deliveries:
            for day in (m.requested_on, m.approved_on, m.obligated_on, m.delivered_on):
                assert day is None or day <= AS_OF, p.title


def test_two_accounts_and_unequal_shares_are_used(programs: list[ProgramCreate]) -> None:
    two = [p for p in programs if len({b.account for b in p.budget or []}) > 1]
    assert len(two) > 50
    unequal = [p for p in programs if p.shares and len(set(p.shares.values())) > 1]
    assert len(unequal) > 20
    assert all(sum(p.shares.values()) == 10_000 for p in unequal if p.shares)


def test_no_navies_for_landlocked_partners(programs: list[ProgramCreate]) -> None:
    facts = get_facts()
    for p in programs:
        text = p.title.lower()
        if any(w in text for w in ("maritime", "navy", "coast guard")):
            assert not [c for c in p.countries or [] if facts.countries[c].landlocked], p.title
        for m in p.milestones or []:
            if m.name == "Patrol boats":
                assert not [c for c in p.countries or [] if facts.countries[c].landlocked]


def _assessment(store: Store) -> dict[str, Any]:
    with store.session() as session:
        service = AssessmentService(session, READER)
        found = service.latest_id()
        assert found is not None
        return service.get(found)


def test_propensity_follows_the_facts(demo_store: Store) -> None:
    a = _assessment(demo_store)
    facts = get_facts()
    rows = {r["iso3"]: r for r in a["countries"] if r["propensity"] is not None}

    def mean(pred: Any) -> float:
        return statistics.mean(r["propensity"] for k, r in rows.items() if pred(facts.countries[k]))

    rich = mean(lambda f: f.income_group == "H")
    fragile = mean(lambda f: f.fcs is not None)
    assert rich > fragile + 25, (rich, fragile)
    assert rows["AUS"]["propensity"] > rows["SOM"]["propensity"]
    assert rows["NOR"]["propensity"] > rows["SSD"]["propensity"]


def test_no_micro_state_or_rich_bystander_is_underfunded(demo_store: Store) -> None:
    a = _assessment(demo_store)
    under = {m["iso3"] for m in a["analyses"]["mismatch"]["underfunded_priority"]}
    assert not under & {"LUX", "MCO", "LIE", "SMR", "AND", "VAT", "NRU", "TUV"}
    tiers = {r["iso3"]: r["priority"] for r in a["countries"]}
    for iso3 in ("LUX", "MCO", "PRK", "IRN"):
        assert tiers[iso3] is None, iso3
