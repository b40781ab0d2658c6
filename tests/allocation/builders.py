"""Small allocation problems for the tests, and a brute-force oracle independent of the engine."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np

from ssaplan.allocation.engine.model import AllocationProblem, Candidate, Level, RegionalFloor

M = 1_000_000


def cand(
    cid: str,
    levels: list[tuple[float, float]],
    *,
    country: str = "KEN",
    account: str = "FMF",
    years: tuple[int, ...] = (2027,),
    must_fund: bool = False,
    requires: tuple[str, ...] = (),
    sd: float = 0.0,
) -> Candidate:
    """A candidate with levels given as ($M per year, value)."""
    return Candidate(
        cid,
        country,
        account,
        years,
        tuple(Level(int(round(a * M)), float(v), sd) for a, v in levels),
        must_fund,
        requires,
    )


def problem(
    candidates: list[Candidate],
    *,
    budgets: dict[str, dict[int, float]] | None = None,
    years: tuple[int, ...] = (2027,),
    **kwargs: Any,
) -> AllocationProblem:
    """A problem with budgets in $M (default: FMF $10M in each year)."""
    budgets = budgets or {"FMF": {y: 10 for y in years}}
    return AllocationProblem(
        fiscal_years=years,
        budgets={a: {y: int(round(v * M)) for y, v in b.items()} for a, b in budgets.items()},
        candidates=tuple(candidates),
        **kwargs,
    )


def random_problem(rng: np.random.Generator, name: str = "random") -> AllocationProblem:
    """Up to 8 candidates x 2 levels with budgets, capacity, must-fund, dependencies,
    restrictions and a floor; amounts in $0.1M steps so totals are exact."""
    years = tuple(range(2027, 2027 + int(rng.integers(1, 4))))
    accounts = ["FMF", "INCLE"][: int(rng.integers(1, 3))]
    countries = ["KEN", "NGA", "COL"][: int(rng.integers(1, 4))]
    n = int(rng.integers(1, 9))
    out: list[Candidate] = []
    for i in range(n):
        span = int(rng.integers(1, len(years) + 1))
        start = int(rng.integers(0, len(years) - span + 1))
        levels = []
        base = int(rng.integers(5, 40))
        for lv in range(int(rng.integers(1, 3))):
            annual = base * (1 + lv) + int(rng.integers(0, 5)) * lv
            levels.append((annual / 10, round(float(rng.uniform(1, 20)) * (1 + 0.6 * lv), 1)))
        requires = ()
        if i and rng.random() < 0.2:
            requires = (f"C{int(rng.integers(0, i))}",)
        out.append(
            cand(
                f"C{i}",
                levels,
                country=str(rng.choice(countries)),
                account=str(rng.choice(accounts)),
                years=years[start : start + span],
                must_fund=bool(rng.random() < 0.12),
                requires=requires,
            )
        )
    budgets = {a: {y: float(rng.integers(20, 120)) / 10 for y in years} for a in accounts}
    capacity = {
        c: {y: int(rng.integers(10, 80)) * 100_000 for y in years}
        for c in countries
        if rng.random() < 0.4
    }
    blocked = frozenset(
        (c, a, y) for c in countries for a in accounts for y in years if rng.random() < 0.05
    )
    floors: tuple[RegionalFloor, ...] = ()
    if rng.random() < 0.35:
        members = frozenset(c for c in countries if rng.random() < 0.5) or frozenset(countries[:1])
        floors = (RegionalFloor("bureau", "AF", round(float(rng.uniform(0.05, 0.6)), 2), members),)
    return problem(
        out,
        budgets=budgets,
        years=years,
        reserve_share=float(rng.choice([0.0, 0.05, 0.1])),
        absorptive_capacity=capacity,
        blocked=blocked,
        floors=floors,
        name=name,
    )


def brute_force(p: AllocationProblem) -> tuple[float | None, tuple[int, ...] | None]:
    """The optimum by enumerating every choice (level or -1 per candidate), checked
    here from the problem's own fields, not the engine's arrays."""
    best: tuple[float | None, tuple[int, ...] | None] = (None, None)
    options = [range(-1, len(c.levels)) for c in p.candidates]
    ids = {c.id: i for i, c in enumerate(p.candidates)}
    for choice in itertools.product(*options):
        if not _feasible(p, choice, ids):
            continue
        value = sum(
            c.levels[lv].value for c, lv in zip(p.candidates, choice, strict=True) if lv >= 0
        )
        if best[0] is None or value > best[0] + 1e-9:
            best = (value, choice)
    return best


def _feasible(p: AllocationProblem, choice: tuple[int, ...], ids: dict[str, int]) -> bool:
    account: dict[tuple[str, int], int] = {}
    country: dict[tuple[str, int], int] = {}
    total: dict[int, int] = {}
    region: dict[tuple[int, int], int] = {}
    for c, lv in zip(p.candidates, choice, strict=True):
        if lv < 0:
            if c.must_fund:
                return False
            continue
        if any(r not in ids or choice[ids[r]] < 0 for r in c.requires):
            return False
        for y in c.fiscal_years:
            if (c.country, c.account, y) in p.blocked:
                return False
            a = c.levels[lv].annual
            account[(c.account, y)] = account.get((c.account, y), 0) + a
            country[(c.country, y)] = country.get((c.country, y), 0) + a
            total[y] = total.get(y, 0) + a
            for f, floor in enumerate(p.floors):
                if c.country in floor.countries:
                    region[(f, y)] = region.get((f, y), 0) + a
    for (a, y), used in account.items():
        gross = p.budgets[a][y]
        if used > int(Fraction(gross) * (1 - Fraction(str(p.reserve_share)))):
            return False
    for (c, y), used in country.items():
        cap = p.absorptive_capacity.get(c, {}).get(y)
        if cap is not None and used > cap:
            return False
    for f, floor in enumerate(p.floors):
        for y, spent in total.items():
            if Fraction(region.get((f, y), 0)) < Fraction(str(floor.min_share)) * spent:
                return False
    return True
