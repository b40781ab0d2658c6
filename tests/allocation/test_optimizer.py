"""The optimizer: brute force on small random problems, cases greedy gets wrong, each
constraint, shadow prices worked out by hand, and the result contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssaplan.allocation.engine.greedy import GreedyRanking, check_choice
from ssaplan.allocation.engine.model import AllocationProblem, RegionalFloor
from ssaplan.allocation.engine.solve import AllocationOptimizer
from tests.allocation.builders import M, brute_force, cand, problem, random_problem

EXACT = AllocationOptimizer(mip_rel_gap=0.0, time_limit=10)
DEFAULTS = AllocationOptimizer(mip_rel_gap=0.0, time_limit=10, tuned=False)


def funded(result: object) -> dict[str, int]:
    return {c.id: c.annual for c in result.chosen}  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(8))
def test_optimizer_matches_brute_force_on_random_small_problems(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    for n in range(30):
        p = random_problem(rng, f"seed {seed} #{n}")
        best, _ = brute_force(p)
        for optimizer in (EXACT, DEFAULTS):
            r = optimizer.solve(p)
            if best is None:
                assert r.status == "infeasible", (p.name, r.objective)
                assert r.findings, p.name
            else:
                assert r.status == "optimal", p.name
                assert r.objective == pytest.approx(best, abs=1e-6), p.name
                assert check_choice(p, np.array(r.choice)) == [], p.name
                # never below the spreadsheet ranking when that is feasible
                if r.greedy is not None and r.greedy.feasible:
                    assert r.objective >= r.greedy.objective - 1e-9


def test_greedy_takes_the_best_ratio_and_strands_the_budget() -> None:
    # A has the best value per dollar but leaves $4M that neither B nor C fits into.
    p = problem(
        [cand("A", [(6, 9)]), cand("B", [(5, 7)]), cand("C", [(5, 7)])],
    )
    r = EXACT.solve(p)
    assert funded(r) == {"B": 5 * M, "C": 5 * M}
    assert r.objective == 14
    assert r.greedy.objective == 9
    assert r.greedy.improvement == 5
    assert r.greedy.ratio == pytest.approx(9 / 14)


def test_greedy_is_worse_on_a_multi_year_program() -> None:
    # A (2 years, $5M/yr, value 16) ranks first at 1.6 per $1M and blocks B and C
    # (one year each, $6M, value 9, 1.5 per $1M), which together are worth 18.
    years = (2027, 2028)
    p = problem(
        [
            cand("A", [(5, 16)], years=years),
            cand("B", [(6, 9)], years=(2027,)),
            cand("C", [(6, 9)], years=(2028,)),
        ],
        years=years,
    )
    r = EXACT.solve(p)
    assert funded(r) == {"B": 6 * M, "C": 6 * M}
    assert (r.objective, r.greedy.objective) == (18, 16)
    g = GreedyRanking().solve(p)
    assert g.feasible and list(g.choice) == [0, -1, -1]


def test_budget_less_reserve() -> None:
    p = problem([cand("A", [(5, 10)]), cand("B", [(4.5, 9)])], reserve_share=0.1)
    r = EXACT.solve(p)
    assert funded(r) == {"A": 5 * M}
    (line,) = r.budgets
    assert (line.available, line.reserve, line.used) == (9 * M, 1 * M, 5 * M)
    without = EXACT.solve(problem([cand("A", [(5, 10)]), cand("B", [(4.5, 9)])]))
    assert funded(without) == {"A": 5 * M, "B": 4_500_000}


def test_absorptive_capacity_is_across_accounts() -> None:
    p = problem(
        [
            cand("A", [(4, 10)], account="FMF"),
            cand("B", [(4, 9)], account="INCLE"),
            cand("C", [(4, 5)], country="NGA"),
        ],
        budgets={"FMF": {2027: 20}, "INCLE": {2027: 20}},
        absorptive_capacity={"KEN": {2027: 6 * M}},
    )
    assert funded(EXACT.solve(p)) == {"A": 4 * M, "C": 4 * M}


def test_a_country_without_capacity_entry_is_unlimited() -> None:
    p = problem(
        [cand("A", [(4, 10)]), cand("B", [(4, 9)])],
        absorptive_capacity={"NGA": {2027: 1}},
    )
    assert set(funded(EXACT.solve(p))) == {"A", "B"}


def test_eligibility_blocks_a_candidate_in_any_of_its_years() -> None:
    years = (2027, 2028)
    p = problem(
        [cand("A", [(2, 10)], years=years), cand("B", [(2, 1)], years=years)],
        years=years,
        blocked=frozenset({("KEN", "FMF", 2028)}),
    )
    r = EXACT.solve(p)
    assert (r.status, funded(r)) == ("optimal", {})
    q = problem(
        [cand("A", [(2, 10)], years=years), cand("B", [(2, 1)], country="NGA", years=years)],
        years=years,
        blocked=frozenset({("KEN", "FMF", 2028)}),
    )
    assert funded(EXACT.solve(q)) == {"B": 2 * M}


def test_an_eligibility_hook_blocks_like_a_restriction() -> None:
    p = problem([cand("A", [(2, 10)]), cand("B", [(2, 1)], country="NGA")])
    q = p.with_eligibility(lambda country, account, fy: country != "KEN")
    assert q.blocked == frozenset({("KEN", "FMF", 2027)}) and p.blocked == frozenset()
    assert funded(EXACT.solve(q)) == {"B": 2 * M}


def test_requires_funds_the_requirement_too() -> None:
    cands = [cand("A", [(5, 1)]), cand("B", [(5, 10)], requires=("A",)), cand("C", [(5, 6)])]
    assert funded(EXACT.solve(problem(cands))) == {"A": 5 * M, "B": 5 * M}
    free = [cand("A", [(5, 1)]), cand("B", [(5, 10)]), cand("C", [(5, 6)])]
    assert funded(EXACT.solve(problem(free))) == {"B": 5 * M, "C": 5 * M}


def test_regional_floor_is_a_share_of_each_years_funded_total() -> None:
    af = RegionalFloor("bureau", "AF", 0.5, frozenset({"KEN"}))
    cands = [cand("A", [(2, 2)]), cand("B", [(8, 20)], country="NGA")]
    r = EXACT.solve(problem(cands, floors=(af,)))
    assert funded(r) == {"A": 2 * M}  # B would make AF's share 20%
    loose = RegionalFloor("bureau", "AF", 0.2, frozenset({"KEN"}))
    assert set(funded(EXACT.solve(problem(cands, floors=(loose,))))) == {"A", "B"}


def test_must_fund_takes_exactly_one_level_even_at_a_loss() -> None:
    cands = [
        cand("M", [(2, 1), (4, 3)], must_fund=True),
        cand("X", [(8, 40)]),
        cand("Y", [(6, 30)]),
    ]
    r = EXACT.solve(problem(cands))
    assert funded(r) == {"M": 2 * M, "X": 8 * M}
    assert r.objective == 41  # M at $2M with X beats M at $4M with Y (33)
    levels = [c for c in r.chosen if c.id == "M"]
    assert len(levels) == 1


def test_shadow_price_by_hand() -> None:
    # A ($6M, value 12) is chosen; $4M is left. In the LP at that choice, the last
    # dollars buy B fractionally at 5 value per $5M: one more dollar is worth 1e-6.
    p = problem([cand("A", [(6, 12)]), cand("B", [(5, 5)])])
    r = EXACT.solve(p)
    assert funded(r) == {"A": 6 * M}
    assert r.budgets[0].shadow_price == pytest.approx(1e-6)
    d = r.as_dict()
    assert d["budgets"]["FMF"]["2027"]["shadow_price"] == 1e-06
    assert d["shadow_price_basis"] == "LP relaxation at the optimal integer choice"


def test_shadow_price_counts_an_upgrade_of_a_funded_candidate() -> None:
    # A ($6M) and X ($3M) are funded with $0.5M left. A's next level adds value 2.5
    # for $3M (0.833 per $1M, better than B's 0.8): in the LP at that choice the last
    # dollars buy a sixth of the upgrade, so one more dollar is worth 2.5 / 3M.
    p = problem(
        [cand("A", [(6, 12), (9, 14.5)]), cand("B", [(5, 4)]), cand("X", [(3, 3)])],
        budgets={"FMF": {2027: 9.5}},
    )
    r = EXACT.solve(p)
    assert funded(r) == {"A": 6 * M, "X": 3 * M}
    assert r.budgets[0].shadow_price == pytest.approx(2.5 / 3 / M)


def test_shadow_price_is_zero_for_a_slack_budget() -> None:
    p = problem(
        [cand("A", [(6, 12)]), cand("B", [(5, 5)]), cand("C", [(1, 1)], account="INCLE")],
        budgets={"FMF": {2027: 10}, "INCLE": {2027: 10}},
    )
    prices = {b.account: b.shadow_price for b in EXACT.solve(p).budgets}
    assert prices["INCLE"] == 0
    assert prices["FMF"] == pytest.approx(1e-6)


def test_result_contract_is_json_ready_and_rounded() -> None:
    p = problem(
        [cand("A", [(1, 0.1)]), cand("B", [(1, 0.2)]), cand("C", [(1, 27.7)])],
        name="rounding",
    )
    r = EXACT.solve(p)
    d = r.as_dict()
    json.dumps(d)
    assert d["objective"] == 28.0  # not 28.000000000000004
    assert d["status"] == "optimal" and d["gap"] == 0
    assert sorted(d["chosen"], key=lambda c: c["id"])[0] == {
        "id": "A",
        "annual": 1_000_000,
        "value": 0.1,
    }
    assert set(d) >= {
        "status",
        "objective",
        "gap",
        "chosen",
        "budgets",
        "shadow_price_basis",
        "greedy",
        "infeasibility",
        "solver",
    }
    assert set(d["budgets"]["FMF"]["2027"]) >= {"used", "available", "shadow_price"}
    assert isinstance(d["budgets"]["FMF"]["2027"]["used"], int)
    assert "rounding" in r.summary() and "greedy" in r.summary()


def test_empty_problem_is_optimal_with_nothing_funded() -> None:
    r = EXACT.solve(problem([]))
    assert (r.status, r.objective, r.chosen) == ("optimal", 0.0, ())


def test_problem_validation_names_the_field() -> None:
    from ssaplan.core.errors import Invalid

    with pytest.raises(Invalid) as err:
        AllocationProblem(
            fiscal_years=(2027,),
            budgets={"FMF": {2027: 1}},
            candidates=(cand("A", [(1, 1)], account="ESF"), cand("A", [(1, 1)])),
        )
    locs = [d.loc for d in err.value.details]
    assert ("candidates", 0, "account") in locs and ("candidates", 1, "id") in locs
