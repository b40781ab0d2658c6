"""Infeasibility explained, one cause at a time, in the words a planner reads."""

from __future__ import annotations

from ssaplan.allocation.engine.model import Candidate, Level, RegionalFloor
from ssaplan.allocation.engine.solve import AllocationOptimizer
from tests.allocation.builders import M, cand, problem

OPT = AllocationOptimizer(mip_rel_gap=0.0, time_limit=10)


def explain(p: object) -> list[tuple[str, str]]:
    r = OPT.solve(p)  # type: ignore[arg-type]
    assert r.status == "infeasible"
    assert r.chosen == () and r.objective is None
    return [(f.kind, f.message) for f in r.findings]


def test_must_fund_over_the_budget_after_the_reserve() -> None:
    years = (2027, 2028)
    p = problem(
        [
            cand("C1", [(60, 1)], years=years, must_fund=True),
            cand("C2", [(52, 1)], years=(2028,), must_fund=True),
        ],
        budgets={"FMF": {2027: 200, 2028: 100}},
        years=years,
        reserve_share=0.05,
    )
    (finding,) = explain(p)
    assert finding == (
        "budget",
        "must-fund candidates need $112M of FMF in FY2028; $95M is available after the "
        "reserve (5% of $100M held back) (C1, C2)",
    )
    d = OPT.solve(p).as_dict()["infeasibility"][0]
    assert (d["account"], d["fiscal_year"], d["need"], d["available"]) == (
        "FMF",
        2028,
        112 * M,
        95 * M,
    )


def test_a_crisis_draw_is_named_in_the_budget_finding() -> None:
    p = problem(
        [cand("C1", [(9, 1)], must_fund=True)],
        reserve_share=0.1,
        crisis_draws={"FMF": {2027: 2 * M}},
    )
    ((kind, message),) = explain(p)
    assert kind == "budget"
    assert (
        "$8M is available after the reserve (10% of $10M held back, and a crisis draw of $2M)"
        in message
    )


def test_must_fund_over_absorptive_capacity() -> None:
    p = problem(
        [
            cand("C1", [(25, 1)], must_fund=True, account="FMF"),
            cand("C2", [(15, 1)], must_fund=True, account="INCLE"),
        ],
        budgets={"FMF": {2027: 100}, "INCLE": {2027: 100}},
        absorptive_capacity={"KEN": {2027: 30 * M}},
    )
    assert explain(p) == [
        (
            "capacity",
            "must-fund candidates in KEN need $40M in FY2027; KEN can absorb $30M (C1, C2)",
        )
    ]


def test_must_fund_blocked_by_a_restriction() -> None:
    p = problem(
        [cand("C1", [(1, 1)], must_fund=True)],
        blocked=frozenset({("KEN", "FMF", 2027)}),
    )
    assert explain(p) == [
        ("eligibility", "C1 must be funded but a restriction blocks FMF funds for KEN in FY2027")
    ]


def test_must_fund_requiring_an_ineligible_candidate() -> None:
    p = problem(
        [
            cand("C1", [(1, 1)], must_fund=True, requires=("C2",)),
            cand("C2", [(1, 1)], country="NGA"),
        ],
        blocked=frozenset({("NGA", "FMF", 2027)}),
    )
    assert explain(p) == [
        (
            "eligibility",
            "C2 is required by must-fund C1 but a restriction blocks FMF funds for NGA in FY2027",
        )
    ]


def test_must_fund_requiring_a_missing_candidate() -> None:
    c1 = Candidate("C1", "KEN", "FMF", (2027,), (Level(M, 1.0),), True, ("C9",))
    assert explain(problem([c1])) == [
        ("dependency", "C1 must be funded but requires C9, which is not a candidate")
    ]


def test_a_requirement_of_a_must_fund_counts_against_the_budget() -> None:
    p = problem(
        [cand("C1", [(6, 1)], must_fund=True, requires=("C2",)), cand("C2", [(5, 1)])],
    )
    ((kind, message),) = explain(p)
    assert kind == "budget" and "need $11M of FMF in FY2027" in message and "(C1, C2)" in message


def test_a_floor_the_region_cannot_reach() -> None:
    af = RegionalFloor("bureau", "AF", 0.5, frozenset({"KEN"}))
    p = problem(
        [cand("C1", [(6, 1)], country="NGA", must_fund=True), cand("C2", [(1, 1), (2, 2)])],
        floors=(af,),
    )
    ((kind, message),) = explain(p)
    assert kind == "floor"
    assert message == (
        "the AF (bureau) floor asks for 50% of each year's funded total; in FY2027 must-fund "
        "candidates outside AF take $6M, so AF would need at least $6M, but at most $2M can "
        "go to AF (its candidates, budgets and absorptive capacity)"
    )


def test_a_floor_with_no_candidate_in_the_region() -> None:
    af = RegionalFloor("bureau", "AF", 0.15, frozenset())
    p = problem([cand("C1", [(6, 1)], country="NGA", must_fund=True)], floors=(af,))
    ((kind, message),) = explain(p)
    assert kind == "floor" and message.endswith("but no candidate in AF can be funded in FY2027")


def test_conflict_only_in_whole_programs_goes_to_the_elastic_model() -> None:
    # The LP can split C3 to meet the 50% floor within the budget; whole programs
    # cannot: with C1 ($6M) only one of C2, C3 ($4M each) fits in $13M, and then AF
    # has $4M of $10M. No single check sees it; the elastic model names the rows.
    af = RegionalFloor("bureau", "AF", 0.5, frozenset({"KEN"}))
    p = problem(
        [
            cand("C1", [(6, 1)], country="NGA", must_fund=True),
            cand("C2", [(4, 1)]),
            cand("C3", [(4, 1)]),
        ],
        budgets={"FMF": {2027: 13}},
        floors=(af,),
    )
    findings = explain(p)
    assert findings[0][0] == "conflict"
    assert "relaxes all of these together" in findings[0][1]
    kinds = {kind for kind, _ in findings[1:]}
    assert kinds & {"budget", "floor"}
    text = " ".join(message for _, message in findings)
    assert "$1M" in text
