"""The illustrative demo world: big enough, real geography, deterministic, labelled."""

from __future__ import annotations

from collections import Counter

from ssaplan.portfolio.demo import LABEL, generate
from ssaplan.reference.catalog import get_catalog


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = generate(7), generate(7), generate(8)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert [p.model_dump() for p in a] != [p.model_dump() for p in c]


def test_size_and_spread_meet_the_brief() -> None:
    programs = generate(2013)
    catalog = get_catalog()
    assert len(programs) >= 1500
    agencies = {catalog.top_agency(p.agency) for p in programs}
    assert len(agencies) >= 5
    assert len({p.account for p in programs}) >= 8
    years = {b.fiscal_year for p in programs for b in p.budget or []}
    assert years == {2025, 2026, 2027, 2028, 2029}
    partners = {c for p in programs for c in p.countries or []}
    assert len(partners) >= 175 and partners <= set(catalog.countries)
    assert Counter(p.status for p in programs)["implementing"] > 100
    assert any(len(p.countries or []) > 1 for p in programs)  # cross-border
    assert any(p.regions for p in programs)  # regional


def test_every_program_is_labelled_illustrative() -> None:
    assert all(p.description and p.description.startswith(LABEL) for p in generate(2013))


def test_fiscal_years_carry_a_similar_load() -> None:
    totals = Counter[int]()
    for p in generate(2013):
        for b in p.budget or []:
            totals[b.fiscal_year] += b.planned
    assert max(totals.values()) < 1.3 * min(totals.values())


def test_budgets_are_plausible() -> None:
    for p in generate(2013):
        for b in p.budget or []:
            assert 0 <= b.disbursed <= b.obligated <= b.planned * 1.0001 + 1000
            assert b.planned % 1000 == 0
