"""The optimizer: HiGHS on the allocation MIP, with the work it needs to be fast.

The model is in :mod:`ssaplan.allocation.engine.formulation`. A solve, with
``tuned=True`` (the default):

1. direct checks on the must-fund set (an infeasible scenario is explained without
   a solve, :mod:`~ssaplan.allocation.engine.explain`);
2. the formulation, with levels that can never fit fixed at zero;
3. the LP relaxation: its bound, its duals, and LP rounding (keep the integral part,
   fill the rest in order of LP value);
4. warm start: the better of the greedy ranking and the LP rounding;
5. small problems: HiGHS branch and bound from that warm start (``setSolution``)
   with a relative gap tolerance and the time limit;
   large problems (``decompose_from`` candidates and more, with absorptive
   capacity rows): the partner decomposition
   (:mod:`~ssaplan.allocation.engine.decompose`) finds the choice and a Lagrangian
   bound (on such sizes HiGHS's root alone takes most of the time limit, so it
   runs only if the decomposition finds nothing);
6. the proven gap, ``(best bound - value) / value``, reported either way; the
   choice is re-checked in whole dollars and is never worth less than greedy's;
7. shadow prices from the LP at the chosen integer solution.

With ``tuned=False`` it is HiGHS with its defaults on the same MIP (no LP, no warm
start, no decomposition): the benchmark's baseline.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ssaplan.allocation.engine.decompose import DecompositionResult
from ssaplan.allocation.engine.formulation import (
    INF,
    MILLION,
    Formulation,
    LpRelaxation,
    MipRun,
    choice_from_columns,
    columns_from_choice,
    formulate,
    run_highs,
    solve_lp,
    use_threads,
)
from ssaplan.allocation.engine.greedy import (
    GreedyRanking,
    check_choice,
    fill,
    value_per_dollar,
)
from ssaplan.allocation.engine.model import (
    AllocationProblem,
    FloatArray,
    IntArray,
    choice_objective,
)
from ssaplan.allocation.engine.result import AllocationResult, build_result


def lp_rounding(problem: AllocationProblem, lp: LpRelaxation) -> IntArray:
    """Keep the LP's integral choices, then fill in order of LP value, then value per dollar."""
    k = problem.compiled
    if lp.x is None:
        return np.full(k.n, -1, dtype=np.int64)
    start = choice_from_columns(k, lp.x, threshold=1 - 1e-6)
    order = np.lexsort((-value_per_dollar(k), -np.round(lp.x, 6)))
    return fill(problem, [int(c) for c in order], start=start)


def shadow_prices(
    problem: AllocationProblem, form: Formulation, choice: IntArray
) -> dict[tuple[int, ...], float]:
    """Value of one more dollar of each (account, year) budget, from the LP relaxation
    at the integer choice: each funded candidate is held at its level or a costlier
    one (it may move fractionally up), unfunded candidates may be bought fractionally.
    The dual of each budget row of that LP, per dollar."""
    k = problem.compiled
    lower = np.zeros(k.n_levels)
    upper = form.col_upper.copy()
    row_lower = form.row_lower.copy()
    choice_rows = form.row_index("choice")
    for i in np.flatnonzero(choice >= 0):
        chosen = int(k.first_col[i] + choice[i])
        upper[chosen] = 1.0
        for col in k.levels_of(int(i)):
            cheaper = k.annual[col] < k.annual[chosen]
            if col != chosen and (cheaper or (k.annual[col] == k.annual[chosen] and col < chosen)):
                upper[col] = 0.0
        row = choice_rows.get((int(i),))
        if row is None:
            lower[chosen] = 1.0  # a single level: hold the column itself
        else:
            row_lower[row] = 1.0
    lp = solve_lp(form, col_lower=lower, col_upper=upper, row_lower=row_lower)
    if lp.row_dual is None:
        return {}
    # HiGHS reports a maximization's row duals as the objective's change per unit of
    # right-hand side (>= 0 on a binding <= row); the rows are in $M.
    return {
        key: max(0.0, float(lp.row_dual[r])) / MILLION
        for key, r in form.row_index("budget").items()
    }


class AllocationOptimizer:
    """Choose levels to maximize total value within budgets and limits (HiGHS MIP).

    Parameters
    ----------
    time_limit : float, default 30
        Seconds for the whole solve.
    mip_rel_gap : float, default 0.001
        Stop when the choice is proven within this share of the optimum; the result
        reports the gap actually proven.
    tuned : bool, default True
        False: HiGHS with its defaults (no LP rounding, warm start or decomposition).
    decompose_from : int, default 1500
        Candidates from which the partner decomposition runs (0: never).
    threads : int, default 1
        HiGHS threads (0: HiGHS decides, its default). One is faster here: the MIPs
        are many and small, and robust draws run in parallel processes instead.
    shadow_prices, compare_greedy, explain : bool, default True
    random_seed : int, default 2013
    log : bool, default False
        HiGHS's log on the console.
    """

    def __init__(
        self,
        *,
        time_limit: float = 30.0,
        mip_rel_gap: float = 1e-3,
        tuned: bool = True,
        decompose_from: int = 1500,
        threads: int = 1,
        shadow_prices: bool = True,
        compare_greedy: bool = True,
        explain: bool = True,
        random_seed: int = 2013,
        log: bool = False,
    ) -> None:
        self.time_limit = time_limit
        self.mip_rel_gap = mip_rel_gap
        self.tuned = tuned
        self.decompose_from = decompose_from
        self.threads = threads
        self.shadow_prices = shadow_prices
        self.compare_greedy = compare_greedy
        self.explain = explain
        self.random_seed = random_seed
        self.log = log

    _PARAMS = (
        "time_limit",
        "mip_rel_gap",
        "tuned",
        "decompose_from",
        "threads",
        "shadow_prices",
        "compare_greedy",
        "explain",
        "random_seed",
        "log",
    )

    def get_params(self) -> dict[str, Any]:
        """The parameters given to ``__init__``."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def with_params(self, **changes: Any) -> AllocationOptimizer:
        """A copy with some parameters changed."""
        return AllocationOptimizer(**{**self.get_params(), **changes})

    def solve(self, problem: AllocationProblem) -> AllocationResult:
        """Solve ``problem``; never returns a choice worth less than the greedy ranking's."""
        from ssaplan.allocation.engine.explain import explain_infeasible, must_fund_conflicts

        started = time.monotonic()
        use_threads(self.threads)
        # keep a little time for the shadow prices and the result after the search
        deadline = started + self.time_limit - min(1.0, 0.05 * self.time_limit)
        k = problem.compiled
        phases: dict[str, float] = {}
        mark = started

        def phase(name: str) -> None:
            nonlocal mark
            now = time.monotonic()
            phases[name] = phases.get(name, 0.0) + now - mark
            mark = now

        greedy = GreedyRanking().solve(problem) if (self.compare_greedy or self.tuned) else None
        phase("greedy")

        def done(status: str, **kw: Any) -> AllocationResult:
            phase("result")
            return build_result(
                problem, status, settings=self, greedy=greedy,
                seconds=time.monotonic() - started, phases=phases, **kw,
            )  # fmt: skip

        conflicts = must_fund_conflicts(problem)
        if conflicts:
            return done("infeasible", findings=conflicts)
        form = formulate(problem)
        phase("formulation")
        bound = INF
        candidates: list[tuple[str, IntArray]] = []
        if self.tuned and greedy is not None and greedy.feasible:
            candidates.append(("greedy", greedy.choice))
        warm: IntArray | None = None
        runs: list[MipRun] = []
        decomposed: tuple[float, FloatArray | None] | None = None
        if self.tuned:
            lp = solve_lp(form, time_limit=self.time_limit)
            if lp.status == "infeasible":
                return done(
                    "infeasible", findings=explain_infeasible(problem, form) if self.explain else ()
                )
            if lp.objective is not None:
                bound = lp.objective
            phase("LP relaxation")
            rounded = lp_rounding(problem, lp)
            if not check_choice(problem, rounded):
                candidates.append(("LP rounding", rounded))
            if candidates:
                warm = max(candidates, key=lambda c: choice_objective(k, c[1]))[1]
            phase("LP rounding")
            if warm is not None and self._decompose(problem, form):
                result = self._decomposed(problem, form, lp, warm, deadline)
                decomposed = (result.bound, result.x)
                phase("partner decomposition")
                total = phases.pop("partner decomposition")
                phases[f"partner pricing ({result.rounds} rounds)"] = result.pricing_seconds
                phases[f"master MIP ({result.patterns} partner plans)"] = (
                    result.seconds - result.pricing_seconds
                )
                phases["decomposition set-up"] = total - result.seconds
        if decomposed is None or decomposed[1] is None:
            runs.append(
                run_highs(
                    form,
                    deadline=max(deadline, time.monotonic() + 0.5),
                    mip_rel_gap=self.mip_rel_gap,
                    warm=None if warm is None else columns_from_choice(k, warm),
                    seed=self.random_seed,
                    log=self.log,
                )
            )
            phase("HiGHS branch and bound")
        if any(r.status == "infeasible" for r in runs):
            findings = explain_infeasible(problem, form) if self.explain else ()
            return done("infeasible", findings=findings, nodes=sum(r.nodes for r in runs))
        source = None
        for run in runs:
            bound = min(bound, run.bound)
            if run.x is not None:
                candidates.append(("HiGHS", choice_from_columns(k, run.x)))
        if decomposed is not None:
            bound = min(bound, decomposed[0])
            if decomposed[1] is not None:
                candidates.append(("partner decomposition", choice_from_columns(k, decomposed[1])))
        feasible = [(s, c) for s, c in candidates if not check_choice(problem, c)]
        if not feasible:
            return done("unknown", nodes=sum(r.nodes for r in runs))
        source, choice = max(feasible, key=lambda c: (choice_objective(k, c[1]), c[0] == "HiGHS"))
        objective = choice_objective(k, choice)
        bound = max(bound, objective)
        gap = (bound - objective) / abs(objective) if objective else (0.0 if bound <= 1e-9 else INF)
        # HiGHS also stops at an absolute gap of 1e-6: its proof covers our choice if
        # ours is worth at least its incumbent
        proven = gap <= self.mip_rel_gap + 1e-12 or any(
            r.status == "optimal" and r.objective is not None and objective >= r.objective - 1e-9
            for r in runs
        )
        status = "optimal" if proven else "feasible"
        prices = shadow_prices(problem, form, choice) if self.shadow_prices else {}
        phase("shadow prices")
        return done(
            status,
            choice=choice,
            bound=bound,
            gap=gap,
            prices=prices,
            nodes=sum(r.nodes for r in runs),
            warm_start=None if warm is None else _warm_name(candidates, warm),
            source=source,
        )

    # -- the large-problem path ------------------------------------------------------
    def _decompose(self, problem: AllocationProblem, form: Formulation) -> bool:
        if not self.decompose_from or len(problem.candidates) < self.decompose_from:
            return False
        return any(kind == "capacity" for kind, _ in form.rows)

    def _decomposed(
        self,
        problem: AllocationProblem,
        form: Formulation,
        lp: LpRelaxation,
        warm: IntArray,
        deadline: float,
    ) -> DecompositionResult:
        """The partner decomposition's bound and choice (column values)."""
        from ssaplan.allocation.engine.decompose import PartnerDecomposition

        k = problem.compiled
        return PartnerDecomposition(form, k).solve(
            start=columns_from_choice(k, warm),
            lam=lp.row_dual if lp.row_dual is not None else np.zeros(len(form.rows)),
            deadline=deadline,
            mip_rel_gap=self.mip_rel_gap,
            seed=self.random_seed,
        )


def _warm_name(candidates: list[tuple[str, IntArray]], warm: IntArray) -> str | None:
    for name, choice in candidates:
        if choice is warm:
            return name
    return None


__all__ = ["AllocationOptimizer", "lp_rounding", "shadow_prices"]
