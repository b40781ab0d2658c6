"""What-ifs as pure functions on a scenario, and the diff that says what moved and why."""

from __future__ import annotations

import pytest

from ssaplan.allocation.engine.diff import diff_results
from ssaplan.allocation.engine.solve import AllocationOptimizer
from ssaplan.allocation.scenario import Scenario
from ssaplan.allocation.whatif import (
    change_budget,
    change_capacity,
    compare,
    draw_reserve,
    restrict,
)
from ssaplan.core.errors import BadRequest
from tests.allocation.builders import M, cand, problem

OPT = AllocationOptimizer(mip_rel_gap=0.0, time_limit=10)
YEARS = (2027, 2028)


def base() -> Scenario:
    p = problem(
        [
            cand("C1", [(4, 12)], years=YEARS),  # 1.5 per $1M
            cand("C2", [(3, 7.5)], years=YEARS),  # 1.25
            cand("C17", [(3, 6)], years=YEARS),  # 1.0, the lowest funded
            cand("C4", [(2, 8)], country="NGA", account="INCLE", years=YEARS),
            cand("C5", [(2, 3), (4, 5)], country="NGA", account="INCLE", years=YEARS),
        ],
        budgets={"FMF": {2027: 10, 2028: 10}, "INCLE": {2027: 5, 2028: 5}},
        years=YEARS,
        absorptive_capacity={"NGA": {2027: 6 * M, 2028: 6 * M}},
        name="baseline",
    )
    return Scenario("baseline", p)


def ids(result: object) -> set[str]:
    return {c.id for c in result.chosen}  # type: ignore[attr-defined]


def test_budget_cut_by_percent_drops_the_lowest_value_per_dollar() -> None:
    s = base()
    cut = change_budget(s, "FMF", percent=-10, fiscal_years=[2028])
    assert cut.problem.gross("FMF", 2028) == 9 * M and cut.problem.gross("FMF", 2027) == 10 * M
    assert s.problem.gross("FMF", 2028) == 10 * M  # the baseline is untouched
    assert cut.changes == ("FMF budget -10% (FY2028)",)
    assert cut.name == "baseline; FMF budget -10% (FY2028)"
    c = compare(s, cut, optimizer=OPT)
    assert ids(c.base) == {"C1", "C2", "C17", "C4", "C5"}
    assert ids(c.other) == {"C1", "C2", "C4", "C5"}
    (move,) = c.diff.moves
    assert (move.id, move.change) == ("C17", "dropped")
    assert move.sentence() == (
        "C17 dropped (was $3M/yr): FMF FY2028 budget cut by 10%; its value per dollar was "
        "the lowest of the 3 funded FMF candidates; FMF FY2028 has no room left for it"
    )
    assert "FMF FY2028 budget cut by 10%" in c.diff.changes
    assert c.as_dict()["diff"]["moves"][0]["reasons"][0] == "FMF FY2028 budget cut by 10%"


def test_budget_increase_by_amount_adds_and_upgrades() -> None:
    s = base()
    more = change_budget(s, "INCLE", amount=2 * M)
    assert more.problem.gross("INCLE", 2027) == 7 * M
    c = compare(s, more, optimizer=OPT)
    moves = {m.id: m for m in c.diff.moves}
    assert moves["C5"].change == "level up"
    assert moves["C5"].before == 2 * M and moves["C5"].after == 4 * M
    assert "INCLE FY2027 budget increased by 40%" in moves["C5"].reasons


def test_a_new_restriction_moves_money() -> None:
    s = base()
    blocked = restrict(s, "KEN", account="FMF", fiscal_years=[2028])
    assert ("KEN", "FMF", 2028) in blocked.problem.blocked
    c = compare(s, blocked, optimizer=OPT)
    assert ids(c.other) == {"C4", "C5"}
    reasons = {m.id: m.reasons for m in c.diff.moves}
    assert reasons["C1"][0] == "a new restriction blocks FMF funds for KEN in FY2028"
    everything = restrict(s, "NGA")
    assert {("NGA", "INCLE", 2027), ("NGA", "FMF", 2028)} <= everything.problem.blocked


def test_a_crisis_draws_the_reserve_first() -> None:
    p = problem([cand("C1", [(9, 10)])], budgets={"FMF": {2027: 10}}, reserve_share=0.1)
    s = Scenario("reserve", p)
    small = draw_reserve(s, "FMF", 2027, 1 * M)  # the $1M reserve pays for it
    assert small.problem.available("FMF", 2027) == 9 * M
    big = draw_reserve(s, "FMF", 2027, 3 * M)  # $2M beyond the reserve
    assert big.problem.available("FMF", 2027) == 7 * M
    c = compare(s, big, optimizer=OPT)
    (move,) = c.diff.moves
    assert move.reasons[0].startswith("a crisis draws $3M from FMF FY2027 (the reserve holds $1M)")


def test_partner_capacity_change() -> None:
    s = base()
    tighter = change_capacity(s, "NGA", percent=-50)
    assert tighter.problem.capacity("NGA", 2027) == 3 * M
    c = compare(s, tighter, optimizer=OPT)
    moves = {m.id: m for m in c.diff.moves}
    assert moves["C5"].change == "dropped"
    assert "NGA absorptive capacity in FY2027 cut by 50%" in moves["C5"].reasons
    limited = change_capacity(s, "KEN", to=5 * M, fiscal_years=[2027])
    assert limited.problem.capacity("KEN", 2027) == 5 * M
    with pytest.raises(BadRequest, match="no absorptive capacity limit"):
        change_capacity(s, "KEN", percent=10)


def test_what_if_refusals() -> None:
    s = base()
    with pytest.raises(BadRequest, match="unknown account 'ESF'"):
        change_budget(s, "ESF", percent=5)
    with pytest.raises(BadRequest, match="either a percent or an amount"):
        change_budget(s, "FMF")
    with pytest.raises(BadRequest, match="FY2031 is outside"):
        restrict(s, "KEN", fiscal_years=[2031])


def test_diff_of_identical_results_has_no_moves() -> None:
    s = base()
    r = OPT.solve(s.problem)
    d = diff_results(s.problem, r, s.problem, r)
    assert d.moves == () and d.changes == ()
    assert "no funding decision moved" in d.summary()
