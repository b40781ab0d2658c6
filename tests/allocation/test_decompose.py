"""The partner decomposition: its bound is a bound, its choice is feasible and near optimal."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.bench_allocation import instance

from ssaplan.allocation.engine.decompose import PartnerDecomposition
from ssaplan.allocation.engine.formulation import (
    choice_from_columns,
    columns_from_choice,
    formulate,
    solve_lp,
)
from ssaplan.allocation.engine.greedy import GreedyRanking, check_choice
from ssaplan.allocation.engine.model import choice_objective
from ssaplan.allocation.engine.solve import AllocationOptimizer


@pytest.mark.parametrize("seed", [2])
def test_bound_and_choice_against_highs(seed: int) -> None:
    import time

    p = instance(120, partners=25, seed=seed)
    k = p.compiled
    # HiGHS alone on the full MIP: its choice is below the optimum, its bound above
    highs = AllocationOptimizer(mip_rel_gap=0.0, time_limit=3, decompose_from=0).solve(p)
    assert highs.objective is not None and highs.bound is not None
    form = formulate(p)
    lp = solve_lp(form)
    greedy = GreedyRanking().solve(p)
    assert greedy.feasible
    d = PartnerDecomposition(form, k)
    assert d.blocks  # partners with capacity rows
    result = d.solve(
        start=columns_from_choice(k, greedy.choice),
        lam=lp.row_dual,
        deadline=time.monotonic() + 4,
        mip_rel_gap=0.0,
    )
    assert result.x is not None
    choice = choice_from_columns(k, result.x)
    assert check_choice(p, choice) == []
    value = choice_objective(k, choice)
    assert greedy.objective - 1e-9 <= value <= highs.bound + 1e-6
    assert result.bound >= highs.objective - 1e-6  # a proven bound never cuts a choice
    assert lp.objective is not None and result.bound <= lp.objective + 1e-6
    assert result.rounds >= 1 and result.patterns >= len(d.blocks)


def test_the_optimizer_uses_it_on_large_problems_and_stays_feasible() -> None:
    p = instance(150, partners=30, seed=3)
    r = AllocationOptimizer(time_limit=5, decompose_from=100).solve(p)
    assert r.status in ("optimal", "feasible")
    assert any(name.startswith("partner pricing") for name, _ in r.phases)
    assert check_choice(p, np.array(r.choice)) == []
    assert r.greedy is not None and r.objective >= r.greedy.objective - 1e-9
    assert r.bound is not None and r.bound >= r.objective
