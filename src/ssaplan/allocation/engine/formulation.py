"""The allocation as a mixed-integer program, and the HiGHS calls around it.

Variables: ``x[i,l] in {0, 1}``, candidate i funded at level l. With ``a[i,l]`` its
annual dollars, ``v[i,l]`` its value and ``Y(i)`` its fiscal years::

    maximize    sum v[i,l] x[i,l]
    subject to  sum_l x[i,l] <= 1          (= 1 if i is must-fund)   choice
                sum_{i in a, t in Y(i)} a[i,l] x[i,l] <= B[a,t](1 - r) budget
                sum_{i in c, t in Y(i)} a[i,l] x[i,l] <= K[c,t]       capacity
                sum_l x[i,l] <= sum_l x[j,l]    (i requires j)        dependency
                sum_{t in Y(i)} (s_f - [i in R_f]) a[i,l] x[i,l] <= 0 floor, per year
                x[i,l] = 0 where a restriction blocks i

The choice rows make each candidate's levels a multiple-choice (SOS1-like) set, so
the LP relaxation is already the convex hull of each candidate's (cost, value)
points. Before any solve, levels that cannot fit -- more than a budget or a
partner's capacity in one of their years, once the must-fund candidates' least
spending there is counted -- are fixed at zero; the LP relaxation then no longer
funds slivers of programs that could never be funded whole.

Money rows are in millions of dollars inside the solver (coefficients near 1 keep
HiGHS's tolerances meaningful); every choice is re-checked in whole dollars.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ssaplan.allocation.engine.model import (
    AllocationProblem,
    Compiled,
    FloatArray,
    IntArray,
)

MILLION = 1e6
INF = float("inf")


@dataclass(frozen=True, eq=False)
class Formulation:
    """The MIP's matrix and bounds; ``rows[r]`` says what row r is (kind, key).

    Kinds: ``choice`` (candidate,), ``budget`` (account, year), ``capacity``
    (country, year), ``requires`` (candidate, required candidate), ``floor``
    (floor, year); indices into the problem's compiled arrays.
    """

    matrix: sparse.csc_matrix  # (rows, columns), money in $M
    row_lower: FloatArray
    row_upper: FloatArray
    col_upper: FloatArray  # 0 where a level can never be funded
    cost: FloatArray
    rows: tuple[tuple[str, tuple[int, ...]], ...]

    def row_index(self, kind: str) -> dict[tuple[int, ...], int]:
        return {key: r for r, (k, key) in enumerate(self.rows) if k == kind}

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.rows]


def formulate(problem: AllocationProblem) -> Formulation:
    """Build the rows above as one sparse matrix (money in $M), with impossible levels fixed."""
    k = problem.compiled
    m, big_t = k.n_levels, len(k.years)
    data: list[FloatArray] = []
    row_ids: list[IntArray] = []
    col_ids: list[IntArray] = []
    lower: list[float] = []
    upper: list[float] = []
    rows: list[tuple[str, tuple[int, ...]]] = []

    def add(kind: str, keys: list[tuple[int, ...]], lo: list[float], hi: list[float]) -> int:
        first = len(rows)
        rows.extend((kind, key) for key in keys)
        lower.extend(lo)
        upper.extend(hi)
        return first

    # choice rows: every candidate with several levels or must-fund
    sizes = np.diff(k.first_col)
    needs = np.flatnonzero((sizes > 1) | k.must_fund)
    first = add(
        "choice",
        [(int(i),) for i in needs],
        [1.0 if k.must_fund[i] else -INF for i in needs],
        [1.0] * len(needs),
    )
    row_of = np.full(k.n, -1, dtype=np.int64)
    row_of[needs] = first + np.arange(len(needs))
    cols = np.flatnonzero(row_of[k.col_candidate] >= 0)
    row_ids.append(row_of[k.col_candidate[cols]])
    col_ids.append(cols)
    data.append(np.ones(len(cols)))

    # (column, year) pairs where the column spends
    col_rep, year_rep = np.nonzero(k.active[k.col_candidate])
    money = k.annual[col_rep] / MILLION
    cand_rep = k.col_candidate[col_rep]
    col_upper = np.ones(m)
    blocked = ~k.eligible
    for i, _ in k.missing_requires:
        blocked[i] = True
    col_upper[blocked[k.col_candidate]] = 0.0
    cheapest = np.minimum.reduceat(k.annual, k.first_col[:-1]) if k.n else np.zeros(0)

    def grouped(kind: str, group_of: IntArray, n_groups: int, bound: FloatArray) -> None:
        # one row per (group, year) with spending and a finite bound
        group = group_of[cand_rep]
        key = group * big_t + year_rep
        bound_flat = bound.reshape(-1)
        present = np.zeros(n_groups * big_t, dtype=np.bool_)
        present[key] = True
        present &= np.isfinite(bound_flat)
        keys = np.flatnonzero(present)
        start = add(
            kind,
            [(int(q // big_t), int(q % big_t)) for q in keys],
            [-INF] * len(keys),
            list(bound_flat[keys] / MILLION),
        )
        row_map = np.full(n_groups * big_t, -1, dtype=np.int64)
        row_map[keys] = start + np.arange(len(keys))
        keep = row_map[key] >= 0
        row_ids.append(row_map[key[keep]])
        col_ids.append(col_rep[keep])
        data.append(money[keep])
        # what must-fund candidates spend there at least; a level that cannot fit
        # next to it (its own must-fund share counted once) can never be chosen
        committed = np.zeros(n_groups * big_t)
        must = k.must_fund[cand_rep] & (k.col_level[col_rep] == 0)
        np.add.at(committed, key[must], cheapest[cand_rep[must]].astype(np.float64))
        own = np.where(k.must_fund[cand_rep], cheapest[cand_rep], 0).astype(np.float64)
        room = bound_flat[key] - committed[key] + own
        too_big = np.isfinite(room) & (k.annual[col_rep] > room + 0.5)
        col_upper[col_rep[too_big]] = 0.0

    grouped("budget", k.account_of, len(k.accounts), k.available.astype(np.float64))
    grouped("capacity", k.country_of, len(k.countries), k.capacity)

    if k.requires:
        first = add(
            "requires",
            [(i, j) for i, j in k.requires],
            [-INF] * len(k.requires),
            [0.0] * len(k.requires),
        )
        for r, (i, j) in enumerate(k.requires):
            ci = np.arange(k.first_col[i], k.first_col[i + 1])
            cj = np.arange(k.first_col[j], k.first_col[j + 1])
            row_ids.append(np.full(len(ci) + len(cj), first + r, dtype=np.int64))
            col_ids.append(np.concatenate([ci, cj]))
            data.append(np.concatenate([np.ones(len(ci)), -np.ones(len(cj))]))

    for f, floor in enumerate(problem.floors):
        if floor.min_share <= 0:
            continue
        first = add("floor", [(f, t) for t in range(big_t)], [-INF] * big_t, [0.0] * big_t)
        coef = (floor.min_share - k.in_floor[f, cand_rep].astype(np.float64)) * money
        row_ids.append(first + year_rep)
        col_ids.append(col_rep)
        data.append(coef)

    matrix = sparse.csc_matrix(
        (np.concatenate(data), (np.concatenate(row_ids), np.concatenate(col_ids))),
        shape=(len(rows), m),
    )
    matrix.sum_duplicates()
    return Formulation(
        matrix=matrix,
        row_lower=np.array(lower, dtype=np.float64),
        row_upper=np.array(upper, dtype=np.float64),
        col_upper=col_upper,
        cost=k.value.astype(np.float64),
        rows=tuple(rows),
    )


_BANNER_SHOWN = False
# HiGHS runs every solve of a process on one thread scheduler; asking a new instance
# for another thread count fails unless the scheduler is reset first.
_THREADS = 1
_SCHEDULER: int | None = None


def use_threads(threads: int) -> None:
    """Threads for the HiGHS solves that follow in this process (0: HiGHS decides).

    One thread is the default: the allocation MIPs are many and small (partners'
    plans, robust draws in parallel processes), where HiGHS's threads cost more
    than they give.
    """
    global _THREADS
    _THREADS = int(threads)


def new_highs(*, log: bool = False) -> Any:
    """A quiet HiGHS instance. The first one in a process prints a banner on the C
    stdout; it is sent to stderr so ``--json`` keeps stdout to one JSON object."""
    global _BANNER_SHOWN, _SCHEDULER
    import highspy

    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no file descriptor 1 (embedded use): nothing to protect
            saved = -1
        try:
            if saved >= 0:
                os.dup2(2, 1)
            h = highspy.Highs()
        finally:
            if saved >= 0:
                os.dup2(saved, 1)
                os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", bool(log))
    if _SCHEDULER is not None and _SCHEDULER != _THREADS:
        h.resetGlobalScheduler(True)
    h.setOptionValue("threads", _THREADS)
    _SCHEDULER = _THREADS
    return h


def highs_lp(
    form: Formulation,
    *,
    integer: bool,
    col_lower: FloatArray | None = None,
    col_upper: FloatArray | None = None,
) -> Any:
    """The formulation as a ``highspy.HighsLp`` (a MIP when ``integer``)."""
    import highspy

    lp = highspy.HighsLp()
    m = form.matrix.shape[1]
    lp.num_col_ = m
    lp.num_row_ = form.matrix.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = form.cost
    lp.col_lower_ = np.zeros(m) if col_lower is None else col_lower
    lp.col_upper_ = form.col_upper if col_upper is None else col_upper
    lp.row_lower_ = form.row_lower
    lp.row_upper_ = form.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = form.matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = form.matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = form.matrix.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * m
    return lp


def highs_solution(x: FloatArray) -> Any:
    """Column values as a ``highspy.HighsSolution`` for ``setSolution`` (a warm start)."""
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = list(x)
    sol.value_valid = True
    return sol


def choice_from_columns(k: Compiled, x: FloatArray, threshold: float = 0.5) -> IntArray:
    """Level per candidate (-1 unfunded) from column values: the largest above ``threshold``."""
    choice = np.full(k.n, -1, dtype=np.int64)
    for col in np.flatnonzero(x > threshold):
        i = int(k.col_candidate[col])
        if choice[i] < 0 or x[col] > x[k.first_col[i] + choice[i]]:
            choice[i] = int(k.col_level[col])
    return choice


def columns_from_choice(k: Compiled, choice: IntArray) -> FloatArray:
    x = np.zeros(k.n_levels)
    funded = choice >= 0
    x[k.first_col[:-1][funded] + choice[funded]] = 1.0
    return x


@dataclass(frozen=True, eq=False)
class LpRelaxation:
    """An LP solve: status (optimal, infeasible, unknown), objective, columns, row duals."""

    status: str
    objective: float | None
    x: FloatArray | None
    row_dual: FloatArray | None


def solve_lp(
    form: Formulation,
    *,
    col_lower: FloatArray | None = None,
    col_upper: FloatArray | None = None,
    row_lower: FloatArray | None = None,
    time_limit: float = 60.0,
) -> LpRelaxation:
    """The LP relaxation (optionally with changed bounds), with row duals."""
    import highspy

    h = new_highs()
    h.setOptionValue("time_limit", float(max(time_limit, 0.1)))
    lp = highs_lp(form, integer=False, col_lower=col_lower, col_upper=col_upper)
    if row_lower is not None:
        lp.row_lower_ = row_lower
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return LpRelaxation("infeasible", None, None, None)
    if status != highspy.HighsModelStatus.kOptimal:
        return LpRelaxation("unknown", None, None, None)
    sol = h.getSolution()
    return LpRelaxation(
        "optimal",
        float(h.getInfo().objective_function_value),
        np.asarray(sol.col_value, dtype=np.float64),
        np.asarray(sol.row_dual, dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class MipRun:
    """What one HiGHS branch-and-bound run found: ``status`` (optimal, infeasible,
    stopped), incumbent columns (None if none), its objective, the proven bound."""

    status: str
    x: FloatArray | None
    objective: float | None
    bound: float
    nodes: int


def run_highs(
    form: Formulation,
    *,
    deadline: float,
    mip_rel_gap: float,
    warm: FloatArray | None = None,
    seed: int = 2013,
    log: bool = False,
) -> MipRun:
    """HiGHS branch and bound until ``deadline`` (``time.monotonic()``) or the gap."""
    import highspy

    h = new_highs(log=log)
    h.setOptionValue("time_limit", float(max(deadline - time.monotonic(), 0.2)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("random_seed", int(seed))
    h.passModel(highs_lp(form, integer=True))
    if warm is not None:
        h.setSolution(highs_solution(warm))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    nodes = int(info.mip_node_count)
    if status == highspy.HighsModelStatus.kInfeasible:
        return MipRun("infeasible", None, None, -INF, nodes)
    x = None
    objective = None
    if info.primal_solution_status == 2:  # a feasible incumbent
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    done = status == highspy.HighsModelStatus.kOptimal
    return MipRun(
        "optimal" if done else "stopped", x, objective, bound if np.isfinite(bound) else INF, nodes
    )
