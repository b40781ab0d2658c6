"""The spreadsheet ranking, as a baseline and a warm start, and a choice checker.

Today allocations are made by ranking candidate levels by value per dollar in a
spreadsheet and funding down the list while money lasts. :class:`GreedyRanking`
does that, respecting the same constraints as far as a single ranking can:

1. must-fund candidates first (their requirements before them), each at its best
   value per dollar level that fits, else its cheapest;
2. then every level in order of value per dollar (value / total dollars over the
   candidate's years, ties by id): fund it if the candidate is unfunded (or upgrade
   it if this level is worth more and the extra fits), it is eligible, its
   requirements are funded, it fits every account budget and absorptive capacity in
   each of its years, and it does not push a regional floor below its share;
3. repeat the pass until nothing changes (a level skipped because a requirement or
   a floor was not yet met gets another chance).

The same filling routine, started from the integral part of the LP relaxation and
ordered by the LP's values, is the LP-rounding warm start (:func:`fill`).
:func:`check_choice` verifies any choice exactly, in whole dollars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ssaplan.allocation.engine.model import (
    AllocationProblem,
    Compiled,
    FloatArray,
    IntArray,
    choice_objective,
    share_fraction,
)

# Floors are checked to the dollar: a share met within $1 of rounding is met.
_FLOOR_SLACK = 1.0


class _Ledger:
    """Running spend of a partial choice, in plain Python lists (fast for tiny updates)."""

    def __init__(self, k: Compiled, floor_shares: Sequence[float]) -> None:
        self.k = k
        big_t = len(k.years)
        self.years_of = [list(np.flatnonzero(row)) for row in k.active]
        self.account_spend = [[0] * big_t for _ in k.accounts]
        self.country_spend = [[0] * big_t for _ in k.countries]
        self.available = k.available.tolist()
        self.capacity = k.capacity.tolist()
        self.shares = list(floor_shares)
        # Floor slack per floor and year: region spend - share x total spend (>= 0 met).
        self.floor_slack = [[0.0] * big_t for _ in self.shares]
        self.members = [
            [bool(k.in_floor[f, i]) for i in range(k.n)] for f in range(len(self.shares))
        ]
        self.choice: IntArray = np.full(k.n, -1, dtype=np.int64)
        self.required_by: list[list[int]] = [[] for _ in range(k.n)]
        self.requires: list[list[int]] = [[] for _ in range(k.n)]
        for i, j in k.requires:
            self.requires[i].append(j)
            self.required_by[j].append(i)
        self.blocked = [not e for e in k.eligible.tolist()]
        for i, _ in k.missing_requires:
            self.blocked[i] = True

    def delta(self, i: int, col: int) -> int:
        """Extra dollars per year of funding candidate i at column col."""
        current = int(self.choice[i])
        base = 0 if current < 0 else int(self.k.annual[self.k.first_col[i] + current])
        return int(self.k.annual[col]) - base

    def fits(self, i: int, col: int, *, check_floors: bool = True) -> bool:
        d = self.delta(i, col)
        a, c = int(self.k.account_of[i]), int(self.k.country_of[i])
        for t in self.years_of[i]:
            if self.account_spend[a][t] + d > self.available[a][t]:
                return False
            if self.country_spend[c][t] + d > self.capacity[c][t]:
                return False
        if check_floors:
            for f, share in enumerate(self.shares):
                change = d * ((1.0 if self.members[f][i] else 0.0) - share)
                if change >= 0:
                    continue
                for t in self.years_of[i]:
                    if self.floor_slack[f][t] + change < -_FLOOR_SLACK:
                        return False
        return True

    def take(self, i: int, col: int) -> None:
        d = self.delta(i, col)
        a, c = int(self.k.account_of[i]), int(self.k.country_of[i])
        for t in self.years_of[i]:
            self.account_spend[a][t] += d
            self.country_spend[c][t] += d
            for f, share in enumerate(self.shares):
                self.floor_slack[f][t] += d * ((1.0 if self.members[f][i] else 0.0) - share)
        self.choice[i] = col - int(self.k.first_col[i])

    def requirements_met(self, i: int) -> bool:
        return all(self.choice[j] >= 0 for j in self.requires[i])


def _must_fund_order(k: Compiled, requires: list[list[int]]) -> list[int]:
    """Must-fund candidates and everything they need, requirements first."""
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> None:
        if state.get(i) is not None:
            return  # done, or on the stack (a cycle: fund in visiting order)
        state[i] = 1
        for j in requires[i]:
            visit(j)
        state[i] = 2
        order.append(i)

    for i in np.flatnonzero(k.must_fund):
        visit(int(i))
    return order


def value_per_dollar(k: Compiled) -> FloatArray:
    """Value per dollar of each column over the candidate's years (inf for free levels)."""
    cost = k.total_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, k.value / np.where(cost > 0, cost, 1.0), np.inf)
    out: FloatArray = ratio.astype(np.float64)
    return out


def fill(
    problem: AllocationProblem,
    order: Sequence[int],
    *,
    start: IntArray | None = None,
) -> IntArray:
    """Fund must-fund candidates, then walk ``order`` (columns) as the ranking does.

    ``start`` (a level per candidate, -1 unfunded) is taken first where it fits; this
    is how the LP rounding keeps the LP's integral part.
    """
    k = problem.compiled
    ledger = _Ledger(k, [f.min_share for f in problem.floors])
    ratio = value_per_dollar(k)
    for i in _must_fund_order(k, ledger.requires):
        if ledger.choice[i] >= 0 or ledger.blocked[i]:
            continue
        cols = sorted(k.levels_of(i), key=lambda col: (-ratio[col], int(k.annual[col])))
        if start is not None and start[i] >= 0:
            cols.insert(0, int(k.first_col[i] + start[i]))
        fitting = [col for col in cols if ledger.fits(i, col, check_floors=False)]
        # Nothing fits: take the cheapest anyway; check_choice then reports the overrun.
        ledger.take(i, fitting[0] if fitting else min(cols, key=lambda col: k.annual[col]))
    if start is not None:
        pending = [int(i) for i in np.flatnonzero(start >= 0)]
        progress = True
        while pending and progress:  # requirements before what requires them
            progress, later = False, []
            for s in pending:
                col = int(k.first_col[s] + start[s])
                if ledger.choice[s] >= 0 or ledger.blocked[s]:
                    continue
                if not ledger.requirements_met(s):
                    later.append(s)
                elif ledger.fits(s, col):
                    ledger.take(s, col)
                    progress = True
            pending = later
    changed = True
    while changed:
        changed = False
        for col in order:
            i = int(k.col_candidate[col])
            current = int(ledger.choice[i])
            if ledger.blocked[i] or current == col - k.first_col[i]:
                continue
            if current >= 0 and k.value[col] <= k.value[k.first_col[i] + current]:
                continue
            if not ledger.requirements_met(i) or not ledger.fits(i, col):
                continue
            ledger.take(i, col)
            changed = True
    return ledger.choice


def ranking_order(k: Compiled, ids: Sequence[str]) -> list[int]:
    """Columns by value per dollar, best first; ties by candidate id, then cheaper level."""
    ratio = value_per_dollar(k)
    return sorted(
        range(k.n_levels),
        key=lambda col: (-ratio[col], ids[int(k.col_candidate[col])], int(k.annual[col])),
    )


@dataclass(frozen=True)
class GreedyResult:
    """The spreadsheet ranking's choice: ``choice[i]`` is the level of candidate i
    (-1 not funded); ``violations`` is empty when it respects every constraint."""

    choice: IntArray
    objective: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


class GreedyRanking:
    """Rank levels by value per dollar and fund down the list (see module docstring)."""

    def solve(self, problem: AllocationProblem) -> GreedyResult:
        k = problem.compiled
        ids = [c.id for c in problem.candidates]
        choice = fill(problem, ranking_order(k, ids))
        return GreedyResult(
            choice=choice,
            objective=choice_objective(k, choice),
            violations=tuple(check_choice(problem, choice)),
        )


def spend(k: Compiled, choice: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Dollars by (account, year), (country, year) and (candidate, year) of a choice."""
    funded = choice >= 0
    per_year = np.zeros(k.n, dtype=np.int64)
    per_year[funded] = k.annual[k.first_col[:-1][funded] + choice[funded]]
    by_candidate = k.active * per_year[:, None]
    by_account = np.zeros((len(k.accounts), len(k.years)), dtype=np.int64)
    np.add.at(by_account, k.account_of, by_candidate)
    by_country = np.zeros((len(k.countries), len(k.years)), dtype=np.int64)
    np.add.at(by_country, k.country_of, by_candidate)
    return by_account, by_country, by_candidate


def check_choice(problem: AllocationProblem, choice: IntArray) -> list[str]:
    """Every constraint the choice breaks, in words (empty: feasible). Exact dollars."""
    k = problem.compiled
    ids = [c.id for c in problem.candidates]
    out: list[str] = []
    by_account, by_country, by_candidate = spend(k, choice)
    for a, t in zip(*np.nonzero(by_account > k.available), strict=True):
        out.append(
            f"{k.accounts[a]} FY{k.years[t]}: ${by_account[a, t]:,} used, "
            f"${k.available[a, t]:,} available"
        )
    for c, t in zip(*np.nonzero(by_country > k.capacity), strict=True):
        out.append(
            f"{k.countries[c]} FY{k.years[t]}: ${by_country[c, t]:,} over capacity "
            f"${int(k.capacity[c, t]):,}"
        )
    funded = choice >= 0
    for b in np.flatnonzero(funded & ~k.eligible):
        out.append(f"{ids[b]} is funded but a restriction blocks it")
    for m in np.flatnonzero(k.must_fund & ~funded):
        out.append(f"{ids[m]} must be funded")
    for i, j in k.requires:
        if funded[i] and not funded[j]:
            out.append(f"{ids[i]} is funded without {ids[j]}, which it requires")
    for i, missing in k.missing_requires:
        if funded[i]:
            out.append(f"{ids[i]} is funded but requires unknown {missing}")
    total = by_candidate.sum(axis=0)
    for f, floor in enumerate(problem.floors):
        region = by_candidate[k.in_floor[f]].sum(axis=0)
        share = share_fraction(floor.min_share)
        for t in range(len(k.years)):
            if Fraction(int(region[t])) + Fraction(_FLOOR_SLACK) < share * int(total[t]):
                out.append(
                    f"{floor.label} FY{k.years[t]}: ${int(region[t]):,} of ${int(total[t]):,} "
                    f"is below the {floor.min_share:.0%} floor"
                )
    return out
